// test/env/lib.sh's start_detached: the podman API service is started by `npm test` inside
// `.ci/run`'s `npm test | tee` pipeline, so nothing it leaves running may hold that pipe open.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../kit/paths.js';

const LIB = join(PROJECT_ROOT, 'test/env/lib.sh');
const DAEMON_SECONDS = 30;

interface PipeRun {
  /** What the script printed through the pipe. */
  output: string;
  /** Milliseconds until the reader at the pipe's end saw end of file. */
  closedAfterMs: number;
}

/** Runs `script | cat` and times how long the pipe stays open (at most `limitMs`). */
function throughPipe(script: string, dir: string, limitMs: number): Promise<PipeRun | 'still open'> {
  const started = Date.now();
  const child = spawn('bash', ['-c', `set -euo pipefail; ( ${script} ) | cat`], {
    env: { ...process.env, LAKESTREAM_CACHE: dir },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    output += text;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve('still open');
    }, limitMs);
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      resolve({ output, closedAfterMs: Date.now() - started });
    });
  });
}

/** A daemon stand-in that records its pid, then sleeps. */
function daemon(pidFile: string): string {
  return `bash -c 'echo $$ > ${pidFile}; echo daemon says hello; exec sleep ${DAEMON_SECONDS}'`;
}

function waitForPid(pidFile: string): number {
  const deadline = Date.now() + 5_000;
  for (;;) {
    try {
      const pid = Number(readFileSync(pidFile, 'utf8').trim());
      if (pid > 0) return pid;
    } catch {}
    if (Date.now() > deadline) throw new Error(`no pid in ${pidFile}`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
}

describe('start_detached (test/env/lib.sh)', () => {
  const dirs: string[] = [];
  const pids: number[] = [];
  afterEach(() => {
    for (const pid of pids.splice(0)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const scratch = () => {
    const dir = mkdtempSync(join(tmpdir(), 'lakestream-env-'));
    dirs.push(dir);
    return dir;
  };

  it('leaves the daemon running in its own session, in /, logging to its file, and the caller’s pipe closes at once', async () => {
    const dir = scratch();
    const pidFile = join(dir, 'pid');
    const log = join(dir, 'daemon.log');
    const run = await throughPipe(
      `source ${LIB}; start_detached ${log} ${daemon(pidFile)}; echo started`,
      dir,
      (DAEMON_SECONDS * 1000) / 2,
    );
    const pid = waitForPid(pidFile);
    pids.push(pid);
    expect(run).not.toBe('still open');
    if (run === 'still open') return;
    expect(run.output).toBe('started\n');
    expect(run.closedAfterMs).toBeLessThan(5_000);
    // Still alive after its starter is gone, in a session of its own, working in /.
    expect(() => process.kill(pid, 0)).not.toThrow();
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    expect(Number(fields[3])).toBe(pid); // session id
    expect(readlinkSync(`/proc/${pid}/cwd`)).toBe('/');
    expect(readFileSync(log, 'utf8')).toBe('daemon says hello\n');
  });

  it('the check above catches the form that kept CI waiting: a backgrounded `cd && setsid` list', async () => {
    const dir = scratch();
    const pidFile = join(dir, 'pid');
    const log = join(dir, 'daemon.log');
    // The form container-runtime.sh used: the redirections bind to setsid only, while the
    // backgrounded list's subshell keeps the pipe as its stdout and waits for the daemon.
    const run = await throughPipe(
      `(cd / && setsid ${daemon(pidFile)} > ${log} 2>&1 < /dev/null &); echo started`,
      dir,
      2_000,
    );
    pids.push(waitForPid(pidFile));
    expect(run).toBe('still open');
  });
});
