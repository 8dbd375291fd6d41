// Source offsets of record per partition in a Delta table (DeltaSink partitionTransactions), the
// scale-out scheme: the pure planning (floors, txns, the gap check, rows without an origin) and two
// "members" (DeltaSinks with different query ids) writing overlapping ranges of the same partitions
// into one real table — sequentially (the later one drops what the table holds) and concurrently
// (the loser of the race gets a retryable SINK_PARTITION_CONFLICT and, prepared again, writes only
// the rest) — so each record is in the table once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LakestreamError } from '../../../common/errors.js';
import { DeltaDeadLetters } from '../../../sinks/delta/dead-letters.js';
import { partitionAppId, planPartitionTxns, rowsAboveFloors } from '../../../sinks/delta/partition-transactions.js';
import { DeltaSink } from '../../../sinks/delta/stream-sink.js';
import { DeltaTable } from '../../../sinks/delta/table.js';
import type { StructType } from '../../../sinks/schema.js';
import { LocalObjectStore } from '../../../storage/local.js';
import type { PartitionRange } from '../../../stream/checkpoint-log.js';
import type { DeadLetterRecord } from '../../../stream/dead-letters.js';
import { rowOrigin, setRowOrigin } from '../../../stream/row-origin.js';
import type { SinkContext } from '../../../stream/sink.js';
import type { Row } from '../../../stream/types.js';

const root = mkdtempSync(join(tmpdir(), 'lakestream-partition-txns-'));
let counter = 0;
const freshDir = () => join(root, `t${counter++}`);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const SCHEMA: StructType = {
  type: 'struct',
  fields: [
    { name: 'p', type: 'string', nullable: false, metadata: {} },
    { name: 'offset', type: 'long', nullable: false, metadata: {} },
  ],
};

/** Rows of partition `p` at offsets [from, to), each carrying its origin. */
function rows(p: string, from: number, to: number): Row[] {
  const out: Row[] = [];
  for (let o = from; o < to; o++) {
    const row: Row = { p, offset: o };
    setRowOrigin(row, { partition: p, offset: o });
    out.push(row);
  }
  return out;
}

function context(queryId: string): SinkContext {
  return { queryId, outputMode: 'append', keyColumns: [], schema: SCHEMA, now: Date.now, warn: () => {} };
}

async function member(dir: string, queryId: string): Promise<DeltaSink> {
  const sink = new DeltaSink({
    store: new LocalObjectStore(dir),
    schema: SCHEMA,
    partitionTransactions: { appIdPrefix: 'ingest' },
  });
  await sink.open(context(queryId));
  return sink;
}

const range = (start: number, end: number): PartitionRange => ({ start: String(start), end: String(end) });

async function tableRows(dir: string): Promise<string[]> {
  const scanned = await (await DeltaTable.open(new LocalObjectStore(dir))).scanRows();
  return scanned.map((r) => `${r.p}@${r.offset}`).sort();
}

function expectedRows(spec: Record<string, number>): string[] {
  return Object.entries(spec)
    .flatMap(([p, n]) => Array.from({ length: n }, (_, o) => `${p}@${o}`))
    .sort();
}

describe('planPartitionTxns', () => {
  const table = (versions: Record<string, number>) => (appId: string) => versions[appId];

  it('keeps everything of a partition the table has no offset for, and advances it to the range end', () => {
    const plan = planPartitionTxns('q', { 't-0': range(0, 10) }, table({}));
    expect(plan.floors.get('t-0')).toBe(0);
    expect(plan.txns).toEqual([{ appId: 'q-t-0', version: 10 }]);
  });

  it('raises the floor to the table offset inside the range; no txn when the table is already past the end', () => {
    const plan = planPartitionTxns(
      'q',
      { 't-0': range(0, 10), 't-1': range(5, 8), 't-2': range(3, 3) },
      table({ 'q-t-0': 4, 'q-t-1': 9, 'q-t-2': 3 }),
    );
    expect(plan.floors.get('t-0')).toBe(4);
    expect(plan.floors.get('t-1')).toBe(9);
    expect(plan.txns).toEqual([{ appId: 'q-t-0', version: 10 }]);
  });

  it('refuses a range that starts beyond the table offset (records in between would be skipped)', () => {
    let error: unknown;
    try {
      planPartitionTxns('q', { 't-0': range(7, 10) }, table({ 'q-t-0': 5 }));
    } catch (caught) {
      error = caught;
    }
    expect((error as LakestreamError).code).toBe('SINK_OFFSET_GAP');
    expect((error as Error).message).toContain("partition 't-0'");
    expect((error as Error).message).toContain('5..6');
  });

  it('filters rows by their origin and refuses rows without one or from outside the ranges', () => {
    const floors = new Map([['a', 2]]);
    expect(rowsAboveFloors(rows('a', 0, 5), floors).map((r) => rowOrigin(r)!.offset)).toEqual([2, 3, 4]);
    expect(() => rowsAboveFloors([{ p: 'a', offset: 1 }], floors)).toThrow(/carries no source origin/);
    expect(() => rowsAboveFloors(rows('b', 0, 1), floors)).toThrow(/not among the batch's source ranges/);
    expect(partitionAppId('ingest', 'events-3')).toBe('ingest-events-3');
  });

  it('the origin is not a column', () => {
    const [row] = rows('a', 0, 1);
    expect(Object.keys(row!)).toEqual(['p', 'offset']);
    expect(JSON.stringify(row)).toBe('{"p":"a","offset":0}');
  });
});

describe('DeltaSink with partitionTransactions (two members, one table)', () => {
  it('a member re-reading a range another member committed writes only what is new', async () => {
    const dir = freshDir();
    const a = await member(dir, 'member-a');
    const b = await member(dir, 'member-b');
    // a writes a-0 [0,100) and a-1 [0,50).
    const first = await a.commit(
      await a.prepare({
        batchId: 0,
        rows: [...rows('a-0', 0, 100), ...rows('a-1', 0, 50)],
        sourceRanges: { 'a-0': range(0, 100), 'a-1': range(0, 50) },
      }),
    );
    expect(first.kind).toBe('committed');
    // The partitions move to b, whose (stale) ranges overlap what a wrote.
    const second = await b.commit(
      await b.prepare({
        batchId: 0,
        rows: [...rows('a-0', 60, 150), ...rows('a-1', 0, 40)],
        sourceRanges: { 'a-0': range(60, 150), 'a-1': range(0, 40) },
      }),
    );
    expect(second).toMatchObject({ kind: 'committed', numRows: 50 });
    expect(await tableRows(dir)).toEqual(expectedRows({ 'a-0': 150, 'a-1': 50 }));
    expect(await b.partitionOffsets(['a-0', 'a-1', 'a-2'])).toEqual({ 'a-0': '150', 'a-1': '50', 'a-2': undefined });
    // Nothing new at all: skipped, no commit.
    const third = await a.commit(
      await a.prepare({ batchId: 1, rows: rows('a-1', 10, 50), sourceRanges: { 'a-1': range(10, 50) } }),
    );
    expect(third.kind).toBe('skipped');
  });

  it('a batch with no rows (all dead letters) still advances its partitions', async () => {
    const dir = freshDir();
    const a = await member(dir, 'member-a');
    const outcome = await a.commit(await a.prepare({ batchId: 0, rows: [], sourceRanges: { 'x-0': range(0, 7) } }));
    expect(outcome.kind).toBe('committed');
    expect(await a.partitionOffsets(['x-0'])).toEqual({ 'x-0': '7' });
  });

  it('two members committing the same partition concurrently: the loser re-runs and writes only the rest', async () => {
    const dir = freshDir();
    const a = await member(dir, 'member-a');
    const b = await member(dir, 'member-b');
    await a.commit(await a.prepare({ batchId: 0, rows: rows('c-0', 0, 10), sourceRanges: { 'c-0': range(0, 10) } }));
    // Both read the table at offset 10 and prepare overlapping ranges of c-0.
    const pa = await a.prepare({ batchId: 1, rows: rows('c-0', 10, 40), sourceRanges: { 'c-0': range(10, 40) } });
    const pb = await b.prepare({ batchId: 0, rows: rows('c-0', 10, 30), sourceRanges: { 'c-0': range(10, 30) } });
    expect((await a.commit(pa)).kind).toBe('committed');
    let error: unknown;
    try {
      await b.commit(pb);
    } catch (caught) {
      error = caught;
    }
    expect((error as LakestreamError).code).toBe('SINK_PARTITION_CONFLICT');
    expect((error as LakestreamError).retryable).toBe(true);
    await b.abort(pb);
    // The engine re-runs the batch: prepared again, everything of it is in the table now.
    const again = await b.prepare({ batchId: 0, rows: rows('c-0', 10, 45), sourceRanges: { 'c-0': range(10, 45) } });
    expect(await b.commit(again)).toMatchObject({ kind: 'committed', numRows: 5 });
    expect(await tableRows(dir)).toEqual(expectedRows({ 'c-0': 45 }));
  });

  it('is refused outside append mode', async () => {
    const sink = new DeltaSink({
      store: new LocalObjectStore(freshDir()),
      schema: SCHEMA,
      partitionTransactions: { appIdPrefix: 'ingest' },
    });
    await expect(sink.open({ ...context('q'), outputMode: 'complete' })).rejects.toThrow(/append mode/);
  });
});

describe('DeltaDeadLetters with partitionTransactions (two members, one dead-letter table)', () => {
  /** Dead letters of partition `p` at `offsets` (a KafkaSource-shaped row each). */
  const letters = (queryId: string, batchId: number, p: string, offsets: number[]): DeadLetterRecord[] =>
    offsets.map((offset) => ({
      queryId,
      batchId,
      partition: p,
      operator: '1-parseJson',
      reason: 'not JSON',
      row: {
        topic: 't',
        partition: Number(p.split('-')[1]),
        offset,
        value: `bad ${p}@${offset}`,
        timestamp: new Date(0),
      },
    }));

  async function open(dir: string, queryId: string): Promise<DeltaDeadLetters> {
    const dlq = new DeltaDeadLetters(dir, { partitionTransactions: { appIdPrefix: 'ingest-dlq' } });
    await dlq.open({ queryId });
    return dlq;
  }

  async function values(dir: string): Promise<string[]> {
    const scanned = await (await DeltaTable.open(new LocalObjectStore(dir))).scanRows();
    return scanned.map((r) => String(r.value)).sort();
  }

  it('letters another member already wrote are not written again; a replayed batch writes nothing', async () => {
    const dir = freshDir();
    const a = await open(dir, 'member-a');
    const b = await open(dir, 'member-b');
    await a.write(0, letters('member-a', 0, 't-0', [3, 8]), { 't-0': range(0, 10) });
    // b re-reads [5, 20) after a rebalance: 8 is in the table, 12 and 17 are new.
    await b.write(4, letters('member-b', 4, 't-0', [8, 12, 17]), { 't-0': range(5, 20) });
    await b.write(4, letters('member-b', 4, 't-0', [8, 12, 17]), { 't-0': range(5, 20) }); // replay
    // a's stale replay of an older batch with a letter beyond what it wrote before.
    await a.write(1, letters('member-a', 1, 't-0', [12, 19]), { 't-0': range(10, 20) });
    expect(await values(dir)).toEqual(['bad t-0@12', 'bad t-0@17', 'bad t-0@3', 'bad t-0@8']);
  });

  it('concurrent writers of the same partition (both starting where the table ends): each letter once', async () => {
    const dir = freshDir();
    const a = await open(dir, 'member-a');
    const b = await open(dir, 'member-b');
    await Promise.all([
      a.write(0, letters('member-a', 0, 't-1', [1, 2, 3, 4]), { 't-1': range(0, 5) }),
      b.write(0, letters('member-b', 0, 't-1', [1, 2, 3, 4, 6]), { 't-1': range(0, 7) }),
    ]);
    expect(await values(dir)).toEqual(['bad t-1@1', 'bad t-1@2', 'bad t-1@3', 'bad t-1@4', 'bad t-1@6']);
  });

  // A range that does not chain (it starts above every known offset) cannot claim the offsets below it:
  // its letters are never lost, but a later reader of the gap may write one of them again. The ingest
  // pipeline never plans such a range (a gained partition starts at the target table's offset).
  it('a range starting above every known offset writes its letters but does not claim the offsets below it', async () => {
    const dir = freshDir();
    const a = await open(dir, 'member-a');
    const b = await open(dir, 'member-b');
    await a.write(0, letters('member-a', 0, 't-2', [1]), { 't-2': range(0, 5) });
    await b.write(0, letters('member-b', 0, 't-2', [12]), { 't-2': range(10, 15) }); // [5, 10) unknown
    await a.write(1, letters('member-a', 1, 't-2', [7, 12]), { 't-2': range(5, 15) });
    expect(await values(dir)).toEqual(['bad t-2@1', 'bad t-2@12', 'bad t-2@12', 'bad t-2@7']);
  });

  it("letters below the target table's offset of record are not written (their batch was committed)", async () => {
    const dir = freshDir();
    const dlq = new DeltaDeadLetters(dir, {
      partitionTransactions: { appIdPrefix: 'ingest-dlq', offsetsOfRecord: async () => ({ 't-3': '10' }) },
    });
    await dlq.open({ queryId: 'member-c' });
    await dlq.write(0, letters('member-c', 0, 't-3', [4, 9, 10, 11]), { 't-3': range(0, 12) });
    expect(await values(dir)).toEqual(['bad t-3@10', 'bad t-3@11']);
  });
});
