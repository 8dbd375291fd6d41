// The embedded demo behind `npm start`: no external services. Generates click events, writes them
// into a date-partitioned Delta table in micro-batches with exactly-once txn tokens, replays one
// batch to show it is skipped, then queries the table (with partition pruning) and prints its history.
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { and, eq, ge } from '../sinks/delta/predicate.js';
import { DeltaTable } from '../sinks/delta/table.js';
import type { StructType } from '../sinks/schema.js';
import { LocalObjectStore } from '../storage/local.js';

const root = resolve(process.argv[2] ?? '.demo/events');
const BATCHES = 10;
const ROWS_PER_BATCH = 5_000;
const CHANNELS = ['web', 'ios', 'android', 'email'] as const;

const schema: StructType = {
  type: 'struct',
  fields: [
    { name: 'event_id', type: 'string', nullable: false, metadata: {} },
    { name: 'user_id', type: 'long', nullable: false, metadata: {} },
    { name: 'channel', type: 'string', nullable: false, metadata: {} },
    { name: 'amount', type: 'decimal(10,2)', nullable: true, metadata: {} },
    { name: 'event_time', type: 'timestamp', nullable: false, metadata: {} },
    { name: 'event_date', type: 'date', nullable: false, metadata: {} },
  ],
};

/** Deterministic events: batch b, row i. */
function makeBatch(batch: number): Record<string, unknown>[] {
  const start = Date.UTC(2026, 10, 20);
  return Array.from({ length: ROWS_PER_BATCH }, (_, i) => {
    const n = batch * ROWS_PER_BATCH + i;
    const time = start + n * 37_000; // spreads the events over ~21 days
    return {
      event_id: `evt-${String(n).padStart(8, '0')}`,
      user_id: (n * 7919) % 1000,
      channel: CHANNELS[n % CHANNELS.length],
      amount: n % 5 === 0 ? null : ((n % 10_000) / 100).toFixed(2),
      event_time: new Date(time),
      event_date: new Date(time).toISOString().slice(0, 10),
    };
  });
}

const t0 = performance.now();
rmSync(root, { recursive: true, force: true });
const store = new LocalObjectStore(root);
const table = await DeltaTable.create(store, { schema, partitionColumns: ['event_date'], name: 'events' });
console.log(`created Delta table ${store.location}`);

for (let batch = 0; batch < BATCHES; batch++) {
  const outcome = await table.append(makeBatch(batch), { txn: { appId: 'quickstart', version: batch } });
  const line = `batch ${batch + 1}/${BATCHES}: ${outcome.kind} as version ${outcome.version}`;
  if (process.stdout.isTTY) process.stdout.write(`\r${line}${batch + 1 === BATCHES ? '\n' : ''}`);
  else if (batch + 1 === BATCHES) console.log(line);
}

// A crashed writer would replay its last batch: the txn token makes it a no-op.
const replay = await table.append(makeBatch(BATCHES - 1), { txn: { appId: 'quickstart', version: BATCHES - 1 } });
console.log(`replayed batch ${BATCHES}: ${replay.kind} (table version stays ${replay.version})`);

const all = await table.scanRows({ columns: ['event_id'] });
const distinct = new Set(all.map((r) => r.event_id)).size;
console.log(`rows: ${all.length}, distinct event ids: ${distinct} (expected ${BATCHES * ROWS_PER_BATCH})`);

const filter = and(eq('channel', 'web'), ge('event_date', '2026-12-01'));
const plan = await table.scanRows({ filter, columns: ['event_date', 'channel'] });
const perDay = new Map<string, number>();
for (const r of plan) perDay.set(String(r.event_date), (perDay.get(String(r.event_date)) ?? 0) + 1);
console.log(`web events per day since 2026-12-01 (partition-pruned scan):`);
for (const [day, count] of [...perDay].sort()) console.log(`  ${day}  ${count}`);

console.log('history:');
for (const h of await table.history({ limit: 5 })) {
  console.log(`  v${h.version}  ${new Date(h.timestamp).toISOString()}  ${h.commitInfo.operation}`);
}
console.log(
  `done in ${((performance.now() - t0) / 1000).toFixed(1)} s — read it with: npm run cli -- table read ${root} --limit 5`,
);
if (distinct !== BATCHES * ROWS_PER_BATCH || all.length !== distinct) process.exitCode = 1;
