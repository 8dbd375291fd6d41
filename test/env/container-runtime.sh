#!/usr/bin/env bash
# Ensures a Docker-compatible container API for testcontainers: Docker when it answers, otherwise
# Podman (installed and configured here on a Debian host running as root) serving the Docker API
# on /run/podman/podman.sock. Idempotent; prints one line when everything is already in place.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

ping_socket() { curl -sf --max-time 3 --unix-socket "$1" http://d/_ping >/dev/null 2>&1; }

if [[ -n "${DOCKER_HOST:-}" && "$DOCKER_HOST" == unix://* ]] && ping_socket "${DOCKER_HOST#unix://}"; then
  say "container runtime: DOCKER_HOST=$DOCKER_HOST answers"; exit 0
fi
if [[ -S /var/run/docker.sock ]] && ping_socket /var/run/docker.sock; then
  say "container runtime: docker (/var/run/docker.sock) answers"; exit 0
fi
if [[ -S "$PODMAN_SOCKET" ]] && ping_socket "$PODMAN_SOCKET"; then
  say "container runtime: podman ($PODMAN_SOCKET) answers"; exit 0
fi

started=$(date +%s)
if ! command -v podman >/dev/null 2>&1 || ! command -v runc >/dev/null 2>&1; then
  [[ $(id -u) == 0 ]] || fail "no Docker engine answers and podman is not installed; install Docker or Podman (the automatic install needs root on Debian)"
  command -v apt-get >/dev/null || fail "no Docker engine answers and this host has no apt-get to install podman; install Docker or Podman"
  say "container runtime: installing podman and runc from Debian packages"
  apt_install podman runc
fi

# Settings verified on hosts without CAP_SYS_RESOURCE, with hybrid cgroups and no nested overlayfs:
# see docs/test-environment.md.
mkdir -p /etc/containers /run/podman
if ! grep -q 'lakestream' /etc/containers/containers.conf 2>/dev/null; then
  cat >/etc/containers/containers.conf <<'CONF'
# written by lakestream test/env/container-runtime.sh
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=10000:10000"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
fi
if ! grep -q 'lakestream' /etc/containers/storage.conf 2>/dev/null; then
  cat >/etc/containers/storage.conf <<'CONF'
# written by lakestream test/env/container-runtime.sh
[storage]
driver = "vfs"
runroot = "/run/containers/storage"
graphroot = "/var/lib/containers/storage"
CONF
fi

setsid podman system service --time=0 "unix://$PODMAN_SOCKET" >"$LAKESTREAM_CACHE/podman-service.log" 2>&1 < /dev/null &
for _ in $(seq 1 100); do
  ping_socket "$PODMAN_SOCKET" && break
  sleep 0.1
done
ping_socket "$PODMAN_SOCKET" || fail "podman API did not answer on $PODMAN_SOCKET; see $LAKESTREAM_CACHE/podman-service.log"
say "container runtime: podman API started on $PODMAN_SOCKET ($(( $(date +%s) - started ))s)"
