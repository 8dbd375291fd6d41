// `npm start`: the embedded default. A generated stream of raw click events (with duplicates,
// malformed records and late events) flows through bronze, silver and gold Delta tables under a local
// folder — three exactly-once streaming queries — then the gold table is queried and each table's
// history printed. No external services.
//
//   npm start                       fresh run under .demo/medallion
//   npm start -- <folder> --resume  continue an interrupted run (the queries pick up where they stopped)

import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { DeltaTable } from '../sinks/delta/table.js';
import { LocalObjectStore } from '../storage/local.js';
import { ObjectStoreDeadLetters } from '../stream/dead-letters.js';
import type { StreamingQueryProgress } from '../stream/progress.js';
import { paths, startBronze, startGold, startSilver } from './medallion/pipeline.js';

const args = process.argv.slice(2);
const resume = args.includes('--resume');
const announce = args.includes('--announce'); // quiet, except one line when the pipeline starts
const quiet = announce || args.includes('--quiet');
const root = resolve(args.find((a) => !a.startsWith('--')) ?? '.demo/medallion');
const records = Number(process.env.LAKESTREAM_DEMO_RECORDS ?? 12_500); // per partition (4 partitions)
const batch = Number(process.env.LAKESTREAM_DEMO_BATCH ?? 1_250); // bronze batch per partition
const goldFiles = Number(process.env.LAKESTREAM_DEMO_GOLD_FILES ?? 1_000); // silver files per gold batch

const t0 = performance.now();
if (!resume) rmSync(root, { recursive: true, force: true });
const say = (line: string) => {
  if (!quiet) console.log(line);
};
say(`lakestream medallion demo → ${root}`);
if (announce) console.log(`started ${root}`);

const totals = new Map<string, { batches: number; input: number; output: number; late: number; dead: number }>();
const listener = {
  onQueryProgress(p: StreamingQueryProgress) {
    const t = totals.get(p.name ?? '') ?? { batches: 0, input: 0, output: 0, late: 0, dead: 0 };
    t.batches++;
    t.input += p.numInputRows;
    t.output += p.sink.numOutputRows;
    t.dead += p.numDeadLetters;
    t.late += Number(p.eventTime.numRowsDroppedByWatermark ?? 0);
    totals.set(p.name ?? '', t);
  },
};
const options = {
  root,
  recordsPerPartition: records,
  bronzeBatchPerPartition: batch,
  goldMaxFilesPerTrigger: goldFiles,
  listener,
  progressBar: !quiet && Boolean(process.stderr.isTTY),
};
for (const [stage, start] of [
  ['bronze', startBronze],
  ['silver', startSilver],
  ['gold', startGold],
] as const) {
  const started = performance.now();
  const query = await start(options);
  await query.awaitTermination();
  const t = totals.get(stage) ?? { batches: 0, input: 0, output: 0, late: 0, dead: 0 };
  say(
    `${stage.padEnd(6)} ${String(t.batches).padStart(3)} batches  ${String(t.input).padStart(7)} rows in  ` +
      `${String(t.output).padStart(7)} rows out  ${t.dead} dead letters  ${t.late} late  ` +
      `${Math.round(performance.now() - started)} ms`,
  );
}

const p = paths(root);
const deadLetters = await new ObjectStoreDeadLetters(
  new LocalObjectStore(p.checkpoint('silver')),
  'dead-letters/',
).readAll();
say(`dead letters of silver: ${deadLetters.length}, e.g. ${JSON.stringify(deadLetters[0]?.reason ?? null)}`);

const gold = await DeltaTable.open(new LocalObjectStore(p.gold));
const rows = (await gold.scanRows()).sort(
  (a, b) =>
    String(a.event_date).localeCompare(String(b.event_date)) || String(a.channel).localeCompare(String(b.channel)),
);
say('\ngold: events and distinct users per channel and day');
say('event_date  channel   events  users');
for (const row of rows) {
  say(
    `${String(row.event_date).padEnd(11)} ${String(row.channel).padEnd(8)} ${String(row.events).padStart(7)} ${String(row.users).padStart(6)}`,
  );
}
for (const [name, location] of [
  ['bronze', p.bronze],
  ['silver', p.silver],
  ['gold', p.gold],
] as const) {
  const history = await (await DeltaTable.open(new LocalObjectStore(location))).history({ limit: 3 });
  say(`\n${name} history (latest ${history.length}):`);
  for (const h of history) {
    const info = h.commitInfo;
    const params = (info.operationParameters ?? {}) as Record<string, unknown>;
    const shown = ['outputMode', 'epochId'].filter((k) => params[k] !== undefined);
    say(
      `  v${h.version}  ${new Date(h.timestamp).toISOString()}  ${info.operation}` +
        (shown.length > 0 ? `  ${shown.map((k) => `${k}=${String(params[k])}`).join(' ')}` : ''),
    );
  }
}
say(`\ndone in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
