#!/usr/bin/env bash
# Provisions everything the integration tests need, idempotently (npm test runs it first):
# a Docker-compatible container API, the Kafka test image, and the Python interop readers.
# Fast when everything is already there. See docs/test-environment.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
started=$(date +%s)
bash "$here/container-runtime.sh"
bash "$here/kafka-image.sh"
bash "$here/python-readers.sh"
printf '[test-env] ready (%ss)\n' "$(( $(date +%s) - started ))"
