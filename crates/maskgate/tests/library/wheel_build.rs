//! CI builds the Python wheel with the dev profile after `cargo test --workspace`
//! (scripts/test.sh), and it reuses the library, the CLI and every dependency the tests compiled
//! only while the wheel's crate is a member of the workspace: one lock, one set of profiles.
//! Given its own workspace again (as it once had), the wheel step would silently compile the
//! library and the CLI a second time.

use std::path::Path;

fn repo_file(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

fn repo_toml(rel: &str) -> toml::Table {
    let p = repo_file(rel);
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn the_wheel_is_built_in_the_workspace() {
    let main = repo_toml("Cargo.toml");
    let members: Vec<&str> = main["workspace"]["members"]
        .as_array()
        .expect("workspace.members")
        .iter()
        .filter_map(|m| m.as_str())
        .collect();
    assert!(
        members.contains(&"crates/maskgate-py"),
        "crates/maskgate-py must be a workspace member: {members:?}"
    );
    let wheel = repo_toml("crates/maskgate-py/Cargo.toml");
    for own in ["workspace", "profile"] {
        assert!(
            wheel.get(own).is_none(),
            "crates/maskgate-py/Cargo.toml must not have a [{own}] of its own"
        );
    }
    assert!(
        !repo_file("crates/maskgate-py/Cargo.lock").exists(),
        "crates/maskgate-py/Cargo.lock: the wheel locks through the workspace's Cargo.lock"
    );
}
