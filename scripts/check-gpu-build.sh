#!/usr/bin/env bash
# Checks the GPU build: `mvn -Pgpu package` resolves TensorFlow Java's CUDA native
# (tensorflow-core-native:linux-x86_64-gpu, ~500 MB on first use) and builds target-gpu/diffuse.jar;
# the jar's class path names that native; and the jar runs: on a machine without a usable GPU,
# `--device auto` falls back to the CPU and `--device gpu` exits 1 naming what is missing.
# Kept out of `mvn test` because of the download. Usage: scripts/check-gpu-build.sh
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -q -Pgpu -Dbuild.dir="$PWD/target-gpu" -DskipTests package
jar=target-gpu/diffuse.jar
unzip -p "$jar" META-INF/MANIFEST.MF | tr -d '\r\n ' | grep -q 'tensorflow-core-native-1.1.0-linux-x86_64-gpu.jar' \
  || { echo "FAIL: $jar does not name the GPU native"; exit 1; }
ls target-gpu/lib/tensorflow-core-native-1.1.0-linux-x86_64-gpu.jar >/dev/null
echo "ok: $jar built against tensorflow-core-native-1.1.0-linux-x86_64-gpu"
java -jar "$jar" generate --prompt "digit 7" -n 2 --steps 3 --device auto --out target-gpu/check.png
set +e
msg=$(java -jar "$jar" generate --prompt "digit 7" -n 2 --steps 3 --device gpu --out target-gpu/check-gpu.png 2>&1)
code=$?
set -e
if [ "$code" = 0 ]; then
  echo "ok: a GPU answered; generated target-gpu/check-gpu.png on it"
else
  echo "ok: --device gpu exited $code: $msg"
  [ "$code" = 1 ] || { echo "FAIL: expected exit 1"; exit 1; }
fi
