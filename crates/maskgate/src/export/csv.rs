//! `metrics.csv`: one row per (arm, corpus, group_by, group, class).

use super::Exporter;
use crate::aggregate::ROW_STATS;
use crate::fmt::opt_num;
use crate::report::Report;
use std::io::Write;

pub struct MetricsCsv;

/// The header: the row's keys, then `n`, `n_empty` and the declared statistic columns.
pub fn header() -> Vec<&'static str> {
    let keys = [
        "arm", "corpus", "group_by", "group", "class", "n", "n_empty",
    ];
    keys.into_iter()
        .chain(ROW_STATS.iter().copied().filter(|s| *s != "n"))
        .collect()
}

impl Exporter for MetricsCsv {
    fn name(&self) -> &'static str {
        "csv"
    }

    fn file_name(&self) -> &'static str {
        "metrics.csv"
    }

    fn write(&self, report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
        let mut w = ::csv::Writer::from_writer(out);
        w.write_record(header())?;
        for r in &report.metrics {
            let stats = r.stats();
            let mut record: Vec<String> = [&r.arm, &r.corpus, &r.group_by, &r.group, &r.class]
                .map(|s| s.to_string())
                .to_vec();
            record.push(r.n.to_string());
            record.push(r.n_empty.to_string());
            // ROW_STATS ends with `n`, written as an integer above.
            record.extend(stats[..ROW_STATS.len() - 1].iter().map(|v| opt_num(*v)));
            w.write_record(&record)?;
        }
        w.flush()
    }
}
