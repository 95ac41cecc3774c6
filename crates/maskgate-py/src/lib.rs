//! `maskgate._native`: the Python bindings. Thin by design: every function resolves and runs
//! the same library code as the command line, and the Python half (`python/maskgate`) only
//! shapes arguments and results.

use maskgate::limits::Limits;
use maskgate::model::{ClassMasks, MaskData};
use maskgate::plan::{execute, Env, GroundTruth, Overrides, Plan, Request};
use maskgate::score::{score_masks, ScoreSettings};
use maskgate_core::{Mask, Rle};
use numpy::ndarray::{Array2, ArrayView2};
use numpy::{PyArray2, PyReadonlyArray2};
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::ffi::OsString;
use std::path::PathBuf;

create_exception!(
    maskgate,
    MaskgateError,
    PyException,
    "An error maskgate reports: a bad config, an unreadable or malformed file, a bad argument. \
     The message is the library's, naming the file and line where there is one."
);

/// The keyword options `run` and `compare` share with the command line's flags.
fn overrides_from(options: Option<&Bound<'_, PyDict>>) -> PyResult<Overrides> {
    let mut o = Overrides::default();
    let Some(options) = options else {
        return Ok(o);
    };
    for (key, value) in options.iter() {
        let key: String = key.extract()?;
        if value.is_none() {
            continue;
        }
        match key.as_str() {
            "out" => o.out = Some(value.extract()?),
            "save_predictions" => o.save_predictions = value.extract()?,
            "exclude_suspects" => o.exclude_suspects = value.extract()?,
            "threads" => o.threads = Some(value.extract()?),
            "intra_threads" => o.intra_threads = Some(value.extract()?),
            "no_cache" => o.no_cache = value.extract()?,
            "gallery" => o.gallery = Some(value.extract()?),
            "formats" => o.formats = Some(value.extract()?),
            "run_id" => o.run_id = Some(value.extract()?),
            "generated_at" => o.generated_at = Some(value.extract()?),
            "grid" => o.grid = Some(value.extract()?),
            "pass_iou" => o.pass_iou = Some(value.extract()?),
            "noise_epsilon" => o.noise_epsilon = Some(value.extract()?),
            "strict" => o.strict = value.extract()?,
            "cost" => o.cost = value.extract()?,
            "cost_warmup" => o.cost_warmup = Some(value.extract()?),
            "cost_repeat" => o.cost_repeat = Some(value.extract()?),
            "top" => o.top_k = Some(value.extract()?),
            "seed" => o.seed = Some(value.extract()?),
            "bootstrap" => o.bootstrap = Some(value.extract()?),
            "criteria" => o.criteria = Some(value.extract()?),
            "notes" => o.notes = Some(value.extract()?),
            "training_manifest" => o.training_manifest = Some(value.extract()?),
            "overlap" => o.overlap = Some(value.extract()?),
            "sign_key" => o.sign_key = Some(value.extract()?),
            "variants" => o.variants = Some(value.extract()?),
            other => {
                return Err(PyTypeError::new_err(format!(
                    "unknown option {other:?} (see help(maskgate.run))"
                )))
            }
        }
    }
    Ok(o)
}

/// What `run` and `compare` return: report.json's text, the notices, the files written, and
/// the failed-share warnings (one summary line per arm, then one line per cause).
type Finished = (String, Vec<String>, Vec<PathBuf>, Vec<String>);

/// Resolves and runs `request` without the GIL. An arm that scored no sample raises
/// `MaskgateError` (the command line exits 2), after the report set is written for the record.
fn run_request(py: Python<'_>, request: Request, overrides: Overrides) -> PyResult<Finished> {
    let env = Env::from_process();
    py.detach(|| {
        let plan = Plan::resolve(&request, &overrides, &env).map_err(|e| e.to_string())?;
        let outcome = execute(&plan, &maskgate::observe::Silent).map_err(|e| e.to_string())?;
        if !outcome.unscored.is_empty() {
            return Err(format!(
                "the run compared nothing (its reports are written for the record only):\n  {}",
                outcome.unscored.join("\n  ")
            ));
        }
        let json = serde_json::to_string(&outcome.report).map_err(|e| e.to_string())?;
        Ok((
            json,
            outcome.notices,
            outcome.written,
            outcome.failed_share_warnings,
        ))
    })
    .map_err(|m: String| MaskgateError::new_err(m))
}

#[pyfunction]
#[pyo3(signature = (config, options=None))]
fn run(py: Python<'_>, config: PathBuf, options: Option<&Bound<'_, PyDict>>) -> PyResult<Finished> {
    run_request(py, Request::Run { config }, overrides_from(options)?)
}

#[pyfunction]
#[pyo3(signature = (gold, preds, baseline, config=None, corpus=None, image_root=None, options=None))]
#[allow(clippy::too_many_arguments)]
fn compare(
    py: Python<'_>,
    gold: Option<PathBuf>,
    preds: Vec<(String, PathBuf)>,
    baseline: String,
    config: Option<PathBuf>,
    corpus: Option<String>,
    image_root: Option<PathBuf>,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<Finished> {
    let truth = match (gold, config) {
        (Some(path), None) => GroundTruth::Gold {
            path,
            name: corpus,
            image_root,
        },
        (None, Some(path)) => GroundTruth::Config { path, corpus },
        _ => {
            return Err(PyValueError::new_err(
                "give the ground truth as exactly one of gold=FILE or config=FILE",
            ))
        }
    };
    let request = Request::Compare {
        truth,
        preds,
        baseline,
    };
    run_request(py, request, overrides_from(options)?)
}

/// A 2-D array of any integer or boolean dtype, viewed in place (no copy, whatever its
/// strides).
enum Labels<'py> {
    Bool(PyReadonlyArray2<'py, bool>),
    U8(PyReadonlyArray2<'py, u8>),
    U16(PyReadonlyArray2<'py, u16>),
    U32(PyReadonlyArray2<'py, u32>),
    I8(PyReadonlyArray2<'py, i8>),
    I16(PyReadonlyArray2<'py, i16>),
    I32(PyReadonlyArray2<'py, i32>),
    I64(PyReadonlyArray2<'py, i64>),
}

impl<'py> Labels<'py> {
    fn of(obj: &Bound<'py, PyAny>, what: &str) -> PyResult<Labels<'py>> {
        macro_rules! try_dtype {
            ($($variant:ident: $t:ty),*) => {
                $(if let Ok(a) = obj.extract::<PyReadonlyArray2<'py, $t>>() {
                    return Ok(Labels::$variant(a));
                })*
            };
        }
        try_dtype!(Bool: bool, U8: u8, U16: u16, U32: u32, I8: i8, I16: i16, I32: i32, I64: i64);
        Err(PyTypeError::new_err(format!(
            "{what} must be a 2-D numpy array of bool or integers (height, width), got {}",
            describe(obj)
        )))
    }

    fn shape(&self) -> (usize, usize) {
        macro_rules! dim {
            ($($variant:ident),*) => {
                match self { $(Labels::$variant(a) => a.as_array().dim()),* }
            };
        }
        dim!(Bool, U8, U16, U32, I8, I16, I32, I64)
    }

    /// The pixels whose value is `label`, as a mask.
    fn mask_of(&self, label: i64) -> Mask {
        fn build<T: Copy + Into<i64>>(a: ArrayView2<'_, T>, label: i64) -> Mask {
            let (h, w) = a.dim();
            Mask::from_fn(h as u32, w as u32, |y, x| {
                a[[y as usize, x as usize]].into() == label
            })
        }
        fn truthy<T: Copy + Into<i64>>(a: ArrayView2<'_, T>) -> Mask {
            let (h, w) = a.dim();
            Mask::from_fn(h as u32, w as u32, |y, x| {
                a[[y as usize, x as usize]].into() != 0
            })
        }
        // label == i64::MIN asks for "any non-zero": the binary case.
        macro_rules! pick {
            ($($variant:ident),*) => {
                match self {
                    $(Labels::$variant(a) => if label == i64::MIN {
                        truthy(a.as_array())
                    } else {
                        build(a.as_array(), label)
                    }),*
                }
            };
        }
        pick!(Bool, U8, U16, U32, I8, I16, I32, I64)
    }
}

fn describe(obj: &Bound<'_, PyAny>) -> String {
    let shape = obj
        .getattr("shape")
        .and_then(|s| s.str().map(|s| s.to_string()))
        .unwrap_or_else(|_| "no shape".into());
    let dtype = obj
        .getattr("dtype")
        .and_then(|d| d.str().map(|s| s.to_string()))
        .unwrap_or_else(|_| obj.get_type().to_string());
    format!("{dtype} with shape {shape}")
}

/// Checks a (height, width) against the library's default limits before anything is allocated.
fn checked_size(h: usize, w: usize, what: &str) -> PyResult<(u32, u32)> {
    let (h32, w32) = match (u32::try_from(h), u32::try_from(w)) {
        (Ok(h), Ok(w)) if h > 0 && w > 0 => (h, w),
        _ => {
            return Err(PyValueError::new_err(format!(
                "{what} must be at least 1×1 and under 2³² a side, got {h}×{w}"
            )))
        }
    };
    Limits::default()
        .check_mask(h32, w32)
        .map_err(|e| PyValueError::new_err(format!("{what}: {e}")))?;
    Ok((h32, w32))
}

/// Scores `pred` against `gt`. With `classes`, both are label maps and value `i` is class
/// `classes[i]` (a `None` name is not scored); without, non-zero is the one class
/// `class_name`. `ignore` is a label value excluded from both sides (void).
#[pyfunction]
#[pyo3(signature = (gt, pred, classes=None, class_name="foreground".to_string(), ignore=None, boundary_ratio=0.02))]
fn score(
    gt: &Bound<'_, PyAny>,
    pred: &Bound<'_, PyAny>,
    classes: Option<Vec<Option<String>>>,
    class_name: String,
    ignore: Option<i64>,
    boundary_ratio: f64,
) -> PyResult<String> {
    let (g, p) = (Labels::of(gt, "gt")?, Labels::of(pred, "pred")?);
    if g.shape() != p.shape() {
        return Err(PyValueError::new_err(format!(
            "gt and pred differ in shape: {:?} vs {:?}",
            g.shape(),
            p.shape()
        )));
    }
    let (h, w) = g.shape();
    let size = checked_size(h, w, "gt")?;
    if !(boundary_ratio.is_finite() && boundary_ratio > 0.0) {
        return Err(PyValueError::new_err(format!(
            "boundary_ratio must be a positive number, got {boundary_ratio}"
        )));
    }
    let labelled: Vec<(String, i64)> = match classes {
        Some(names) => names
            .into_iter()
            .enumerate()
            .filter_map(|(i, n)| Some((n?, i as i64)))
            .collect(),
        None => vec![(class_name, i64::MIN)],
    };
    let mut names: Vec<String> = labelled.iter().map(|(n, _)| n.clone()).collect();
    names.sort();
    if names.windows(2).any(|w| w[0] == w[1]) || names.is_empty() {
        return Err(PyValueError::new_err(
            "classes must name at least one class, each once",
        ));
    }
    let (mut gt_masks, mut pred_masks) = (ClassMasks::new(), ClassMasks::new());
    for (name, label) in &labelled {
        gt_masks.insert(name.clone(), MaskData::Mask(g.mask_of(*label)));
        pred_masks.insert(name.clone(), MaskData::Mask(p.mask_of(*label)));
    }
    let void = ignore.map(|v| g.mask_of(v)).filter(|m| !m.is_empty());
    let settings = ScoreSettings {
        grid: None,
        boundary_ratio,
    };
    let s = score_masks(size, &names, gt_masks, pred_masks, void, &settings);
    let out = serde_json::json!({
        "classes": s.classes,
        "miou": s.miou(),
        "fail_reason": s.fail_reason,
        "fail_detail": s.fail_detail,
    });
    Ok(out.to_string())
}

/// COCO RLE of a 2-D mask (non-zero = set), column-major as pycocotools counts it, whatever the
/// array's memory order: (height, width, compressed counts).
#[pyfunction]
fn rle_encode(mask: &Bound<'_, PyAny>) -> PyResult<(u32, u32, String)> {
    let m = Labels::of(mask, "mask")?;
    let (h, w) = m.shape();
    let (h, w) = checked_size(h, w, "mask")?;
    let rle = Rle::encode(&m.mask_of(i64::MIN));
    Ok((h, w, rle.to_compressed()))
}

/// Decodes COCO RLE counts (a compressed string or a list of run lengths) into an (h, w)
/// uint8 array of 0 and 1, C-ordered.
#[pyfunction]
fn rle_decode<'py>(
    py: Python<'py>,
    h: usize,
    w: usize,
    counts: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyArray2<u8>>> {
    let (h32, w32) = checked_size(h, w, "size")?;
    let rle = if let Ok(text) = counts.extract::<String>() {
        Rle::from_compressed(h32, w32, &text)
    } else if let Ok(bytes) = counts.cast::<pyo3::types::PyBytes>() {
        // pycocotools gives compressed counts as bytes.
        let text = std::str::from_utf8(bytes.as_bytes())
            .map_err(|_| PyValueError::new_err("compressed RLE counts must be ASCII"))?;
        Rle::from_compressed(h32, w32, text)
    } else if let Ok(list) = counts.extract::<Vec<u32>>() {
        let rle = Rle {
            h: h32,
            w: w32,
            counts: list,
        };
        rle.check_total().map(|_| rle)
    } else {
        return Err(PyTypeError::new_err(
            "counts must be a compressed string (str or bytes) or a list of non-negative integers",
        ));
    }
    .map_err(|e| PyValueError::new_err(format!("bad RLE: {e}")))?;
    let mask = rle
        .decode()
        .map_err(|e| PyValueError::new_err(format!("bad RLE: {e}")))?;
    let mut out = Array2::<u8>::zeros((h, w));
    mask.for_each_run(|start, len| {
        for i in start..start + len {
            // Column-major linear index: x * h + y.
            let (x, y) = ((i / h as u64) as usize, (i % h as u64) as usize);
            out[[y, x]] = 1;
        }
    });
    Ok(PyArray2::from_owned_array(py, out))
}

/// Runs the `maskgate` command line with `argv` (the program name first); returns its exit
/// status.
#[pyfunction]
fn cli_main(py: Python<'_>, argv: Vec<String>) -> u8 {
    py.detach(|| maskgate_cli::main_from(argv.into_iter().map(OsString::from)))
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("MaskgateError", m.py().get_type::<MaskgateError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(compare, m)?)?;
    m.add_function(wrap_pyfunction!(score, m)?)?;
    m.add_function(wrap_pyfunction!(rle_encode, m)?)?;
    m.add_function(wrap_pyfunction!(rle_decode, m)?)?;
    m.add_function(wrap_pyfunction!(cli_main, m)?)?;
    Ok(())
}
