//! Logs: JSON lines from slog and from `tracing`, each carrying `trace_id`, `span_id` and
//! `trace_flags` when written inside a span (tracewire-correlate), to a file (the in-process demo)
//! or to standard output (one service per process).

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, BufRead as _, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use slog::Drain as _;
use tracewire_correlate::slog::TraceIdsDrain;
use tracewire_correlate::subscriber::TraceIdsFormat;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt as _;

/// Where log lines go: whole lines, one writer at a time.
#[derive(Clone)]
pub(crate) struct LogSink {
    inner: Arc<Mutex<Target>>,
    path: Option<PathBuf>,
}

enum Target {
    File(BufWriter<File>),
    Stdout,
}

impl std::fmt::Debug for LogSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogSink").field("path", &self.path).finish()
    }
}

impl LogSink {
    /// Lines go to a new file at `path`.
    pub(crate) fn file(path: &Path) -> anyhow::Result<Self> {
        let file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
        Ok(Self {
            inner: Arc::new(Mutex::new(Target::File(BufWriter::new(file)))),
            path: Some(path.to_owned()),
        })
    }

    /// Lines go to standard output.
    pub(crate) fn stdout() -> Self {
        Self {
            inner: Arc::new(Mutex::new(Target::Stdout)),
            path: None,
        }
    }

    /// The file the lines go to, if any.
    pub(crate) fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// A writer that hands whole lines to the sink (so lines from several threads never mix).
    pub(crate) fn writer(&self) -> LineWriter {
        LineWriter {
            buf: Vec::new(),
            sink: self.clone(),
        }
    }

    fn write_line(&self, line: &[u8]) -> io::Result<()> {
        let Ok(mut target) = self.inner.lock() else {
            return Ok(());
        };
        match &mut *target {
            Target::File(w) => w.write_all(line),
            Target::Stdout => io::stdout().lock().write_all(line),
        }
    }

    /// Writes out what is buffered.
    pub(crate) fn flush(&self) -> io::Result<()> {
        let Ok(mut target) = self.inner.lock() else {
            return Ok(());
        };
        match &mut *target {
            Target::File(w) => w.flush(),
            Target::Stdout => io::stdout().flush(),
        }
    }

    /// The lines written so far (from the file) whose `trace_id` is one of `ids`, at most
    /// `limit` per trace, in the order they were written.
    pub(crate) fn lines_by_trace(
        &self,
        ids: &HashSet<String>,
        limit: usize,
    ) -> io::Result<HashMap<String, Vec<String>>> {
        self.flush()?;
        let mut found: HashMap<String, Vec<String>> = HashMap::new();
        let Some(path) = &self.path else {
            return Ok(found);
        };
        for line in BufReader::new(File::open(path)?).lines() {
            let line = line?;
            let Some(id) = trace_id_of(&line).filter(|id| ids.contains(*id)) else {
                continue;
            };
            let lines = found.entry(id.to_owned()).or_default();
            if lines.len() < limit {
                lines.push(line);
            }
        }
        Ok(found)
    }
}

/// The value of the `"trace_id"` key of a JSON log line.
fn trace_id_of(line: &str) -> Option<&str> {
    const KEY: &str = "\"trace_id\":\"";
    let start = line.find(KEY)? + KEY.len();
    line.get(start..start + 32)
}

/// Collects bytes until a newline, then writes the whole line to the sink.
pub(crate) struct LineWriter {
    buf: Vec<u8>,
    sink: LogSink,
}

impl Write for LineWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        if let Some(last) = self.buf.iter().rposition(|b| *b == b'\n') {
            let rest = self.buf.split_off(last + 1);
            self.sink.write_line(&self.buf)?;
            self.buf = rest;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        if !self.buf.is_empty() {
            self.buf.push(b'\n');
            let _ = self.sink.write_line(&self.buf);
        }
    }
}

/// A slog logger writing JSON lines with the trace ids (`TraceIdsDrain`), tagged with the
/// service's name. The drain runs on the logging thread, where the request's context is current.
pub(crate) fn slog_logger(sink: &LogSink, service: &'static str) -> slog::Logger {
    let json = slog_json::Json::new(sink.writer())
        .add_default_keys()
        .add_key_value(slog::o!("logger" => "slog"))
        .set_newlines(true)
        .build()
        .fuse();
    let drain = TraceIdsDrain::new(Mutex::new(json)).fuse();
    slog::Logger::root(drain, slog::o!("service" => service))
}

/// Installs the process's `tracing` subscriber: JSON lines with the trace ids
/// (`TraceIdsFormat`), `info` and above, to the sink.
pub(crate) fn install_tracing(sink: &LogSink) -> anyhow::Result<()> {
    let sink = sink.clone();
    let subscriber = tracing_subscriber::registry().with(LevelFilter::INFO).with(
        tracing_subscriber::fmt::layer()
            .json()
            .event_format(TraceIdsFormat::default_json())
            .with_writer(move || sink.writer()),
    );
    tracing::subscriber::set_global_default(subscriber).context("installing the tracing subscriber")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_found_by_trace_id() -> anyhow::Result<()> {
        let dir = std::env::temp_dir().join(format!("tracewire-demo-ids-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let sink = LogSink::file(&dir.join("logs.jsonl"))?;
        let a = "4bf92f3577b34da6a3ce929d0e0e4736";
        let b = "0af7651916cd43dd8448eb211c80319c";
        let mut w = sink.writer();
        for (n, id) in [a, b, a, a].iter().enumerate() {
            writeln!(
                w,
                "{{\"n\":{n},\"trace_id\":\"{id}\",\"span_id\":\"00f067aa0ba902b7\"}}"
            )?;
        }
        writeln!(w, "{{\"msg\":\"no ids\"}}")?;
        writeln!(w, "{{\"trace_id\":\"short\"}}")?;
        let found = sink.lines_by_trace(&HashSet::from([a.to_owned()]), 2)?;
        assert_eq!(found.len(), 1);
        assert_eq!(found[a].len(), 2);
        assert!(found[a][0].starts_with("{\"n\":0,") && found[a][1].starts_with("{\"n\":2,"));
        std::fs::remove_dir_all(&dir)?;
        Ok(())
    }

    #[test]
    fn lines_are_written_whole() -> anyhow::Result<()> {
        let dir = std::env::temp_dir().join(format!("tracewire-demo-logs-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let path = dir.join("logs.jsonl");
        let sink = LogSink::file(&path)?;
        let mut a = sink.writer();
        let mut b = sink.writer();
        a.write_all(b"{\"a\":")?;
        b.write_all(b"{\"b\":2}\n")?;
        a.write_all(b"1}\n{\"c\":")?;
        drop(a);
        sink.flush()?;
        let all = std::fs::read_to_string(&path)?;
        assert_eq!(all, "{\"b\":2}\n{\"a\":1}\n{\"c\":\n");
        std::fs::remove_dir_all(&dir)?;
        Ok(())
    }
}
