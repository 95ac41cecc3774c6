//! `maskgate trend`: headline metrics and criteria across archived runs.

use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
#[command(
    about = "Compare archived runs (report.json files, or folders holding them) in order of generated_at: headline metrics, criteria, model hashes"
)]
pub struct TrendArgs {
    /// report.json files, or folders searched for them.
    #[arg(required = true, value_name = "REPORT")]
    reports: Vec<PathBuf>,
    /// Where trend.csv, trend.md and trend.html go.
    #[arg(long, value_name = "DIR", default_value = "reports/trend")]
    out: PathBuf,
}

pub fn run(a: TrendArgs) -> Result<u8> {
    for p in maskgate::trend::write_trend(&a.reports, &a.out)? {
        eprintln!("wrote {}", maskgate::pathnames::display(&p));
    }
    Ok(0)
}
