#!/usr/bin/env bash
# Draws the documentation's pictures again with the shipped models, each by the command its sidecar records
# (docs/*.json "command"): after a shipped model changes, run it, then look at the pictures and the prose
# around them. Usage: scripts/docs-pictures.sh [JAR]   (default: target/diffuse.jar)
set -euo pipefail
cd "$(dirname "$0")/.."
jar=${1:-target/diffuse.jar}
for sidecar in docs/seven.json docs/digits.json docs/sweep.json docs/seven.gif.json docs/fashion.json; do
  cmd=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["command"])' "$sidecar")
  echo "$sidecar: $cmd"
  eval "java -jar $jar ${cmd#diffuse }"
done
