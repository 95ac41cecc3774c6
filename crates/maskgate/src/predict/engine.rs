//! The inference engine: ONNX Runtime through `ort`, loaded at run time from the shared library
//! of the PyPI `onnxruntime` wheel that `scripts/setup.sh` installs under `vendor/onnxruntime/`.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// The wheel version `scripts/setup.sh` installs (ort's `api-31` needs ≥ 1.31).
pub const ORT_VERSION: &str = "1.31.1";
pub const ORT_LIB_ENV: &str = "MASKGATE_ORT_LIB";
/// ONNX Runtime's full telemetry opt-out, read once when its environment is created: no
/// upload, no device id, no offline cache. Processes that load the runtime (the command line,
/// the Python package) set it to `1` at their start unless the user set it; a library cannot
/// set a variable safely once threads run.
pub const TELEMETRY_OFF_ENV: &str = "ORT_DISABLE_TELEMETRY";

/// The execution provider models run on in this build.
pub const EXECUTION_PROVIDER: &str = if cfg!(feature = "cuda") {
    "cuda"
} else {
    "cpu"
};

type Runtime = std::result::Result<(PathBuf, ort::environment::Environment), String>;
/// ONNX Runtime's environment is process-wide by its own design (`ort::init_from` can take
/// effect once per process), so the one loaded library is remembered here, not per run.
static RUNTIME: OnceLock<Runtime> = OnceLock::new();

/// One heavy inference at a time among the models that share it: a heavy model's inference
/// already uses every core, so two at once only oversubscribe them. Worker threads meanwhile
/// decode, pre- and post-process other photos. A run creates one and lends it to its models.
pub type InferenceTurn = Arc<Mutex<()>>;

fn candidates() -> Vec<PathBuf> {
    let file = format!("libonnxruntime.so.{ORT_VERSION}");
    let mut dirs: Vec<PathBuf> = Vec::new();
    // Beside the executable's checkout (target/release/maskgate → ../../vendor) ...
    if let Ok(exe) = std::env::current_exe() {
        dirs.extend(
            exe.ancestors()
                .skip(1)
                .map(|d| d.join("vendor/onnxruntime")),
        );
    }
    // ... and beside this source tree (tests, `cargo run`).
    dirs.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../vendor/onnxruntime"));
    dirs.into_iter().map(|d| d.join(&file)).collect()
}

/// Finds the runtime library: `explicit` (what the plan resolved from `$MASKGATE_ORT_LIB`, the
/// config's `onnxruntime` key and `$ORT_DYLIB_PATH`, in that order), else the project's
/// `vendor/onnxruntime/`.
pub fn find_runtime(explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(p) = explicit {
        return Ok(p.to_path_buf());
    }
    candidates().into_iter().find(|p| p.is_file()).ok_or_else(|| {
        Error::Usage(format!(
            "ONNX Runtime {ORT_VERSION} not found: run `bash scripts/setup.sh` (installs it into vendor/onnxruntime/), \
             or point {ORT_LIB_ENV}, the config's `onnxruntime` key or ORT_DYLIB_PATH at libonnxruntime.so"
        ))
    })
}

/// Loads the runtime once per process; later calls return the first result.
pub fn init_runtime(explicit: Option<&Path>) -> Result<(PathBuf, ort::environment::Environment)> {
    let path = find_runtime(explicit)?;
    let r = RUNTIME.get_or_init(|| {
        if !path.is_file() {
            return Err(format!("{}: no such file", path.display()));
        }
        let env = ort::init_from(&path)
            .map_err(|e| format!("{}: cannot load ONNX Runtime: {e}", path.display()))?;
        // A gate runs offline and writes only its reports: ONNX Runtime's telemetry (1.29+
        // uploads from Linux too, and keeps a device id and an event cache under ~/.cache) is
        // off. Only `ORT_DISABLE_TELEMETRY`, set before this point, stops it entirely (see
        // [`TELEMETRY_OFF_ENV`]); this stops the events after it.
        let env = env
            .with_name("maskgate")
            .with_telemetry(false)
            .build()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok((path.clone(), env))
    });
    r.clone().map_err(Error::Usage)
}

/// A tensor crossing the engine seam: shape and row-major `f32` data.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

/// One declared input or output: its name and shape (`None` for a symbolic dimension).
#[derive(Clone, Debug)]
pub struct Port {
    pub name: String,
    pub shape: Vec<Option<usize>>,
}

pub struct Model {
    pub path: PathBuf,
    pub sha256: String,
    pub inputs: Vec<Port>,
    pub outputs: Vec<Port>,
    /// `ort::Session::run` needs `&mut`: one inference at a time per session. A heavy model
    /// keeps one (it runs alone on every core); a light one opens another only when every open
    /// one is busy, up to one per core, so single-threaded sessions infer photos side by side
    /// and a run never holds sessions it does not use at once.
    sessions: Mutex<Pool>,
    /// Signalled when a session is handed back.
    returned: std::sync::Condvar,
    max_sessions: AtomicUsize,
    /// Opens one more session with the given intra-op threads, spinning or not.
    reopen: Box<
        dyn Fn(usize, bool) -> std::result::Result<ort::session::Session, String> + Send + Sync,
    >,
    /// The intra-op threads of the sessions the pool opens from now on (counted, never 0).
    session_intra: AtomicUsize,
    /// The machine's cores: a light model's most sessions.
    cores: usize,
    /// Whether the automatic policy counted the model heavy by its input size, so that a quick
    /// first inference may still make it light (see [`QUICK_INFERENCE_CPU_NS`]).
    relaxable: bool,
    pub metadata: std::collections::BTreeMap<String, String>,
    /// Pixels of one input image (height × width of the first input), which decides heaviness.
    pub input_pixels: usize,
    /// Time spent inside `Session::run`, for the run summary and the benchmark.
    pub inference_nanos: std::sync::atomic::AtomicU64,
    /// Heavy models run alone on every core (see [`threading`]), taking this turn.
    exclusive: AtomicBool,
    /// How many outputs, from the first, are read (`usize::MAX`: all): each session builds the
    /// run options that ask for just those (the runtime does not promise options may be shared
    /// between threads).
    outputs_read: std::sync::atomic::AtomicUsize,
    turn: InferenceTurn,
}

/// A model's open sessions that are not running, how many are open, and how many may be (an
/// open that failed, memory short, caps the pool at those already open).
struct Pool {
    idle: Vec<Slot>,
    opened: usize,
    cap: usize,
}

/// A checked-out session, handed back when dropped: on every path, a panic's included, so a
/// waiting worker never waits for a session that is gone.
struct Lease<'a> {
    model: &'a Model,
    slot: Option<Slot>,
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            self.model.check_in(slot);
        }
    }
}

/// One session, with the run options it built for `for_outputs` outputs read.
struct Slot {
    session: ort::session::Session,
    options: Option<ort::session::RunOptions<ort::session::HasSelectedOutputs>>,
    for_outputs: usize,
    /// Its intra-op threads: a session opened for the heavy layout leaves the pool once the
    /// model turns light.
    intra: usize,
    /// Its timed inferences so far.
    runs: u64,
    /// Opened during the run and not yet run: its first inference (allocations, kernel choice)
    /// is run once untimed, so no latency figure holds a cold one.
    cold: bool,
}

impl Slot {
    /// A session with no run options yet; `cold` when its first inference should run untimed.
    fn new(session: ort::session::Session, intra: usize, cold: bool) -> Slot {
        Slot {
            session,
            options: None,
            for_outputs: usize::MAX,
            intra,
            runs: 0,
            cold,
        }
    }
}

/// ONNX Runtime's CPU memory settings. Measured with ISNet (1024², 4 photos, 2 cores; `bash
/// bench/ort_memory.sh`): the memory pattern doubles peak memory for no speed, and without the
/// arena inference is 40–60% slower; so the arena stays on and the pattern off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrtMemory {
    pub arena: bool,
    pub pattern: bool,
}

impl Default for OrtMemory {
    fn default() -> OrtMemory {
        OrtMemory {
            arena: true,
            pattern: false,
        }
    }
}

/// Models whose input has at least this many pixels count as heavy.
pub const HEAVY_INPUT_PIXELS: usize = 320 * 320;

/// A model heavy by its (fixed) input size whose second inference on every core, the first
/// warm one, took less than this much CPU time turns light: single-threaded sessions side by
/// side. The CPU time is estimated as wall time × threads, counting at most
/// [`QUICK_COUNTED_THREADS`] (more threads add little to a small model's speed, so counting them
/// would call it slow on a big machine). The input size alone cannot tell them apart: u2netp's
/// 320² inference takes 0.23–0.28 s warm on 2 cores and is fastest alone on every core; a
/// YOLOv8n-seg's 320² one takes 17–20 ms, and two single-threaded sessions infer 70 photos in
/// 1.35–1.55 s against 1.6–2.4 s alone on both cores. Results do not depend on it (ONNX
/// Runtime's CPU kernels split work, not sums, between threads; tested on the crop gate's
/// checkpoint).
pub const QUICK_INFERENCE_CPU_NS: u64 = 200_000_000;

/// The most threads [`QUICK_INFERENCE_CPU_NS`]'s estimate counts.
pub const QUICK_COUNTED_THREADS: usize = 4;

/// Whether an inference of `elapsed_ns` on `threads` intra-op threads is quick enough for a
/// heavy-by-size model to turn light (see [`QUICK_INFERENCE_CPU_NS`]).
pub fn is_quick(elapsed_ns: u64, threads: usize) -> bool {
    elapsed_ns.saturating_mul(threads.min(QUICK_COUNTED_THREADS) as u64) < QUICK_INFERENCE_CPU_NS
}

/// The threading policy for a model with `input_pixels` per image when the user asked for
/// `intra_threads` (0 = automatic): returns (ONNX Runtime intra-op threads, 0 = all cores;
/// whether inferences take the process-wide turn). Measured on 2 cores: a MediaPipe selfie
/// inference is twice as fast single-threaded with the other worker busy, while u2netp/ISNet
/// are fastest alone on every core. A heavy-by-size model may still turn light once its first
/// inference is timed (see [`QUICK_INFERENCE_CPU_NS`]).
pub fn threading(intra_threads: usize, input_pixels: usize) -> (usize, bool) {
    match intra_threads {
        // Every core, counted explicitly: ONNX Runtime's own default counts physical cores,
        // which measured slower on a 2-vCPU machine (ISNet 53 s vs 49.6 s for 16 photos).
        0 if input_pixels >= HEAVY_INPUT_PIXELS => (
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            true,
        ),
        0 => (1, false),
        1 => (1, false),
        n => (n, true),
    }
}

fn ports(outlets: &[ort::value::Outlet]) -> Vec<Port> {
    outlets
        .iter()
        .map(|o| Port {
            name: o.name().to_string(),
            shape: o
                .dtype()
                .tensor_shape()
                .map(|s| s.iter().map(|&d| (d >= 0).then_some(d as usize)).collect())
                .unwrap_or_default(),
        })
        .collect()
}

/// Opens one session of the model at `path`: `intra` intra-op threads (0: ONNX Runtime's
/// default), spinning or not, with the memory settings.
fn open_session(
    env: &ort::environment::Environment,
    path: &Path,
    intra: usize,
    spin: bool,
    memory: OrtMemory,
) -> std::result::Result<ort::session::Session, String> {
    fn e(x: impl std::fmt::Display) -> String {
        x.to_string()
    }
    let mut b = ort::session::Session::builder(env).map_err(e)?;
    b = b
        .with_optimization_level(ort::session::builder::GraphOptimizationLevel::All)
        .map_err(e)?;
    if intra > 0 {
        b = b.with_intra_threads(intra).map_err(e)?;
    }
    // A light model's single thread never spins; a heavy one runs alone on every core, where
    // spinning between its many small operators saves a few percent.
    b = b
        .with_intra_op_spinning(spin)
        .map_err(e)?
        .with_memory_pattern(memory.pattern)
        .map_err(e)?;
    #[cfg(feature = "cuda")]
    {
        // A requested GPU that is not there is an error, never a silent CPU fallback.
        b = b
            .with_execution_providers([ort::ep::CUDA::default().build().error_on_failure()])
            .map_err(|x| format!("CUDA execution provider: {x}"))?;
    }
    // The CPU provider last: it takes what an accelerator above does not.
    b = b
        .with_execution_providers([ort::ep::CPU::default()
            .with_arena_allocator(memory.arena)
            .build()])
        .map_err(e)?;
    b.commit_from_file(path).map_err(e)
}

impl Model {
    /// Loads a model with a turn of its own; `intra_threads` = ONNX Runtime's intra-op threads
    /// (0 = automatic, see [`threading`]).
    pub fn load(path: &Path, intra_threads: usize, runtime: Option<&Path>) -> Result<Model> {
        let sha256 = crate::sha256_file(path)?;
        Model::load_sharing(
            path,
            &sha256,
            intra_threads,
            OrtMemory::default(),
            runtime,
            InferenceTurn::default(),
        )
    }

    /// Loads a model whose heavy inferences take `turn`, shared with the run's other models.
    pub fn load_sharing(
        path: &Path,
        sha256: &str,
        intra_threads: usize,
        memory: OrtMemory,
        runtime: Option<&Path>,
        turn: InferenceTurn,
    ) -> Result<Model> {
        let (_, env) = init_runtime(runtime)?;
        let err = |e: String| Error::file(path, format!("cannot load model: {e}"));
        if !path.is_file() {
            return Err(err("no such file".into()));
        }
        let open =
            |intra: usize, spin: bool| open_session(&env, path, intra, spin, memory).map_err(err);
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        // The first session opens with the threads the file's declared input size calls for
        // (an unreadable size counts heavy); the session's own ports decide, and should they
        // disagree it is reopened.
        let hinted = (intra_threads == 0)
            .then(|| super::onnx_shape::first_input_shape(path))
            .flatten()
            .and_then(|shape| super::onnx_shape::pixels(&shape));
        let first = threading(intra_threads, hinted.unwrap_or(HEAVY_INPUT_PIXELS));
        let mut session = open(first.0, first.1)?;
        let declared_pixels = ports(session.inputs())
            .first()
            .and_then(|p| super::onnx_shape::pixels(&p.shape));
        let input_pixels = declared_pixels.unwrap_or(HEAVY_INPUT_PIXELS);
        let (intra, exclusive) = threading(intra_threads, input_pixels);
        if (intra, exclusive) != first {
            session = open(intra, exclusive)?;
        }
        let metadata = session
            .metadata()
            .ok()
            .and_then(|m| {
                let keys = m.custom_keys().ok()?;
                Some(
                    keys.into_iter()
                        .filter_map(|k| Some((k.clone(), m.custom(&k)?)))
                        .collect(),
                )
            })
            .unwrap_or_default();
        let owned = path.to_path_buf();
        Ok(Model {
            path: path.to_path_buf(),
            sha256: sha256.to_string(),
            input_pixels,
            inputs: ports(session.inputs()),
            outputs: ports(session.outputs()),
            sessions: Mutex::new(Pool {
                idle: vec![Slot::new(session, intra, false)],
                opened: 1,
                cap: usize::MAX,
            }),
            returned: std::sync::Condvar::new(),
            max_sessions: AtomicUsize::new(match exclusive {
                true => 1,
                false => cores,
            }),
            reopen: Box::new(move |intra, spin| open_session(&env, &owned, intra, spin, memory)),
            session_intra: AtomicUsize::new(intra),
            cores,
            // A model of unknown input size may meet larger photos than its first ones.
            relaxable: exclusive && intra_threads == 0 && declared_pixels.is_some(),
            metadata,
            inference_nanos: Default::default(),
            exclusive: AtomicBool::new(exclusive),
            turn,
            outputs_read: AtomicUsize::new(usize::MAX),
        })
    }

    /// An idle session, a new one when every open one is busy and the pool may grow, else the
    /// next one handed back.
    fn check_out(&self) -> std::result::Result<Slot, String> {
        const POISONED: &str = "model session poisoned by an earlier panic";
        let mut pool = self.sessions.lock().map_err(|_| POISONED.to_string())?;
        loop {
            if let Some(slot) = pool.idle.pop() {
                return Ok(slot);
            }
            if pool.opened < self.max_sessions.load(Ordering::SeqCst).min(pool.cap) {
                pool.opened += 1;
                drop(pool);
                let intra = self.session_intra.load(Ordering::SeqCst);
                match (self.reopen)(intra, self.is_heavy()) {
                    Ok(session) => return Ok(Slot::new(session, intra, true)),
                    Err(e) => {
                        pool = self.sessions.lock().map_err(|_| POISONED.to_string())?;
                        pool.opened -= 1;
                        if pool.opened == 0 {
                            self.returned.notify_one();
                            return Err(e);
                        }
                        // The open ones will do: wait for one of them.
                        pool.cap = pool.opened;
                        continue;
                    }
                }
            }
            pool = self.returned.wait(pool).map_err(|_| POISONED.to_string())?;
        }
    }

    fn check_in(&self, slot: Slot) {
        if let Ok(mut pool) = self.sessions.lock() {
            if slot.intra == self.session_intra.load(Ordering::SeqCst) {
                pool.idle.push(slot);
            } else {
                // Opened for the heavy layout: closed; the light layout's sessions replace it.
                pool.opened -= 1;
                drop(pool);
                drop(slot);
            }
        }
        self.returned.notify_one();
    }

    /// After the first warm inference on a heavy-by-size session: a quick one turns the model
    /// light. A single-threaded session is opened first, so the pool never empties when the
    /// every-core one closes at its check-in; should it not open, the model stays heavy.
    fn maybe_relax(&self, intra: usize, elapsed: std::time::Duration) {
        if !self.relaxable || !self.is_heavy() || !is_quick(elapsed.as_nanos() as u64, intra) {
            return;
        }
        let Ok(session) = (self.reopen)(1, false) else {
            return;
        };
        let Ok(mut pool) = self.sessions.lock() else {
            return;
        };
        pool.idle.push(Slot::new(session, 1, true));
        pool.opened += 1;
        // In this order, so a thread that sees room for another session opens a light one.
        self.session_intra.store(1, Ordering::SeqCst);
        self.max_sessions.store(self.cores, Ordering::SeqCst);
        self.exclusive.store(false, Ordering::SeqCst);
        drop(pool);
        self.returned.notify_all();
    }

    /// The intra-op threads the model's sessions run with now, and whether it runs alone on
    /// every core.
    pub fn threads(&self) -> (usize, bool) {
        (self.session_intra.load(Ordering::Relaxed), self.is_heavy())
    }

    /// Later runs compute and return only the first `n` outputs (all of them when `n` covers
    /// them): the runtime then skips the nodes only the others need.
    pub fn read_outputs(&self, n: usize) -> std::result::Result<(), String> {
        let n = if n < self.outputs.len() {
            n
        } else {
            usize::MAX
        };
        self.outputs_read.store(n, Ordering::Relaxed);
        Ok(())
    }

    /// The run options that read only the first `n` outputs (`None`: every output).
    fn options_for(
        &self,
        n: usize,
    ) -> std::result::Result<
        Option<ort::session::RunOptions<ort::session::HasSelectedOutputs>>,
        String,
    > {
        if n >= self.outputs.len() {
            return Ok(None);
        }
        let chosen = self.outputs[..n]
            .iter()
            .fold(ort::session::OutputSelector::no_default(), |s, o| {
                s.with(o.name.clone())
            });
        let options = ort::session::RunOptions::new()
            .map_err(|e| format!("run options: {e}"))?
            .with_outputs(chosen);
        Ok(Some(options))
    }

    /// How many sessions the model holds open now (idle or running).
    pub fn sessions_open(&self) -> usize {
        self.sessions.lock().map_or(0, |pool| pool.opened)
    }

    /// Whether the model counts as heavy: it runs alone on every core.
    pub fn is_heavy(&self) -> bool {
        self.exclusive.load(Ordering::Relaxed)
    }

    /// Runs the model on one input (the first input port) and returns every output as `f32`.
    pub fn run(&self, input: Tensor) -> std::result::Result<Vec<Tensor>, String> {
        self.run_timed(input).map(|(outputs, _)| outputs)
    }

    /// [`Model::run`], with its latency in nanoseconds: the input handed over, the session run
    /// and the outputs copied out, as `InferenceSession.run` does in Python; not the wait for
    /// the session while another photo runs.
    pub fn run_timed(&self, input: Tensor) -> std::result::Result<(Vec<Tensor>, u64), String> {
        let handed = std::time::Instant::now();
        let value =
            ort::value::Tensor::from_array((input.shape.clone(), input.data.into_boxed_slice()))
                .map_err(|e| format!("input tensor: {e}"))?;
        let handing = handed.elapsed();
        const POISONED: &str = "model session poisoned by an earlier panic";
        let _turn = if self.is_heavy() {
            Some(self.turn.lock().map_err(|_| POISONED.to_string())?)
        } else {
            None
        };
        let mut lease = Lease {
            model: self,
            slot: Some(self.check_out()?),
        };
        let Some(slot) = lease.slot.as_mut() else {
            return Err("no session".into());
        };
        let wanted = self.outputs_read.load(Ordering::Relaxed);
        if slot.for_outputs != wanted {
            slot.options = self.options_for(wanted)?;
            slot.for_outputs = wanted;
        }
        if slot.cold {
            slot.cold = false;
            let copy = ort::value::Tensor::from_array((
                value.shape().to_vec(),
                value.extract_tensor().1.to_vec().into_boxed_slice(),
            ));
            if let Ok(copy) = copy {
                // Its outcome is the timed run's to tell.
                let _ = Self::run_on(slot, copy);
            }
        }
        let t0 = std::time::Instant::now();
        let result = Self::run_on(slot, value);
        let elapsed = t0.elapsed();
        slot.runs += 1;
        if slot.runs == 2 && slot.intra != 1 && result.is_ok() {
            // Before the session goes back, so that one opened for the heavy layout closes.
            self.maybe_relax(slot.intra, elapsed);
        }
        drop(lease);
        let out = result?;
        self.inference_nanos
            .fetch_add(elapsed.as_nanos() as u64, Ordering::Relaxed);
        Ok((out, (handing + elapsed).as_nanos() as u64))
    }

    /// One inference on a checked-out session, its outputs copied out as `f32`.
    fn run_on(
        slot: &mut Slot,
        value: ort::value::Tensor<f32>,
    ) -> std::result::Result<Vec<Tensor>, String> {
        let outputs = match &slot.options {
            Some(options) => slot.session.run_with_options(ort::inputs![value], options),
            None => slot.session.run(ort::inputs![value]),
        }
        .map_err(|e| format!("inference failed: {e}"))?;
        let mut out = Vec::with_capacity(outputs.len());
        for (name, v) in outputs.iter() {
            let (shape, data) = v
                .try_extract_tensor::<f32>()
                .map_err(|e| format!("output {name:?} is not a float32 tensor: {e}"))?;
            out.push(Tensor {
                shape: shape.iter().map(|&d| d.max(0) as usize).collect(),
                data: data.to_vec(),
            });
        }
        Ok(out)
    }
}
