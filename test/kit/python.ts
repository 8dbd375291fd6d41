// Runs Python snippets (delta-rs, PyIceberg, Spark) for interop tests and returns their results as JSON.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { IVY_DIR, PROJECT_ROOT, VENV_PYTHON } from './paths.js';

/** Maven coordinates of the Spark packages the interop tests use (kept in sync with test/env/python-readers.sh). */
export const SPARK_PACKAGES = [
  'io.delta:delta-spark_2.13:4.0.1',
  'org.apache.iceberg:iceberg-spark-runtime-4.0_2.13:1.10.0',
].join(',');

interface Reply {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

/** Error raised in the Python snippet, with its traceback. */
export class PythonError extends Error {
  constructor(
    message: string,
    readonly traceback: string,
  ) {
    super(message);
    this.name = 'PythonError';
  }
}

/**
 * A long-lived Python process (the project's virtualenv) that runs snippets one at a time in one
 * shared scope, so expensive sessions (Spark) start once. A snippet sees `args` and sets `result`;
 * `readers.py` (delta_rs_rows, spark_delta_rows, …) is imported as `readers`.
 */
export class PythonSession {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private stderrTail = '';
  private exited: Error | undefined;

  constructor() {
    if (!existsSync(VENV_PYTHON)) {
      throw new Error(`Python readers are not installed at ${VENV_PYTHON}; run: npm run test:env`);
    }
    this.child = spawn(VENV_PYTHON, ['-u', join(PROJECT_ROOT, 'test/kit/python_worker.py')], {
      env: {
        ...process.env,
        PYTHONPATH: join(PROJECT_ROOT, 'test/kit'),
        LAKESTREAM_IVY_DIR: IVY_DIR,
        LAKESTREAM_SPARK_PACKAGES: SPARK_PACKAGES,
        SPARK_LOCAL_IP: '127.0.0.1',
        PYSPARK_PYTHON: VENV_PYTHON,
      },
    });
    this.child.stderr.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-4000);
      if (process.env.LAKESTREAM_PYTHON_VERBOSE) process.stderr.write(chunk);
    });
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      const reply = JSON.parse(line) as Reply;
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if (reply.ok) waiter.resolve(reply.result);
      else {
        const tb = reply.error ?? 'unknown error';
        const last = tb.trim().split('\n').at(-1) ?? tb;
        waiter.reject(new PythonError(`python: ${last}`, tb));
      }
    });
    this.child.on('exit', (code, signal) => {
      this.exited = new Error(`python worker exited (${signal ?? code}); stderr tail:\n${this.stderrTail}`);
      for (const waiter of this.pending.values()) waiter.reject(this.exited);
      this.pending.clear();
    });
    // Import the reader helpers once.
    void this.run('import readers');
  }

  /** Runs `code` with `args` bound; resolves with the value the snippet assigned to `result`. */
  run<T = unknown>(code: string, args: Record<string, unknown> = {}): Promise<T> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.stdin.write(`${JSON.stringify({ id, code, args })}\n`);
    });
  }

  /** Ends the worker (and any Spark session in it). */
  async close(): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await done;
    clearTimeout(timer);
  }
}

/** One-shot convenience: runs a snippet in a fresh worker and closes it. */
export async function runPython<T = unknown>(code: string, args: Record<string, unknown> = {}): Promise<T> {
  const session = new PythonSession();
  try {
    return await session.run<T>(code, args);
  } finally {
    await session.close();
  }
}
