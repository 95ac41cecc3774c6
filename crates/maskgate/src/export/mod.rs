//! Stage 7, **export**: one file per format behind [`Exporter`]. Exporters only write what the
//! [`Report`] holds; adding a format is one new file plus one line in [`exporters`].

pub mod chart;
pub mod cost;
pub mod csv;
pub mod document;
pub mod html;
pub mod json;
pub mod jsonl;
pub mod junit;
pub mod markdown;

use crate::error::{Error, Result};
use crate::report::Report;
use std::io::Write;
use std::path::{Path, PathBuf};

pub trait Exporter {
    /// The name users choose it by (`--format`, `[run] formats`).
    fn name(&self) -> &'static str;
    /// File name inside the output directory.
    fn file_name(&self) -> &'static str;
    fn write(&self, report: &Report, out: &mut dyn Write) -> std::io::Result<()>;
}

/// Every exporter, in the order reports list them.
pub fn exporters() -> Vec<Box<dyn Exporter>> {
    vec![
        Box::new(csv::MetricsCsv),
        Box::new(jsonl::SamplesJsonl),
        Box::new(json::ReportJson),
        Box::new(markdown::ReportMarkdown),
        Box::new(html::ReportHtml),
    ]
}

/// Refuses format names no exporter has.
pub fn check_formats(formats: &[String]) -> std::result::Result<(), String> {
    let known: Vec<&str> = exporters().iter().map(|e| e.name()).collect();
    match formats.iter().find(|f| !known.contains(&f.as_str())) {
        Some(f) => Err(format!(
            "unknown format {f:?} (known: {})",
            known.join(", ")
        )),
        None if formats.is_empty() => Err("no report format chosen".into()),
        None => Ok(()),
    }
}

/// The files the chosen formats write, in report order.
pub fn file_names(formats: &[String]) -> Vec<String> {
    exporters()
        .iter()
        .filter(|e| formats.iter().any(|f| f == e.name()))
        .map(|e| e.file_name().to_string())
        .collect()
}

/// Checks before any work that `dir` is, or can become, a writable folder.
pub fn check_out_dir(dir: &Path) -> Result<()> {
    crate::persist::report_set::check_out_dir(dir)
}

/// Writes the chosen exports into `dir`, each atomically (see [`crate::persist`]).
pub fn write_all(report: &Report, dir: &Path, formats: &[String]) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut written = Vec::new();
    for e in exporters()
        .into_iter()
        .filter(|e| formats.iter().any(|f| f == e.name()))
    {
        let path = dir.join(e.file_name());
        crate::persist::write_atomically(&path, |w| e.write(report, w))?;
        written.push(path);
    }
    Ok(written)
}
