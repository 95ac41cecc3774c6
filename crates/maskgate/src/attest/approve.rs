//! Approvals: a person's signed "I approve this verdict", a DSSE envelope over the statement's
//! digest, appended as one line to `approvals.jsonl` beside the attestation. An approval names
//! the exact statement it approves, so one left over from an earlier run counts for nothing.

use super::dsse::Envelope;
use super::keys::{PrivateKey, PublicKey};
use crate::error::{Error, Result};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

pub const PAYLOAD_TYPE: &str = "application/vnd.maskgate.approval+json";
pub const APPROVAL_TYPE: &str = "https://maskgate.dev/approval/v1";

/// An approvals file holds one line per approval: a few hundred bytes each.
const MAX_APPROVALS_BYTES: u64 = 16 << 20;
/// A name or note longer than this is refused, not clipped: what is signed is what was given.
const MAX_TEXT: usize = 4096;

pub struct Request<'a> {
    pub attestation: &'a Path,
    pub key: &'a PrivateKey,
    pub by: &'a str,
    pub note: Option<&'a str>,
}

/// Appends `req.by`'s approval of the attestation's statement; returns the approvals file.
pub fn approve(req: &Request<'_>) -> Result<PathBuf> {
    let (envelope, payload) = super::dsse::read_envelope(req.attestation)?;
    let opened = super::statement::open_statement(req.attestation, &envelope, &payload)?;
    for (what, text) in [("--by", Some(req.by)), ("--note", req.note)] {
        let Some(text) = text else { continue };
        if text.len() > MAX_TEXT || text.chars().any(char::is_control) {
            return Err(Error::Usage(format!(
                "{what}: at most {MAX_TEXT} bytes on one line, without control characters"
            )));
        }
    }
    if req.by.trim().is_empty() {
        return Err(Error::Usage("--by: name the person approving".into()));
    }
    let approval = json!({
        "_type": APPROVAL_TYPE,
        "statementSha256": opened.payload_sha256,
        "by": req.by,
        "note": req.note,
    });
    let sealed = super::seal(
        PAYLOAD_TYPE,
        &super::canonical::to_vec(&approval),
        Some(req.key),
    );
    let mut line = serde_json::to_vec(&sealed).expect("an envelope serialises");
    line.push(b'\n');
    let dir = req
        .attestation
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let path = dir.join(super::APPROVALS_FILE);
    crate::persist::check_replaceable(&path)?;
    // One write of one line with O_APPEND: concurrent approvers never interleave within a line.
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| Error::io(&path, e))?;
    f.write_all(&line)
        .and_then(|_| f.sync_all())
        .map_err(|e| Error::io(&path, e))?;
    Ok(path)
}

/// The distinct approvers (by `by`, each with a key of `keys`) whose approval of the statement
/// with digest `statement_sha256` in `path` verifies. A line that is not a valid approval by
/// one of `keys` counts for nothing; a missing file holds no approvals.
pub fn valid_approvers(
    path: &Path,
    statement_sha256: &str,
    keys: &[PublicKey],
) -> Result<Vec<String>> {
    let bytes = match crate::limits::read_regular(path, MAX_APPROVALS_BYTES) {
        Ok(b) => b,
        Err(crate::limits::ReadError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Vec::new())
        }
        Err(e) => return Err(e.into_error(path, "an approvals file's ceiling (16 MiB)")),
    };
    let mut keyids_seen = std::collections::BTreeSet::new();
    let mut approvers = Vec::new();
    for line in bytes.split(|b| *b == b'\n') {
        let Ok((envelope, payload)) = Envelope::parse(line) else {
            continue;
        };
        if envelope.payload_type != PAYLOAD_TYPE {
            continue;
        }
        let Ok(approval) = serde_json::from_slice::<Value>(&payload) else {
            continue;
        };
        if approval.get("_type").and_then(Value::as_str) != Some(APPROVAL_TYPE)
            || approval.get("statementSha256").and_then(Value::as_str) != Some(statement_sha256)
        {
            continue;
        }
        let by = approval.get("by").and_then(Value::as_str).unwrap_or("");
        let Some(key) = keys
            .iter()
            .find(|k| super::dsse::signed_by(&envelope, &payload, k))
        else {
            continue;
        };
        // Distinct approvers are distinct keys: one key signing twice under two names is one.
        if keyids_seen.insert(key.keyid()) {
            approvers.push(by.to_string());
        }
    }
    Ok(approvers)
}
