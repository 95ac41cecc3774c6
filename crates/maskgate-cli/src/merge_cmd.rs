//! `maskgate merge OUT`: the committed shards under OUT/shards/ into the reports one machine
//! would have written, byte for byte.

use crate::common::{report_outcome, CiOutputs, Terminal};
use anyhow::Result;
use clap::Args;
use maskgate::plan::{merge, Env, MergeRequest};
use std::path::PathBuf;

#[derive(Args)]
#[command(
    about = "Merge the shards of a run (`run … --shard I/N`) into its reports",
    after_help = "Example (after `maskgate run gate.toml --shard auto/8 --out /mnt/gate` on 8 workers):
  maskgate merge /mnt/gate --run-id nightly

The plan is resolved again from OUT/shards/<plan>/plan.json; its inputs must hash as they did when
the shards ran. Missing shards are listed as a Slurm --array= list (exit 3)."
)]
pub struct MergeArgs {
    /// The output folder the shards were committed to; the reports are written there.
    out: PathBuf,
    /// The plan to merge when OUT holds shards of several (its hash, or a prefix of it).
    #[arg(long, value_name = "HASH")]
    plan: Option<String>,
    /// Pin the run id written into the reports (default: MASKGATE_RUN_ID, else derived from the
    /// timestamp).
    #[arg(long, value_name = "ID")]
    run_id: Option<String>,
    /// Pin the timestamp written into the reports (default: MASKGATE_GENERATED_AT, else now).
    #[arg(long, value_name = "TIME")]
    generated_at: Option<String>,
    /// Refuse shards that ran on different execution providers or CPU types (default: a warning).
    #[arg(long)]
    strict_hardware: bool,
    /// Also write the verdict as JUnit XML (one test case per criterion) to FILE.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    #[arg(long = maskgate::plan::settings::SIGN_KEY.long(), value_name = "PEM", help = maskgate::plan::settings::SIGN_KEY.help)]
    sign_key: Option<PathBuf>,
}

pub fn run(a: MergeArgs, binary: &maskgate::attest::statement::Binary) -> Result<u8> {
    let started = std::time::Instant::now();
    let ci = CiOutputs::new(a.junit)?;
    if let Some(junit) = &ci.junit {
        maskgate::persist::report_set::refuse_inside(
            junit,
            &a.out,
            &maskgate::plan::report_set_names(),
        )?;
    }
    let request = MergeRequest {
        out: a.out,
        plan: a.plan,
        run_id: a.run_id,
        generated_at: a.generated_at,
        strict_hardware: a.strict_hardware,
        sign_key: a.sign_key,
        binary: binary.clone(),
    };
    let outcome = merge(&request, &Env::from_process(), &Terminal::new(0))?;
    report_outcome(outcome, started, &ci)
}
