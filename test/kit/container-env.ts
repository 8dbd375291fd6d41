// Environment for testcontainers: Docker when it answers, else the Podman socket that
// test/env/container-runtime.sh starts. Applied by vitest.config.ts before any test imports testcontainers.
import { existsSync } from 'node:fs';

export const PODMAN_SOCKET = '/run/podman/podman.sock';

/** The variables testcontainers needs on this host; values already set by the user win. */
export function containerEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {
    // Tests reach containers on loopback only (never the bridge gateway).
    TESTCONTAINERS_HOST_OVERRIDE: env.TESTCONTAINERS_HOST_OVERRIDE ?? '127.0.0.1',
  };
  if (!env.DOCKER_HOST && !existsSync('/var/run/docker.sock') && existsSync(PODMAN_SOCKET)) {
    out.DOCKER_HOST = `unix://${PODMAN_SOCKET}`;
    // Ryuk's image cannot be pulled here; fixtures stop their own containers.
    out.TESTCONTAINERS_RYUK_DISABLED = env.TESTCONTAINERS_RYUK_DISABLED ?? 'true';
  }
  return out;
}
