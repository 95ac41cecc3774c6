#!/usr/bin/env bash
# Sets up and runs every test: formatting, lints, unit, property, golden-vector and end-to-end
# tests on the real FASSEG photos in $MASKGATE_SHARED (default ../shared), with the database
# tests against a throwaway PostgreSQL cluster (pg_virtualenv starts it and removes it after),
# the HTML report checked in headless Chromium, the committed examples regenerated and compared,
# the Slurm recipe as a real job array, the manual built with its links checked, and the Python
# wheel built once and tested in a fresh venv. Debian's cmake and nasm (the build's
# libjpeg-turbo), postgresql, chromium, chromium-driver, strace, slurm-wlm, munge and
# libjpeg-turbo-progs are installed here when missing and the script runs as root. At the end
# (also on failure) it prints each step's time.
set -euo pipefail
cd "$(dirname "$0")/.."
# A clean clone builds everything once, so incremental caches would only take disk (gigabytes).
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
# ONNX Runtime (ours in the test processes, and the Python wheels the parity tests run) keeps
# telemetry under ~/.cache and uploads unless told not to; a test run writes only its own files.
export ORT_DISABLE_TELEMETRY="${ORT_DISABLE_TELEMETRY:-1}"
# Each step's wall time, printed as a table at the end (also when a step fails), so a slow CI
# run says where its minutes went.
steps=()
step() { # step NAME COMMAND...
  local name=$1 rc=0
  shift
  current=$name step_t0=$(date +%s)
  "$@" || rc=$?
  steps+=("$(printf '%-34s %5ds%s' "$name" "$(($(date +%s) - step_t0))" "$([ "$rc" = 0 ] || echo "  (failed: $rc)")")")
  current=
  return "$rc"
}
started=$(date +%s)
current=
timings() {
  local rc=$? name
  # A step cut short (a failure, Ctrl-C, CI's timeout) and the installs never awaited get a row
  # too. Those installs are let finish rather than killed: an apt-get or pip stopped halfway
  # leaves a broken install (and dpkg's lock) to the next run.
  [ -z "$current" ] || steps+=("$(printf '%-34s %5ds  (cut short)' "$current" "$(($(date +%s) - step_t0))")")
  for name in "${!bg_pid[@]}"; do
    wait "${bg_pid[$name]}" 2>/dev/null || true
    steps+=("$(printf '%-34s %5ds  (not awaited by a step)' "$name (background)" "$(($(cat "$logs/$name.end" 2>/dev/null || date +%s) - ${bg_t0[$name]}))")")
  done
  rm -rf "$logs"
  {
    echo "test: step times"
    printf '  %s\n' "${steps[@]}"
    printf '  %-34s %5ds\n' total "$(($(date +%s) - started))"
  } >&2
  exit "$rc"
}
# The installs wait mostly on the network, so they run in the background while the two cores
# compile; each is awaited just before the first step that needs it.
logs=$(mktemp -d)
declare -A bg_pid=() bg_t0=()
trap timings EXIT
# rustfmt and clippy before the first lint, cmake and nasm before the build (libjpeg-turbo):
# first, so that its apt-get never waits on the background one's lock. The background setup
# checks them again, harmlessly.
step toolchain bash scripts/toolchain.sh
background() { # background NAME COMMAND...
  local name=$1
  shift
  bg_t0[$name]=$(date +%s)
  # The end time is written when the job ends, so a job awaited long after shows its own time.
  # At a lower priority: the installs wait mostly on the network, and the CPU they do use
  # (unpacking, dpkg, npm) should not slow the compile beside them.
  (
    rc=0
    renice -n 10 -p "$BASHPID" >/dev/null || true
    "$@" || rc=$?
    date +%s >"$logs/$name.end"
    exit "$rc"
  ) >"$logs/$name.log" 2>&1 &
  bg_pid[$name]=$!
}
await() { # await NAME: its own time from start to end, then the time spent waiting for it
  local name=$1 rc=0 t0 end
  t0=$(date +%s)
  wait "${bg_pid[$name]}" || rc=$?
  unset "bg_pid[$name]"
  end=$(cat "$logs/$name.end" 2>/dev/null || date +%s)
  steps+=("$(printf '%-34s %5ds%s' "$name (background)" "$((end - ${bg_t0[$name]}))" "$([ "$rc" = 0 ] || echo "  (failed: $rc)")")")
  steps+=("$(printf '%-34s %5ds' "waiting for $name" "$(($(date +%s) - t0))")")
  if [ "$rc" != 0 ]; then
    cat "$logs/$name.log" >&2
    exit "$rc"
  fi
}
# Debian packages the tests drive: PostgreSQL (pg_virtualenv), headless Chromium with
# ChromeDriver (the HTML report's browser test), strace (the reliability suite fails a chosen
# rename of a run to check every commit step), Slurm with munge (the job-array recipe;
# deploy/slurm/local-cluster.sh installs them too when run alone, and finds them here), and
# libjpeg-turbo's cjpeg (it writes the decode vectors' JPEG files the photo tools are checked on).
# The functions below chain their commands with &&: called as `step NAME fn`, they run where
# bash ignores set -e.
debian_packages() {
  local missing=()
  command -v pg_virtualenv >/dev/null || missing+=(postgresql)
  command -v chromium >/dev/null || missing+=(chromium)
  command -v chromedriver >/dev/null || missing+=(chromium-driver)
  command -v strace >/dev/null || missing+=(strace)
  command -v slurmctld >/dev/null || missing+=(slurm-wlm)
  command -v munged >/dev/null || missing+=(munge)
  command -v cjpeg >/dev/null || missing+=(libjpeg-turbo-progs)
  [ "${#missing[@]}" -gt 0 ] || return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "test: needs Debian's ${missing[*]} (apt-get install ${missing[*]})"
    return 2
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq &&
    apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confdef \
    -o Dpkg::Options::=--force-confold "${missing[@]}" </dev/null
}
background debian-packages debian_packages
# ONNX Runtime, the models and the synthetic test models (setup.sh); the real rembg (PyPI) under
# Pillow 13 and 12, the real MediaPipe and IMG.LY's npm package, which tests/library/real_parity.rs runs
# as the references (setup_parity.sh); moto's S3 server (PyPI), the real S3 API the
# object-storage tests start on loopback (setup_storage.sh). One after another: in the one
# fresh-clone run with the three at once, the compile beside them took 543 s, against 448 and
# 496 s in the runs either side of it.
background registries bash -c 'bash scripts/setup.sh && bash scripts/setup_parity.sh && bash scripts/setup_storage.sh'
# The wheel's test venv: maturin, numpy and pycocotools from PyPI.
wheel_venv() {
  rm -rf vendor/wheel-test &&
    python3 -m venv vendor/wheel-test &&
    vendor/wheel-test/bin/pip install -q --disable-pip-version-check maturin==1.16.0 \
      numpy==2.3.5 pycocotools==2.0.11
}
background wheel-venv wheel_venv
export MASKGATE_SHARED="${MASKGATE_SHARED:-../shared}"
step fmt cargo fmt --all --check
# Clippy lints while the tests build: clippy-driver as the workspace's rustc wrapper is what
# `cargo clippy` runs, but in a build rather than a check, so the dependencies compile once (a
# separate `cargo clippy` checked all 320 of them again: 4.5 minutes of a fresh clone's CI).
# Every target clippy's --all-targets covers is built here: the workspace has no benches, and
# the Python bindings (a cdylib without Rust tests, which `cargo test` does not build) are
# linted as the wheel builds. The same
# variables stay set for the run, so cargo finds the build fresh.
lint=(env RUSTC_WORKSPACE_WRAPPER="$(rustup which clippy-driver)"
  CLIPPY_ARGS=-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__)
step build-and-lint "${lint[@]}" cargo test --workspace --no-run
await registries
await debian-packages
step tests "${lint[@]}" MASKGATE_TEST_POSTGRES=1 pg_virtualenv cargo test --workspace
# The committed examples (docs/examples/) must be what this code makes: regenerated with the
# debug binary the tests just built and compared file by file; a difference names the example
# and the file, and says to run `bash scripts/regen_examples.sh` and commit. Model arms are
# served from the committed prediction cache (docs/examples/prediction-cache/: ONNX Runtime's
# floating point differs by CPU, and this compares the code's reports); the crop-gate tests
# have just checked those predictions against the same models run for real.
step examples env MASKGATE_BIN=target/debug/maskgate bash scripts/regen_examples.sh --check
# The Slurm recipe for real: a single-node cluster from Debian's slurm-wlm and munge, a job
# array of 4 shards and the dependent merge.
step slurm-array bash deploy/slurm/test-array.sh target/debug/maskgate
# The manual, built with mdBook (from crates.io, into vendor/mdbook once) and every link checked.
step docs bash scripts/docs.sh
# The wheel, built once by maturin (PyPI) with the dev profile: maskgate-py is a workspace
# member, so it reuses the library, the CLI and every dependency the test build compiled, and
# only the bindings and PyO3 compile here, linted by clippy as they build; installed in a
# fresh venv (made with pinned maturin, numpy and pycocotools while the tests built) and tested
# against the CLI it ships, numpy and pycocotools.
await wheel-venv
wheel() {
  rm -rf target/wheels &&
    "${lint[@]}" vendor/wheel-test/bin/maturin build --quiet \
      --profile dev -m crates/maskgate-py/Cargo.toml --out target/wheels &&
    vendor/wheel-test/bin/pip install -q --disable-pip-version-check target/wheels/maskgate-*.whl
}
step wheel-build wheel
step wheel-tests vendor/wheel-test/bin/python -m unittest discover -s crates/maskgate-py/tests -v
