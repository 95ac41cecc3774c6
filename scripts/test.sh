#!/usr/bin/env bash
# Sets up and runs every test: formatting, lints, unit, property, golden-vector and end-to-end
# tests on the real FASSEG photos in $MASKGATE_SHARED (default ../shared).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export MASKGATE_SHARED="${MASKGATE_SHARED:-../shared}"
cargo fmt --all --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test --workspace
