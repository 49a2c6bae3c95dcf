# shellcheck shell=bash
# Sourced by the bench scripts: what a server costs is the sum over its
# process tree. `parkhost serve` is a supervisor whose workers are its
# children (re-executed, so they show under their own pids); the pid a
# script starts, and the pid file, are the supervisor's, whose own CPU time
# is tiny. nginx (master_process off) and the bare server are one process:
# their tree is that process alone. Not meant to be run directly.

# tree_pids PID...: each PID and all its descendants, one a line.
tree_pids() {
    local p kids
    for p in "$@"; do
        [ -d "/proc/$p" ] || continue
        echo "$p"
        kids=$(cat /proc/"$p"/task/*/children 2>/dev/null || true)
        # shellcheck disable=SC2086
        [ -z "$kids" ] || tree_pids $kids
    done
}

# tree_ticks PID: user + sys clock ticks of PID's tree (every thread of each
# process); the fields after the command name, which may hold spaces.
tree_ticks() {
    local p
    for p in $(tree_pids "$1"); do cat "/proc/$p/stat" 2>/dev/null || true; done |
        sed 's/^.*) //' | awk '{ t += $12 + $13 } END { print t + 0 }'
}

# tree_kb PID FIELD: FIELD of /proc/*/status (VmRSS, VmHWM) summed over
# PID's tree, in KiB. For VmHWM the sum of each process's peak: at most the
# tree's peak, when the processes peaked at different times.
tree_kb() {
    local p
    for p in $(tree_pids "$1"); do cat "/proc/$p/status" 2>/dev/null || true; done |
        awk -v k="$2:" '$1 == k { s += $2 } END { print s + 0 }'
}

# worker_pid PID: the process that serves: the supervisor's one worker (its
# only child), or PID itself when it has no child (nginx, bare, a parkhost
# from before the workers). Fails when there are several.
worker_pid() {
    local kids
    kids=$(tree_pids "$1" | tail -n +2)
    case $(printf '%s' "$kids" | grep -c .) in
    0) echo "$1" ;;
    1) echo "$kids" ;;
    *) echo "worker_pid: $1 has several children: $(echo "$kids" | tr '\n' ' ')" >&2; return 1 ;;
    esac
}

# status_column NAME: from `parkhost status` on stdin, the column NAME of
# each worker's row (found by the header line, the second), one a line.
status_column() {
    awk -v c="$1" 'NR == 2 { for (i = 1; i <= NF; i++) if ($i == c) k = i }
        NR > 2 && k { print $k }'
}

# parkhost_ready BIN PIDFILE SPID: wait (up to 120 s: under valgrind each
# worker takes seconds to start) until the supervisor SPID, asked with
# `parkhost status`, says every worker is ready. The supervisor listens
# before its workers do, so a port that accepts says nothing yet. Fails if
# SPID dies or the time runs out.
parkhost_ready() {
    local bin=$1 pidfile=$2 spid=$3 out
    for _ in $(seq 1 2400); do
        kill -0 "$spid" 2>/dev/null || break
        if out=$("$bin" status --pid-file "$pidfile" 2>/dev/null) &&
            status_column state <<<"$out" |
            awk '{ n++; if ($1 != "ready") bad = 1 } END { exit !(n > 0 && !bad) }'; then
            return 0
        fi
        sleep 0.05
    done
    echo "parkhost_ready: the server (pid $spid) did not get every worker ready" >&2
    return 1
}

# worker_requests BIN PIDFILE: the requests each worker has answered so
# far, "worker0 worker1 ..." on one line (parkhost status).
worker_requests() {
    "$1" status --pid-file "$2" | status_column requests | paste -sd ' '
}
