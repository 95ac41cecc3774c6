#!/usr/bin/env bash
# Sets up and runs every test: formatting, lints, unit, property, golden-vector and end-to-end
# tests on the real FASSEG photos in $MASKGATE_SHARED (default ../shared), with the database
# tests against a throwaway PostgreSQL cluster (Debian's postgresql, installed here when missing
# and run as root; pg_virtualenv starts the cluster and removes it afterwards).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export MASKGATE_SHARED="${MASKGATE_SHARED:-../shared}"
cargo fmt --all --check
cargo clippy --workspace --all-targets -- -D warnings
if ! command -v pg_virtualenv >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends postgresql >&2
  else
    echo "test: PostgreSQL is needed (Debian: apt-get install postgresql)" >&2
    exit 2
  fi
fi
MASKGATE_TEST_POSTGRES=1 pg_virtualenv cargo test --workspace
