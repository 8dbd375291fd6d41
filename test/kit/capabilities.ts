// The host capabilities integration tests ask for, probed cheaply.
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import type { Capability } from './capability.js';
import { VENV_PYTHON } from './paths.js';

function pingDocker(socketPath: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', timeout: 20_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? undefined : `${socketPath} answered ${res.statusCode}`);
    });
    req.on('error', (error) => resolve(`${socketPath}: ${error.message}`));
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.end();
  });
}

export const containerRuntime: Capability = {
  name: 'container runtime',
  probe() {
    const host = process.env.DOCKER_HOST;
    if (host?.startsWith('unix://')) return pingDocker(host.slice('unix://'.length));
    if (host) return undefined; // tcp:// engines: testcontainers reports its own errors
    if (existsSync('/var/run/docker.sock')) return pingDocker('/var/run/docker.sock');
    return 'no DOCKER_HOST, no /var/run/docker.sock and no podman socket';
  },
};

export const pythonReaders: Capability = {
  name: 'python readers (delta-rs, PyIceberg, Spark)',
  probe: () => (existsSync(VENV_PYTHON) ? undefined : `${VENV_PYTHON} is missing`),
};
