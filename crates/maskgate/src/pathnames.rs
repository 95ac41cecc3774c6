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

/// `path` from the working folder, normalised. The empty path (a bare file name's folder) is
/// the working folder itself, which `std::path::absolute` refuses.
pub fn absolute(path: &Path) -> PathBuf {
    let path = match path.as_os_str().is_empty() {
        true => Path::new("."),
        false => path,
    };
    normalize(&std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()))
}

/// `path` as a reader of a report finds it from the folder `base`: relative (`../x/y`, lexical,
/// both made absolute from the working folder first), `.` for the folder itself, and absolute
/// only when the two share no root. A URL stays a (redacted) URL.
pub fn relative_to(base: &Path, path: &Path) -> String {
    let text = path.to_string_lossy();
    if is_url(&text) {
        return crate::redact::url(&text);
    }
    let (p, b) = (absolute(path), absolute(base));
    let pc: Vec<Component> = p.components().collect();
    let bc: Vec<Component> = b.components().collect();
    let common = pc.iter().zip(&bc).take_while(|(x, y)| x == y).count();
    if common == 0 {
        return display(&p);
    }
    let mut out = PathBuf::new();
    for _ in common..bc.len() {
        out.push("..");
    }
    for c in &pc[common..] {
        out.push(c);
    }
    display(&out)
}

/// URL schemes that name object storage rather than a local path.
const SCHEMES: [&str; 8] = [
    "s3://", "s3a://", "gs://", "az://", "abfs://", "abfss://", "http://", "https://",
];

/// Whether `location` names object storage (`s3://…`) rather than a local path.
pub fn is_url(location: &str) -> bool {
    SCHEMES.iter().any(|s| location.starts_with(s))
}

/// The longest part [`safe_component`] makes: three of them and a sample hash still fit a
/// file system's 255-byte name limit (a gallery strip is `hash_class_base_vs_arm.png`).
pub const MAX_COMPONENT: usize = 56;

/// A file-name part for `name`: itself when it is made only of ASCII letters, digits, `-` and
/// `_` and is at most [`MAX_COMPONENT`] long; otherwise those characters with `_` for the rest,
/// cut short where needed, and a hash of the name appended, so two names (`v1.0`, `v1_0`, two
/// long names sharing a prefix) never share a file.
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
    if cleaned == name && !name.is_empty() && name.len() <= MAX_COMPONENT {
        return cleaned;
    }
    use sha2::{Digest, Sha256};
    let hash = &hex::encode(Sha256::digest(name.as_bytes()))[..8];
    // `cleaned` is ASCII, so any byte length is a char boundary.
    let keep = cleaned.len().min(MAX_COMPONENT - 1 - hash.len());
    format!("{}-{hash}", &cleaned[..keep])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_are_bounded_and_distinct() {
        assert_eq!(safe_component("baseline"), "baseline");
        let long_a = "a".repeat(300);
        let long_b = format!("{}b", "a".repeat(299));
        let (x, y) = (safe_component(&long_a), safe_component(&long_b));
        assert_eq!(x.len(), MAX_COMPONENT);
        assert_ne!(x, y);
        let unicode = "é".repeat(200);
        assert!(safe_component(&unicode).len() <= MAX_COMPONENT);
        assert_ne!(safe_component("v1.0"), safe_component("v1_0"));
    }

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
