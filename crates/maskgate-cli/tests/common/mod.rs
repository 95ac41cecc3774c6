//! Helpers the end-to-end test files share: the binary, a fresh folder, the shared reference
//! folder and files of the checkout.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_maskgate"))
}

/// A fresh folder `<group>-<name>` under cargo's test temporary folder.
pub fn fresh_dir(group: &str, name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{group}-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The shared reference folder: `$MASKGATE_SHARED`, default `../shared` beside the repository
/// (a relative value is taken from the repository root).
pub fn shared() -> PathBuf {
    let v = std::env::var("MASKGATE_SHARED").unwrap_or_else(|_| "../shared".into());
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(v)
        .canonicalize()
        .expect("shared folder")
}

/// A file of the checkout, which must exist (`vendor/…` comes from `bash scripts/setup.sh`).
pub fn repo(rel: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel);
    assert!(
        p.exists(),
        "{} missing: run `bash scripts/setup.sh`",
        p.display()
    );
    p.canonicalize().unwrap()
}
