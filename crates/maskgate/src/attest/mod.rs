//! Stage 8, **attest**: the gate of record. A run that decides writes an in-toto statement of
//! its verdict ([`statement`]) into its report set as `attestation.dsse.json`, a DSSE envelope
//! ([`dsse`]) signed with Ed25519 when a key is given ([`keys`]). [`verify`] checks one against
//! a public key and the files it names; [`approve`] adds signed approvals beside it.

pub mod approve;
pub mod canonical;
pub mod dataset;
pub mod dsse;
pub mod keys;
pub mod statement;
pub mod verify;

use crate::error::Result;
use std::path::{Path, PathBuf};

/// The attestation's file name in the report set.
pub const FILE: &str = "attestation.dsse.json";

/// Where approvals of an attestation are appended: beside it.
pub const APPROVALS_FILE: &str = "approvals.jsonl";

/// Wraps `statement` in a DSSE envelope, signed by `key` when one is given (else with no
/// signatures), and writes it into `dir` atomically.
pub fn write(
    dir: &Path,
    statement: &serde_json::Value,
    key: Option<&keys::PrivateKey>,
) -> Result<PathBuf> {
    let payload = canonical::to_vec(statement);
    let envelope = seal(dsse::IN_TOTO_PAYLOAD_TYPE, &payload, key);
    let path = dir.join(FILE);
    crate::persist::write_atomically(&path, |w| w.write_all(&envelope.to_bytes()))?;
    Ok(path)
}

/// An envelope of `payload`, with `key`'s signature over its PAE when given.
pub fn seal(payload_type: &str, payload: &[u8], key: Option<&keys::PrivateKey>) -> dsse::Envelope {
    let mut envelope = dsse::Envelope::new(payload_type, payload);
    if let Some(key) = key {
        envelope.signatures.push(dsse::Signature {
            keyid: key.public().keyid(),
            sig: dsse::b64(&key.sign(&dsse::pae(payload_type, payload))),
        });
    }
    envelope
}
