// The engine's clock: processing time and waiting between triggers. Tests inject a manual clock so
// that watermarks, idleness and triggers run on virtual time without sleeps.

/** Processing time and sleeping. `sleep` must resolve early (without error) when `signal` aborts. */
export interface Clock {
  now(): number;
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export const SYSTEM_CLOCK: Clock = Object.freeze({
  now: () => Date.now(),
  sleep(ms: number, signal: AbortSignal): Promise<void> {
    if (ms <= 0 || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
    });
  },
});

/**
 * A clock that only moves when told: `sleep` advances time instantly (so processing-time triggers run
 * without waiting), `advance(ms)` moves it explicitly.
 */
export class ManualClock implements Clock {
  constructor(private time = 0) {}
  now(): number {
    return this.time;
  }
  advance(ms: number): void {
    this.time += ms;
  }
  set(ms: number): void {
    this.time = ms;
  }
  async sleep(ms: number): Promise<void> {
    if (ms > 0) this.time += ms;
    await Promise.resolve();
  }
}
