#!/usr/bin/env bash
# The gate's statistics by simulation, larger than the CI test (crates/maskgate-core/tests/
# simulation.rs runs 1,000 gates a truth): coverage of the 95% intervals (expanded percentile,
# and the plain percentile interval beside it), the go rate at, below and beyond the bound on
# the point and the interval basis, and a Holm-corrected family's false-go rate, over GATES
# gates a truth (default 20,000; seeded, so a rerun prints the same rates).
#   bash bench/simulation.sh [GATES]
set -euo pipefail
cd "$(dirname "$0")/.."
MASKGATE_SIM_GATES="${1:-20000}" cargo test --release -q -p maskgate-core --test simulation \
  -- --nocapture 2>&1 | grep -E "gates a truth|coverage|go rate|groups at|test result"
