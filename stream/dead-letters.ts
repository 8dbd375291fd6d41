// The dead-letter seam: where rows that operators reject go, idempotently per batch.

import type { ObjectStore } from '../storage/object-store.js';
import type { PartitionRange } from './checkpoint-log.js';
import type { DeadLetter } from './operator.js';

/** A dead letter as written: the rejection plus the batch it belongs to. */
export interface DeadLetterRecord extends DeadLetter {
  batchId: number;
  queryId: string;
}

/**
 * A destination for rejected rows.
 *
 * Contract: `write(batchId, letters, sourceRanges)` is called before the sink commit of the batch, with
 * the same letters and ranges every time batch N is (re)run; writing batch N again must not duplicate
 * it (replace it, or recognise it by (queryId, batchId)). An empty batch may be skipped. Faults are
 * LakestreamErrors. `sourceRanges` (partition id → [start, end)) is for destinations that keep source
 * offsets per partition (scale-out across queries sharing partitions).
 */
export interface DeadLetterSink {
  readonly description: string;
  open(context: { queryId: string }): Promise<void>;
  write(
    batchId: number,
    letters: readonly DeadLetterRecord[],
    sourceRanges?: Readonly<Record<string, PartitionRange>>,
  ): Promise<void>;
  close(): Promise<void>;
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  return value;
}

/** One JSON line per dead letter (bigints as strings, bytes as base64). */
export function deadLetterLine(letter: DeadLetterRecord): string {
  return JSON.stringify(letter, jsonReplacer);
}

/**
 * Dead letters as JSON Lines files in an ObjectStore, one file per batch: `<prefix><batchId>.jsonl`
 * (a replay overwrites the file with identical content). The default destination is
 * `<checkpoint>/dead-letters/`.
 */
export class ObjectStoreDeadLetters implements DeadLetterSink {
  constructor(
    private readonly store: ObjectStore,
    private readonly prefix = '',
  ) {}

  get description(): string {
    return `JsonLines[${this.store.location}/${this.prefix}]`;
  }

  async open(): Promise<void> {}

  async write(batchId: number, letters: readonly DeadLetterRecord[]): Promise<void> {
    if (letters.length === 0) return;
    const text = `${letters.map(deadLetterLine).join('\n')}\n`;
    await this.store.put(`${this.prefix}${String(batchId).padStart(20, '0')}.jsonl`, new TextEncoder().encode(text));
  }

  /** Every dead letter written so far, in batch order. */
  async readAll(): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    for await (const meta of this.store.list({ prefix: this.prefix })) {
      if (!meta.key.endsWith('.jsonl')) continue;
      const text = new TextDecoder().decode(await this.store.get(meta.key));
      for (const line of text.split('\n')) if (line) out.push(JSON.parse(line) as Record<string, unknown>);
    }
    return out;
  }

  async close(): Promise<void> {}
}
