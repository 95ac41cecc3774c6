//! `maskgate approve ATTESTATION`: a person's signed approval of a verdict.

use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
#[command(
    about = "Approve a verdict: append a signed approval of its attestation to approvals.jsonl beside it",
    after_help = "Example:
  maskgate approve reports/crop-gate/attestation.dsse.json --key me.key --by \"A. Reviewer\"

`maskgate verify … --approvals N --approver-pubkey me.pub` then requires N distinct approvers."
)]
pub struct ApproveArgs {
    /// The attestation approved.
    attestation: PathBuf,
    /// The approver's Ed25519 private key (PKCS#8 PEM).
    #[arg(long, value_name = "PEM")]
    key: PathBuf,
    /// Who approves (recorded and signed).
    #[arg(long, value_name = "NAME")]
    by: String,
    /// Why, or on what condition (recorded and signed).
    #[arg(long, value_name = "TEXT")]
    note: Option<String>,
}

pub fn run(a: ApproveArgs) -> Result<u8> {
    let key = maskgate::attest::keys::PrivateKey::load(&a.key)?;
    let path = maskgate::attest::approve::approve(&maskgate::attest::approve::Request {
        attestation: &a.attestation,
        key: &key,
        by: &a.by,
        note: a.note.as_deref(),
    })?;
    eprintln!(
        "maskgate: approval by {} appended to {}",
        a.by,
        maskgate::pathnames::display(&path)
    );
    Ok(0)
}
