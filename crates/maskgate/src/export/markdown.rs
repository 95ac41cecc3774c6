//! `report.md`: the report document ([`super::document`]) as Markdown, the shape of the reports
//! maskgate replaces — run header, overall delta table, per-class side-by-side table, ranked
//! regressions and improvements, artifacts list.

use super::Exporter;
use crate::report::Report;
use std::io::Write;

pub struct ReportMarkdown;

impl Exporter for ReportMarkdown {
    fn name(&self) -> &'static str {
        "md"
    }

    fn file_name(&self) -> &'static str {
        "report.md"
    }

    fn write(&self, r: &Report, out: &mut dyn Write) -> std::io::Result<()> {
        out.write_all(super::document::markdown::render(&super::document::build(r)).as_bytes())
    }
}
