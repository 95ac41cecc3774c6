//! Stage 7, **export**: one file per format behind [`Exporter`]. Exporters only write what the
//! [`Report`] holds; adding a format is one new file plus one line in [`exporters`].

pub mod csv;
pub mod json;
pub mod jsonl;
pub mod markdown;

use crate::error::{Error, Result};
use crate::report::Report;
use std::io::Write;
use std::path::{Path, PathBuf};

pub trait Exporter {
    /// File name inside the output directory.
    fn file_name(&self) -> &'static str;
    fn write(&self, report: &Report, out: &mut dyn Write) -> std::io::Result<()>;
}

pub fn exporters() -> Vec<Box<dyn Exporter>> {
    vec![
        Box::new(csv::MetricsCsv),
        Box::new(jsonl::SamplesJsonl),
        Box::new(json::ReportJson),
        Box::new(markdown::ReportMarkdown),
    ]
}

/// Writes every export into `dir`, each through a temporary file renamed into place, so an
/// interrupted run never leaves a half-written report behind.
pub fn write_all(report: &Report, dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut written = Vec::new();
    for e in exporters() {
        let path = dir.join(e.file_name());
        let tmp = dir.join(format!(".{}.tmp", e.file_name()));
        let file = std::fs::File::create(&tmp).map_err(|err| Error::io(&tmp, err))?;
        let mut w = std::io::BufWriter::new(file);
        e.write(report, &mut w)
            .and_then(|_| w.flush())
            .map_err(|err| Error::io(&tmp, err))?;
        drop(w);
        std::fs::rename(&tmp, &path).map_err(|err| Error::io(&path, err))?;
        written.push(path);
    }
    Ok(written)
}
