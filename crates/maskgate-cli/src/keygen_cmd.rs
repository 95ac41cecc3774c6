//! `maskgate keygen DIR`: an Ed25519 key pair for signing verdicts.

use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
#[command(
    about = "Write an Ed25519 key pair for signing verdicts: DIR/maskgate.key (private, mode 0600) and DIR/maskgate.pub",
    after_help = "The private key is PKCS#8 PEM, as `openssl genpkey -algorithm ed25519` writes it (a key made
by openssl works as well); the public key is what `maskgate verify --pubkey` takes. Neither file
is ever replaced."
)]
pub struct KeygenArgs {
    /// The folder the pair is written into (created when missing).
    dir: PathBuf,
}

pub fn run(a: KeygenArgs) -> Result<u8> {
    let (private, public) = maskgate::attest::keys::keygen(&a.dir)?;
    let key = maskgate::attest::keys::PublicKey::load(&public)?;
    eprintln!(
        "wrote {} (keep it secret) and {} (keyid {})",
        maskgate::pathnames::display(&private),
        maskgate::pathnames::display(&public),
        key.keyid()
    );
    Ok(0)
}
