//! The in-toto Statement v1 of a run that decides: what it is about (subjects: the models,
//! prediction files, criteria, dataset manifest and every report file, each with its sha256)
//! and what it found (the test-result predicate: the verdict and the criteria that passed,
//! warned and failed, and what configured the run). Built from the report and the staged
//! report set alone, as canonical JSON: the same inputs give the same bytes, sharded or not.

use super::dsse::{self, Envelope};
use crate::decide::Status;
use crate::error::{Error, Result};
use crate::report::Report;
use serde_json::{json, Value};
use sha2::Digest;
use std::path::Path;

pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
pub const PREDICATE_TYPE: &str = "https://in-toto.io/attestation/test-result/v0.1";
/// The annotation that says what a subject is, and so where `verify` finds it.
pub const KIND_ANNOTATION: &str = "maskgate.kind";

/// What a subject is. Inputs are named as the run named them (a path from its working folder,
/// or a URL); report-set files by their name inside the set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Model,
    Predictions,
    Criteria,
    Dataset,
    Report,
    SavedPredictions,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Model,
        Kind::Predictions,
        Kind::Criteria,
        Kind::Dataset,
        Kind::Report,
        Kind::SavedPredictions,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Model => "model",
            Kind::Predictions => "predictions",
            Kind::Criteria => "criteria",
            Kind::Dataset => "dataset",
            Kind::Report => "report",
            Kind::SavedPredictions => "saved-predictions",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether the subject is a file of the report set (found beside the attestation).
    pub fn in_report_set(self) -> bool {
        matches!(self, Kind::Dataset | Kind::Report | Kind::SavedPredictions)
    }
}

/// The program that produced the verdict: the report names its version; the executable, when
/// the caller knows it (the CLI gives its own), is hashed into the attestation.
#[derive(Clone, Debug, Default)]
pub struct Binary {
    pub executable: Option<std::path::PathBuf>,
}

pub use crate::decide::criteria::CriteriaPin;

/// Everything the statement is built from.
pub struct Attested<'a> {
    pub report: &'a Report,
    /// The staged report set (the attestation itself not yet in it).
    pub set_dir: &'a Path,
    pub binary: &'a Binary,
    pub pin: Option<&'a CriteriaPin>,
    pub required_approvals: u32,
}

/// The statement inside an envelope, with its digest (what approvals sign).
pub struct Opened {
    pub statement: Value,
    pub payload_sha256: String,
}

/// Checks that the envelope carries an in-toto statement with the test-result predicate;
/// signatures are the caller's to check.
pub fn open_statement(path: &Path, envelope: &Envelope, payload: &[u8]) -> Result<Opened> {
    let bad = |what: String| Error::file(path, what);
    if envelope.payload_type != dsse::IN_TOTO_PAYLOAD_TYPE {
        return Err(bad(format!(
            "unknown payload type {:?} (an attestation carries {:?})",
            crate::fmt::clip(&envelope.payload_type),
            dsse::IN_TOTO_PAYLOAD_TYPE
        )));
    }
    let statement: Value = serde_json::from_slice(payload)
        .map_err(|e| bad(format!("malformed statement: not JSON ({e})")))?;
    let field = |k: &str| statement.get(k).and_then(Value::as_str).unwrap_or("");
    if field("_type") != STATEMENT_TYPE {
        return Err(bad(format!(
            "malformed statement: _type is {:?}, not {STATEMENT_TYPE:?}",
            crate::fmt::clip(field("_type"))
        )));
    }
    if field("predicateType") != PREDICATE_TYPE {
        return Err(bad(format!(
            "unknown predicate type {:?}: maskgate verifies {PREDICATE_TYPE:?} statements",
            crate::fmt::clip(field("predicateType"))
        )));
    }
    Ok(Opened {
        statement,
        payload_sha256: hex::encode(sha2::Sha256::digest(payload)),
    })
}

fn descriptor(name: &str, sha256: &str, annotations: Value) -> Value {
    json!({ "name": name, "digest": { "sha256": sha256 }, "annotations": annotations })
}

/// Every file of the staged set, `/`-separated names relative to it, sorted, walked as the
/// set's manifest walks it; maskgate's own working files (dot-names) are not part of a set.
fn set_files(dir: &Path) -> Result<Vec<(String, std::path::PathBuf)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') {
            crate::persist::report_set::collect_files(&entry.path(), &name, &mut out)?;
        }
    }
    out.sort();
    Ok(out)
}

/// The statement of a run that decided; `None` for a run without criteria.
pub fn statement(a: &Attested<'_>) -> Result<Option<Value>> {
    let r = a.report;
    let (Some(recommendation), Some(criteria)) = (r.recommendation, r.criteria.as_ref()) else {
        return Ok(None);
    };
    let mut subjects = Vec::new();
    let mut configuration = Vec::new();
    for input in &r.run.inputs {
        let role = input.role.as_str();
        // Named from the working folder, where `verify --root` finds it.
        let name = match input.named.is_empty() {
            true => &input.path,
            false => &input.named,
        };
        let kind = if role.starts_with("model ") {
            Some(Kind::Model)
        } else if role.starts_with("predictions ") {
            Some(Kind::Predictions)
        } else if role == "criteria" {
            Some(Kind::Criteria)
        } else {
            None
        };
        let annotations = |kind: Option<Kind>| {
            let mut m = serde_json::Map::new();
            if let Some(k) = kind {
                m.insert(KIND_ANNOTATION.into(), k.as_str().into());
            }
            m.insert("maskgate.role".into(), role.into());
            Value::Object(m)
        };
        match kind {
            Some(k) => subjects.push(descriptor(name, &input.sha256, annotations(Some(k)))),
            // A corpus is attested by the dataset manifest, which lists its files.
            None if role == "gold" || role.starts_with("corpus ") => {}
            None => configuration.push(descriptor(name, &input.sha256, annotations(None))),
        }
        if kind == Some(Kind::Criteria) {
            configuration.push(descriptor(name, &input.sha256, annotations(None)));
        }
    }
    let saved_prefix = format!("{}/", crate::predict::saved::FOLDER);
    for (name, path) in set_files(a.set_dir)? {
        if name == super::FILE || name == crate::persist::report_set::MANIFEST {
            continue;
        }
        let kind = if name == super::dataset::FILE {
            Kind::Dataset
        } else if name.starts_with(&saved_prefix) {
            Kind::SavedPredictions
        } else {
            Kind::Report
        };
        let sha256 = crate::sha256_file(&path)?;
        subjects.push(descriptor(
            &name,
            &sha256,
            json!({ KIND_ANNOTATION: kind.as_str() }),
        ));
    }
    let mut binary = json!({
        "name": r.tool.name,
        "uri": format!("pkg:cargo/{}@{}", r.tool.name, r.tool.version),
        "annotations": { "maskgate.role": "binary" },
    });
    if let Some(exe) = &a.binary.executable {
        binary["digest"] = json!({ "sha256": crate::sha256_file(exe)? });
    }
    configuration.push(binary);
    let ids = |status: Status| -> Vec<&str> {
        criteria
            .iter()
            .filter(|c| c.status == status)
            .map(|c| c.id.as_str())
            .collect()
    };
    let result = match recommendation {
        crate::decide::Recommendation::Go => "PASSED",
        crate::decide::Recommendation::NoGo => "FAILED",
        crate::decide::Recommendation::Inconclusive => "WARNED",
    };
    let criteria_sha256 = r
        .run
        .inputs
        .iter()
        .find(|i| i.role == "criteria")
        .map(|i| i.sha256.clone());
    let predicate = json!({
        "result": result,
        "configuration": configuration,
        "passedTests": ids(Status::Pass),
        "warnedTests": ids(Status::Inconclusive),
        "failedTests": ids(Status::Fail),
        "recommendation": recommendation,
        "baseline": r.settings.baseline,
        "decidingCriteria": r.deciding_criteria.clone().unwrap_or_default(),
        "closestCriterion": r.closest_criterion,
        "verdict": r.verdict_summary,
        "runId": r.run.run_id,
        "generatedAt": r.run.generated_at,
        "criteriaSha256": criteria_sha256,
        "criteriaPreRegistered": a.pin.is_some(),
        "criteriaPinnedBy": a.pin.map(|p| p.source.clone()),
        "requiredApprovals": a.required_approvals,
    });
    Ok(Some(json!({
        "_type": STATEMENT_TYPE,
        "subject": subjects,
        "predicateType": PREDICATE_TYPE,
        "predicate": predicate,
    })))
}
