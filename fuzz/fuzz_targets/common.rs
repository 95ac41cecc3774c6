// Shared by the file-based targets: one scratch folder per fuzzing process.
#![allow(dead_code)]
use std::path::PathBuf;

pub fn scratch(target: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("maskgate-fuzz-{target}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Reads a corpus through its reader and loads every sample; errors and problems are fine,
/// panics are not.
pub fn read_all(spec: &maskgate::read::CorpusSpec) {
    if let Ok(corpus) = maskgate::read::read_corpus(spec) {
        for e in &corpus.samples {
            if let Ok(s) = corpus.load(e) {
                for m in s.gt.values() {
                    let _ = m.rasterize(None);
                }
            }
        }
    }
}
