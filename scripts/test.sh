#!/usr/bin/env bash
# Sets up and runs every test: formatting, lints, unit, property, golden-vector and end-to-end
# tests on the real FASSEG photos in $MASKGATE_SHARED (default ../shared), with the database
# tests against a throwaway PostgreSQL cluster (pg_virtualenv starts it and removes it after),
# the HTML report checked in headless Chromium, and the Python wheel built once and tested in a
# fresh venv; Debian's postgresql, chromium and chromium-driver are installed here when missing
# and the script runs as root.
set -euo pipefail
cd "$(dirname "$0")/.."
# A clean clone builds everything once, so incremental caches would only take disk (gigabytes).
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
bash scripts/setup.sh
# The real rembg (PyPI) under Pillow 13 and 12 and the real MediaPipe, which tests/real_parity.rs
# runs as the references.
bash scripts/setup_parity.sh
# moto's S3 server (PyPI), the real S3 API the object-storage tests start on loopback.
bash scripts/setup_storage.sh
export MASKGATE_SHARED="${MASKGATE_SHARED:-../shared}"
cargo fmt --all --check
cargo clippy --workspace --all-targets -- -D warnings
# The Python bindings are their own cargo workspace (their release build stays out of the
# main one); linted against the main target folder so shared dependencies are checked once.
cargo fmt --manifest-path crates/maskgate-py/Cargo.toml --check
CARGO_TARGET_DIR="$PWD/target" cargo clippy --manifest-path crates/maskgate-py/Cargo.toml --all-targets -- -D warnings
# Debian packages the tests drive: PostgreSQL (pg_virtualenv) and headless Chromium with
# ChromeDriver (the HTML report's browser test).
missing=()
command -v pg_virtualenv >/dev/null || missing+=(postgresql)
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
# strace fails a chosen rename of a run, so the reliability suite can check every commit step.
command -v strace >/dev/null || missing+=(strace)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  else
    echo "test: needs Debian's ${missing[*]} (apt-get install ${missing[*]})" >&2
    exit 2
  fi
fi
MASKGATE_TEST_POSTGRES=1 pg_virtualenv cargo test --workspace
# The committed examples (docs/examples/) must be what this code makes: regenerated with the
# debug binary the tests just built and compared file by file; a difference names the example
# and the file, and says to run `bash scripts/regen_examples.sh` and commit.
MASKGATE_BIN=target/debug/maskgate bash scripts/regen_examples.sh --check
# The Slurm recipe for real: a single-node cluster from Debian's slurm-wlm and munge (installed
# by the script when missing), a job array of 4 shards and the dependent merge.
bash deploy/slurm/test-array.sh target/debug/maskgate
# The wheel, built once by pip from the checkout (maturin from PyPI), installed in a fresh venv
# with pinned numpy and pycocotools, and tested against the CLI it ships, numpy and pycocotools.
rm -rf vendor/wheel-test
python3 -m venv vendor/wheel-test
vendor/wheel-test/bin/pip install -q ./crates/maskgate-py numpy==2.3.5 pycocotools==2.0.11
vendor/wheel-test/bin/python -m unittest discover -s crates/maskgate-py/tests -v
