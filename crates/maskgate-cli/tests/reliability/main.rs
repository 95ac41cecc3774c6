//! The reliability suite, one test binary: each hostile input a trust probe found, replayed
//! under a memory cap (`ulimit -v`). Every case asserts the exit status (never a panic, an
//! abort, a timeout or a signal), the error text or fail reason, and the invariant it guards:
//! other samples intact, the old report set intact on failure, no secret in any output.
//!
//! - `outputs`: the report set (mount points, PID namespaces, symlinked and setgid folders,
//!   every commit step failing, `--junit`), names, fail reasons and exit statuses;
//! - `limits`: bounded regular-file reads, FIFOs, folder links, reader limits, ceilings;
//! - `net`: secrets in URLs, plain HTTP, silent servers and huge objects, against servers the
//!   tests start on 127.0.0.1.

#[path = "../common/mod.rs"]
mod common;
mod limits;
mod net;
mod outputs;
mod shared;
