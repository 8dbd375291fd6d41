# Shared helpers for the test-environment scripts (sourced, not run).
LAKESTREAM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export LAKESTREAM_CACHE=${LAKESTREAM_CACHE:-$LAKESTREAM_ROOT/.cache}
PODMAN_SOCKET=/run/podman/podman.sock
mkdir -p "$LAKESTREAM_CACHE"

say() { printf '[test-env] %s\n' "$*"; }
fail() { printf '[test-env] error: %s\n' "$*" >&2; exit 1; }

# Starts a long-lived daemon fully detached: its own session, working directory /, stdin from
# /dev/null and stdout/stderr to LOG. No process is left holding the caller's stdout, so a pipeline
# like `npm test | tee` ends when the tests do (a subshell that waited on the daemon with the pipe
# open once kept CI waiting until its time limit). Starting from / means removing the checkout
# cannot leave the daemon with a deleted working directory.
start_detached() {
  local log=$1
  shift
  (cd / && exec setsid "$@") >"$log" 2>&1 </dev/null &
}

apt_updated=""
apt_install() {
  if [[ -z "$apt_updated" ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# The CLI that talks to the container runtime the tests use: docker when a Docker engine answers,
# podman otherwise.
container_cli() {
  if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then echo docker; else echo podman; fi
}
