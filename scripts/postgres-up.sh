#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for Kiln's tests and trials, and prints its connection string.
#   scripts/postgres-up.sh [DIR]     (DIR: where the cluster lives; a fresh temporary one by default)
# The cluster trusts local connections, listens on 127.0.0.1 on a free port, keeps its socket in DIR
# and runs with fsync off: it is for tests, not for data that must survive a machine's crash (commits
# stay synchronous, so a killed server, as tests kill it, loses nothing committed). Stop it with
# scripts/postgres-down.sh DIR (--keep stops it and keeps DIR, to start it again with this script).
# Run as root, the server runs as the postgres user.
set -euo pipefail

initdb=$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$initdb" ]; then
  echo "postgres-up: PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin); install the postgresql package" >&2
  exit 1
fi
bin=$(dirname "$initdb")
dir=${1:-$(mktemp -d "${TMPDIR:-/tmp}/kiln-pg.XXXXXX")}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

as_owner() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; chmod 700 "$dir"; fi

# A cluster started before keeps its port (so its connection string stays valid); a new one takes a
# port nobody listens on now (pg_ctl fails clearly if another process takes it first).
if [ -f "$dir/port" ]; then port=$(cat "$dir/port"); else port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null \
  || shuf -i 20000-60000 -n 1); fi

if [ ! -f "$dir/data/PG_VERSION" ]; then
  as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 \
    || { echo "postgres-up: initdb failed:" >&2; cat "$dir/initdb.log" >&2; exit 1; }
fi
as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 30 \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=300" \
  start >/dev/null \
  || { echo "postgres-up: the server did not start:" >&2; tail -n 20 "$dir/postgres.log" >&2; exit 1; }
echo "$port" >"$dir/port"
echo "Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres"
