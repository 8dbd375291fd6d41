import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deltaSink } from '../sinks/delta/stream-sink.js';
import { encodeRows } from '../sinks/parquet/index.js';
import { dropDuplicatesWithinWatermark, parseJson, withWatermark } from '../stream/operators/index.js';
import { GeneratorSource } from '../stream/sources/generator.js';
import { Trigger } from '../stream/trigger.js';
import { readStream } from '../stream/write-stream.js';
import { generate, SCHEMA } from './lib/events.js';

const N = 200_000;
const { rows } = generate(N);
const lines = rows.map((r) => JSON.stringify(r));
async function once(dir: string) {
  const source = new GeneratorSource({
    rowsPerPartition: N,
    maxRowsPerTrigger: 50_000,
    generate: (_p, o) => ({ value: lines[o] }),
  });
  const q = await readStream(source, {
    schema: { type: 'struct', fields: [{ name: 'value', type: 'string', nullable: true, metadata: {} }] },
  })
    .pipe(parseJson(SCHEMA), withWatermark('ts', '10 minutes'), dropDuplicatesWithinWatermark(['id']))
    .writeStream(deltaSink(join(dir, 't'), { compression: 'snappy' }), {
      checkpointLocation: join(dir, 'c'),
      trigger: Trigger.availableNow(),
      progressBar: false,
    });
  await q.awaitTermination();
}
const root = mkdtempSync(join(tmpdir(), 'prof-'));
await once(join(root, 'w'));
const mode = process.env.MODE ?? 'engine';
const prof = process.env.PROF !== '0';
const session = new Session();
if (prof) session.connect();
if (prof) await session.post('Profiler.enable');
if (prof) await session.post('Profiler.setSamplingInterval', { interval: 200 });
if (prof) await session.post('Profiler.start');
const t = performance.now();
const c0 = process.cpuUsage();
if (mode === 'engine') await once(join(root, 'm'));
else
  for (let s = 0; s < N; s += 50_000) {
    const rs = lines.slice(s, s + 50_000).map((l) => JSON.parse(l));
    const e = encodeRows(SCHEMA, rs, { compression: 'snappy' });
    writeFileSync(join(root, `r${s}`), e.bytes);
  }
const wall = performance.now() - t;
const cpu = process.cpuUsage(c0);
const profile = prof ? (await session.post('Profiler.stop')).profile : {};
writeFileSync(`/tmp/${mode}.cpuprofile`, JSON.stringify(profile));
console.log(
  mode,
  'wall',
  wall.toFixed(0),
  'cpu user',
  (cpu.user / 1000).toFixed(0),
  'sys',
  (cpu.system / 1000).toFixed(0),
);
rmSync(root, { recursive: true, force: true });
process.exit(0);
