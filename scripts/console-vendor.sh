#!/usr/bin/env bash
# Refreshes the web console's third-party files from npm (versions pinned in
# src/Kiln.Server/WebConsole/package-lock.json) into wwwroot/vendor, where they are committed and
# embedded in the server: nothing runs Node when Kiln runs.
set -euo pipefail
cd "$(dirname "$0")/../src/Kiln.Server/WebConsole"
npm ci --no-audit --no-fund
cp node_modules/uplot/dist/uPlot.esm.js node_modules/uplot/dist/uPlot.min.css wwwroot/vendor/
cp node_modules/uplot/LICENSE wwwroot/vendor/uPlot.LICENSE.txt
rm -rf node_modules
echo "vendor files refreshed: $(ls wwwroot/vendor | tr '\n' ' ')"
