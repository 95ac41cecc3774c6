//! `cost.json`: the run's cost measurements ([`crate::cost::CostReport`]), written only when
//! cost was measured. Not a format one chooses: it is the measured part of the report set,
//! kept apart from the files that are byte-identical run to run.

use super::Exporter;
use crate::report::Report;
use std::io::Write;

pub struct CostJson;

/// The file's name in the report set.
pub const FILE: &str = "cost.json";

impl Exporter for CostJson {
    fn name(&self) -> &'static str {
        "cost"
    }

    fn file_name(&self) -> &'static str {
        FILE
    }

    fn write(&self, report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
        if let Some(cost) = &report.cost {
            serde_json::to_writer_pretty(&mut *out, cost)?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }
}
