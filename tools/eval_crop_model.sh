# The body of //tools:eval_crop_model (the genrule prepends PINNED: sha256 and path of every
# declared input). `bazel run` starts it with BUILD_WORKSPACE_DIRECTORY set to the checkout.
set -euo pipefail
root="${BUILD_WORKSPACE_DIRECTORY:?run this with: bazel run //tools:eval_crop_model}"
cd "$root"
if ! sha256sum --check --quiet --strict <<<"$PINNED"; then
  echo "eval_crop_model: an input changed after Bazel built the target; run bazel run again" >&2
  exit 2
fi
bash scripts/setup.sh >&2
cargo build --release --locked -q -p maskgate-cli
# Exit status of the gate: 0 go, 1 no-go or inconclusive, 2 error.
exec ./target/release/maskgate run examples/crop-gate/maskgate.toml "$@"
