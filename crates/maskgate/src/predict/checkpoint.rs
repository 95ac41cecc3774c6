//! PyTorch checkpoints as model arms: `model = "…/best.pt"` is exported to ONNX once, by
//! Ultralytics' own exporter in a subprocess (the Python `[run] python` or `MASKGATE_PYTHON`
//! names), with the settings the `yolov8-seg` adapter reads: `format="onnx"`, the checkpoint's
//! own training `imgsz`, `dynamic=False`, `half=False`, `nms=False`. The ONNX file is kept under
//! `exports/` of the cache folder, keyed by the checkpoint's sha256, those settings and the
//! Ultralytics version, so a second run costs nothing; without a cache it is made in a private
//! temporary folder of the run, removed when the run ends. The report names both files and the
//! exporter.

use crate::error::{Error, Result};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// The export settings, as the cache key and the report name them.
pub const EXPORT_SETTINGS: &str = "format=onnx;imgsz=train;dynamic=False;half=False;nms=False";

/// How long asking the Python for its Ultralytics may take (it imports no torch).
const VERSION_TIMEOUT: Duration = Duration::from_secs(60);
/// How long one export may take: a nano model exports in about 10 s on 2 cores.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(900);

/// Run by the Python: export `argv[1]` (a copy of the checkpoint in a private folder, since
/// Ultralytics writes the ONNX beside it) and print what was made.
const EXPORT_SCRIPT: &str = r#"
import json, sys
import ultralytics
from ultralytics import YOLO
model = YOLO(sys.argv[1])
out = model.export(format="onnx", dynamic=False, half=False, nms=False, device="cpu", verbose=False)
print(json.dumps({"onnx": str(out), "ultralytics": ultralytics.__version__, "imgsz": model.overrides.get("imgsz")}))
"#;

/// A folder of this run's own, removed when the last holder drops it.
#[derive(Debug)]
struct OwnedDir(PathBuf);

impl Drop for OwnedDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A checkpoint and the ONNX file made of it.
#[derive(Clone, Debug, Serialize)]
pub struct Exported {
    /// The checkpoint as arms name their model file.
    pub checkpoint: String,
    pub checkpoint_sha256: String,
    pub ultralytics: String,
    pub settings: &'static str,
    #[serde(skip)]
    pub onnx: PathBuf,
    /// Without a cache: the run's private folder holding `onnx`, kept while the arm lives.
    #[serde(skip)]
    _owned: Option<Arc<OwnedDir>>,
}

/// Whether `model` is a PyTorch checkpoint (by its extension, as Ultralytics decides).
pub fn is_checkpoint(model: &Path) -> bool {
    model
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("pt"))
}

/// What to install, or set, when `python` cannot export.
fn remedy(python: &Path) -> String {
    format!(
        "install it there (`{} -m pip install ultralytics==8.4.190`, which brings torch), or set \
         [run] python / MASKGATE_PYTHON to a Python that has it, or export the checkpoint \
         yourself (`yolo export model=best.pt format=onnx`) and give the .onnx",
        python.display()
    )
}

/// Runs `cmd` to its end or `limit`, its output into files under `scratch`; (status, stdout,
/// stderr's last lines).
fn run_bounded(
    mut cmd: Command,
    scratch: &Path,
    limit: Duration,
    what: &str,
) -> Result<(bool, String, String)> {
    let io = |e: std::io::Error| Error::Usage(format!("{what}: {e}"));
    std::fs::create_dir_all(scratch).map_err(io)?;
    let (out_path, err_path) = (scratch.join("stdout"), scratch.join("stderr"));
    let out = std::fs::File::create(&out_path).map_err(io)?;
    let err = std::fs::File::create(&err_path).map_err(io)?;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|e| Error::Usage(format!("{what}: cannot start it: {e}")))?;
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().map_err(io)? {
            break s;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Error::Usage(format!(
                "{what}: still running after {} s; stopped",
                limit.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let read = |p: &Path| {
        crate::limits::read_text(p)
            .map(|t| t.to_string())
            .unwrap_or_default()
    };
    let stderr = read(&err_path);
    let tail: Vec<&str> = stderr.lines().rev().take(6).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    Ok((status.success(), read(&out_path), tail.join("\n")))
}

/// The Ultralytics version `python` has, or an error saying what to install.
fn ultralytics_version(python: &Path, scratch: &Path) -> Result<String> {
    let mut cmd = Command::new(python);
    cmd.args([
        "-c",
        "import importlib.metadata as m; print(m.version('ultralytics'))",
    ]);
    let what = format!("{} (to export a .pt checkpoint)", python.display());
    let (ok, out, err) = run_bounded(cmd, scratch, VERSION_TIMEOUT, &what).map_err(|e| {
        Error::Usage(format!(
            "{e}; a .pt checkpoint needs a Python with Ultralytics: {}",
            remedy(python)
        ))
    })?;
    if !ok {
        return Err(Error::Usage(format!(
            "{} has no Ultralytics ({}); a .pt checkpoint is exported to ONNX with it: {}",
            python.display(),
            err.lines().last().unwrap_or("it failed").trim(),
            remedy(python)
        )));
    }
    Ok(out.trim().to_string())
}

/// A fresh folder under `parent` that no other process (on this host or another sharing the
/// folder) can be using: created, never reused.
fn fresh_folder(parent: &Path) -> Result<PathBuf> {
    static SERIAL: AtomicUsize = AtomicUsize::new(0);
    let io = |e: std::io::Error| Error::Usage(format!("{}: {e}", parent.display()));
    std::fs::create_dir_all(parent).map_err(io)?;
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    for attempt in 0..100 {
        let name = format!(
            "tmp-{}-{nanos}-{}-{attempt}",
            std::process::id(),
            SERIAL.fetch_add(1, Ordering::Relaxed)
        );
        let p = parent.join(name);
        match std::fs::create_dir(&p) {
            Ok(()) => {
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    let _ = std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o700));
                }
                return Ok(p);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io(e)),
        }
    }
    Err(Error::Usage(format!(
        "{}: no fresh folder could be made",
        parent.display()
    )))
}

/// Scratch folders a killed run left in the exports folder, a day old or more.
fn remove_stale_scratch(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let day = Duration::from_secs(24 * 3600);
    for e in entries.flatten() {
        let old = (e.metadata().and_then(|m| m.modified()).ok())
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > day);
        if old && e.file_name().to_string_lossy().starts_with("tmp-") {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// The ONNX export of checkpoint `pt` (whose sha256 is `sha256`; `shown` names it in
/// messages), made by `python` or found in `cache` (a local folder).
pub fn export(
    pt: &Path,
    shown: String,
    sha256: &str,
    python: &Path,
    cache: Option<&Path>,
) -> Result<Exported> {
    let (dir, owned) = match cache {
        Some(c) => {
            let dir = c.join("exports");
            remove_stale_scratch(&dir);
            (dir, None)
        }
        None => {
            let own = fresh_folder(&std::env::temp_dir().join("maskgate-exports"))?;
            (own.clone(), Some(Arc::new(OwnedDir(own))))
        }
    };
    let scratch = fresh_folder(&dir)?;
    let result = export_in(pt, shown, sha256, python, &dir, &scratch);
    let _ = std::fs::remove_dir_all(&scratch);
    result.map(|e| Exported { _owned: owned, ..e })
}

fn export_in(
    pt: &Path,
    shown: String,
    sha256: &str,
    python: &Path,
    dir: &Path,
    scratch: &Path,
) -> Result<Exported> {
    let version = ultralytics_version(python, scratch)?;
    let mut h = Sha256::new();
    for part in [sha256, EXPORT_SETTINGS, &version] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    let target = dir.join(format!("{}.onnx", hex::encode(h.finalize())));
    let exported = |onnx: PathBuf| Exported {
        // As arms name their files (the report then shows it from the paths' base or its URL).
        checkpoint: crate::pathnames::display(pt),
        checkpoint_sha256: sha256.to_string(),
        ultralytics: version.clone(),
        settings: EXPORT_SETTINGS,
        onnx,
        _owned: None,
    };
    if target.is_file() {
        return Ok(exported(target));
    }
    let io = |e: std::io::Error| Error::Usage(format!("exporting {shown}: {e}"));
    let work = scratch.join("model");
    std::fs::create_dir_all(&work).map_err(io)?;
    let copy = work.join("best.pt");
    std::fs::copy(pt, &copy).map_err(io)?;
    let mut cmd = Command::new(python);
    cmd.arg("-c").arg(EXPORT_SCRIPT).arg(&copy);
    // Ultralytics writes its settings file and may try the network; keep it in the scratch.
    cmd.env("YOLO_CONFIG_DIR", scratch.join("config"))
        .env("YOLO_OFFLINE", "1");
    let what = format!("exporting {shown} with {}", python.display());
    let (ok, out, err) = run_bounded(cmd, &scratch.join("export"), EXPORT_TIMEOUT, &what)?;
    // Ultralytics writes the ONNX beside the checkpoint it was given.
    let made = work.join("best.onnx");
    if !(ok && made.is_file()) {
        return Err(Error::Usage(format!(
            "{what}: Ultralytics' exporter failed: {}",
            if err.is_empty() { "no message" } else { &err }
        )));
    }
    // The cache key names the installed version; the export must have run that one (not, say,
    // an `ultralytics` folder in the working directory that `import` found first).
    let ran = (out.lines().rev())
        .find_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .and_then(|v| v["ultralytics"].as_str().map(str::to_string));
    if ran.as_deref() != Some(version.as_str()) {
        return Err(Error::Usage(format!(
            "{what}: the installed Ultralytics is {version}, but the export ran {}; run it where `import ultralytics` finds the installed package",
            ran.as_deref().unwrap_or("an unknown version")
        )));
    }
    // Whole or not at all: a rename within the exports folder.
    std::fs::rename(&made, &target).map_err(io)?;
    Ok(exported(target))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_is_known_by_its_extension() {
        assert!(is_checkpoint(Path::new("runs/train/weights/best.pt")));
        assert!(is_checkpoint(Path::new("BEST.PT")));
        assert!(!is_checkpoint(Path::new("best.onnx")));
        assert!(!is_checkpoint(Path::new("best.pth.onnx")));
    }

    #[test]
    fn a_python_without_ultralytics_is_named_with_what_to_install() {
        let dir = std::env::temp_dir().join(format!("maskgate-ckpt-{}", std::process::id()));
        let err = ultralytics_version(Path::new("/nonexistent/python3"), &dir)
            .unwrap_err()
            .to_string();
        assert!(err.contains("/nonexistent/python3"), "{err}");
        assert!(err.contains("pip install ultralytics==8.4.190"), "{err}");
        assert!(err.contains("MASKGATE_PYTHON"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
