//! CI builds the Python wheel with the dev profile into the main target folder, to reuse what
//! `cargo test --workspace` compiled (scripts/test.sh). That works only while the wheel's own
//! workspace (crates/maskgate-py) has the same profiles and locks the same versions; drift would
//! silently turn a 1½-minute step back into a full build.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn repo_toml(rel: &str) -> toml::Table {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel);
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn the_wheel_has_the_workspace_profiles() {
    let main = repo_toml("Cargo.toml");
    let wheel = repo_toml("crates/maskgate-py/Cargo.toml");
    assert!(
        main.get("profile").is_some(),
        "the workspace declares its profiles"
    );
    assert_eq!(
        main.get("profile"),
        wheel.get("profile"),
        "crates/maskgate-py/Cargo.toml's [profile.*] tables must equal the workspace's"
    );
}

/// name → versions, of the packages from crates.io.
fn locked(rel: &str) -> BTreeMap<String, BTreeSet<String>> {
    let lock = repo_toml(rel);
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for p in lock["package"].as_array().expect("[[package]] tables") {
        if p.get("source").is_some() {
            let name = p["name"].as_str().unwrap_or_default().to_string();
            let version = p["version"].as_str().unwrap_or_default().to_string();
            out.entry(name).or_default().insert(version);
        }
    }
    out
}

#[test]
fn the_wheel_locks_the_workspace_versions() {
    let main = locked("Cargo.lock");
    let wheel = locked("crates/maskgate-py/Cargo.lock");
    let shared: Vec<&String> = wheel.keys().filter(|n| main.contains_key(*n)).collect();
    assert!(
        shared.len() > 100,
        "the two graphs share most packages: {}",
        shared.len()
    );
    let differ: Vec<String> = shared
        .into_iter()
        .filter(|n| main[*n] != wheel[*n])
        .map(|n| format!("{n}: workspace {:?}, wheel {:?}", main[n], wheel[n]))
        .collect();
    assert!(
        differ.is_empty(),
        "crates/maskgate-py/Cargo.lock must lock the workspace's versions (copy Cargo.lock over \
         it and run `cargo update --manifest-path crates/maskgate-py/Cargo.toml -w`):\n{}",
        differ.join("\n")
    );
}
