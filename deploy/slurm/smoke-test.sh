#!/usr/bin/env bash
# Smoke test for the single-node local Slurm cluster:
#   1. start it (deploy/slurm/local-cluster.sh start),
#   2. submit `sbatch --array=0-3 --wait`; each task writes $SLURM_ARRAY_TASK_ID
#      to a file in a temp folder,
#   3. submit a job with --dependency=afterok:<array job id> that lists them;
#      it is submitted while the array is still queued/running, so the
#      dependency is really exercised,
#   4. assert 4 files exist and the dependent job ran (after the array),
#   5. print the seconds taken and stop the cluster (also on failure).
#
# Env: SLURM_LOCAL_DIR / SLURM_CONF are passed through to local-cluster.sh.
#      SMOKE_KEEP_CLUSTER=1 leaves the cluster running afterwards.
#      SMOKE_JOB_TIMEOUT (default 120) bounds each `sbatch --wait`.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CLUSTER="$HERE/local-cluster.sh"
JOB_TIMEOUT="${SMOKE_JOB_TIMEOUT:-120}"
export SLURM_CONF="${SLURM_CONF:-/etc/slurm/slurm.conf}"

t_start=$(date +%s.%N)
secs_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
say() { printf '[smoke %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

WORK=$(mktemp -d /tmp/maskgate-slurm-smoke.XXXXXX)
cleanup() {
    local rc=$?
    if [[ $rc -ne 0 ]]; then
        say "FAILED (rc=$rc); job outputs:"
        for f in "$WORK"/*.out; do [[ -f "$f" ]] && { echo "== $f"; cat "$f"; } >&2; done
        squeue >&2 || true
    fi
    if [[ "${SMOKE_KEEP_CLUSTER:-0}" != 1 ]]; then
        "$CLUSTER" stop || true
    fi
    rm -rf "$WORK"
    say "total $(secs_since "$t_start") s"
    exit "$rc"
}
trap cleanup EXIT

"$CLUSTER" start
t_cluster=$(secs_since "$t_start")
say "cluster up after ${t_cluster} s"

t_jobs=$(date +%s.%N)

# Array job. `--wait` makes sbatch block until all tasks end; its exit code is
# the highest task exit code. It runs in the background so that the dependent
# job can be submitted while the array is still pending. sbatch's stdout is
# block-buffered when not a tty, so `stdbuf -oL` is needed for the
# --parsable job id to appear in the file before sbatch exits.
timeout "$JOB_TIMEOUT" stdbuf -oL sbatch --parsable --wait --array=0-3 \
    --job-name=smoke-array --chdir="$WORK" --output="$WORK/array-%A_%a.out" \
    --wrap='echo "$SLURM_ARRAY_TASK_ID" > "task-$SLURM_ARRAY_TASK_ID.txt"; sleep 1' \
    >"$WORK/array.jobid" &
array_pid=$!

for _ in $(seq 1 100); do
    [[ -s "$WORK/array.jobid" ]] && break
    sleep 0.1
done
array_id=$(cut -d';' -f1 <"$WORK/array.jobid" | head -n1)
[[ "$array_id" =~ ^[0-9]+$ ]] || { say "no array job id (got '$array_id')"; exit 1; }
say "array job $array_id submitted"

# Dependent job: lists the files and fails unless all 4 are there.
# --kill-on-invalid-dep=yes: if the array fails, the dependent job is cancelled
# instead of pending forever (which would hang `sbatch --wait`).
timeout "$JOB_TIMEOUT" sbatch --parsable --wait \
    --dependency="afterok:${array_id}" --kill-on-invalid-dep=yes \
    --job-name=smoke-after --chdir="$WORK" --output="$WORK/after.out" \
    --wrap='ls -1 task-*.txt > listing.txt; cat task-*.txt; n=$(ls task-*.txt | wc -l); echo "count=$n"; test "$n" -eq 4 && touch dependent-ran' \
    >"$WORK/after.jobid" &
after_pid=$!
sleep 0.2
say "dependent job submitted: $(squeue -h -o '%i %j %T %r' | tr '\n' ';')"

wait "$array_pid" || { say "array sbatch --wait failed"; exit 1; }
t_array=$(secs_since "$t_jobs")
say "array job $array_id finished after ${t_array} s"
wait "$after_pid" || { say "dependent sbatch --wait failed"; exit 1; }
after_id=$(cut -d';' -f1 <"$WORK/after.jobid" | head -n1)
t_after=$(secs_since "$t_jobs")
say "dependent job $after_id finished after ${t_after} s"

# Assertions.
for i in 0 1 2 3; do
    [[ "$(cat "$WORK/task-$i.txt")" == "$i" ]] || { say "task-$i.txt missing or wrong"; exit 1; }
done
[[ -f "$WORK/dependent-ran" ]] || { say "dependent job did not run / did not see 4 files"; exit 1; }
[[ "$(wc -l <"$WORK/listing.txt")" -eq 4 ]] || { say "listing.txt does not list 4 files"; exit 1; }
say "dependent job output:"; cat "$WORK/after.out" >&2

say "PASS: cluster start ${t_cluster} s, array ${t_array} s, array+dependent ${t_after} s, total $(secs_since "$t_start") s"
