//! `maskgate verify ATTESTATION`: what a deploy step runs before it promotes a model.

use anyhow::Result;
use clap::Args;
use maskgate::attest::keys::PublicKey;
use std::path::PathBuf;

#[derive(Args)]
#[command(
    about = "Verify a verdict's attestation: its signature, every file it names, the model about to be promoted, the verdict and approvals",
    after_help = "Example (a deploy step, before it promotes the checkpoint):
  maskgate verify reports/crop-gate/attestation.dsse.json --pubkey gate.pub \\
    --model models/best.onnx --require go

Exit status (verify's own): 0 the attestation holds and meets every requirement; 1 it is
genuine but its verdict, criteria or pre-registration is not the one required, or it lacks
approvals; 2 a bad or missing signature, a changed or missing file, a model that is not a
subject or is the baseline's, a malformed envelope, a path or link outside --root; 3 an object
store that could not be reached (retry)."
)]
pub struct VerifyArgs {
    /// The attestation (attestation.dsse.json of a report set).
    attestation: PathBuf,
    /// The public key (PEM) the verdict must be signed with.
    #[arg(long, value_name = "PEM")]
    pubkey: PathBuf,
    /// A model file that must be one of the attestation's models (repeatable).
    #[arg(long = "model", value_name = "FILE")]
    models: Vec<PathBuf>,
    /// The verdict required: go, no-go or inconclusive.
    #[arg(long, value_name = "VERDICT", value_parser = ["go", "no-go", "inconclusive"])]
    require: Option<String>,
    /// The folder the run's input paths are taken from (default: the current folder); no
    /// subject may lie outside it.
    #[arg(long, value_name = "DIR", default_value = ".")]
    root: PathBuf,
    /// The criteria's sha256 the verdict must have been decided under (refuses a replayed older
    /// verdict under other criteria).
    #[arg(long, value_name = "HEX")]
    criteria_sha256: Option<String>,
    /// Require criteria pre-registered before the run (criteria_sha256 or criteria.lock).
    #[arg(long)]
    require_preregistered: bool,
    /// Distinct valid approvals required (the criteria's requires_approval may ask for more).
    #[arg(long, value_name = "N", default_value_t = 0)]
    approvals: usize,
    /// A public key (PEM) whose approvals count (repeatable).
    #[arg(long = "approver-pubkey", value_name = "PEM")]
    approver_pubkeys: Vec<PathBuf>,
}

pub fn run(a: VerifyArgs) -> Result<u8> {
    let request = maskgate::attest::verify::Request {
        attestation: a.attestation.clone(),
        pubkey: PublicKey::load(&a.pubkey)?,
        models: a.models,
        require: a.require,
        root: a.root,
        criteria_sha256: a.criteria_sha256,
        require_preregistered: a.require_preregistered,
        approvals: a.approvals,
        approver_keys: a
            .approver_pubkeys
            .iter()
            .map(|p| PublicKey::load(p))
            .collect::<maskgate::Result<_>>()?,
    };
    let v = maskgate::attest::verify::verify(&request)?;
    for line in &v.checked {
        eprintln!("maskgate: verified {line}");
    }
    if v.holds() {
        eprintln!(
            "maskgate: {}: the attestation holds; verdict {}",
            maskgate::pathnames::display(&a.attestation),
            v.recommendation
        );
        Ok(0)
    } else {
        for line in &v.unmet {
            eprintln!("maskgate: not met: {line}");
        }
        Ok(1)
    }
}
