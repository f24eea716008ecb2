#!/usr/bin/env bash
# Stops the daemons scripts/slurm-up.sh started. Running jobs survive (slurmstepd keeps them) and
# are recovered on the next start; CANCEL=1 cancels every job first.
set -uo pipefail
if [ "${CANCEL:-0}" = 1 ]; then scancel --user="$(id -un)" 2>/dev/null; sleep 1; fi
for pidfile in /run/slurm/slurmd.pid /run/slurm/slurmctld.pid /run/munge/munged.pid; do
  [ -s "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  kill "$pid" 2>/dev/null || continue
  # Where PID 1 does not reap orphans a stopped daemon lingers as a zombie: count that as gone.
  for _ in $(seq 100); do
    state=$(ps -o stat= -p "$pid" 2>/dev/null) || break
    case "$state" in Z*) break;; esac
    sleep 0.1
  done
done
