#!/usr/bin/env bash
# Ensures the project-local virtualenv of interop readers (delta-rs, PyIceberg, PySpark with Delta)
# and Spark's Delta/Iceberg jars from Maven Central in the project's ivy cache. The venv is rebuilt
# only when requirements.txt changes (its hash is stamped in the venv). Idempotent.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

VENV="$LAKESTREAM_CACHE/venv"
want=$(sha256sum "$here/requirements.txt" | cut -c1-16)
stamp="$VENV/.lakestream-requirements"
if [[ -x "$VENV/bin/python" && "$(cat "$stamp" 2>/dev/null)" == "$want" ]]; then
  say "python readers: $VENV present"
else
  started=$(date +%s)
  command -v python3 >/dev/null || fail "python3 is required for the interop tests"
  command -v java >/dev/null || fail "Java 17 is required for the Spark interop tests"
  say "python readers: creating $VENV (deltalake, pyiceberg, pyarrow, pyspark, delta-spark)"
  rm -rf "$VENV"
  python3 -m venv "$VENV" || fail "python3 -m venv failed (on Debian: apt-get install python3-venv)"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$here/requirements.txt" \
    >"$LAKESTREAM_CACHE/pip.log" 2>&1 || fail "pip install failed; see $LAKESTREAM_CACHE/pip.log"
  echo "$want" >"$stamp"
  say "python readers: installed ($(( $(date +%s) - started ))s)"
fi

# Spark resolves its packages into the ivy cache on first use; do it here, once, so tests do not
# download. The marker names the package list, so a change of versions resolves again.
packages=$(sed -n "s/^  '\(.*\)',\{0,1\}$/\1/p" "$LAKESTREAM_ROOT/test/kit/python.ts" | tr -d "'" | paste -sd, -)
marker="$LAKESTREAM_CACHE/ivy2/.resolved-$(echo "$packages" | sha256sum | cut -c1-16)"
if [[ -f "$marker" ]]; then
  say "spark packages: cached"
else
  started=$(date +%s)
  say "spark packages: resolving $packages from Maven Central"
  mkdir -p "$LAKESTREAM_CACHE/ivy2"
  LAKESTREAM_SPARK_PACKAGES="$packages" LAKESTREAM_IVY_DIR="$LAKESTREAM_CACHE/ivy2" SPARK_LOCAL_IP=127.0.0.1 \
    PYTHONPATH="$LAKESTREAM_ROOT/test/kit" "$VENV/bin/python" -c 'import readers; readers.spark().range(1).count()' \
    >"$LAKESTREAM_CACHE/spark-resolve.log" 2>&1 || fail "resolving Spark packages failed; see $LAKESTREAM_CACHE/spark-resolve.log"
  touch "$marker"
  say "spark packages: resolved ($(( $(date +%s) - started ))s)"
fi
