//! The HTML trace view: one self-contained file (inline CSS and JavaScript, the data embedded as
//! JSON), which opens in any browser without a network.

use std::path::Path;

use anyhow::Context as _;

use super::Report;

/// The page; the data replaces the placeholder.
const TEMPLATE: &str = include_str!("trace-view.html");
const PLACEHOLDER: &str = "__TRACEWIRE_DATA__";

/// The page for `report`.
pub(crate) fn render(report: &Report) -> anyhow::Result<String> {
    // `<` only occurs inside JSON strings, where `\u003c` means the same: the data can never
    // close the script element it sits in.
    let json = serde_json::to_string(report)
        .context("serializing the trace view's data")?
        .replace('<', "\\u003c");
    Ok(TEMPLATE.replacen(PLACEHOLDER, &json, 1))
}

/// Writes the page for `report` to `path`.
pub(crate) fn write(report: &Report, path: &Path) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(path, render(report)?).with_context(|| format!("writing {}", path.display()))
}

/// The data embedded in a page written by [`render`].
#[cfg(test)]
pub(crate) fn embedded_data(page: &str) -> Option<&str> {
    let start = page.find(r#"<script type="application/json" id="data">"#)?;
    let rest = &page[start..];
    let open = rest.find('>')? + 1;
    let close = rest.find("</script>")?;
    rest.get(open..close)
}

#[cfg(test)]
mod tests {
    use super::super::{Report, Sampling};
    use super::*;

    #[test]
    fn the_data_cannot_close_its_script() -> anyhow::Result<()> {
        let report = Report {
            seed: 1,
            orders: 0,
            accepted: 0,
            failed: 0,
            fulfilled: 0,
            head_sampled: 0,
            kafka: "</script><script>alert(1)</script>".into(),
            sampling: Sampling {
                head: String::new(),
                tail: Vec::new(),
            },
            services: Vec::new(),
            traces: Vec::new(),
        };
        let page = render(&report)?;
        assert_eq!(
            page.matches("</script>").count(),
            TEMPLATE.matches("</script>").count()
        );
        assert!(
            !page.contains("http://") && !page.contains("https://"),
            "no network fetches"
        );
        let data: serde_json::Value = serde_json::from_str(embedded_data(&page).unwrap_or(""))?;
        assert_eq!(data["kafka"], "</script><script>alert(1)</script>");
        Ok(())
    }
}
