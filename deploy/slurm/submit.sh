#!/usr/bin/env bash
# Runs a maskgate gate as a Slurm job array of N shards, at most P at once, then the merge as a
# dependent job:
#   deploy/slurm/submit.sh CONFIG OUT N [P]
# Paths must be on a file system every node sees. With SLURM_WAIT=1 both sbatch calls wait for
# their job (sbatch --wait) and the script exits with the merge's status.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
config=$(realpath "$1") out=$(realpath -m "$2") count=$3 parallel=${4:-$3}
mkdir -p "$out"
wait_flag=()
[[ "${SLURM_WAIT:-0}" == 1 ]] && wait_flag=(--wait)
# stdbuf: with --wait, sbatch prints the --parsable job id only when it exits unless unbuffered.
array_id_file=$(mktemp)
stdbuf -oL sbatch --parsable "${wait_flag[@]}" --array="0-$((count - 1))%$parallel" \
    --chdir="$out" "$here/maskgate-shard.sbatch" "$config" "$out" "$count" >"$array_id_file" &
array_pid=$!
for _ in $(seq 1 300); do
    [[ -s "$array_id_file" ]] && break
    sleep 0.1
done
array_id=$(cut -d';' -f1 <"$array_id_file")
rm -f "$array_id_file"
[[ -n "$array_id" ]] || { echo "submit.sh: sbatch printed no job id" >&2; exit 2; }
echo "submitted shards: job $array_id (--array=0-$((count - 1))%$parallel)" >&2
# Submitted while the array is queued: Slurm forgets finished jobs after MinJobAge, and a
# dependency on a forgotten job counts as met.
merge_status=0
sbatch --parsable "${wait_flag[@]}" --dependency="afterok:$array_id" --kill-on-invalid-dep=yes \
    --chdir="$out" "$here/maskgate-merge.sbatch" "$out" || merge_status=$?
wait "$array_pid" || true
exit "$merge_status"
