#!/usr/bin/env bash
# Builds Kiln, starts `kiln server` on the embedded defaults (SQLite under $KILN_HOME), and walks
# the main job: import a model, create a deployment and wait for it, query it, print the answer.
#
#   scripts/quickstart.sh [MODEL_PATH|URL|hf://OWNER/REPO/FILE.gguf|CATALOG_ID]
#
# The default model is the catalog's stories15m (llama.cpp's tinyllamas stories15M, Q4_0, 19 MB),
# which the server downloads once; pass a local GGUF path to work offline. The server keeps running afterwards (its pid is printed).
set -euo pipefail
cd "$(dirname "$0")/.."

MODEL="${1:-stories15m}"
export KILN_HOME="${KILN_HOME:-$HOME/.kiln}"
PORT="${KILN_PORT:-8420}"
SERVER="http://127.0.0.1:$PORT"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

echo "==> building Kiln (Release)"
dotnet build Kiln.sln -c Release -v quiet -nologo >/dev/null
KILN=src/Kiln.Server/bin/Release/net10.0/kiln
KILNCTL=src/Kiln.Cli/bin/Release/net10.0/kilnctl

if curl -sf -o /dev/null "$SERVER/v1/whoami" 2>/dev/null || curl -s -o /dev/null -w '%{http_code}' "$SERVER/v1/whoami" 2>/dev/null | grep -q 401; then
  echo "==> kiln server already running on $SERVER"
else
  mkdir -p "$KILN_HOME"
  echo "==> starting kiln server on $SERVER (data in $KILN_HOME, log in $KILN_HOME/server.log)"
  nohup "$KILN" server --port "$PORT" --data-dir "$KILN_HOME" >>"$KILN_HOME/server.log" 2>&1 &
  echo "    server pid $! (stop it with: kill $!)"
  for _ in $(seq 1 100); do
    [ -s "$KILN_HOME/admin-api-key" ] && curl -s -o /dev/null "$SERVER/v1/whoami" && break
    sleep 0.2
  done
fi

"$KILNCTL" login --server "$SERVER" --api-key "$(cat "$KILN_HOME/admin-api-key")"

echo "==> importing model 'quickstart' from $MODEL"
if "$KILNCTL" get model quickstart >/dev/null 2>&1; then
  echo "    already imported"
else
  # A local file is uploaded; a URL, hf:// file or catalog ID is downloaded by the server (--wait shows progress).
  "$KILNCTL" import model quickstart --from "$MODEL" --wait
fi

echo "==> creating deployment 'quickstart' and waiting until it is READY"
if ! "$KILNCTL" get deployment quickstart >/dev/null 2>&1; then
  "$KILNCTL" create deployment quickstart --deployment-id quickstart --min-replica-count 1 --wait --wait-timeout 5m
fi
"$KILNCTL" get model quickstart

echo "==> querying accounts/default/models/quickstart through the gateway"
PROMPT="Once upon a time"
ANSWER=$(curl -s "$SERVER/inference/v1/completions" \
  -H "Authorization: Bearer $(cat "$KILN_HOME/admin-api-key")" -H 'Content-Type: application/json' \
  -d "{\"model\": \"accounts/default/models/quickstart\", \"prompt\": \"$PROMPT\", \"max_tokens\": 48, \"temperature\": 0}")
echo
echo "$PROMPT$(printf '%s' "$ANSWER" | sed -n 's/.*"text":"\(.*\)","logprobs".*/\1/p')"
