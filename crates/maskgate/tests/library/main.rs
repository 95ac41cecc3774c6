//! The library's integration tests, one binary (each linked test binary costs CI a link of the
//! whole library): metrics against naive references, readers on fixtures and real data,
//! exporters' snapshots, the verdict, parity with the real packages, and the architecture.

mod architecture;
mod boundary_reference;
mod cost;
mod decide;
mod decode_vectors;
mod duplicates;
mod exporters;
mod face_modules;
mod formats;
mod opencv_reference;
mod real_data;
mod real_parity;
#[cfg(feature = "sqlite")]
mod sql_corpus;
mod ultralytics_parity;
mod wheel_build;
mod yolo;

/// The shared reference folder: `$MASKGATE_SHARED`, default `../shared` beside the repository
/// (a relative value is taken from the repository root).
pub fn shared_dir() -> std::path::PathBuf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let v = std::env::var("MASKGATE_SHARED").unwrap_or_else(|_| "../shared".into());
    root.join(v)
}
