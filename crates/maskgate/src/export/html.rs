//! `report.html`: the report document ([`super::document`]) as one self-contained page a
//! reviewer reads in a browser, with the charts, thumbnails and per-check details Markdown
//! leaves out. There is no script, nothing is fetched, and a Content-Security-Policy allows
//! only the page's own stylesheet (by hash) and images beside it. Every piece of text (ids,
//! names, notes, paths, run ids) goes through [`crate::fmt::html`].

use super::Exporter;
use crate::report::Report;

// The page's policy lives with its renderer; the tests read it from here.
pub use super::document::html::content_security_policy;
use std::io::Write;

pub struct ReportHtml;

impl Exporter for ReportHtml {
    fn name(&self) -> &'static str {
        "html"
    }

    fn file_name(&self) -> &'static str {
        "report.html"
    }

    fn write(&self, r: &Report, out: &mut dyn Write) -> std::io::Result<()> {
        out.write_all(super::document::html::render(&super::document::build(r)).as_bytes())
    }
}
