//! What `run` and `compare` share: the options that override a plan, the terminal observer
//! (progress bar, Ctrl-C), and turning an outcome into messages and an exit status.

use anyhow::{Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use maskgate::attest::statement::Binary;
use maskgate::observe::{CancelToken, Observer};
use maskgate::plan::settings;
use maskgate::plan::{
    execute, execute_shard, Env, Outcome, Overrides, Plan, Request, ShardOutcome,
};
use maskgate::shard::ShardArg;
use std::path::PathBuf;

/// Options both `run` and `compare` take; each overrides the environment and the config.
#[derive(Args)]
pub struct CommonArgs {
    #[arg(long = settings::OUT.long(), value_name = "DIR", help = settings::OUT.help)]
    out: Option<PathBuf>,
    #[arg(long = settings::FORMATS.long(), value_name = "LIST", value_delimiter = ',', help = settings::FORMATS.help)]
    formats: Option<Vec<String>>,
    #[arg(long = settings::CRITERIA.long(), value_name = "FILE", help = settings::CRITERIA.help)]
    criteria: Option<PathBuf>,
    #[arg(long = settings::NOTES.long(), value_name = "FILE", help = settings::NOTES.help)]
    notes: Option<PathBuf>,
    #[arg(long = settings::TRAINING_MANIFEST.long(), value_name = "PATH", help = settings::TRAINING_MANIFEST.help)]
    training_manifest: Option<PathBuf>,
    #[arg(long = settings::OVERLAP.long(), value_name = "POLICY", help = settings::OVERLAP.help)]
    overlap: Option<String>,
    #[arg(long = settings::SIGN_KEY.long(), value_name = "PEM", help = settings::SIGN_KEY.help)]
    sign_key: Option<PathBuf>,
    #[arg(long = settings::GRID.long(), value_name = "N", help = settings::GRID.help)]
    grid: Option<u32>,
    #[arg(long = settings::PASS_IOU.long(), value_name = "TAU", help = settings::PASS_IOU.help)]
    pass_iou: Option<f64>,
    #[arg(long = settings::TOP.long(), value_name = "K", help = settings::TOP.help)]
    top_k: Option<usize>,
    #[arg(long = settings::SEED.long(), help = settings::SEED.help)]
    seed: Option<u64>,
    #[arg(long = settings::BOOTSTRAP.long(), value_name = "N", help = settings::BOOTSTRAP.help)]
    bootstrap: Option<usize>,
    #[arg(long = settings::GALLERY.long(), value_name = "N", help = settings::GALLERY.help)]
    gallery: Option<usize>,
    #[arg(long = settings::EXCLUDE_SUSPECTS.long(), help = settings::EXCLUDE_SUSPECTS.help)]
    exclude_suspects: bool,
    #[arg(long = settings::THREADS.long(), value_name = "N", help = settings::THREADS.help)]
    threads: Option<usize>,
    #[arg(long = settings::RUN_ID.long(), value_name = "ID", help = settings::RUN_ID.help)]
    run_id: Option<String>,
    #[arg(long = settings::GENERATED_AT.long(), value_name = "TIME", help = settings::GENERATED_AT.help)]
    generated_at: Option<String>,
    /// Print each setting with its value and where it came from (flag, variable, config,
    /// criteria file or default), and exit without reading any input
    #[arg(long)]
    pub explain: bool,
    /// Also write the verdict as JUnit XML (one test case per criterion) to FILE.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    #[arg(long = settings::MAX_FAILED_SHARE.long(), value_name = "SHARE", help = settings::MAX_FAILED_SHARE.help)]
    max_failed_share: Option<f64>,
    #[arg(long = settings::PROGRESS.long(), value_name = "SECONDS", help = settings::PROGRESS.help)]
    progress_s: Option<u64>,
    #[arg(long = settings::SHARD.long(), value_name = "I/N", help = settings::SHARD.help)]
    shard: Option<ShardArg>,
}

impl CommonArgs {
    pub fn overrides(&self) -> Overrides {
        Overrides {
            out: self.out.clone(),
            formats: self.formats.clone(),
            criteria: self.criteria.clone(),
            notes: self.notes.clone(),
            training_manifest: self.training_manifest.clone(),
            overlap: self.overlap.clone(),
            sign_key: self.sign_key.clone(),
            grid: self.grid,
            pass_iou: self.pass_iou,
            top_k: self.top_k,
            seed: self.seed,
            bootstrap: self.bootstrap,
            gallery: self.gallery,
            exclude_suspects: self.exclude_suspects,
            threads: self.threads,
            run_id: self.run_id.clone(),
            generated_at: self.generated_at.clone(),
            shard: self.shard,
            max_failed_share: self.max_failed_share,
            progress_s: self.progress_s,
            ..Default::default()
        }
    }

    /// `--explain` prints what the request resolves to; otherwise the request runs.
    pub fn explain_or_execute(
        &self,
        request: Request,
        overrides: Overrides,
        binary: &Binary,
    ) -> Result<u8> {
        if self.explain {
            return explain_request(&request, &overrides);
        }
        execute_request(
            request,
            overrides,
            CiOutputs::new(self.junit.clone())?,
            binary,
        )
    }
}

/// Progress on stderr: a bar on a terminal, else a line every `progress_s` seconds (a log
/// file or a CI job shows no bar); Ctrl-C as cancellation.
pub struct Terminal {
    bar: ProgressBar,
    log: Option<ProgressLog>,
    cancel: CancelToken,
}

impl Observer for Terminal {
    fn started(&self, total: u64) {
        self.bar.set_length(total);
        if let Some(log) = &self.log {
            log.start(total);
        }
    }
    fn advanced(&self) {
        self.bar.inc(1);
        if let Some(log) = &self.log {
            log.state
                .done
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
    fn predicted(&self, arm: &str, seconds: f64) {
        if let Some(log) = &self.log {
            if let Ok(mut arms) = log.state.arms.lock() {
                let (n, total) = arms.entry(arm.to_string()).or_default();
                *n += 1;
                *total += seconds;
            }
        }
    }
    fn finished(&self) {
        self.bar.finish_and_clear();
        if let Some(log) = &self.log {
            log.stop();
        }
    }
    fn cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }
}

/// What a progress line reads, shared with the thread that prints it.
#[derive(Default)]
struct LogState {
    total: std::sync::atomic::AtomicU64,
    done: std::sync::atomic::AtomicU64,
    /// Per arm: predictions and the seconds they took.
    arms: std::sync::Mutex<std::collections::BTreeMap<String, (u64, f64)>>,
}

/// A progress line every `every`, from a thread of its own: one slow sample (a heavy model on
/// a large photo) does not silence the log.
struct ProgressLog {
    every: std::time::Duration,
    state: std::sync::Arc<LogState>,
    stop: std::sync::Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>,
    thread: std::sync::Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl ProgressLog {
    fn new(every_s: u64) -> ProgressLog {
        ProgressLog {
            every: std::time::Duration::from_secs(every_s),
            state: Default::default(),
            stop: Default::default(),
            thread: Default::default(),
        }
    }

    fn start(&self, total: u64) {
        use std::sync::atomic::Ordering::Relaxed;
        self.state.total.store(total, Relaxed);
        let (state, stop, every) = (self.state.clone(), self.stop.clone(), self.every);
        let started = std::time::Instant::now();
        let handle = std::thread::spawn(move || {
            let (lock, wake) = &*stop;
            let Ok(mut stopped) = lock.lock() else { return };
            // Waits while not stopped: a stop that came before this thread first took the lock
            // ends it at once, not after a whole interval.
            loop {
                match wake.wait_timeout_while(stopped, every, |s| !*s) {
                    Ok((guard, waited)) if waited.timed_out() => stopped = guard,
                    _ => return,
                }
                eprintln!("maskgate: {}", progress_line(&state, started.elapsed()));
            }
        });
        if let Ok(mut t) = self.thread.lock() {
            *t = Some(handle);
        }
    }

    fn stop(&self) {
        let (lock, wake) = &*self.stop;
        if let Ok(mut stopped) = lock.lock() {
            *stopped = true;
        }
        wake.notify_all();
        if let Some(t) = self.thread.lock().ok().and_then(|mut t| t.take()) {
            let _ = t.join();
        }
    }
}

/// `12/53 samples (23%) in 1 min 02 s, 0.19/s, ETA 3 min 35 s; per sample: candidate 4.90 s,
/// rembg 0.21 s`.
fn progress_line(state: &LogState, elapsed: std::time::Duration) -> String {
    use std::sync::atomic::Ordering::Relaxed;
    let (done, total) = (state.done.load(Relaxed), state.total.load(Relaxed));
    let secs = elapsed.as_secs_f64();
    let rate = done as f64 / secs.max(1e-9);
    let eta = match done {
        0 => "unknown".to_string(),
        _ => duration(total.saturating_sub(done) as f64 / rate),
    };
    let mut line = format!(
        "{done}/{total} samples ({}%) in {}, {rate:.2}/s, ETA {eta}",
        (done * 100).checked_div(total).unwrap_or(100),
        duration(secs),
    );
    if let Ok(arms) = state.arms.lock() {
        let per: Vec<String> = (arms.iter())
            .filter(|(_, (n, _))| *n > 0)
            .map(|(arm, (n, s))| format!("{arm} {:.2} s", s / *n as f64))
            .collect();
        if !per.is_empty() {
            line += &format!("; per sample: {}", per.join(", "));
        }
    }
    line
}

fn duration(secs: f64) -> String {
    let s = secs.round() as u64;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {:02} s", s / 60, s % 60),
        _ => format!("{} h {:02} min", s / 3600, s % 3600 / 60),
    }
}

/// Resolves the request into a plan, runs it, prints what the user should know on stderr and
/// returns the exit status.
/// Where CI wants the verdict besides the report folder.
#[derive(Default)]
pub struct CiOutputs {
    pub junit: Option<PathBuf>,
    /// `GITHUB_STEP_SUMMARY`: a Markdown summary is appended to it.
    pub step_summary: Option<PathBuf>,
}

impl CiOutputs {
    /// Refuses, before any work, a `--junit` path that is not a regular file (a device node,
    /// a FIFO, a symlink): the run must not end by replacing it.
    pub fn new(junit: Option<PathBuf>) -> Result<CiOutputs> {
        if let Some(path) = &junit {
            maskgate::export::junit::check_target(path)?;
        }
        Ok(CiOutputs {
            junit,
            step_summary: std::env::var_os("GITHUB_STEP_SUMMARY")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
        })
    }
}

/// `--explain`: prints every setting the request resolves to, one a line, on stdout.
fn explain_request(request: &Request, overrides: &Overrides) -> Result<u8> {
    for line in maskgate::plan::explain(request, overrides, &Env::from_process())? {
        println!("{line}");
    }
    Ok(0)
}

fn execute_request(
    request: Request,
    overrides: Overrides,
    ci: CiOutputs,
    binary: &Binary,
) -> Result<u8> {
    let mut plan = Plan::resolve(&request, &overrides, &Env::from_process())?;
    plan.binary = binary.clone();
    if let Some(junit) = &ci.junit {
        maskgate::persist::report_set::refuse_inside(
            junit,
            &plan.out,
            &maskgate::plan::report_set_names(),
        )?;
    }
    let terminal = Terminal::new(plan.progress_s);
    let started = std::time::Instant::now();
    if let Some(spec) = plan.shard {
        let what = format!("shard {}/{}", spec.index, spec.count);
        match execute_shard(&plan, &terminal)? {
            ShardOutcome::Committed { marker, notices } => {
                for n in &notices {
                    eprintln!("maskgate: {n}");
                }
                eprintln!(
                    "maskgate: {what} committed in {:.2} s: samples [{}, {}) of {}, {} rows, data sha256 {}",
                    started.elapsed().as_secs_f64(),
                    marker.range[0],
                    marker.range[1],
                    marker.samples_total,
                    marker.rows,
                    marker.content_sha256
                );
            }
            ShardOutcome::AlreadyCommitted(m) => eprintln!(
                "maskgate: {what} was already committed (data sha256 {}); nothing to do",
                m.content_sha256
            ),
            ShardOutcome::LostRace(m) => eprintln!(
                "maskgate: {what} was committed by another attempt while this one ran (data sha256 {}); its rows stand",
                m.content_sha256
            ),
        }
        return Ok(0);
    }
    let outcome = execute(&plan, &terminal)?;
    report_outcome(outcome, started, &ci)
}

impl Terminal {
    /// The progress bar, and Ctrl-C: the first finishes the samples in flight, the second quits.
    pub fn new(progress_s: u64) -> Terminal {
        let cancel = CancelToken::new();
        let on_signal = cancel.clone();
        // The handler can be installed once per process; a second install is not an error to report.
        let _ = ctrlc::set_handler(move || {
            if on_signal.cancel() {
                std::process::exit(130);
            }
            eprintln!(
            "\nmaskgate: interrupted, finishing the samples in flight (Ctrl-C again to quit now)"
        );
        });
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{pos}/{len} samples  {per_sec}  ETA {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        use std::io::IsTerminal;
        let log = (!std::io::stderr().is_terminal() && progress_s > 0)
            .then(|| ProgressLog::new(progress_s));
        Terminal { bar, log, cancel }
    }
}

/// Prints the notices and files of a finished run, writes the CI views, and returns the exit
/// status of its verdict; 2 when an arm scored no sample (its report is still written: it is
/// the record of what failed, and a pipeline stops on the status, not on a missing file).
pub fn report_outcome(outcome: Outcome, started: std::time::Instant, ci: &CiOutputs) -> Result<u8> {
    for n in &outcome.notices {
        eprintln!("maskgate: {n}");
    }
    eprintln!(
        "maskgate: finished in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    for p in &outcome.written {
        eprintln!("wrote {}", maskgate::pathnames::display(p));
    }
    if let Some(path) = &ci.junit {
        maskgate::persist::write_atomically(path, |w| {
            maskgate::export::junit::write(&outcome.report, w)
        })?;
        eprintln!("wrote {}", maskgate::pathnames::display(path));
    }
    if let Some(path) = &ci.step_summary {
        use std::io::Write;
        let text = maskgate::export::junit::step_summary(&outcome.report);
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut f| f.write_all(text.as_bytes()))
            // The I/O error stays in the chain, so a full disk still maps to exit 3.
            .with_context(|| format!("GITHUB_STEP_SUMMARY {}", path.display()))?;
    }
    let status = match outcome.report.verdict() {
        Some(v) => {
            eprintln!("{}", v.plain_line());
            v.recommendation.exit_code()
        }
        None => 0,
    };
    if !outcome.failed_share_warnings.is_empty() {
        eprintln!("maskgate: warning: many samples failed (the report's failed samples list each with its reason):");
        for line in &outcome.failed_share_warnings {
            eprintln!("maskgate:   {line}");
        }
    }
    if !outcome.unscored.is_empty() {
        eprintln!("maskgate: error: the run compared nothing; the report above is written for the record only:");
        for line in &outcome.unscored {
            eprintln!("maskgate:   {line}");
        }
        return Ok(maskgate::error::EXIT_ERROR);
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run that ends before the progress thread first waits must not wait out an interval
    /// (it once did: every short run in a log took 30 s more).
    #[test]
    fn a_progress_log_stopped_at_once_ends_at_once() {
        for _ in 0..20 {
            let log = ProgressLog::new(30);
            let started = std::time::Instant::now();
            log.start(10);
            log.stop();
            assert!(started.elapsed() < std::time::Duration::from_secs(5));
        }
    }

    #[test]
    fn a_progress_line_says_samples_rate_eta_and_each_arm() {
        let state = LogState::default();
        state.total.store(53, std::sync::atomic::Ordering::Relaxed);
        state.done.store(12, std::sync::atomic::Ordering::Relaxed);
        state.arms.lock().unwrap().extend([
            ("candidate".to_string(), (12, 58.8)),
            ("rembg".to_string(), (12, 2.52)),
        ]);
        let line = progress_line(&state, std::time::Duration::from_secs(62));
        assert_eq!(
            line,
            "12/53 samples (22%) in 1 min 02 s, 0.19/s, ETA 3 min 32 s; per sample: candidate 4.90 s, rembg 0.21 s"
        );
    }
}
