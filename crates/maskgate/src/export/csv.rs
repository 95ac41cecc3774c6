//! `metrics.csv`: one row per (arm, corpus, group_by, group, class). Where instances were
//! scored, COCOeval's 12 numbers close each class row, and a row of class `all` (before the
//! group's class rows) holds them over every class, with `n` its images.

use super::Exporter;
use crate::aggregate::{InstanceRow, ALL_CLASSES, INSTANCE_STATS, ROW_STATS};
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
        .chain(INSTANCE_STATS)
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
        let by_key: std::collections::BTreeMap<[&str; 5], &InstanceRow> = (report.instances.iter())
            .map(|i| ([&*i.arm, &i.corpus, &i.group_by, &i.group, &i.class], i))
            .collect();
        let instance = |r: &crate::aggregate::MetricsRow, class: &str| -> Option<&InstanceRow> {
            by_key
                .get(&[&*r.arm, &r.corpus, &r.group_by, &r.group, class])
                .copied()
        };
        let numbers = |i: Option<&InstanceRow>| -> Vec<String> {
            match i {
                Some(i) => i.stats.iter().map(|v| opt_num(*v)).collect(),
                None => vec![String::new(); INSTANCE_STATS.len()],
            }
        };
        let mut last_group = None;
        for r in &report.metrics {
            let group = (&r.arm, &r.corpus, &r.group_by, &r.group);
            if last_group != Some(group) {
                last_group = Some(group);
                if let Some(all) = instance(r, ALL_CLASSES) {
                    let mut record: Vec<String> = [&r.arm, &r.corpus, &r.group_by, &r.group]
                        .map(|s| s.to_string())
                        .to_vec();
                    record.extend([
                        ALL_CLASSES.to_string(),
                        all.images.to_string(),
                        String::new(),
                    ]);
                    record.extend((1..ROW_STATS.len()).map(|_| String::new()));
                    record.extend(numbers(Some(all)));
                    w.write_record(&record)?;
                }
            }
            let stats = r.stats();
            let mut record: Vec<String> = [&r.arm, &r.corpus, &r.group_by, &r.group, &r.class]
                .map(|s| s.to_string())
                .to_vec();
            record.push(r.n.to_string());
            record.push(r.n_empty.to_string());
            // ROW_STATS ends with `n`, written as an integer above.
            record.extend(stats[..ROW_STATS.len() - 1].iter().map(|v| opt_num(*v)));
            record.extend(numbers(instance(r, &r.class)));
            w.write_record(&record)?;
        }
        w.flush()
    }
}
