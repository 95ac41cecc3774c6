//! PyTorch checkpoints as model arms: `model = "…/best.pt"` is exported to ONNX once, by
//! Ultralytics' own exporter in a subprocess (the Python `[run] python` or `MASKGATE_PYTHON`
//! names), with the settings the `yolov8-seg` adapter reads: `format="onnx"`, the checkpoint's
//! own training `imgsz`, `dynamic=False`, `half=False`, `nms=False`. The ONNX file is kept under
//! `exports/` of the cache folder (else of the system's temporary folder), keyed by the
//! checkpoint's sha256, those settings and the Ultralytics version, so a second run costs
//! nothing. The report names both files and the exporter.

use crate::error::{Error, Result};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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

/// A checkpoint and the ONNX file made of it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Exported {
    /// The checkpoint as arms name their model file.
    pub checkpoint: String,
    pub checkpoint_sha256: String,
    pub ultralytics: String,
    pub settings: &'static str,
    #[serde(skip)]
    pub onnx: PathBuf,
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

/// The ONNX export of checkpoint `pt` (whose sha256 is `sha256`), made by `python` or found
/// in `cache` (a folder; the system's temporary folder without one).
pub fn export(
    pt: &Path,
    shown: String,
    sha256: &str,
    python: &Path,
    cache: Option<&Path>,
) -> Result<Exported> {
    let dir = cache
        .map_or_else(
            || std::env::temp_dir().join("maskgate-exports"),
            Path::to_path_buf,
        )
        .join("exports");
    let scratch = dir.join(format!("tmp-{}-{}", std::process::id(), &sha256[..16]));
    let result = export_in(pt, shown, sha256, python, &dir, &scratch);
    let _ = std::fs::remove_dir_all(&scratch);
    result
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
    let made = out
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .and_then(|v| v["onnx"].as_str().map(PathBuf::from))
        .filter(|p| p.is_file());
    let Some(made) = made.filter(|_| ok) else {
        return Err(Error::Usage(format!(
            "{what}: Ultralytics' exporter failed: {}",
            if err.is_empty() { "no message" } else { &err }
        )));
    };
    // Whole or not at all: a rename within the cache folder.
    let staged = scratch.join("best.onnx.staged");
    std::fs::copy(&made, &staged).map_err(io)?;
    std::fs::rename(&staged, &target).map_err(io)?;
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
