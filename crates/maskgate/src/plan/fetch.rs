//! The first step after resolution that touches the world: object-store inputs are fetched
//! into a local folder, and every file the plan names must be there. Kept apart from
//! [`super::resolve`] so that resolving (and `--explain`) stays pure.

use super::problems_error;
use crate::config::{ArmSource, ArmSpec};
use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::pathnames;
use crate::read::CorpusSpec;
use crate::source::source_for;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The inputs to fetch and check, and where the problems found so far (the config's own) are.
pub(super) struct Inputs<'a> {
    pub corpora: &'a mut [CorpusSpec],
    pub arms: &'a mut [ArmSpec],
    /// Other files the plan reads (criteria, notes, variants), by what they are.
    pub files: Vec<(&'static str, &'a Path)>,
    /// Problems found before this step (the config's), reported with the missing files.
    pub problems: Vec<String>,
    /// The config the problems are reported against.
    pub config: Option<&'a Path>,
}

/// Fetches the object-store locations among the inputs into `downloads` (their paths become
/// the local copies) and checks that every file is there. Every problem found, the config's
/// own included, is one error; only failed fetches that a retry may cure make it retryable.
/// Returns the local copies → the URL reports show.
pub(super) fn fetch_and_check(
    inputs: Inputs<'_>,
    downloads: &Path,
    limits: Limits,
    network: crate::net::Network,
) -> Result<BTreeMap<PathBuf, String>> {
    let Inputs {
        corpora,
        arms,
        files,
        mut problems,
        config,
    } = inputs;
    let mut remote_names: BTreeMap<PathBuf, String> = BTreeMap::new();
    // Fetches that failed, and whether a retry may cure each: their locations are still
    // URLs, which the existence checks below must not look for on the local disk.
    let mut failed_fetches: Vec<(PathBuf, bool)> = Vec::new();
    {
        let mut fetch = |p: &mut PathBuf, what: String| {
            let url = p.to_string_lossy().into_owned();
            if !crate::storage::is_url(&url) {
                return;
            }
            match crate::storage::fetch(&url, downloads, limits.max_file_bytes, network) {
                Ok(local) => {
                    remote_names.insert(local.clone(), crate::storage::shown_url(&url));
                    *p = local;
                }
                Err(e) => {
                    failed_fetches.push((p.clone(), e.is_retryable()));
                    problems.push(format!("{what}: {e}"));
                }
            }
        };
        for c in corpora.iter_mut() {
            fetch(&mut c.path, format!("corpus {:?}", c.name));
        }
        for a in arms.iter_mut() {
            match &mut a.source {
                ArmSource::Predictions(p) => fetch(p, format!("arm {:?} predictions", a.name)),
                ArmSource::Model { model, .. } => fetch(model, format!("arm {:?} model", a.name)),
            }
        }
    }

    // Every file the plan names must be there: all missing ones are reported together with
    // the config's own problems.
    let not_fetched = |p: &Path| failed_fetches.iter().any(|(f, _)| f == p);
    let missing = |problems: &mut Vec<String>, what: String, p: &Path| {
        if not_fetched(p) {
            return;
        }
        if let Err(e) = std::fs::metadata(p) {
            let shown = pathnames::display(p);
            problems.push(format!("{what}: {}: {e}", crate::fmt::clip(&shown)));
        }
    };
    for c in corpora.iter().filter(|c| !not_fetched(&c.path)) {
        if let Err(e) = source_for(&c.path).and_then(|s| s.locate(&c.path)) {
            problems.push(format!("corpus {:?}: {e}", c.name));
        }
    }
    for a in arms.iter() {
        match &a.source {
            ArmSource::Predictions(p) => {
                missing(&mut problems, format!("arm {:?} predictions", a.name), p)
            }
            ArmSource::Model { model, .. } => {
                missing(&mut problems, format!("arm {:?} model", a.name), model)
            }
        }
    }
    for (what, p) in files {
        missing(&mut problems, what.into(), p);
    }
    if !problems.is_empty() {
        // Only fetches that a retry may cure (a server down or slow): running again may pass.
        let only_retryable = problems.len() == failed_fetches.len()
            && failed_fetches.iter().all(|(_, retryable)| *retryable);
        let error = problems_error(config, problems);
        return Err(if only_retryable {
            Error::Retryable(error.to_string())
        } else {
            error
        });
    }
    Ok(remote_names)
}
