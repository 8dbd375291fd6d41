// Triggers: when micro-batches run (Spark's Trigger.ProcessingTime, Once and AvailableNow).

import { type Duration, durationMs } from './time.js';

export type Trigger =
  /** A batch every `intervalMs` (0 = back to back); an overrunning batch is followed at once; no batch without data. */
  | { kind: 'processingTime'; intervalMs: number }
  /** One batch over everything available (ignoring rate limits' batching), then stop. Spark has deprecated it for availableNow. */
  | { kind: 'once' }
  /** Everything available at start, in rate-limited batches, then a final no-data batch if the watermark moved, then stop. */
  | { kind: 'availableNow' };

export const Trigger = Object.freeze({
  processingTime(interval: Duration): Trigger {
    return { kind: 'processingTime', intervalMs: durationMs(interval, 'trigger.processingTime') };
  },
  once(): Trigger {
    return { kind: 'once' };
  },
  availableNow(): Trigger {
    return { kind: 'availableNow' };
  },
});

/** The default trigger: back-to-back micro-batches. */
export const DEFAULT_TRIGGER: Trigger = Object.freeze({ kind: 'processingTime', intervalMs: 0 });
