//! `maskgate verify`: is this attestation signed by this key, does every file it names still
//! have the digest it says, is the given model one of them, is its verdict the one required,
//! and does it carry enough approvals? Every failure names what failed.
//!
//! An attestation that is not what it claims (a bad or missing signature, a changed or missing
//! subject, a malformed envelope or statement, a path outside `--root`) is an error. A genuine
//! attestation whose verdict is not the required one, or which lacks approvals, is a
//! [`Verification`] with its unmet requirements: a deploy step holds, but nothing was forged.

use super::dsse::{read_envelope, signed_by};
use super::keys::PublicKey;
use super::statement::{open_statement, Kind, KIND_ANNOTATION};
use crate::error::{Error, Result};
use serde_json::Value;
use sha2::Digest;
use std::path::{Component, Path, PathBuf};

pub struct Request {
    pub attestation: PathBuf,
    pub pubkey: PublicKey,
    /// Files that must be subjects of kind model (the checkpoint about to be promoted).
    pub models: Vec<PathBuf>,
    /// `go`, `no-go` or `inconclusive`.
    pub require: Option<String>,
    /// Input subjects are named from the run's working folder: they are looked up under this
    /// folder, and none may lie outside it.
    pub root: PathBuf,
    /// The criteria's sha256 the verdict must have been decided under (a replayed older
    /// verdict under laxer criteria is then refused).
    pub criteria_sha256: Option<String>,
    /// Require criteria pinned before the run.
    pub require_preregistered: bool,
    /// Distinct approvers needed (the statement may require more).
    pub approvals: usize,
    pub approver_keys: Vec<PublicKey>,
}

/// A genuine attestation, and what it does not meet.
#[derive(Debug)]
pub struct Verification {
    pub recommendation: String,
    pub keyid: String,
    /// What was checked, a line each.
    pub checked: Vec<String>,
    /// Requirements the (genuine) attestation does not meet.
    pub unmet: Vec<String>,
}

impl Verification {
    pub fn holds(&self) -> bool {
        self.unmet.is_empty()
    }
}

fn bad(attestation: &Path, what: impl std::fmt::Display) -> Error {
    Error::file(attestation, what.to_string())
}

struct Subject {
    name: String,
    sha256: String,
    kind: Kind,
    /// The arm a model or prediction file belongs to (`maskgate.role` = "model ARM").
    arm: Option<String>,
}

fn subjects(path: &Path, statement: &Value) -> Result<Vec<Subject>> {
    let list = statement
        .get("subject")
        .and_then(Value::as_array)
        .ok_or_else(|| bad(path, "malformed statement: no subject list"))?;
    list.iter()
        .enumerate()
        .map(|(i, s)| {
            let name = s.get("name").and_then(Value::as_str).unwrap_or("");
            let sha256 = s
                .pointer("/digest/sha256")
                .and_then(Value::as_str)
                .unwrap_or("");
            let kind = s
                .pointer(&format!("/annotations/{KIND_ANNOTATION}"))
                .and_then(Value::as_str)
                .and_then(Kind::parse);
            match kind {
                Some(kind)
                    if !name.is_empty()
                        && sha256.len() == 64
                        && sha256.bytes().all(|b| b.is_ascii_hexdigit()) =>
                {
                    Ok(Subject {
                        name: name.to_string(),
                        sha256: sha256.to_ascii_lowercase(),
                        kind,
                        arm: s
                            .pointer("/annotations/maskgate.role")
                            .and_then(Value::as_str)
                            .and_then(|r| r.split_once(' '))
                            .map(|(_, arm)| arm.to_string()),
                    })
                }
                _ => Err(bad(
                    path,
                    format!(
                        "malformed statement: subject {} lacks a name, a sha256 digest or a known {KIND_ANNOTATION}",
                        i + 1
                    ),
                )),
            }
        })
        .collect()
}

/// `name` joined to `base` by its normal components only: `None` when it is absolute or climbs
/// out with `..` (a statement may not point outside the folder it is checked in).
fn inside(base: &Path, name: &str) -> Option<PathBuf> {
    let mut out = base.to_path_buf();
    let mut depth = 0usize;
    for c in Path::new(name).components() {
        match c {
            Component::Normal(p) => {
                out.push(p);
                depth += 1;
            }
            Component::CurDir => {}
            Component::ParentDir if depth > 0 => {
                out.pop();
                depth -= 1;
            }
            _ => return None,
        }
    }
    (depth > 0).then_some(out)
}

/// Where an absolute subject path lies under `root`, if it does.
fn absolute_inside(root: &Path, name: &str) -> Option<PathBuf> {
    let p = Path::new(name);
    if !p.is_absolute() {
        return None;
    }
    let root = crate::pathnames::normalize(&std::path::absolute(root).ok()?);
    let rel = crate::pathnames::normalize(p)
        .strip_prefix(&root)
        .ok()?
        .to_path_buf();
    inside(&root, &rel.to_string_lossy())
}

/// The sha256 of a subject's bytes, wherever it lives.
fn digest_of(req: &Request, set_dir: &Path, s: &Subject) -> Result<String> {
    let what = format!(
        "subject {:?} ({})",
        crate::fmt::clip(&s.name),
        s.kind.as_str()
    );
    if crate::storage::is_url(&s.name) {
        if s.kind.in_report_set() {
            return Err(bad(
                &req.attestation,
                format!("{what}: a report-set file named by a URL"),
            ));
        }
        let (parent, key) = s
            .name
            .rsplit_once('/')
            .ok_or_else(|| bad(&req.attestation, format!("{what}: not an object URL")))?;
        let store = crate::storage::open(
            Path::new(&format!("{parent}/")),
            crate::net::Network::default(),
        )?;
        let bytes = store.get(key)?.ok_or_else(|| {
            bad(
                &req.attestation,
                format!("{what}: missing: nothing at that URL"),
            )
        })?;
        return Ok(hex::encode(sha2::Sha256::digest(&bytes)));
    }
    let path = if s.kind.in_report_set() {
        inside(set_dir, &s.name).ok_or_else(|| {
            bad(
                &req.attestation,
                format!("{what} names a path outside the report set"),
            )
        })?
    } else {
        match inside(&req.root, &s.name).or_else(|| absolute_inside(&req.root, &s.name)) {
            Some(p) => p,
            None => {
                return Err(bad(
                    &req.attestation,
                    format!(
                        "{what} names a path outside --root {}: verify from the folder the run ran in, or give --root a folder that holds it",
                        crate::pathnames::display(&req.root)
                    ),
                ))
            }
        }
    };
    if let Err(e) = std::fs::symlink_metadata(&path) {
        if e.kind() == std::io::ErrorKind::NotFound {
            return Err(bad(
                &req.attestation,
                format!(
                    "{what} is missing: nothing at {}",
                    crate::pathnames::display(&path)
                ),
            ));
        }
    }
    // A link inside the folder that points out of it is refused, not followed: the folder a
    // verifier names is the one whose files are checked.
    let (base, where_) = if s.kind.in_report_set() {
        (set_dir, "the report set")
    } else {
        (req.root.as_path(), "--root")
    };
    let real = std::fs::canonicalize(&path);
    let real_base = std::fs::canonicalize(base);
    match (&real, &real_base) {
        (Ok(r), Ok(b)) if r.starts_with(b) => {}
        _ => {
            return Err(bad(
                &req.attestation,
                format!(
                "{what} resolves to a file outside {where_} (a link pointing out of it): refused"
            ),
            ))
        }
    }
    crate::sha256_file(&path)
        .map_err(|e| bad(&req.attestation, format!("{what} cannot be read: {e}")))
}

/// Verifies `req.attestation` (see the module's text for what is an error and what is unmet).
pub fn verify(req: &Request) -> Result<Verification> {
    let path = &req.attestation;
    let (envelope, payload) = read_envelope(path)?;
    let keyid = req.pubkey.keyid();
    if envelope.signatures.is_empty() {
        return Err(bad(
            path,
            "unsigned: the attestation carries no signature (the run had no --sign-key)",
        ));
    }
    if !signed_by(&envelope, &payload, &req.pubkey) {
        let signers: Vec<String> = envelope
            .signatures
            .iter()
            .map(|s| format!("{:?}", crate::fmt::clip(crate::fmt::hash_prefix(&s.keyid))))
            .collect();
        return Err(bad(
            path,
            format!(
                "bad signature: no signature verifies with the given public key (keyid {}); signed as {}",
                crate::fmt::hash_prefix(&keyid),
                signers.join(", ")
            ),
        ));
    }
    let opened = open_statement(path, &envelope, &payload)?;
    let statement = &opened.statement;
    let mut checked = vec![format!(
        "signature: Ed25519 over the DSSE envelope, keyid {}",
        crate::fmt::hash_prefix(&keyid)
    )];
    let set_dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let subjects = subjects(path, statement)?;
    for s in &subjects {
        let got = digest_of(req, set_dir, s)?;
        if got != s.sha256 {
            return Err(bad(
                path,
                format!(
                    "subject {:?} ({}) changed: its sha256 is {}, the attestation says {}",
                    crate::fmt::clip(&s.name),
                    s.kind.as_str(),
                    crate::fmt::hash_prefix(&got),
                    crate::fmt::hash_prefix(&s.sha256)
                ),
            ));
        }
    }
    checked.push(format!(
        "subjects: {} files, each with the sha256 the attestation names",
        subjects.len()
    ));
    let predicate = statement.get("predicate").cloned().unwrap_or(Value::Null);
    let baseline = predicate
        .get("baseline")
        .and_then(Value::as_str)
        .ok_or_else(|| bad(path, "malformed statement: the predicate names no baseline"))?
        .to_string();
    for m in &req.models {
        let sha = crate::sha256_file(m)?;
        let matching: Vec<&Subject> = subjects
            .iter()
            .filter(|s| s.kind == Kind::Model && s.sha256 == sha)
            .collect();
        if !matching.is_empty()
            && matching
                .iter()
                .all(|s| s.arm.as_deref() == Some(baseline.as_str()))
        {
            return Err(bad(
                path,
                format!(
                    "model {} is the baseline's ({}): the verdict is about replacing it, so it promotes another arm's model, never the baseline's",
                    crate::pathnames::display(m),
                    crate::fmt::clip(&baseline)
                ),
            ));
        }
        if matching.is_empty() {
            let models: Vec<&str> = subjects
                .iter()
                .filter(|s| s.kind == Kind::Model)
                .map(|s| s.name.as_str())
                .collect();
            return Err(bad(
                path,
                format!(
                    "model {} (sha256 {}) is not a model this verdict is about (its models: {})",
                    crate::pathnames::display(m),
                    crate::fmt::hash_prefix(&sha),
                    if models.is_empty() {
                        "none".to_string()
                    } else {
                        models.join(", ")
                    }
                ),
            ));
        }
        checked.push(format!(
            "model: {} is a subject",
            crate::pathnames::display(m)
        ));
    }
    let recommendation = predicate
        .get("recommendation")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            bad(
                path,
                "malformed statement: the predicate has no recommendation",
            )
        })?
        .to_string();
    let mut unmet = Vec::new();
    if let Some(pinned) = &req.criteria_sha256 {
        let attested = predicate
            .get("criteriaSha256")
            .and_then(Value::as_str)
            .unwrap_or("none");
        if !attested.eq_ignore_ascii_case(pinned.trim()) {
            unmet.push(format!(
                "the verdict was decided under criteria with sha256 {}, not the required {}",
                crate::fmt::clip(attested),
                crate::fmt::clip(pinned)
            ));
        } else {
            checked.push("criteria: the required sha256".to_string());
        }
    }
    if req.require_preregistered {
        if predicate
            .get("criteriaPreRegistered")
            .and_then(Value::as_bool)
            == Some(true)
        {
            checked.push("criteria: pre-registered".to_string());
        } else {
            unmet.push("the criteria were not pre-registered (the run had no criteria_sha256 or criteria.lock)".to_string());
        }
    }
    if let Some(required) = &req.require {
        if *required != recommendation {
            unmet.push(format!(
                "the verdict is {recommendation}, and {required} is required"
            ));
        } else {
            checked.push(format!("verdict: {recommendation}, as required"));
        }
    }
    let statement_needs = predicate
        .get("requiredApprovals")
        .and_then(Value::as_u64)
        .unwrap_or(0) as usize;
    let needed = req.approvals.max(statement_needs);
    if needed > 0 && req.approver_keys.contains(&req.pubkey) {
        return Err(Error::Usage(
            "an --approver-pubkey is the gate's own key: approvals are people's, apart from the key that signs verdicts".into(),
        ));
    }
    if needed > 0 {
        let approvals_path = set_dir.join(super::APPROVALS_FILE);
        let approvers = super::approve::valid_approvers(
            &approvals_path,
            &opened.payload_sha256,
            &req.approver_keys,
        )?;
        if approvers.len() < needed {
            unmet.push(format!(
                "{} of {needed} required approvals ({} distinct valid approvals by the given approver keys in {})",
                approvers.len(),
                approvers.len(),
                crate::pathnames::display(&approvals_path)
            ));
        } else {
            checked.push(format!(
                "approvals: {} of {needed} required, by {}",
                approvers.len(),
                approvers.join(", ")
            ));
        }
    }
    Ok(Verification {
        recommendation,
        keyid,
        checked,
        unmet,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_keeps_names_in_their_folder() {
        let base = Path::new("/r");
        assert_eq!(inside(base, "a/b.onnx"), Some(PathBuf::from("/r/a/b.onnx")));
        assert_eq!(inside(base, "a/../b"), Some(PathBuf::from("/r/b")));
        for escaping in ["../x", "a/../../x", "/etc/passwd", "", ".", "a/.."] {
            assert_eq!(inside(base, escaping), None, "{escaping}");
        }
        assert_eq!(
            absolute_inside(Path::new("/r"), "/r/m/x.onnx"),
            Some(PathBuf::from("/r/m/x.onnx"))
        );
        assert_eq!(absolute_inside(Path::new("/r"), "/s/x.onnx"), None);
        assert_eq!(absolute_inside(Path::new("/r"), "/r/../s/x"), None);
    }
}
