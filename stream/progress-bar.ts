// A one-line terminal progress display for bounded runs (Trigger.availableNow / once) attached to a TTY.

import type { StreamingQueryListener, StreamingQueryProgress } from './progress.js';

export interface ProgressBarOutput {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

/** A listener that redraws one status line per batch and ends it when the query terminates. */
export function progressBarListener(out: ProgressBarOutput): StreamingQueryListener {
  let rows = 0;
  let batches = 0;
  let deadLetters = 0;
  let started: number | undefined;
  const draw = (p: StreamingQueryProgress): void => {
    const now = Date.now();
    started ??= now - (p.durationMs.triggerExecution ?? 0);
    const seconds = Math.max((now - started) / 1000, 0.001);
    const line =
      `batch ${p.batchId} · ${batches} batches · ${rows.toLocaleString('en-US')} rows · ` +
      `${Math.round(rows / seconds).toLocaleString('en-US')} rows/s · watermark ${p.eventTime.watermark}` +
      (deadLetters ? ` · ${deadLetters} dead letters` : '');
    const width = Math.max((out.columns ?? 100) - 1, 20);
    out.write(`\r${line.slice(0, width).padEnd(width)}`);
  };
  return {
    onQueryProgress(p) {
      rows += p.numInputRows;
      batches++;
      deadLetters += p.numDeadLetters;
      draw(p);
    },
    onQueryTerminated() {
      if (batches > 0) out.write('\n');
    },
  };
}
