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
# cmake and nasm build libjpeg-turbo (the turbojpeg-sys crate's vendored source, with its SIMD
# code): the JPEG decoder Pillow and OpenCV bundle. Debian's packages, installed here when
# missing and the script runs as root.
missing=()
for tool in cmake nasm; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "toolchain: the build needs ${missing[*]} (apt-get install ${missing[*]})" >&2
    exit 2
  fi
  export DEBIAN_FRONTEND=noninteractive
  # Another apt-get (the test script's background installs) may hold dpkg's lock: wait for it.
  apt-get -o DPkg::Lock::Timeout=600 update -qq >&2 &&
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" \
      </dev/null >&2
fi
