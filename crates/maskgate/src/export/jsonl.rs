//! `samples.jsonl`: one line per (arm, sample), sorted by arm, corpus, then id.

use super::Exporter;
use crate::report::Report;
use std::io::Write;

pub struct SamplesJsonl;

impl Exporter for SamplesJsonl {
    fn name(&self) -> &'static str {
        "jsonl"
    }

    fn file_name(&self) -> &'static str {
        "samples.jsonl"
    }

    fn write(&self, report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
        for s in &report.samples {
            serde_json::to_writer(&mut *out, s)?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }
}
