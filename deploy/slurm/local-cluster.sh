#!/usr/bin/env bash
# Single-node Slurm "cluster" for local testing (Debian 12 / bookworm, root,
# containers without systemd).
#
#   deploy/slurm/local-cluster.sh start   # install (if needed), start munged, slurmctld, slurmd
#   deploy/slurm/local-cluster.sh stop    # stop the daemons this script started
#   deploy/slurm/local-cluster.sh status  # sinfo/squeue
#
# Environment:
#   SLURM_LOCAL_DIR   state/spool/log/pid folder (default /tmp/maskgate-slurm)
#   SLURM_CONF        slurm.conf path (default /etc/slurm/slurm.conf, where
#                     Debian's slurm looks, so sbatch/sinfo need no env vars)
#   SLURM_START_TIMEOUT  seconds to wait for the node to become idle (default 60)
#   SLURM_MIN_JOB_AGE    slurm.conf MinJobAge (default 300, Slurm's default).
#                     `sbatch --wait` polls after 2, 8, 32, 32, ... s, but never
#                     sleeps longer than MinJobAge/2 before growing the interval
#                     (src/sbatch/sbatch.c:_job_wait), so with the default a
#                     job finishing at t=3 s is only noticed at t=10 s, one
#                     finishing at 11 s at t=42 s. MinJobAge<=5 makes it poll
#                     every 2 s, at the price of completed job records being
#                     purged sooner (after 5..~65 s instead of 300..~360 s).
#
# Notes / problems hit while making this work (see also the comments inline):
#   * Debian's slurm-wlm 22.05 is a metapackage (slurmctld + slurmd +
#     slurm-client); --no-install-recommends is fine.
#   * No systemd: the packages' postinst cannot start the services, so we start
#     munged/slurmctld/slurmd ourselves and keep pid files in $SLURM_LOCAL_DIR/run.
#   * proctrack/linuxproc + task/none: avoids the cgroup plugins, which fail in
#     containers (cgroup v1/v2 hybrid, read-only or fake cgroupfs).
#   * SelectTypeParameters=CR_CPU: with cons_tres the default also treats memory
#     as consumable; without DefMemPerCPU every job would get the whole node's
#     memory and array tasks would run one at a time.
#   * The container has /usr/sbin/policy-rc.d (exit 101), so apt's postinst
#     does not start munge/slurmd/slurmctld ("policy-rc.d denied execution");
#     Debian's munge postinst does create /etc/munge/munge.key.
#   * Hostname: `hostname -s` (here "vm") resolves to 127.0.0.1 via /etc/hosts;
#     NodeAddr=127.0.0.1 is set anyway so slurmctld never needs DNS for the node.
#   * Harmless log noise, left as is: "mpi/pmix_v4: can not load PMIx library"
#     (Debian builds the pmix plugin but libpmix is only a Recommends),
#     "xcpuinfo_hwloc_topo_load: failed" (sandboxed /sys), and on a clean start
#     "Could not open job state file ... NOTE: Trying backup state save file".
#   * Fixed log noise: MailProg=/bin/true ("Configured MailProg is invalid"),
#     pre-created SlurmdSpoolDir ("Domain socket directory ... No such file").
#   * SchedulerParameters=batch_sched_delay=0: otherwise batch jobs freed by a
#     completing job wait up to 3 s for the next scheduling pass.
#   * A dependency on a job id slurmctld has already purged (older than
#     MinJobAge) is treated as satisfied in 22.05 -- even afterok -- so submit
#     dependents while the upstream job is queued, or within MinJobAge.
#   * slurmctld is started with -c (clean start: no jobs survive a restart).
set -euo pipefail

SLURM_LOCAL_DIR="${SLURM_LOCAL_DIR:-/tmp/maskgate-slurm}"
export SLURM_CONF="${SLURM_CONF:-/etc/slurm/slurm.conf}"
START_TIMEOUT="${SLURM_START_TIMEOUT:-60}"
MIN_JOB_AGE="${SLURM_MIN_JOB_AGE:-300}"
RUN_DIR="$SLURM_LOCAL_DIR/run"
LOG_DIR="$SLURM_LOCAL_DIR/log"

log() { printf '[local-cluster %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

pid_alive() { [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null; }
pidfile_alive() { [[ -f "$1" ]] && pid_alive "$(cat "$1")"; }

node_name() { hostname -s; }

# --------------------------------------------------------------------------
# 1. packages
# --------------------------------------------------------------------------
install_packages() {
    if command -v slurmctld >/dev/null && command -v slurmd >/dev/null \
        && command -v sbatch >/dev/null && command -v munged >/dev/null; then
        log "slurm and munge already installed"
        return
    fi
    [[ $(id -u) -eq 0 ]] || die "must run as root to install packages"
    local t0; t0=$(now)
    export DEBIAN_FRONTEND=noninteractive
    local pkgs=(slurm-wlm munge)
    local apt_opts=(-y --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
    log "installing ${pkgs[*]}"
    if ! apt-get install "${apt_opts[@]}" "${pkgs[@]}" </dev/null; then
        log "install failed; running apt-get update and retrying"
        apt-get update </dev/null
        apt-get install "${apt_opts[@]}" "${pkgs[@]}" </dev/null
    fi
    log "apt install took $(elapsed "$t0") s"
}

# --------------------------------------------------------------------------
# 2. munge
# --------------------------------------------------------------------------
munge_ok() { munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; }

start_munge() {
    if munge_ok; then
        log "munged already running"
        return
    fi
    # Debian's munge postinst normally creates the key; create it if missing.
    install -d -o munge -g munge -m 0700 /etc/munge
    if [[ ! -s /etc/munge/munge.key ]]; then
        log "creating /etc/munge/munge.key"
        if command -v mungekey >/dev/null; then
            mungekey --create --keyfile=/etc/munge/munge.key
        else
            dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
        fi
    fi
    chown munge:munge /etc/munge/munge.key
    chmod 0400 /etc/munge/munge.key
    # munged refuses to start if these dirs are not owned by the munge user
    # (and /run/munge is a tmpfs dir that does not survive container restarts).
    install -d -o munge -g munge -m 0700 /var/lib/munge /var/log/munge
    install -d -o munge -g munge -m 0755 /run/munge
    log "starting munged"
    # Run as the munge user (munged daemonizes and writes its own pid file).
    runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid
    local i
    for i in $(seq 1 50); do
        munge_ok && break
        sleep 0.1
    done
    munge_ok || { cat /var/log/munge/munged.log 2>/dev/null | tail -20 >&2; die "munged did not come up"; }
    cp /run/munge/munged.pid "$RUN_DIR/munged.pid"   # marks "we started it"
}

# --------------------------------------------------------------------------
# 3. slurm.conf
# --------------------------------------------------------------------------
write_conf() {
    local node cpus mem_kb mem_mb
    node=$(node_name)
    cpus=$(nproc)
    mem_kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
    # A bit less than MemTotal: slurmd drains the node ("Low RealMemory") if
    # RealMemory is above what it detects.
    mem_mb=$(( mem_kb / 1024 * 90 / 100 ))
    # Pre-create the slurmd spool dir, else slurmd logs "Domain socket directory
    # ... No such file or directory" (it still works, but the log is noisy).
    mkdir -p "$(dirname "$SLURM_CONF")" "$SLURM_LOCAL_DIR"/{state,spool/slurmd,run,log}
    cat >"$SLURM_CONF" <<EOF
# Generated by deploy/slurm/local-cluster.sh -- single-node local test cluster.
ClusterName=maskgate-local
SlurmctldHost=${node}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CryptoType=crypto/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
MinJobAge=${MIN_JOB_AGE}
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
# Debian ships no mail program; the default (/bin/mail) logs 'MailProg is invalid'.
MailProg=/bin/true
StateSaveLocation=${SLURM_LOCAL_DIR}/state
SlurmdSpoolDir=${SLURM_LOCAL_DIR}/spool/slurmd
SlurmctldPidFile=${SLURM_LOCAL_DIR}/run/slurmctld.pid
SlurmdPidFile=${SLURM_LOCAL_DIR}/run/slurmd.pid
SlurmctldLogFile=${SLURM_LOCAL_DIR}/log/slurmctld.log
SlurmdLogFile=${SLURM_LOCAL_DIR}/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
SlurmctldPort=6817
SlurmdPort=6818
NodeName=${node} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=${mem_mb} State=UNKNOWN
PartitionName=debug Nodes=${node} Default=YES MaxTime=INFINITE State=UP
EOF
    log "wrote $SLURM_CONF (node ${node}, CPUs=${cpus}, RealMemory=${mem_mb})"
}

# --------------------------------------------------------------------------
# 4. daemons
# --------------------------------------------------------------------------
dump_logs() {
    local f
    for f in "$LOG_DIR"/*.log "$LOG_DIR"/*.out; do
        [[ -f "$f" ]] || continue
        echo "===== $f (last 40 lines) =====" >&2
        tail -n 40 "$f" >&2
    done
}

start_daemon() {  # name, args...
    local name=$1; shift
    if pidfile_alive "$RUN_DIR/$name.launch.pid"; then
        log "$name already running (pid $(cat "$RUN_DIR/$name.launch.pid"))"
        return
    fi
    log "starting $name"
    # -D: stay in the foreground (no systemd/daemonizing); we background it.
    setsid "$@" </dev/null >>"$LOG_DIR/$name.out" 2>&1 &
    echo $! >"$RUN_DIR/$name.launch.pid"
}

wait_for_node() {
    local node=$1 deadline state resumed=0
    deadline=$(( $(date +%s) + START_TIMEOUT ))
    while :; do
        if (( $(date +%s) > deadline )); then
            log "timed out after ${START_TIMEOUT}s waiting for node $node to be idle"
            sinfo -N -l >&2 || true
            scontrol show node "$node" >&2 || true
            dump_logs
            return 1
        fi
        pidfile_alive "$RUN_DIR/slurmctld.launch.pid" || { dump_logs; die "slurmctld exited"; }
        pidfile_alive "$RUN_DIR/slurmd.launch.pid" || { dump_logs; die "slurmd exited"; }
        # %t = short state; a trailing '*' means "not responding" (slurmd not
        # registered yet), so only exact idle/mix/alloc count as ready.
        state=$(sinfo -h -N -n "$node" -o '%t' 2>/dev/null | head -n1 || true)
        case "$state" in
            idle|mix|alloc) log "node $node is $state"; return 0 ;;
            down*|drain*|fail*)
                if (( ! resumed )); then
                    log "node $node is $state; resuming"
                    scontrol update nodename="$node" state=resume || true
                    resumed=1
                fi ;;
        esac
        sleep 0.5
    done
}

cmd_start() {
    [[ $(id -u) -eq 0 ]] || die "must run as root"
    local t0; t0=$(now)
    install_packages
    local t1; t1=$(now)
    mkdir -p "$SLURM_LOCAL_DIR"/{state,spool,run,log}
    start_munge
    if pidfile_alive "$RUN_DIR/slurmctld.launch.pid"; then
        # Rewriting slurm.conf under running daemons gives a config mismatch.
        log "slurmctld already running; leaving $SLURM_CONF alone (stop first to change it)"
    else
        write_conf
    fi
    local node; node=$(node_name)
    # -c: clean start (discard saved jobs/node state from previous runs).
    start_daemon slurmctld slurmctld -D -c -f "$SLURM_CONF"
    # Wait for the controller to answer before starting slurmd, so slurmd's
    # registration is not lost/retried.
    local i
    for i in $(seq 1 100); do
        scontrol ping >/dev/null 2>&1 && break
        pidfile_alive "$RUN_DIR/slurmctld.launch.pid" || { dump_logs; die "slurmctld exited"; }
        sleep 0.2
    done
    start_daemon slurmd slurmd -D -f "$SLURM_CONF"
    wait_for_node "$node" || die "cluster did not become ready"
    log "cluster start took $(elapsed "$t1") s (total incl. install check $(elapsed "$t0") s)"
    sinfo >&2
}

signal_pidfile() {  # name, pidfile: send SIGTERM, no waiting
    local name=$1 pf=$2 pid
    [[ -f "$pf" ]] || return 0
    pid=$(cat "$pf")
    if pid_alive "$pid"; then
        log "stopping $name (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
    fi
}

reap_pidfile() {  # name, pidfile: wait up to 15 s, then SIGKILL; remove pid file
    local name=$1 pf=$2 pid i
    [[ -f "$pf" ]] || return 0
    pid=$(cat "$pf")
    for i in $(seq 1 150); do
        pid_alive "$pid" || break
        sleep 0.1
    done
    if pid_alive "$pid"; then
        log "$name did not exit; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pf"
}

cmd_stop() {
    # slurmd and slurmctld each take ~1-2 s to shut down; stop them in
    # parallel, and munged only afterwards (they use munge while exiting).
    signal_pidfile slurmd "$RUN_DIR/slurmd.launch.pid"
    signal_pidfile slurmctld "$RUN_DIR/slurmctld.launch.pid"
    reap_pidfile slurmd "$RUN_DIR/slurmd.launch.pid"
    reap_pidfile slurmctld "$RUN_DIR/slurmctld.launch.pid"
    # Only stop munged if this script started it (pid file copied at start).
    signal_pidfile munged "$RUN_DIR/munged.pid"
    reap_pidfile munged "$RUN_DIR/munged.pid"
    log "stopped"
}

cmd_status() {
    sinfo || true
    squeue || true
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    *) echo "usage: $0 {start|stop|status}" >&2; exit 2 ;;
esac
