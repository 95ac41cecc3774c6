#!/usr/bin/env bash
# The Rust toolchain the build and the lints need: cargo, with rustfmt and clippy added by rustup
# when missing. Called by setup.sh, and by test.sh before its first lint (its setup runs in the
# background). Idempotent.
set -euo pipefail
if ! command -v cargo >/dev/null; then
  echo "toolchain: cargo not found; install Rust (https://rustup.rs) first" >&2
  exit 2
fi
for comp in rustfmt clippy; do
  if ! cargo "${comp/rustfmt/fmt}" --version >/dev/null 2>&1; then
    rustup component add "$comp"
  fi
done
