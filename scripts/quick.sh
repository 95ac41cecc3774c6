#!/usr/bin/env bash
# The inner loop: the unit, property, golden-vector and snapshot tests, and the architecture
# and report-exporter tests, with no model, database, browser or network (under 3 minutes on 2
# warm cores). The whole suite, the lints and the end-to-end runs are scripts/test.sh.
#
#   bash scripts/quick.sh [FILTER]   (a libtest filter, e.g. `metrics::`)
set -euo pipefail
cd "$(dirname "$0")/.."
export MASKGATE_SHARED="${MASKGATE_SHARED:-../shared}"
cargo test --workspace --lib -- "$@"
cargo test -p maskgate-core --test golden --test pil_draw -- "$@"
filters=("$@")
[ "$#" -gt 0 ] || filters=(architecture:: boundary_reference:: decide:: exporters:: formats::)
cargo test -p maskgate --test library -- "${filters[@]}"
