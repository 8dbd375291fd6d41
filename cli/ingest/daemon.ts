// The ingestion daemon: loads and validates the config, checks Kafka and the tables (creating
// nothing), serves /metrics, /healthz and /readyz, runs the query with one structured log line per
// micro-batch, and on SIGTERM/SIGINT stops after the batch in flight has committed. A failed query
// rejects (the CLI prints one error line and a hint, exit code 1).

import { type DestinationStream, type Logger, pino } from 'pino';
import type { StreamingQueryProgress } from '../../stream/progress.js';
import type { StreamingQuery } from '../../stream/query.js';
import type { CliIo } from '../io.js';
import { type IngestConfig, loadConfig } from './config.js';
import { IngestMetrics, type MetricsServer, startMetricsServer } from './metrics.js';
import { buildPipeline, type IngestPipeline, type PreflightReport, preflight, startQuery } from './pipeline.js';

export interface IngestOptions {
  /** Where JSON log lines go (default: io.out). */
  log?: DestinationStream;
  /** Stop on SIGTERM and SIGINT (default true). */
  handleSignals?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Called once the query runs (tests stop it through the handle). */
  onStarted?: (started: { query: StreamingQuery; metricsAddress: string | undefined }) => void;
}

/** What a run did. */
export interface IngestResult {
  queryId: string | undefined;
  batches: number;
  rows: number;
  deadLetters: number;
  /** Why it ended: the trigger finished (availableNow), a signal, or stop before the query started. */
  reason: 'finished' | 'signal';
}

function lineDestination(io: CliIo): DestinationStream {
  return { write: (line: string) => io.out(line.endsWith('\n') ? line.slice(0, -1) : line) };
}

/** The config as logged: what runs, never secrets. */
export function configSummary(config: IngestConfig): Record<string, unknown> {
  const k = config.kafka;
  return {
    file: config.file,
    checkpoint: config.checkpoint,
    kafka: {
      brokers: k.brokers,
      ...(k.topics ? { topics: k.topics } : { topicPattern: k.topicPattern }),
      startingOffsets: k.startingOffsets,
      maxOffsetsPerTrigger: k.maxOffsetsPerTrigger,
      minOffsetsPerTrigger: k.minOffsetsPerTrigger ?? null,
      scaleOut: k.scaleOut ?? null,
      ssl: k.ssl !== undefined && k.ssl !== false,
      sasl: k.sasl ? { mechanism: k.sasl.mechanism, username: k.sasl.username } : null,
      groupId: k.groupId ?? null,
    },
    format: config.format.type,
    transforms: config.transforms.map((t) => t.kind),
    dedup: config.dedup ? { keys: config.dedup.keys, watermark: config.dedup.watermark.delay } : null,
    target: config.target.delta.path,
    partitionBy: config.target.delta.partitionBy,
    deadLetters:
      config.deadLetters.kind === 'delta'
        ? { delta: config.deadLetters.path }
        : config.deadLetters.kind === 'kafka'
          ? { kafka: config.deadLetters.topic }
          : 'checkpoint',
    trigger: config.trigger.kind === 'availableNow' ? 'availableNow' : config.trigger.interval,
  };
}

/** The log line of a finished micro-batch. */
export function batchLogFields(p: StreamingQueryProgress): Record<string, unknown> {
  let duplicates = 0;
  let late = 0;
  for (const s of p.stateOperators) {
    duplicates += s.customMetrics.numDuplicatesDropped ?? 0;
    late += s.numRowsDroppedByWatermark;
  }
  let lag = 0;
  for (const source of p.sources) {
    for (const [id, end] of Object.entries(source.endOffset)) {
      const latest = source.latestOffset?.[id];
      if (latest !== undefined) lag += Math.max(0, Number(latest) - Number(end));
    }
  }
  return {
    batchId: p.batchId,
    replay: p.isReplay,
    rows: p.numInputRows,
    outputRows: p.sink.numOutputRows,
    deadLetters: p.numDeadLetters,
    duplicates,
    late,
    outcome: p.sink.outcome,
    tableVersion: p.sink.tableVersion,
    watermark: p.eventTime.watermark,
    lag,
    rowsPerSecond: p.processedRowsPerSecond,
    durationMs: p.durationMs,
  };
}

/**
 * Runs the pipeline of `configFile` until its trigger finishes (availableNow) or a signal stops it.
 * Rejects with the failure (ConfigError, a Kafka SourceError, a Delta error, …): nothing is created
 * when the config, the brokers, the topics or the existing tables are wrong.
 */
export async function runIngest(configFile: string, io: CliIo, options: IngestOptions = {}): Promise<IngestResult> {
  const config = await loadConfig(configFile, options.env ?? process.env);
  const logger: Logger = pino(
    {
      level: config.log.level,
      base: { pipeline: config.name },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.log ?? lineDestination(io),
  );
  logger.info({ pid: process.pid, config: configSummary(config) }, 'starting');

  let stopRequested = false;
  let query: StreamingQuery | undefined;
  let signalCount = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signalCount++;
    if (signalCount > 1) {
      logger.warn({ signal }, 'second signal: exiting without waiting for the batch in flight');
      process.exit(130);
    }
    stopRequested = true;
    logger.info({ signal }, 'stopping: finishing the batch in flight');
    void query?.stop();
  };
  const handleSignals = options.handleSignals ?? true;
  if (handleSignals) {
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }
  let server: MetricsServer | undefined;
  const result: IngestResult = { queryId: undefined, batches: 0, rows: 0, deadLetters: 0, reason: 'finished' };
  let pipeline: IngestPipeline | undefined;
  try {
    const metrics = new IngestMetrics(config.name);
    pipeline = buildPipeline(config, {
      onCompacted: (c) => {
        metrics.onCompacted(c);
        logger.info(
          { version: c.version, filesRemoved: c.filesRemoved, filesAdded: c.filesAdded, bytesRemoved: c.bytesRemoved },
          'compacted',
        );
      },
    });
    const checked: PreflightReport = await preflight(pipeline);
    logger.info(
      {
        partitions: checked.partitions,
        resumes: checked.resumes,
        tableVersion: checked.tableVersion ?? null,
        columns: pipeline.outputSchema.fields.map((f) => f.name),
        // Threads that parse, transform and encode (0: all on the main thread: dedup, scale-out, workers: 0).
        workers: pipeline.parallel ? config.workers : 0,
      },
      'kafka and tables checked',
    );
    if (stopRequested) {
      result.reason = 'signal';
      logger.info('stopped before the query started');
      return result;
    }

    if (config.metrics.enabled) {
      server = await startMetricsServer(metrics, config.metrics.host, config.metrics.port);
      logger.info({ address: server.address, port: server.port }, 'serving /metrics, /healthz and /readyz');
    }

    query = await startQuery(pipeline, {
      listener: {
        onQueryProgress: (p) => {
          metrics.onProgress(p);
          result.batches++;
          result.rows += p.numInputRows;
          result.deadLetters += p.numDeadLetters;
          logger.info(batchLogFields(p), 'batch');
        },
        onQueryIdle: () => metrics.onIdle(),
        onQueryTerminated: () => metrics.onTerminated(),
      },
      onWarning: (message, context) => {
        if (/^batch \d+ failed/.test(message)) metrics.onBatchFailed(String(context?.message ?? message));
        logger.warn(context ?? {}, message);
      },
    });
    result.queryId = query.id;
    metrics.onStarted();
    logger.info({ queryId: query.id, runId: query.runId }, 'query started');
    options.onStarted?.({ query, metricsAddress: server?.address });
    if (stopRequested) void query.stop();

    await query.awaitTermination();
    if (stopRequested) result.reason = 'signal';
    logger.info(
      {
        queryId: query.id,
        batches: result.batches,
        rows: result.rows,
        deadLetters: result.deadLetters,
        reason: result.reason,
      },
      'stopped',
    );
    return result;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    logger.error({ code: typeof code === 'string' ? code : null, message: (error as Error).message }, 'failed');
    throw error;
  } finally {
    if (handleSignals) {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    }
    await server?.close();
    await pipeline?.close();
  }
}

/** Validates the config and checks Kafka and the tables, creating nothing (`--check`). */
export async function checkIngest(
  configFile: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ config: IngestConfig; report: PreflightReport; columns: string[] }> {
  const config = await loadConfig(configFile, env);
  const pipeline = buildPipeline(config);
  const report = await preflight(pipeline);
  return { config, report, columns: pipeline.outputSchema.fields.map((f) => f.name) };
}
