// The medallion pipeline as three streaming queries over local Delta tables:
//   bronze: the raw event stream (GeneratorSource) appended as JSON text with its source coordinates;
//   silver: bronze streamed as a Delta source, parsed against a schema (malformed → dead letters),
//           event-time watermark, deduplicated by event_id within the watermark, event_date derived;
//   gold:   silver streamed, daily events and distinct users per channel (complete or update mode).
// Each stage is exactly-once across crashes: Delta txn(queryId, batchId) + checkpoint + LevelDB state.

import { join } from 'node:path';
import { deltaSink } from '../../sinks/delta/stream-sink.js';
import type { StructType } from '../../sinks/schema.js';
import { LocalObjectStore } from '../../storage/local.js';
import {
  aggregate,
  count,
  countDistinct,
  dropDuplicatesWithinWatermark,
  parseJson,
  withColumn,
  withWatermark,
} from '../../stream/operators/index.js';
import type { StreamingQueryListener } from '../../stream/progress.js';
import type { StreamingQuery } from '../../stream/query.js';
import { DeltaSource } from '../../stream/sources/delta.js';
import { GeneratorSource } from '../../stream/sources/generator.js';
import { type Trigger, Trigger as Triggers } from '../../stream/trigger.js';
import { readStream } from '../../stream/write-stream.js';
import { PARTITIONS, rawEvent, sequence } from './events.js';

export const BRONZE_SCHEMA: StructType = {
  type: 'struct',
  fields: [
    { name: 'value', type: 'string', nullable: true, metadata: {} },
    { name: 'source_partition', type: 'integer', nullable: false, metadata: {} },
    { name: 'source_offset', type: 'long', nullable: false, metadata: {} },
  ],
};

export const EVENT_SCHEMA: StructType = {
  type: 'struct',
  fields: [
    { name: 'event_id', type: 'string', nullable: true, metadata: {} },
    { name: 'user_id', type: 'long', nullable: true, metadata: {} },
    { name: 'channel', type: 'string', nullable: true, metadata: {} },
    { name: 'amount', type: 'double', nullable: true, metadata: {} },
    { name: 'event_time', type: 'timestamp', nullable: true, metadata: {} },
  ],
};

export interface MedallionOptions {
  /** Folder holding tables/{bronze,silver,gold} and checkpoints/{bronze,silver,gold}. */
  root: string;
  /** Raw records per partition (4 partitions). Default 12 500 (50 000 records). */
  recordsPerPartition?: number;
  /** Bronze micro-batch size per partition. Default 1 250 (10 bronze batches). */
  bronzeBatchPerPartition?: number;
  /** Silver files per gold micro-batch. Default 1000. */
  goldMaxFilesPerTrigger?: number;
  /** Gold output mode. Default 'complete'. */
  goldMode?: 'complete' | 'update';
  /** Default availableNow (process what exists, then stop). */
  trigger?: Trigger;
  listener?: StreamingQueryListener;
  progressBar?: boolean;
}

export function paths(root: string) {
  return {
    bronze: join(root, 'tables', 'bronze'),
    silver: join(root, 'tables', 'silver'),
    gold: join(root, 'tables', 'gold'),
    checkpoint: (stage: string) => join(root, 'checkpoints', stage),
  };
}

function resolved(options: MedallionOptions) {
  const recordsPerPartition = options.recordsPerPartition ?? 12_500;
  const bronzeBatchPerPartition = options.bronzeBatchPerPartition ?? 1_250;
  return {
    ...options,
    recordsPerPartition,
    bronzeBatchPerPartition,
    /** Late events only after the first bronze batch (see events.ts). */
    lateFromSequence: sequence(0, bronzeBatchPerPartition),
    trigger: options.trigger ?? Triggers.availableNow(),
  };
}

function common(options: ReturnType<typeof resolved>, stage: string) {
  return {
    checkpointLocation: paths(options.root).checkpoint(stage),
    queryName: stage,
    trigger: options.trigger,
    ...(options.listener ? { listener: options.listener } : {}),
    ...(options.progressBar !== undefined ? { progressBar: options.progressBar } : {}),
  };
}

/** bronze: raw records appended as they come, one Delta commit per micro-batch. */
export function startBronze(options: MedallionOptions): Promise<StreamingQuery> {
  const o = resolved(options);
  const source = new GeneratorSource({
    name: 'raw-events',
    partitions: PARTITIONS,
    rowsPerPartition: o.recordsPerPartition,
    maxRowsPerTrigger: o.bronzeBatchPerPartition * PARTITIONS,
    generate: (partition, offset) => ({
      value: rawEvent(partition, offset, o.lateFromSequence),
      source_partition: partition,
      source_offset: offset,
    }),
  });
  return readStream(source).writeStream(
    deltaSink(paths(o.root).bronze, { schema: BRONZE_SCHEMA }),
    common(o, 'bronze'),
  );
}

/** silver: parsed, watermarked, deduplicated events partitioned by event_date. */
export function startSilver(options: MedallionOptions): Promise<StreamingQuery> {
  const o = resolved(options);
  // One bronze commit per silver batch, read in commit order from the table's first version.
  const bronze = new DeltaSource({
    store: new LocalObjectStore(paths(o.root).bronze),
    startingVersion: 0,
    maxFilesPerTrigger: 1,
  });
  return readStream(bronze)
    .pipe(
      parseJson(EVENT_SCHEMA, { column: 'value' }),
      withWatermark('event_time', '10 minutes'),
      dropDuplicatesWithinWatermark(['event_id']),
      withColumn('event_date', (row) => String(row.event_time).slice(0, 10), 'date'),
    )
    .writeStream(deltaSink(paths(o.root).silver, { partitionBy: ['event_date'] }), common(o, 'silver'));
}

/** gold: per channel and day, the number of events and of distinct users. */
export function startGold(options: MedallionOptions): Promise<StreamingQuery> {
  const o = resolved(options);
  const silver = new DeltaSource({
    store: new LocalObjectStore(paths(o.root).silver),
    maxFilesPerTrigger: o.goldMaxFilesPerTrigger ?? 1000,
  });
  const mode = options.goldMode ?? 'complete';
  return readStream(silver)
    .pipe(
      aggregate({
        groupBy: ['channel', 'event_date'],
        aggs: { events: count(), users: countDistinct('user_id') },
      }),
    )
    .writeStream(deltaSink(paths(o.root).gold), { ...common(o, 'gold'), outputMode: mode });
}

/** Runs bronze, then silver, then gold to completion (each with the configured trigger). */
export async function runMedallion(options: MedallionOptions): Promise<void> {
  for (const start of [startBronze, startSilver, startGold]) {
    const query = await start(options);
    await query.awaitTermination();
  }
}
