# Shared helpers for the test-environment scripts (sourced, not run).
LAKESTREAM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export LAKESTREAM_CACHE=${LAKESTREAM_CACHE:-$LAKESTREAM_ROOT/.cache}
PODMAN_SOCKET=/run/podman/podman.sock
mkdir -p "$LAKESTREAM_CACHE"

say() { printf '[test-env] %s\n' "$*"; }
fail() { printf '[test-env] error: %s\n' "$*" >&2; exit 1; }

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
