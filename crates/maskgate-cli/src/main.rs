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
    // The executable as the kernel started it: what a verdict's attestation is signed about.
    let executable = std::env::current_exe().ok();
    ExitCode::from(maskgate_cli::main_as(std::env::args_os(), executable))
}
