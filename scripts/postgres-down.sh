#!/usr/bin/env bash
# Stops a cluster started by scripts/postgres-up.sh DIR (at once, as a crash would) and deletes DIR;
# with --keep, DIR stays and scripts/postgres-up.sh DIR starts the cluster again on the same port.
set -euo pipefail
keep=0
if [ "${1:-}" = "--keep" ]; then keep=1; shift; fi
dir=${1:?usage: postgres-down.sh [--keep] DIR}
if [ -f "$dir/data/postmaster.pid" ]; then
  bin=$(dirname "$(ls -d /usr/lib/postgresql/*/bin/pg_ctl | sort -V | tail -n 1)")
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null || true
  else
    "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null || true
  fi
fi
if [ "$keep" -eq 0 ]; then rm -rf "$dir"; fi
