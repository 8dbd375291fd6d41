// WorkerPool: runs tasks of one worker module (see serveWorkerTasks) on a few worker threads.
// The module is a TypeScript file under tsx / vitest (compiled in the worker by tsx's CommonJS
// loader, see startWorker) and the compiled .js under dist/; the pool takes the module's URL as the
// caller sees it.

import { type ResourceLimits, Worker } from 'node:worker_threads';
import { LakestreamError } from './errors.js';

/** A fault of a pool task: the worker's LakestreamError as thrown there, or the worker's end. */
export class WorkerTaskError extends LakestreamError {}

/**
 * What a worker posts: `ready` once it can take tasks (before that, an exit means it could not
 * start), then one answer per task. `error` is opaque to the pool (serveWorkerTasks sends a
 * SerializedError; the options' taskError reads other shapes).
 */
export type WorkerReply<R> =
  | { ready: true }
  | { id: number; ok: true; result: R }
  | { id: number; ok: false; error: unknown };

/** How serveWorkerTasks sends a handler's error. */
export interface SerializedError {
  name: string;
  message: string;
  code: string;
  retryable: boolean;
  context: Record<string, unknown>;
}

export interface WorkerPoolOptions<T> {
  /** Threads (default 2). */
  size?: number;
  /** What the pool is for, in error messages ('ingest worker'). */
  name?: string;
  /** V8 heap limits of each worker (e.g. a larger young generation for batch work). */
  resourceLimits?: ResourceLimits;
  /** Ends a worker after it answered a task with an error (its state is not trusted after one, e.g. a wasm trap). */
  retireAfterError?: boolean;
  /** The rejection of a task the worker answered with `error` (default: serveWorkerTasks' error as a WorkerTaskError). */
  taskError?: (error: unknown, task: T) => unknown;
  /** The rejection of a task whose worker ended before it was ready (default: WORKER_START_FAILED, not retryable). */
  startError?: (cause: unknown, exitCode: number, task: T) => unknown;
  /** The rejection of a task whose worker ended while running it (default: WORKER_EXITED, retryable). */
  exitError?: (why: string, cause: unknown, exitCode: number, task: T) => unknown;
  /** The rejection of a task that could not be posted (default: WORKER_TASK_FAILED). */
  sendError?: (cause: unknown, task: T) => unknown;
  /** The rejection of tasks after close() (default: POOL_CLOSED). */
  closedError?: () => unknown;
}

interface Job<T, R> {
  task: T;
  transfer: readonly ArrayBuffer[];
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

interface Slot<T, R> {
  worker: Worker;
  /** The worker said it can take tasks. */
  ready: boolean;
  job: { id: number; job: Job<T, R> } | undefined;
  /** The worker's uncaught error, if it reported one before exiting. */
  error: unknown;
}

/**
 * A fixed-size pool of worker threads running one task handler: a module served by
 * serveWorkerTasks, or any worker a `start` function makes that speaks WorkerReply.
 *
 * Contract:
 * - Lazy: no thread starts before the first task; at most `size` run, one task each at a time, the
 *   rest wait in FIFO order. Idle workers are `unref()`ed: the pool never keeps a process alive,
 *   while a running task keeps its worker referenced (it is not cut short by the process exiting).
 * - `run(task, transfer)` resolves with the handler's result, or rejects with: the handler's
 *   error (by default a WorkerTaskError carrying the code, retryable flag and context of the
 *   LakestreamError the handler threw; other errors: WORKER_TASK_FAILED, not retryable); for a
 *   worker that ends while running the task (crash, out of memory, terminate) the retryable
 *   WORKER_EXITED, and the worker is replaced for the next task; for one that ends before it was
 *   ready (its module failed to load) the non-retryable WORKER_START_FAILED. The options map each
 *   of these to a caller's own errors.
 * - `close()` ends every worker; waiting and running tasks reject with POOL_CLOSED, and later runs too.
 */
export class WorkerPool<T, R> {
  readonly size: number;
  private readonly name: string;
  private readonly start: () => Worker;
  private readonly slots = new Set<Slot<T, R>>();
  private readonly queue: Job<T, R>[] = [];
  private nextId = 0;
  private closed = false;

  constructor(
    worker: URL | (() => Worker),
    private readonly options: WorkerPoolOptions<T> = {},
  ) {
    const size = options.size ?? 2;
    if (!Number.isSafeInteger(size) || size < 1) {
      throw new WorkerTaskError(`invalid worker pool size ${String(size)}: expected a positive integer`, {
        code: 'INVALID_OPTION',
        domain: 'user',
        context: { size },
      });
    }
    this.size = size;
    this.name = options.name ?? 'worker';
    this.start = worker instanceof URL ? () => startWorker(worker, options.resourceLimits) : worker;
  }

  /** Worker threads currently alive (0 before the first task and after close). */
  get threads(): number {
    return this.slots.size;
  }

  run(task: T, transfer: readonly ArrayBuffer[] = []): Promise<R> {
    if (this.closed) return Promise.reject(this.closedError());
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ task, transfer, resolve, reject });
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(this.closedError());
    await Promise.all([...this.slots].map((slot) => slot.worker.terminate()));
  }

  /** Test seam: terminates every worker as a crash would (their tasks reject as WORKER_EXITED does). */
  async terminateWorkersForTesting(): Promise<void> {
    await Promise.all([...this.slots].map((slot) => slot.worker.terminate()));
  }

  private closedError(): unknown {
    return (
      this.options.closedError?.() ?? new WorkerTaskError(`the ${this.name} pool is closed`, { code: 'POOL_CLOSED' })
    );
  }

  private pump(): void {
    while (this.queue.length > 0 && !this.closed) {
      let slot: Slot<T, R> | undefined;
      for (const s of this.slots) {
        if (s.job === undefined) {
          slot = s;
          break;
        }
      }
      if (!slot) {
        if (this.slots.size >= this.size) return;
        slot = this.spawn();
      }
      this.dispatch(slot, this.queue.shift() as Job<T, R>);
    }
  }

  private spawn(): Slot<T, R> {
    const worker = this.start();
    const slot: Slot<T, R> = { worker, ready: false, job: undefined, error: undefined };
    this.slots.add(slot);
    worker.unref();
    worker.on('message', (reply: WorkerReply<R>) => this.onReply(slot, reply));
    worker.on('error', (error) => {
      slot.error ??= error;
    });
    worker.on('messageerror', (error) => {
      slot.error ??= error;
      void worker.terminate();
    });
    worker.on('exit', (code) => this.onExit(slot, code));
    return slot;
  }

  private dispatch(slot: Slot<T, R>, job: Job<T, R>): void {
    const id = this.nextId++;
    slot.job = { id, job };
    slot.worker.ref();
    try {
      slot.worker.postMessage({ id, task: job.task }, job.transfer as ArrayBuffer[]);
    } catch (error) {
      slot.job = undefined;
      slot.worker.unref();
      job.reject(
        this.options.sendError?.(error, job.task) ??
          new WorkerTaskError(`could not send a task to the ${this.name}: ${String(error)}`, {
            code: 'WORKER_TASK_FAILED',
            cause: error,
          }),
      );
    }
  }

  private onReply(slot: Slot<T, R>, reply: WorkerReply<R>): void {
    if ('ready' in reply) {
      slot.ready = true;
      return;
    }
    const running = slot.job;
    if (!running || running.id !== reply.id) return;
    slot.job = undefined;
    if (reply.ok) {
      slot.worker.unref();
      running.job.resolve(reply.result);
    } else {
      if (this.options.retireAfterError) {
        this.slots.delete(slot);
        void slot.worker.terminate();
      } else slot.worker.unref();
      running.job.reject(this.options.taskError?.(reply.error, running.job.task) ?? fromSerialized(reply.error));
    }
    this.pump();
  }

  private onExit(slot: Slot<T, R>, exitCode: number): void {
    this.slots.delete(slot);
    const running = slot.job;
    slot.job = undefined;
    if (running) {
      const { task } = running.job;
      if (this.closed) running.job.reject(this.closedError());
      else if (!slot.ready && slot.error !== undefined) {
        running.job.reject(
          this.options.startError?.(slot.error, exitCode, task) ??
            new WorkerTaskError(`the ${this.name} could not start: ${String(slot.error)}`, {
              code: 'WORKER_START_FAILED',
              cause: slot.error,
              context: { exitCode },
            }),
        );
      } else {
        const why = slot.error === undefined ? `exit code ${exitCode}` : String(slot.error);
        running.job.reject(
          this.options.exitError?.(why, slot.error, exitCode, task) ??
            new WorkerTaskError(`the ${this.name} ended while running a task (${why})`, {
              code: 'WORKER_EXITED',
              retryable: true,
              domain: 'external',
              cause: slot.error,
              context: { exitCode },
            }),
        );
      }
    }
    this.pump();
  }
}

/** A WorkerTaskError from serveWorkerTasks' SerializedError. */
function fromSerialized(error: unknown): WorkerTaskError {
  const e = error as Partial<SerializedError> | undefined;
  const out = new WorkerTaskError(String(e?.message ?? error), {
    code: e?.code ?? 'WORKER_TASK_FAILED',
    retryable: e?.retryable ?? false,
    context: e?.context ?? {},
  });
  if (e?.name) out.name = e.name;
  return out;
}

/**
 * Starts a worker on `moduleUrl`: directly for .js; for .ts through tsx's CommonJS register API, which
 * compiles each module in the worker's own thread. (Its ESM register API resolves every module of
 * every package through a separate hooks thread: over a second before a worker that loads
 * apache-arrow is ready, against about 0.1 s this way.)
 */
function startWorker(moduleUrl: URL, resourceLimits: ResourceLimits | undefined): Worker {
  const options = resourceLimits ? { resourceLimits } : {};
  if (!moduleUrl.pathname.endsWith('.ts')) return new Worker(moduleUrl, options);
  // Only import(): eval'd code is a script, or a module where the parent runs tsx's ESM loader.
  const from = JSON.stringify(moduleUrl.href);
  const code =
    `Promise.all([import('node:module'), import('node:url')]).then(([{ createRequire }, { fileURLToPath }]) => {\n` +
    `  const load = createRequire(${from});\n` +
    `  load('tsx/cjs/api').register();\n` +
    `  load(fileURLToPath(${from}));\n` +
    '}).catch((error) => { setImmediate(() => { throw error; }); });';
  return new Worker(code, { ...options, eval: true });
}

/** The URL of a sibling module of `base` (import.meta.url): `name`.ts under TypeScript, `name`.js compiled. */
export function siblingModule(base: string, name: string): URL {
  return new URL(`./${name}${base.endsWith('.ts') ? '.ts' : '.js'}`, base);
}

/**
 * The worker side: answers each task posted by a WorkerPool with `handler`'s result. A handler
 * returns `{ result, transfer }` to move buffers back instead of copying them.
 */
export async function serveWorkerTasks<T, R>(
  handler: (task: T) => Promise<{ result: R; transfer?: ArrayBuffer[] }> | { result: R; transfer?: ArrayBuffer[] },
): Promise<void> {
  const { parentPort } = await import('node:worker_threads');
  if (!parentPort) throw new Error('serveWorkerTasks runs only in a worker thread');
  const port = parentPort;
  port.on('message', async ({ id, task }: { id: number; task: T }) => {
    let reply: WorkerReply<R>;
    let transfer: ArrayBuffer[] = [];
    try {
      const out = await handler(task);
      reply = { id, ok: true, result: out.result };
      transfer = out.transfer ?? [];
    } catch (error) {
      const e = error instanceof LakestreamError ? error : undefined;
      reply = {
        id,
        ok: false,
        error: {
          name: e?.name ?? (error instanceof Error ? error.name : 'Error'),
          message: error instanceof Error ? error.message : String(error),
          code: e?.code ?? 'WORKER_TASK_FAILED',
          retryable: e?.retryable ?? false,
          context: e ? clonable(e.context) : {},
        } satisfies SerializedError,
      };
    }
    port.postMessage(reply, transfer);
  });
  port.postMessage({ ready: true } satisfies WorkerReply<R>);
}

/** `context` if it survives structured cloning, else its JSON-safe entries. */
function clonable(context: Readonly<Record<string, unknown>>): Record<string, unknown> {
  try {
    return structuredClone({ ...context });
  } catch {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(context)) {
      try {
        out[k] = structuredClone(v);
      } catch {
        out[k] = String(v);
      }
    }
    return out;
  }
}
