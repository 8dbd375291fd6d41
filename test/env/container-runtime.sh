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
# A podman API service whose working directory was deleted (started from a checkout removed since)
# still answers pings but cannot start a container: "write child: broken pipe". Linux /proc tells.
stale_podman_service() {
  local pid
  for pid in $(pgrep -f 'podman system service' || true); do
    [[ "$(readlink "/proc/$pid/cwd" 2>/dev/null || true)" == *' (deleted)' ]] && return 0
  done
  return 1
}
if [[ -S "$PODMAN_SOCKET" ]] && ping_socket "$PODMAN_SOCKET"; then
  if ! stale_podman_service; then
    say "container runtime: podman ($PODMAN_SOCKET) answers"; exit 0
  fi
  say "container runtime: restarting the podman API (its working directory was deleted)"
  pkill -f 'podman system service' || true
  for _ in $(seq 1 50); do pgrep -f 'podman system service' >/dev/null || break; sleep 0.1; done
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

# Started from / so that removing the checkout that started it cannot leave it stale (see above).
service_log=$(realpath -m "$LAKESTREAM_CACHE/podman-service.log")
start_detached "$service_log" podman system service --time=0 "unix://$PODMAN_SOCKET"
for _ in $(seq 1 100); do
  ping_socket "$PODMAN_SOCKET" && break
  sleep 0.1
done
ping_socket "$PODMAN_SOCKET" || fail "podman API did not answer on $PODMAN_SOCKET; see $service_log"
say "container runtime: podman API started on $PODMAN_SOCKET ($(( $(date +%s) - started ))s)"
