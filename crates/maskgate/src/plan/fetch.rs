//! The first step after resolution that touches the world: every location the plan reads goes
//! through its [`crate::source::Source`] (an object-store URL is fetched into a local folder),
//! and every other file the plan names must be there. Kept apart from
//! [`super::resolve`] so that resolving (and `--explain`) stays pure.

use super::problems_error;
use crate::config::{ArmSource, ArmSpec};
use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::pathnames;
use crate::read::CorpusSpec;
use crate::source::{source_for, Reach};
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
    let reach = Reach {
        downloads,
        max_bytes: limits.max_file_bytes,
        network,
    };
    let mut remote_names: BTreeMap<PathBuf, String> = BTreeMap::new();
    // Locations that could not be made readable, and whether a retry may cure each (a fetch
    // from a server that is down or slow).
    let mut unreadable: Vec<bool> = Vec::new();
    // Every location the plan reads goes through its source: a remote one is fetched and
    // replaced by its local copy, which reports name by the URL.
    let mut locate =
        |p: &mut PathBuf, what: String| match source_for(p).and_then(|s| s.locate(p, &reach)) {
            Ok(located) => {
                if located.path != *p {
                    remote_names.insert(located.path.clone(), located.display);
                    *p = located.path;
                }
            }
            Err(e) => {
                unreadable.push(e.is_retryable());
                problems.push(format!("{what}: {e}"));
            }
        };
    for c in corpora.iter_mut() {
        locate(&mut c.path, format!("corpus {:?}", c.name));
    }
    for a in arms.iter_mut() {
        match &mut a.source {
            ArmSource::Predictions(p) => locate(p, format!("arm {:?} predictions", a.name)),
            ArmSource::Model { model, .. } => locate(model, format!("arm {:?} model", a.name)),
        }
    }

    // Every other file the plan names must be there: all missing ones are reported together
    // with the config's own problems.
    for (what, p) in files {
        if let Err(e) = std::fs::metadata(p) {
            let shown = pathnames::display(p);
            problems.push(format!("{what}: {}: {e}", crate::fmt::clip(&shown)));
        }
    }
    if !problems.is_empty() {
        // Only fetches that a retry may cure (a server down or slow): running again may pass.
        let only_retryable =
            problems.len() == unreadable.len() && unreadable.iter().all(|retryable| *retryable);
        let error = problems_error(config, problems);
        return Err(if only_retryable {
            Error::Retryable(error.to_string())
        } else {
            error
        });
    }
    Ok(remote_names)
}
