//! `metrics.csv`: one row per (arm, corpus, group_by, group, class).

use super::Exporter;
use crate::aggregate::ROW_STATS;
use crate::fmt::{csv_text, opt_num};
use crate::report::Report;
use std::io::Write;

pub struct MetricsCsv;

pub const HEADER: &str = "arm,corpus,group_by,group,class,n,n_empty,iou_mean,iou_median,iou_p10,iou_p90,pass_rate,iou_micro,dice_mean,precision_mean,recall_mean,leakage_mean,coverage_mean,bbox_iou_mean,boundary_iou_mean";

impl Exporter for MetricsCsv {
    fn file_name(&self) -> &'static str {
        "metrics.csv"
    }

    fn write(&self, report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "{HEADER}")?;
        for r in &report.metrics {
            let text = [&r.arm, &r.corpus, &r.group_by, &r.group, &r.class].map(|s| csv_text(s));
            let stats = r.stats();
            // ROW_STATS ends with `n`, which is written as an integer up front.
            let cells: Vec<String> = stats[..ROW_STATS.len() - 1]
                .iter()
                .map(|v| opt_num(*v))
                .collect();
            writeln!(
                out,
                "{},{},{},{}",
                text.join(","),
                r.n,
                r.n_empty,
                cells.join(",")
            )?;
        }
        Ok(())
    }
}
