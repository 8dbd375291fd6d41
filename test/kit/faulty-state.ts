// FaultyStateStoreProvider: a StateStoreProvider decorator that "crashes" around a state commit, for
// crash/replay tests around the state commit, which the engine runs alongside the sink's prepare and
// before the table commit (streaming-semantics §6.1 step 3, §6.2 (e)). Like FaultyObjectStore's crash actions: once a crash fired, every later call throws
// INJECTED_CRASH (the process is dead); build a new provider over the same durable state to restart.

import { LakestreamError } from '../../common/errors.js';
import type {
  StateEntry,
  StateFingerprint,
  StateKey,
  StateStore,
  StateStoreMetrics,
  StateStoreProvider,
} from '../../stream/state-store.js';

/** Which commit crashes. Every given condition must hold; `nth` counts the commits matching the others. */
export interface StateCrashRule {
  /** Operator id (exact) or pattern, e.g. '1-dropDuplicatesWithinWatermark' or /withWatermark/. */
  operator?: string | RegExp;
  /** The new version being committed (= the batch id). */
  version?: number;
  /** Fire on the nth matching commit (1-based). Default 1. */
  nth?: number;
  /** Crash before delegating the commit (nothing durable) instead of after it (durable, unacknowledged). */
  before?: boolean;
}

/** One commit() call seen by the provider. */
export interface RecordedStateCommit {
  operatorId: string;
  version: number;
  /** 'crash-before' | 'crash-after' when the crash fired on this call. */
  injected?: 'crash-before' | 'crash-after';
}

export interface FaultyStateStoreProviderOptions {
  /** Called once when a crash fires (e.g. to kill the other parts of the simulated process). */
  onCrash?: (error: Error) => void;
}

interface ActiveRule {
  readonly rule: StateCrashRule;
  matched: number;
}

function crashError(message: string, context: Record<string, unknown>): LakestreamError {
  return new LakestreamError(message, { code: 'INJECTED_CRASH', domain: 'external', retryable: false, context });
}

function matches(pattern: string | RegExp | undefined, value: string): boolean {
  if (pattern === undefined) return true;
  if (typeof pattern === 'string') return pattern === value;
  pattern.lastIndex = 0;
  return pattern.test(value);
}

export class FaultyStateStoreProvider implements StateStoreProvider {
  /** Every commit() call, in order (including the crashed one). */
  readonly commits: RecordedStateCommit[] = [];
  private readonly rules: ActiveRule[] = [];
  private deadReason: string | undefined;

  constructor(
    readonly inner: StateStoreProvider,
    private readonly options: FaultyStateStoreProviderOptions = {},
  ) {}

  /** Adds a crash rule. Returns this for chaining. */
  crashAtCommit(rule: StateCrashRule = {}): this {
    const nth = rule.nth ?? 1;
    if (!Number.isInteger(nth) || nth < 1)
      throw new RangeError(`StateCrashRule.nth must be an integer >= 1, got ${nth}`);
    this.rules.push({ rule, matched: 0 });
    return this;
  }

  /** Whether the provider is dead (a crash fired here, or kill() was called). */
  get crashed(): boolean {
    return this.deadReason !== undefined;
  }

  /** Marks the provider dead without a crash of its own (the process died elsewhere). */
  kill(reason = 'the process crashed'): void {
    this.deadReason ??= reason;
  }

  async open(operatorId: string, version: number, fingerprint: StateFingerprint): Promise<StateStore> {
    this.check(`open ${operatorId}@${version}`);
    const store = await this.inner.open(operatorId, version, fingerprint);
    return new FaultyStateStore(this, store);
  }

  async latestVersion(operatorId: string): Promise<number> {
    this.check(`latestVersion ${operatorId}`);
    return this.inner.latestVersion(operatorId);
  }

  /** Always delegates: the resources of a killed process are released (as the OS would on kill -9). */
  async close(): Promise<void> {
    await this.inner.close();
  }

  /** @internal Throws INJECTED_CRASH when dead. */
  check(what: string): void {
    if (this.deadReason !== undefined) {
      throw crashError(`state provider is dead (${this.deadReason}); ${what} refused`, { what });
    }
  }

  /** @internal Decides whether this commit crashes, and how. */
  decide(operatorId: string, version: number): RecordedStateCommit {
    const call: RecordedStateCommit = { operatorId, version };
    this.commits.push(call);
    for (const active of this.rules) {
      const { rule } = active;
      if (!matches(rule.operator, operatorId) || (rule.version !== undefined && rule.version !== version)) continue;
      active.matched += 1;
      if (active.matched === (rule.nth ?? 1)) {
        call.injected = rule.before ? 'crash-before' : 'crash-after';
        break;
      }
    }
    return call;
  }

  /** @internal Fires the crash decided for `call`. */
  fire(call: RecordedStateCommit): never {
    const reason = `injected crash (${call.injected}) in commit of ${call.operatorId}@${call.version}`;
    this.deadReason ??= reason;
    const error = crashError(reason, { operatorId: call.operatorId, version: call.version, action: call.injected });
    this.options.onCrash?.(error);
    throw error;
  }
}

class FaultyStateStore implements StateStore {
  constructor(
    private readonly provider: FaultyStateStoreProvider,
    private readonly inner: StateStore,
  ) {}

  get operatorId(): string {
    return this.inner.operatorId;
  }

  get version(): number {
    return this.inner.version;
  }

  get committed(): boolean {
    return this.inner.committed;
  }

  get(key: StateKey): Promise<Uint8Array | undefined> {
    this.provider.check(`get in ${this.operatorId}`);
    return this.inner.get(key);
  }

  getMany(keys: readonly StateKey[]): Promise<(Uint8Array | undefined)[]> {
    this.provider.check(`getMany in ${this.operatorId}`);
    return this.inner.getMany(keys);
  }

  put(key: StateKey, value: Uint8Array): void {
    this.provider.check(`put in ${this.operatorId}`);
    this.inner.put(key, value);
  }

  delete(key: StateKey): void {
    this.provider.check(`delete in ${this.operatorId}`);
    this.inner.delete(key);
  }

  scan(prefix: StateKey): AsyncIterable<StateEntry> {
    this.provider.check(`scan in ${this.operatorId}`);
    return this.inner.scan(prefix);
  }

  range(from: StateKey | undefined, to: StateKey | undefined): AsyncIterable<StateEntry> {
    this.provider.check(`range in ${this.operatorId}`);
    return this.inner.range(from, to);
  }

  async commit(newVersion: number): Promise<void> {
    this.provider.check(`commit of ${this.operatorId}@${newVersion}`);
    const call = this.provider.decide(this.operatorId, newVersion);
    if (call.injected === 'crash-before') {
      this.inner.abort();
      this.provider.fire(call);
    }
    await this.inner.commit(newVersion);
    if (call.injected === 'crash-after') this.provider.fire(call);
  }

  abort(): void {
    this.inner.abort();
  }

  metrics(): StateStoreMetrics {
    return this.inner.metrics();
  }
}
