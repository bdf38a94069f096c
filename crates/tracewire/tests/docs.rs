//! The docs stay wired up: every guide is compiled as a doctest of this crate, and every
//! relative link in the README, the docs and the examples' READMEs points at a file that exists.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn markdown_files(dir: &Path, recurse: bool, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            if recurse {
                markdown_files(&path, recurse, out)?;
            }
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
    Ok(())
}

#[test]
fn every_guide_is_a_doctest_module() -> std::io::Result<()> {
    let lib = std::fs::read_to_string(root().join("crates/tracewire/src/lib.rs"))?;
    let mut guides = Vec::new();
    markdown_files(&root().join("docs/guides"), false, &mut guides)?;
    assert!(guides.len() >= 10, "guides not found: {guides:?}");
    for guide in guides {
        let name = guide
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let include = format!("include_str!(\"../../../docs/guides/{name}\")");
        assert!(
            lib.contains(&include),
            "docs/guides/{name} is not compiled: add `#[cfg(doctest)] #[doc = {include}] mod guide_... {{}}` to crates/tracewire/src/lib.rs"
        );
    }
    Ok(())
}

/// The targets of the inline links `[text](target)` of a Markdown text, outside code blocks.
fn link_targets(text: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut in_code = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        let mut rest = line;
        while let Some(i) = rest.find("](") {
            rest = &rest[i + 2..];
            if let Some(end) = rest.find(')') {
                targets.push(rest[..end].to_owned());
                rest = &rest[end..];
            }
        }
    }
    targets
}

#[test]
fn relative_links_in_the_docs_resolve() -> std::io::Result<()> {
    let root = root();
    let mut files = vec![root.join("README.md")];
    markdown_files(&root.join("docs"), true, &mut files)?;
    markdown_files(&root.join("examples"), true, &mut files)?;
    files.retain(|f| !f.components().any(|c| c.as_os_str() == "target"));

    let mut broken = Vec::new();
    let mut checked = 0;
    for file in &files {
        let text = std::fs::read_to_string(file)?;
        let dir = file.parent().unwrap_or(&root);
        for target in link_targets(&text) {
            if target.contains("://") || target.starts_with('#') || target.starts_with("mailto:") {
                continue;
            }
            let path = target.split('#').next().unwrap_or_default();
            let resolved = dir.join(path);
            checked += 1;
            if resolved.exists() {
                continue;
            }
            broken.push(format!("{}: {target}", file.display()));
        }
    }
    assert!(checked > 50, "only {checked} links checked");
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
    Ok(())
}

#[test]
fn the_link_scanner_sees_links_and_skips_code() {
    let text = "see [a](a.md) and [b](../b.md#x)\n```rust\nlet v = [1](2);\n```\n[c](https://x)";
    assert_eq!(link_targets(text), ["a.md", "../b.md#x", "https://x"]);
}
