// WorkerPool: runs tasks of one worker module (see serveWorkerTasks) on a few worker threads.
// The module is a TypeScript file under tsx / vitest (loaded through tsx's register API in the
// worker) and the compiled .js under dist/; the pool takes the module's URL as the caller sees it.

import { type ResourceLimits, Worker } from 'node:worker_threads';
import { LakestreamError } from './errors.js';

/** A fault of a pool task: the worker's LakestreamError as thrown there, or the worker's end. */
export class WorkerTaskError extends LakestreamError {}

/** What a worker replies to one task. */
export type WorkerReply<R> =
  | { id: number; ok: true; result: R }
  | {
      id: number;
      ok: false;
      error: { name: string; message: string; code: string; retryable: boolean; context: Record<string, unknown> };
    };

export interface WorkerPoolOptions {
  /** Threads (default 2). */
  size?: number;
  /** What the pool is for, in error messages ('ingest worker'). */
  name?: string;
  /** V8 heap limits of each worker (e.g. a larger young generation for batch work). */
  resourceLimits?: ResourceLimits;
}

interface Job<T, R> {
  task: T;
  transfer: readonly ArrayBuffer[];
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

interface Slot<T, R> {
  worker: Worker;
  job: { id: number; job: Job<T, R> } | undefined;
  error: unknown;
}

/**
 * A fixed-size pool of worker threads running one module's task handler.
 *
 * Contract:
 * - Lazy: no thread starts before the first task; at most `size` run, one task each at a time, the
 *   rest wait in FIFO order. Idle workers are `unref()`ed: the pool never keeps a process alive.
 * - `run(task, transfer)` resolves with the handler's result, or rejects with a WorkerTaskError that
 *   carries the code, retryable flag and context of the LakestreamError the handler threw (other
 *   errors: code WORKER_TASK_FAILED, not retryable). A worker that ends while running a task
 *   (crash, out of memory, terminate) rejects it with the retryable WORKER_EXITED and is replaced
 *   by a fresh one for the next task.
 * - `close()` ends every worker; waiting and running tasks reject with POOL_CLOSED.
 */
export class WorkerPool<T, R> {
  readonly size: number;
  private readonly name: string;
  private readonly resourceLimits: ResourceLimits | undefined;
  private readonly slots = new Set<Slot<T, R>>();
  private readonly queue: Job<T, R>[] = [];
  private nextId = 0;
  private closed = false;

  constructor(
    private readonly moduleUrl: URL,
    options: WorkerPoolOptions = {},
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
    this.resourceLimits = options.resourceLimits;
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

  private closedError(): WorkerTaskError {
    return new WorkerTaskError(`the ${this.name} pool is closed`, { code: 'POOL_CLOSED' });
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
    const worker = startWorker(this.moduleUrl, this.resourceLimits);
    const slot: Slot<T, R> = { worker, job: undefined, error: undefined };
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
        new WorkerTaskError(`could not send a task to the ${this.name}: ${String(error)}`, {
          code: 'WORKER_TASK_FAILED',
          cause: error,
        }),
      );
    }
  }

  private onReply(slot: Slot<T, R>, reply: WorkerReply<R>): void {
    const running = slot.job;
    if (!running || running.id !== reply.id) return;
    slot.job = undefined;
    slot.worker.unref();
    if (reply.ok) running.job.resolve(reply.result);
    else {
      const e = reply.error;
      const error = new WorkerTaskError(e.message, { code: e.code, retryable: e.retryable, context: e.context });
      error.name = e.name;
      running.job.reject(error);
    }
    this.pump();
  }

  private onExit(slot: Slot<T, R>, exitCode: number): void {
    this.slots.delete(slot);
    const running = slot.job;
    slot.job = undefined;
    if (running) {
      if (this.closed) running.job.reject(this.closedError());
      else {
        const why = slot.error === undefined ? `exit code ${exitCode}` : String(slot.error);
        running.job.reject(
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

/** Starts a worker on `moduleUrl`: directly for .js, through tsx's register API for .ts. */
function startWorker(moduleUrl: URL, resourceLimits: ResourceLimits | undefined): Worker {
  const options = resourceLimits ? { resourceLimits } : {};
  if (!moduleUrl.pathname.endsWith('.ts')) return new Worker(moduleUrl, options);
  const code =
    `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(moduleUrl.href)}); })` +
    '.catch((error) => { setImmediate(() => { throw error; }); });';
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
          name: e?.name ?? 'Error',
          message: error instanceof Error ? error.message : String(error),
          code: e?.code ?? 'WORKER_TASK_FAILED',
          retryable: e?.retryable ?? false,
          context: e ? clonable(e.context) : {},
        },
      };
    }
    port.postMessage(reply, transfer);
  });
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
