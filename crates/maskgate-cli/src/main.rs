//! The `maskgate` binary (see the library half, `maskgate_cli`).

use std::process::ExitCode;

fn main() -> ExitCode {
    // Rust ignores SIGPIPE, so printing into a closed pipe (`| head`) would panic; a command-line
    // tool should just stop, as other Unix tools do.
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to the default before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // ONNX Runtime's telemetry off unless the user asked for it (see TELEMETRY_OFF_ENV).
    let telemetry = maskgate::predict::engine::TELEMETRY_OFF_ENV;
    if std::env::var_os(telemetry).is_none() {
        // Before any thread starts, so none reads the environment meanwhile.
        std::env::set_var(telemetry, "1");
    }
    keep_freed_memory();
    // The executable as the kernel started it: what a verdict's attestation is signed about.
    let executable = std::env::current_exe().ok();
    ExitCode::from(maskgate_cli::main_as(std::env::args_os(), executable))
}

/// Per sample, a run allocates and frees buffers of a few hundred kilobytes to megabytes (file
/// bytes, decoded pixels, tensors, probability maps) on its worker threads. glibc gives such
/// blocks back to the kernel on free (separate mappings, and its worker arenas trimmed with
/// `madvise`), so the next sample faults every page in again: 20,000 page faults and a tenth of
/// a light gate's time. Blocks under 32 MiB are kept in the heap, and up to 64 MiB of free heap
/// stays mapped (in effect, a worker's arena is not trimmed). Freed memory stays with the
/// thread's arena: the heavy demo's peak RSS rose 1% (1,272 → 1,286 MB). A user's own
/// `GLIBC_TUNABLES` or `MALLOC_*_` settings stand.
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let tuned = std::env::vars_os().any(|(k, _)| {
            let k = k.to_string_lossy();
            k == "GLIBC_TUNABLES" || (k.starts_with("MALLOC_") && k.ends_with('_'))
        });
        if !tuned {
            // SAFETY: mallopt only sets allocator parameters; called before any thread starts.
            unsafe {
                libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
                libc::mallopt(libc::M_TRIM_THRESHOLD, 64 << 20);
            }
        }
    }
}
