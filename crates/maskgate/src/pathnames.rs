//! Paths as reports show them: lexically normalised (`a/b/../c` → `a/c`), and relative to the
//! config's folder or the working directory where that is shorter to read.

use std::path::{Component, Path, PathBuf};

/// `path` without `.` components and with `x/..` pairs folded (lexically: no file system access,
/// so a path that does not exist yet normalises too).
pub fn normalize(path: &Path) -> PathBuf {
    let mut out: Vec<Component> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir) | Some(Component::Prefix(_)) => {}
                _ => out.push(c),
            },
            other => out.push(other),
        }
    }
    if out.is_empty() {
        return PathBuf::from(".");
    }
    out.iter().collect()
}

/// A normalised path as text, with `/` separators.
pub fn display(path: &Path) -> String {
    let text = path.to_string_lossy();
    if is_url(&text) {
        return crate::redact::url(&text);
    }
    normalize(path).to_string_lossy().replace('\\', "/")
}

/// URL schemes that name object storage rather than a local path.
const SCHEMES: [&str; 8] = [
    "s3://", "s3a://", "gs://", "az://", "abfs://", "abfss://", "http://", "https://",
];

/// Whether `location` names object storage (`s3://…`) rather than a local path.
pub fn is_url(location: &str) -> bool {
    SCHEMES.iter().any(|s| location.starts_with(s))
}

/// A file-name part for `name`: itself when it is made only of ASCII letters, digits, `-` and
/// `_`; otherwise those characters with `_` for the rest and a hash of the name appended, so two
/// names (`v1.0`, `v1_0`) never share a file.
pub fn safe_component(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if cleaned == name && !name.is_empty() {
        return cleaned;
    }
    use sha2::{Digest, Sha256};
    format!(
        "{cleaned}-{}",
        &hex::encode(Sha256::digest(name.as_bytes()))[..8]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_dots() {
        assert_eq!(
            display(Path::new(
                "examples/model-gate/../../vendor/models/u2netp.onnx"
            )),
            "vendor/models/u2netp.onnx"
        );
        assert_eq!(display(Path::new("./a/./b/")), "a/b");
        assert_eq!(display(Path::new("../shared/x/../y")), "../shared/y");
        assert_eq!(display(Path::new("/a/../../b")), "/b");
        assert_eq!(display(Path::new("a/..")), ".");
    }
}
