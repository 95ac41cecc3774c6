//! Keeps a corpus inside its dataset folder: a file an annotation names (or a symlink in the
//! tree) that leads outside the root is a per-sample problem, never read.

use super::LoadError;
use std::path::{Component, Path, PathBuf};

/// `path` with `.` and `..` resolved lexically, made absolute against the current directory.
fn normalise(path: &Path) -> PathBuf {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Where `path` really leads: symlinks resolved when it exists, else lexically (a missing file
/// is the loader's to report, but `../x` is still an escape).
pub fn resolved(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| normalise(path))
}

/// Ok when `file` (symlinks followed) lies inside `root_real`, a root already [`resolved`].
pub fn check_inside(root_real: &Path, file: &Path) -> Result<(), LoadError> {
    if resolved(file).starts_with(root_real) {
        Ok(())
    } else {
        Err(LoadError::new(
            "path_escape",
            format!(
                "{} leads outside the dataset root {}",
                file.display(),
                root_real.display()
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotdot_and_symlinks_out_of_the_root_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root_dir = dir.path().join("data");
        std::fs::create_dir_all(root_dir.join("images")).unwrap();
        std::fs::write(root_dir.join("images/a.png"), b"x").unwrap();
        let root = resolved(&root_dir);
        std::fs::write(dir.path().join("secret.png"), b"x").unwrap();
        assert!(check_inside(&root, &root.join("images/a.png")).is_ok());
        assert!(check_inside(&root, &root.join("images/../images/a.png")).is_ok());
        assert!(check_inside(&root, &root.join("images/missing.png")).is_ok());
        let e = check_inside(&root, &root.join("images/../../secret.png")).unwrap_err();
        assert_eq!(e.kind, "path_escape");
        assert!(check_inside(&root, &root.join("../nothing-here.png")).is_err());
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.path().join("secret.png"), root.join("images/link.png"))
                .unwrap();
            assert!(check_inside(&root, &root.join("images/link.png")).is_err());
        }
    }
}
