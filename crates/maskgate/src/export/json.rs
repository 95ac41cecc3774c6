//! `report.json`: the whole [`Report`] (schema in `docs/src/report-schema.md`).

use super::Exporter;
use crate::report::Report;
use std::io::Write;

pub struct ReportJson;

impl Exporter for ReportJson {
    fn name(&self) -> &'static str {
        "json"
    }

    fn file_name(&self) -> &'static str {
        "report.json"
    }

    fn write(&self, report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, report)?;
        out.write_all(b"\n")
    }
}
