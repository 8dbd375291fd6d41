// A sink that hands everything to another one and counts the batches given to it in typed columns
// (SinkBatch.columns): tests of the columnar path check with it that the engine took that path.

import type { Sink } from '../../stream/sink.js';

export interface CountingSink {
  sink: Sink;
  /** Column batches prepared so far. */
  columnBatches(): number;
}

/** `inner` as the engine sees it, counting the batches handed over in columns. */
export function countingColumns(
  inner: Required<Pick<Sink, 'acceptsColumns' | 'acceptsEncodedFiles'>> & Sink,
): CountingSink {
  let count = 0;
  return {
    sink: {
      description: inner.description,
      open: (ctx) => inner.open(ctx),
      prepare: (batch) => {
        count += batch.columns?.length ?? 0;
        return inner.prepare(batch);
      },
      acceptsColumns: (schema) => inner.acceptsColumns(schema),
      acceptsEncodedFiles: (format) => inner.acceptsEncodedFiles(format),
      commit: (prepared) => inner.commit(prepared),
      abort: (prepared) => inner.abort(prepared),
      close: () => inner.close(),
    },
    columnBatches: () => count,
  };
}
