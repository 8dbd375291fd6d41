// Builds the streaming query of an ingest config:
//   KafkaSource → kafkaRecord (coordinates) → parseJson (keeping the coordinates) → transforms
//   → withWatermark + dropDuplicatesWithinWatermark (dedup) → finalize → deltaSink
// Without transforms, into an unpartitioned table of the parsed columns, the engine runs parseJson's
// columnar variant and the operators after it on typed columns (the coordinates only on rows made for
// dead letters; finalize passes columns as they are); without dedup, the stage of parallel/stage.ts
// does the same work in worker threads.
// with dead letters to a Delta table, a Kafka topic or (default) the checkpoint. buildPipeline()
// only constructs and plans (config mistakes found here are CONFIG_INVALID naming the key);
// preflight() connects to Kafka and reads the existing tables without creating anything, so a bad
// broker, a missing topic or an incompatible table fails before the first file is written.

import { LakestreamError } from '../../common/errors.js';
import { DEAD_LETTER_SCHEMA, DeltaDeadLetters } from '../../sinks/delta/dead-letters.js';
import { latestVersion } from '../../sinks/delta/load-snapshot.js';
import { validatePartitionColumns } from '../../sinks/delta/partition-values.js';
import { checkWriteSchema } from '../../sinks/delta/schema-check.js';
import { type AutoCompaction, type DeltaSink, deltaSink } from '../../sinks/delta/stream-sink.js';
import { DeltaTable } from '../../sinks/delta/table.js';
import type { StructType } from '../../sinks/schema.js';
import { LocalObjectStore } from '../../storage/local.js';
import { MemoryObjectStore } from '../../storage/memory.js';
import type { DeadLetterSink } from '../../stream/dead-letters.js';
import { KafkaDeadLetters } from '../../stream/dead-letters-kafka.js';
import type { OperatorSpec } from '../../stream/operator.js';
import { dropDuplicatesWithinWatermark, withWatermark } from '../../stream/operators/index.js';
import { planPipeline } from '../../stream/plan.js';
import type { StreamingQuery } from '../../stream/query.js';
import { KafkaSource, type KafkaSourceOptions, parseKafkaPartitionId } from '../../stream/sources/kafka.js';
import { createKafkaClient, unavailable } from '../../stream/sources/kafka-client.js';
import { KafkaGroupSource } from '../../stream/sources/kafka-group.js';
import { Trigger } from '../../stream/trigger.js';
import { type DataStream, readStream, type WriteStreamOptions } from '../../stream/write-stream.js';
import { columnarPipeline, type IngestConfig, invalidConfig } from './config.js';
import { ingestOperators } from './operators.js';
import { parallelIngest } from './parallel/stage.js';
import { deadLetterOrigin, PlanIssue } from './transforms.js';

export interface IngestPipeline {
  config: IngestConfig;
  sourceOptions: KafkaSourceOptions;
  /** A KafkaSource, or with kafka.scaleOut a KafkaGroupSource over one. */
  source: KafkaSource | KafkaGroupSource;
  stream: DataStream;
  /** The columns written to the target table. */
  outputSchema: StructType;
  sink: DeltaSink;
  /** undefined: the runtime's default (JSON Lines under <checkpoint>/dead-letters/). */
  deadLetters: DeadLetterSink | undefined;
  trigger: Trigger;
  /**
   * Whether the stateless operators and the encoding run as the stage of parallel/stage.ts: in worker
   * threads (config.workers > 0), or on the main thread by the columnar path (workers 0).
   */
  parallel: boolean;
  /** Releases the pipeline's worker threads (after the query ended). */
  close(): Promise<void>;
}

/** The KafkaSource options of a config. */
export function kafkaSourceOptions(config: IngestConfig): KafkaSourceOptions {
  const k = config.kafka;
  return {
    brokers: k.brokers,
    ...(k.topics ? { topics: k.topics } : {}),
    ...(k.topicPattern !== undefined ? { topicPattern: new RegExp(k.topicPattern) } : {}),
    startingOffsets: k.startingOffsets,
    failOnDataLoss: k.failOnDataLoss,
    maxOffsetsPerTrigger: k.maxOffsetsPerTrigger,
    ...(k.minOffsetsPerTrigger !== undefined ? { minOffsetsPerTrigger: k.minOffsetsPerTrigger } : {}),
    ...(k.maxTriggerDelayMs !== undefined ? { maxTriggerDelayMs: k.maxTriggerDelayMs } : {}),
    ...(k.maxBytes !== undefined ? { maxBytes: k.maxBytes } : {}),
    ...(k.maxBytesPerPartition !== undefined ? { maxBytesPerPartition: k.maxBytesPerPartition } : {}),
    ...(k.readAheadBytes !== undefined ? { readAheadBytes: k.readAheadBytes } : {}),
    ...(k.clientId !== undefined ? { clientId: k.clientId } : {}),
    ...(k.groupId !== undefined ? { groupId: k.groupId } : {}),
    ...(k.ssl !== undefined ? { ssl: k.ssl } : {}),
    ...(k.sasl !== undefined ? { sasl: { ...k.sasl } as KafkaSourceOptions['sasl'] & object } : {}),
  };
}

/** withWatermark + dropDuplicatesWithinWatermark, checking the columns with the config's key paths first. */
function dedupOperators(dedup: NonNullable<IngestConfig['dedup']>): OperatorSpec[] {
  const { keys, watermark } = dedup;
  const check: OperatorSpec = {
    kind: 'dedupCheck',
    plan(context) {
      const fields = context.schema?.fields ?? [];
      const columns = fields
        .filter((f) => !f.name.startsWith('kafka.'))
        .map((f) => f.name)
        .join(', ');
      keys.forEach((key, i) => {
        if (!fields.some((f) => f.name === key)) {
          throw new PlanIssue(`dedup.keys[${i}]`, `column '${key}' is not in the input (columns: ${columns})`);
        }
      });
      const time = fields.find((f) => f.name === watermark.column);
      if (!time) {
        throw new PlanIssue(
          'dedup.watermark.column',
          `column '${watermark.column}' is not in the input (columns: ${columns})`,
        );
      }
      if (time.type !== 'timestamp' && time.type !== 'date' && time.type !== 'long') {
        throw new PlanIssue(
          'dedup.watermark.column',
          `column '${watermark.column}' is a ${typeof time.type === 'string' ? time.type : time.type.type}; ` +
            'the event-time column must be a timestamp (cast it first)',
        );
      }
      return {
        id: `${context.index}-dedupCheck`,
        kind: 'dedupCheck',
        fingerprint: '',
        schema: context.schema,
        watermark: context.watermark,
        takesColumns: true,
        process: (groups) => groups,
      };
    },
  };
  return [check, withWatermark(watermark.column, watermark.delayMs), dropDuplicatesWithinWatermark(keys)];
}

/** Constructs the source, operators, sink and dead-letter destination, and plans them. Throws CONFIG_INVALID. */
export function buildPipeline(
  config: IngestConfig,
  hooks: {
    /** Hears each auto compaction of the target table (config.target.autoCompact). */
    onCompacted?: (compaction: AutoCompaction) => void;
  } = {},
): IngestPipeline {
  // Without dedup (state) and scale-out (rows carry their origin to the sink), the stateless
  // operators and the Parquet encoding run as the stage of parallel/stage.ts, which also decodes the
  // records' text (the source hands it the fetched bytes): in worker threads, or with workers 0, on
  // this thread when its records can take the columnar path (JSON scanned straight into columns).
  const parallel =
    !config.dedup &&
    !config.kafka.scaleOut &&
    (config.workers > 0 || columnarPipeline({ ...config, scaleOut: config.kafka.scaleOut }));
  const sourceOptions = { ...kafkaSourceOptions(config), ...(parallel ? { undecodedText: true } : {}) };
  let target: DeltaSink | undefined;
  const stage = parallel
    ? parallelIngest(config, {
        workers: config.workers,
        target: { encodingPlan: () => (target as DeltaSink).encodingPlan() },
      })
    : undefined;
  const operators: OperatorSpec[] = stage
    ? [stage]
    : ingestOperators(config, {
        origin: config.kafka.scaleOut !== undefined,
        beforeFinalize: config.dedup ? dedupOperators(config.dedup) : [],
      });

  const schemaOf = new KafkaSource(sourceOptions).schema;
  let outputSchema: StructType;
  try {
    const planned = planPipeline(operators, 'append', schemaOf);
    outputSchema = planned.schema!;
  } catch (error) {
    if (error instanceof PlanIssue) throw invalidConfig(config.file, [error.message]);
    throw error;
  }
  const partitionBy = config.target.delta.partitionBy;
  try {
    validatePartitionColumns(outputSchema, partitionBy);
  } catch (error) {
    const columns = outputSchema.fields.map((f) => f.name).join(', ');
    throw invalidConfig(config.file, [
      `target.delta.partitionBy: ${(error as Error).message} (output columns: ${columns})`,
    ]);
  }

  const sink = deltaSink(config.target.delta.path, {
    schema: outputSchema,
    ...(partitionBy.length > 0 ? { partitionBy } : {}),
    ...(config.target.targetFileSize !== undefined ? { targetFileSize: config.target.targetFileSize } : {}),
    ...(config.target.compression !== undefined ? { compression: config.target.compression } : {}),
    ...(config.target.autoCompact !== undefined ? { autoCompact: config.target.autoCompact } : {}),
    ...(hooks.onCompacted ? { onCompacted: hooks.onCompacted } : {}),
    // Scale-out: offsets of record per partition in the table (appId '<name>-<topic>-<partition>').
    ...(config.kafka.scaleOut ? { partitionTransactions: { appIdPrefix: config.name } } : {}),
  });
  target = sink;
  const scaleOut = config.kafka.scaleOut;
  const source = scaleOut
    ? new KafkaGroupSource(sourceOptions, {
        groupId: config.kafka.groupId!,
        sessionTimeoutMs: scaleOut.sessionTimeoutMs,
        offsetsOfRecord: (partitions) => sink.partitionOffsets(partitions),
      })
    : new KafkaSource(sourceOptions);
  let deadLetters: DeadLetterSink | undefined;
  const dl = config.deadLetters;
  if (dl.kind === 'delta') {
    deadLetters = new DeltaDeadLetters(dl.path, {
      origin: deadLetterOrigin,
      ...(config.kafka.scaleOut
        ? {
            partitionTransactions: {
              appIdPrefix: `${config.name}-dlq`,
              offsetsOfRecord: (partitions: readonly string[]) => sink.partitionOffsets(partitions),
            },
          }
        : {}),
    });
  } else if (dl.kind === 'kafka') {
    deadLetters = new KafkaDeadLetters({
      brokers: config.kafka.brokers,
      topic: dl.topic,
      origin: deadLetterOrigin,
      ...(config.kafka.clientId !== undefined ? { clientId: config.kafka.clientId } : {}),
      ...(sourceOptions.ssl !== undefined ? { ssl: sourceOptions.ssl } : {}),
      ...(sourceOptions.sasl !== undefined ? { sasl: sourceOptions.sasl } : {}),
    });
  }
  const trigger =
    config.trigger.kind === 'availableNow' ? Trigger.availableNow() : Trigger.processingTime(config.trigger.intervalMs);
  return {
    config,
    sourceOptions,
    source,
    parallel: stage !== undefined,
    close: async () => {
      await stage?.close();
    },
    stream: readStream(source, { schema: source.schema }).pipe(...operators),
    outputSchema,
    sink,
    deadLetters,
    trigger,
  };
}

/** Starts the pipeline's query as the daemon runs it (checkpoint, name, trigger, dead letters, no progress bar). */
export function startQuery(
  pipeline: IngestPipeline,
  events: Pick<WriteStreamOptions, 'listener' | 'onWarning'>,
): Promise<StreamingQuery> {
  const { config } = pipeline;
  return pipeline.stream.writeStream(pipeline.sink, {
    checkpointLocation: config.checkpoint,
    queryName: config.name,
    trigger: pipeline.trigger,
    outputMode: 'append',
    ...(pipeline.deadLetters ? { deadLetters: pipeline.deadLetters } : {}),
    progressBar: false,
    ...events,
  });
}

/** What preflight found. */
export interface PreflightReport {
  /** Partitions of the subscribed topics, per topic. */
  partitions: Record<string, number>;
  /** The target table's version, when it exists. */
  tableVersion: number | undefined;
  /** Whether the checkpoint exists (the pipeline resumes). */
  resumes: boolean;
}

async function existingTable(path: string): Promise<DeltaTable | undefined> {
  const store = new LocalObjectStore(path);
  if ((await latestVersion(store)) === undefined) return undefined;
  return DeltaTable.open(store);
}

/** TARGET_INCOMPATIBLE: an existing table the pipeline would write does not fit it. */
function incompatible(key: string, message: string, cause?: unknown): LakestreamError {
  return new LakestreamError(`${key}: ${message}`, {
    code: 'TARGET_INCOMPATIBLE',
    domain: 'user',
    ...(cause !== undefined ? { cause } : {}),
    context: { key },
  });
}

/**
 * Checks what the pipeline needs without creating anything: the brokers answer, the topics exist
 * (SOURCE_UNAVAILABLE, SOURCE_NOT_FOUND, SOURCE_AUTH_FAILED), the dead-letter topic exists, and
 * existing target and dead-letter tables fit the pipeline (SCHEMA_MISMATCH, INVALID_ARGUMENT).
 */
export async function preflight(pipeline: IngestPipeline): Promise<PreflightReport> {
  const { config } = pipeline;
  const probe = new KafkaSource(pipeline.sourceOptions);
  const partitions: Record<string, number> = {};
  try {
    await probe.open({ queryId: 'preflight', metadata: new MemoryObjectStore(), now: Date.now, warn: () => {} });
    const available = await probe.availableNow();
    for (const id of Object.keys(available)) {
      const { topic } = parseKafkaPartitionId(id);
      partitions[topic] = (partitions[topic] ?? 0) + 1;
    }
  } finally {
    await probe.close();
  }

  if (config.deadLetters.kind === 'kafka') {
    const topic = config.deadLetters.topic;
    const o = pipeline.sourceOptions;
    const admin = createKafkaClient({
      brokers: config.kafka.brokers,
      ...(o.clientId !== undefined ? { clientId: o.clientId } : {}),
      ...(o.ssl !== undefined ? { ssl: o.ssl } : {}),
      ...(o.sasl !== undefined ? { sasl: o.sasl } : {}),
    }).admin();
    let names: string[];
    try {
      await admin.connect();
      names = (await admin.fetchTopicMetadata()).topics.map((t) => t.name);
    } catch (error) {
      throw unavailable(error, config.kafka.brokers.join(','), 'could not check the dead-letter topic');
    } finally {
      await admin.disconnect().catch(() => {});
    }
    if (!names.includes(topic)) {
      throw new LakestreamError(
        `deadLetters.kafka.topic: dead-letter topic '${topic}' not found on brokers ${config.kafka.brokers.join(',')}`,
        { code: 'DEAD_LETTERS_NOT_FOUND', domain: 'user', context: { topic } },
      );
    }
  }

  const target = await existingTable(config.target.delta.path);
  if (target) {
    const snapshot = target.snapshot();
    const wanted = config.target.delta.partitionBy;
    const actual = snapshot.partitionColumns;
    if (wanted.length > 0 && wanted.join('\u0000').toLowerCase() !== actual.join('\u0000').toLowerCase()) {
      throw incompatible(
        'target.delta.partitionBy',
        `the table at ${config.target.delta.path} is partitioned by [${actual.join(', ')}], not by [${wanted.join(', ')}]`,
      );
    }
    try {
      checkWriteSchema(snapshot.schema, [], { dataSchema: pipeline.outputSchema });
    } catch (error) {
      throw incompatible(
        'target.delta.path',
        `the table at ${config.target.delta.path} does not fit the pipeline's columns: ${(error as Error).message}`,
        error,
      );
    }
  }
  if (config.deadLetters.kind === 'delta') {
    const table = await existingTable(config.deadLetters.path);
    if (table) {
      try {
        checkWriteSchema(table.snapshot().schema, [], { dataSchema: DEAD_LETTER_SCHEMA });
      } catch (error) {
        throw incompatible(
          'deadLetters.delta.path',
          `the table at ${config.deadLetters.path} is not a dead-letter table: ${(error as Error).message}`,
          error,
        );
      }
    }
  }
  const checkpoint = new LocalObjectStore(config.checkpoint);
  let resumes = false;
  try {
    await checkpoint.head('metadata');
    resumes = true;
  } catch {
    resumes = false;
  }
  return { partitions, tableVersion: target?.snapshot().version, resumes };
}
