// FaultyObjectStore: an ObjectStore decorator that fails, delays or "crashes" chosen calls, for
// fault-injection and crash/replay tests (delta-kernel-rs's delegating-engine idea). Not for production.

import { StorageError } from './errors.js';
import type { ByteRange, ListOptions, ObjectMeta, ObjectStore } from './object-store.js';

export type StoreOp = 'get' | 'head' | 'put' | 'putIfAbsent' | 'list' | 'delete';

/**
 * - `fail-before`: throw without calling the wrapped store (the operation did not happen).
 * - `fail-after`: perform the operation, then throw (durable but not acknowledged).
 * - `delay`: wait `delayMs`, then perform the operation normally.
 * - `crash-before` / `crash-after`: like the fail actions, and from then on every call throws
 *   `INJECTED_CRASH` (the process is "dead"); wrap the inner store again to "restart".
 */
export type FaultAction = 'fail-before' | 'fail-after' | 'delay' | 'crash-before' | 'crash-after';

export interface FaultRule {
  /** Operation(s) the rule watches. */
  op: StoreOp | readonly StoreOp[];
  /** Exact key, or a pattern tested against the key; for `list` the key is the prefix ('' if none). */
  key?: string | RegExp;
  /** The rule fires from the nth matching call on (1-based). Default 1. */
  nth?: number;
  /** How many consecutive matching calls it fires for, starting at the nth. Default 1; `Infinity` for all. */
  times?: number;
  action: FaultAction;
  /** Delay of the `delay` action in milliseconds. Default 10. */
  delayMs?: number;
  /** Error to throw for fail actions. Default StorageError `INJECTED_FAULT`, retryable. */
  error?: () => Error;
}

export interface RecordedCall {
  op: StoreOp;
  key: string;
  /** Fault actions that fired on this call, in rule order. */
  injected: FaultAction[];
}

export interface FaultyObjectStoreOptions {
  /** Sleep used by `delay` (injectable for fake clocks). Default setTimeout. */
  sleep?: (ms: number) => Promise<void>;
}

interface ActiveRule {
  readonly rule: FaultRule;
  readonly ops: ReadonlySet<StoreOp>;
  matched: number;
}

interface PendingCall {
  readonly call: RecordedCall;
  readonly fired: readonly FaultRule[];
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Wraps any ObjectStore; rules decide which calls misbehave; `calls` records every call. */
export class FaultyObjectStore implements ObjectStore {
  readonly inner: ObjectStore;
  /** Every call in arrival order, including failed and crashed ones. */
  readonly calls: RecordedCall[] = [];
  private readonly rules: ActiveRule[] = [];
  private readonly sleep: (ms: number) => Promise<void>;
  private crashedAt: RecordedCall | undefined;

  constructor(inner: ObjectStore, rules: readonly FaultRule[] = [], options: FaultyObjectStoreOptions = {}) {
    this.inner = inner;
    this.sleep = options.sleep ?? defaultSleep;
    for (const rule of rules) this.inject(rule);
  }

  get location(): string {
    return this.inner.location;
  }

  /** Adds a rule (rules apply in the order they were added). Returns this for chaining. */
  inject(rule: FaultRule): this {
    const nth = rule.nth ?? 1;
    const times = rule.times ?? 1;
    if (!Number.isInteger(nth) || nth < 1) throw new RangeError(`FaultRule.nth must be an integer >= 1, got ${nth}`);
    if (!(times === Number.POSITIVE_INFINITY || (Number.isInteger(times) && times >= 1))) {
      throw new RangeError(`FaultRule.times must be an integer >= 1 or Infinity, got ${times}`);
    }
    const ops = typeof rule.op === 'string' ? [rule.op] : rule.op;
    this.rules.push({ rule, ops: new Set(ops), matched: 0 });
    return this;
  }

  /** Crashes on the nth call of `op` (matching `key`), after performing it unless `before` is set. */
  crashAt(op: StoreOp, options: { key?: string | RegExp; nth?: number; before?: boolean } = {}): this {
    const { key, nth, before } = options;
    return this.inject({
      op,
      action: before ? 'crash-before' : 'crash-after',
      ...(key === undefined ? {} : { key }),
      ...(nth === undefined ? {} : { nth }),
    });
  }

  /** Whether a crash rule has fired. */
  get crashed(): boolean {
    return this.crashedAt !== undefined;
  }

  /** Removes all rules and clears the crash state; the call log is kept. */
  reset(): void {
    this.rules.length = 0;
    this.crashedAt = undefined;
  }

  /** Recorded calls of one operation. */
  callsTo(op: StoreOp): RecordedCall[] {
    return this.calls.filter((call) => call.op === op);
  }

  get(key: string, range?: ByteRange): Promise<Uint8Array> {
    return this.run('get', key, () => this.inner.get(key, range));
  }

  head(key: string): Promise<ObjectMeta> {
    return this.run('head', key, () => this.inner.head(key));
  }

  put(key: string, data: Uint8Array): Promise<void> {
    return this.run('put', key, () => this.inner.put(key, data));
  }

  putIfAbsent(key: string, data: Uint8Array): Promise<'created' | 'exists'> {
    return this.run('putIfAbsent', key, () => this.inner.putIfAbsent(key, data));
  }

  delete(key: string): Promise<void> {
    return this.run('delete', key, () => this.inner.delete(key));
  }

  /** Faults fire when iteration starts (before) or after the last item was yielded (after). */
  async *list(options?: ListOptions): AsyncIterable<ObjectMeta> {
    const pending = this.begin('list', options?.prefix ?? '');
    await this.before(pending);
    for await (const item of this.inner.list(options)) {
      yield item;
    }
    this.after(pending);
  }

  private async run<T>(op: StoreOp, key: string, perform: () => Promise<T>): Promise<T> {
    const pending = this.begin(op, key);
    await this.before(pending);
    const result = await perform();
    this.after(pending);
    return result;
  }

  /** Records the call and decides which rules fire on it. */
  private begin(op: StoreOp, key: string): PendingCall {
    const fired: FaultRule[] = [];
    const call: RecordedCall = { op, key, injected: [] };
    this.calls.push(call);
    if (this.crashedAt !== undefined) return { call, fired };
    for (const active of this.rules) {
      if (!active.ops.has(op) || !keyMatches(active.rule.key, key)) continue;
      active.matched += 1;
      const nth = active.rule.nth ?? 1;
      const times = active.rule.times ?? 1;
      if (active.matched >= nth && active.matched < nth + times) fired.push(active.rule);
    }
    return { call, fired };
  }

  private async before({ call, fired }: PendingCall): Promise<void> {
    this.throwIfCrashed(call);
    for (const rule of fired) {
      if (rule.action === 'delay') {
        call.injected.push('delay');
        await this.sleep(rule.delayMs ?? 10);
      }
    }
    for (const rule of fired) {
      if (rule.action === 'fail-before' || rule.action === 'crash-before') this.fire(call, rule);
    }
  }

  private after({ call, fired }: PendingCall): void {
    for (const rule of fired) {
      if (rule.action === 'fail-after' || rule.action === 'crash-after') this.fire(call, rule);
    }
  }

  private fire(call: RecordedCall, rule: FaultRule): never {
    call.injected.push(rule.action);
    if (rule.action === 'crash-before' || rule.action === 'crash-after') {
      this.crashedAt = call;
      throw this.crashError(call, `injected crash (${rule.action})`);
    }
    throw rule.error?.() ?? this.faultError(call, rule.action);
  }

  private throwIfCrashed(call: RecordedCall): void {
    if (this.crashedAt === undefined || this.crashedAt === call) return;
    throw this.crashError(call, `store crashed earlier at ${this.crashedAt.op} ${this.crashedAt.key}`);
  }

  private faultError(call: RecordedCall, action: FaultAction): StorageError {
    return new StorageError(`injected fault (${action}) on ${call.op} ${call.key} in ${this.location}`, {
      code: 'INJECTED_FAULT',
      retryable: true,
      context: { location: this.location, key: call.key, op: call.op, action },
    });
  }

  private crashError(call: RecordedCall, reason: string): StorageError {
    return new StorageError(`${reason}; ${call.op} ${call.key} in ${this.location} refused`, {
      code: 'INJECTED_CRASH',
      retryable: false,
      context: { location: this.location, key: call.key, op: call.op },
    });
  }
}

function keyMatches(pattern: string | RegExp | undefined, key: string): boolean {
  if (pattern === undefined) return true;
  if (typeof pattern === 'string') return pattern === key;
  pattern.lastIndex = 0; // a /g or /y pattern keeps state between test() calls
  return pattern.test(key);
}
