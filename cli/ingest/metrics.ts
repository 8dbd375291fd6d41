// The daemon's HTTP endpoint: Prometheus /metrics (prom-client, one registry per daemon), /healthz
// (the process is up) and /readyz (the query started and its last trigger did not fail).

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { LakestreamError } from '../../common/errors.js';
import type { AutoCompaction } from '../../sinks/delta/stream-sink.js';
import type { StreamingQueryProgress } from '../../stream/progress.js';
import { parseKafkaPartitionId } from '../../stream/sources/kafka.js';

const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** The metrics of one pipeline, updated from the query's progress reports. */
export class IngestMetrics {
  readonly registry = new Registry();
  private readonly recordsIn: Counter;
  private readonly recordsOut: Counter;
  private readonly deadLetters: Counter;
  private readonly duplicates: Counter;
  private readonly late: Counter;
  private readonly batches: Counter<'outcome'>;
  private readonly batchRetries: Counter;
  private readonly compactions: Counter;
  private readonly compactedFiles: Counter;
  private readonly commitLatency: Histogram;
  private readonly batchDuration: Histogram;
  private readonly lag: Gauge<'topic' | 'partition'>;
  private readonly offset: Gauge<'topic' | 'partition'>;
  private readonly watermark: Gauge;
  private readonly tableVersion: Gauge;
  private readonly lastBatch: Gauge;
  private readonly ready: Gauge;

  /** Label sets of the partitions seen. */
  private readonly partitions = new Map<string, { topic: string; partition: string }>();
  /** Readiness: the query started, and the last trigger did not fail. */
  private started = false;
  private terminated = false;
  private failure: string | undefined;

  constructor(pipeline: string, options: { defaultMetrics?: boolean } = {}) {
    const r = this.registry;
    r.setDefaultLabels({ pipeline });
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: r });
    const counter = (name: string, help: string) => new Counter({ name, help, registers: [r] });
    this.recordsIn = counter('lakestream_ingest_records_in_total', 'Kafka records read (replayed batches count again)');
    this.recordsOut = counter('lakestream_ingest_records_out_total', 'Rows committed to the target Delta table');
    this.deadLetters = counter('lakestream_ingest_dead_letters_total', 'Records routed to the dead letters');
    this.duplicates = counter('lakestream_ingest_duplicates_dropped_total', 'Rows dropped as duplicates (dedup)');
    this.late = counter('lakestream_ingest_late_rows_dropped_total', 'Rows dropped as later than the watermark');
    this.batches = new Counter({
      name: 'lakestream_ingest_batches_total',
      help: "Micro-batches finished, by the sink's outcome (committed, already-committed, skipped)",
      labelNames: ['outcome'],
      registers: [r],
    });
    this.batchRetries = counter('lakestream_ingest_batch_retries_total', 'Micro-batches that failed and were retried');
    this.compactions = counter(
      'lakestream_ingest_compactions_total',
      'Auto compactions (OPTIMIZE) of the target table',
    );
    this.compactedFiles = counter(
      'lakestream_ingest_compacted_files_total',
      'Small data files the auto compactions replaced',
    );
    this.commitLatency = new Histogram({
      name: 'lakestream_ingest_commit_latency_seconds',
      help: 'Time of the Delta commit of a micro-batch (sinkCommit)',
      buckets: SECONDS_BUCKETS,
      registers: [r],
    });
    this.batchDuration = new Histogram({
      name: 'lakestream_ingest_batch_duration_seconds',
      help: 'Time of a whole micro-batch (triggerExecution)',
      buckets: SECONDS_BUCKETS,
      registers: [r],
    });
    this.lag = new Gauge({
      name: 'lakestream_ingest_kafka_lag',
      help: 'Records of a partition not yet processed (latest offset − processed offset), as of the last trigger',
      labelNames: ['topic', 'partition'],
      registers: [r],
    });
    this.offset = new Gauge({
      name: 'lakestream_ingest_kafka_offset',
      help: 'The next offset to process of a partition (committed to the table and checkpoint)',
      labelNames: ['topic', 'partition'],
      registers: [r],
    });
    this.watermark = new Gauge({
      name: 'lakestream_ingest_watermark_seconds',
      help: 'The event-time watermark of the last batch (seconds since the epoch; 0 before one is set)',
      registers: [r],
    });
    this.tableVersion = new Gauge({
      name: 'lakestream_ingest_table_version',
      help: 'The target Delta table version of the last batch',
      registers: [r],
    });
    this.lastBatch = new Gauge({
      name: 'lakestream_ingest_last_batch_timestamp_seconds',
      help: 'When the last micro-batch finished (seconds since the epoch)',
      registers: [r],
    });
    this.ready = new Gauge({ name: 'lakestream_ingest_ready', help: '1 when /readyz answers 200', registers: [r] });
  }

  onStarted(): void {
    this.started = true;
    this.update();
  }

  onProgress(p: StreamingQueryProgress): void {
    this.failure = undefined;
    this.recordsIn.inc(p.numInputRows);
    this.recordsOut.inc(p.sink.numOutputRows);
    this.deadLetters.inc(p.numDeadLetters);
    let duplicates = 0;
    let late = 0;
    for (const s of p.stateOperators) {
      duplicates += s.customMetrics.numDuplicatesDropped ?? 0;
      late += s.numRowsDroppedByWatermark;
    }
    this.duplicates.inc(duplicates);
    this.late.inc(late);
    this.batches.inc({ outcome: p.sink.outcome });
    this.commitLatency.observe((p.durationMs.sinkCommit ?? 0) / 1000);
    this.batchDuration.observe((p.durationMs.triggerExecution ?? 0) / 1000);
    for (const source of p.sources) {
      for (const [id, end] of Object.entries(source.endOffset)) {
        const { topic, partition } = parseKafkaPartitionId(id);
        const labels = { topic, partition: String(partition) };
        this.partitions.set(id, labels);
        this.offset.set(labels, Number(end));
        const latest = source.latestOffset?.[id];
        if (latest !== undefined) this.lag.set(labels, Math.max(0, Number(latest) - Number(end)));
      }
    }
    this.watermark.set(Date.parse(p.eventTime.watermark) / 1000);
    if (p.sink.tableVersion !== null) this.tableVersion.set(p.sink.tableVersion);
    this.lastBatch.set(Date.now() / 1000);
    this.update();
  }

  /** A trigger found no new data: every partition is caught up as of that trigger. */
  onIdle(): void {
    for (const labels of this.partitions.values()) this.lag.set(labels, 0);
  }

  /** An auto compaction of the target table committed. */
  onCompacted(compaction: AutoCompaction): void {
    this.compactions.inc();
    this.compactedFiles.inc(compaction.filesRemoved);
  }

  /** A batch failed and is retried (the last trigger failed). */
  onBatchFailed(message: string): void {
    this.batchRetries.inc();
    this.failure = message;
    this.update();
  }

  onTerminated(): void {
    this.terminated = true;
    this.update();
  }

  /** undefined when ready, else why not. */
  notReady(): string | undefined {
    if (this.terminated) return 'the query has terminated';
    if (!this.started) return 'the query is starting';
    if (this.failure !== undefined) return `the last trigger failed: ${this.failure}`;
    return undefined;
  }

  private update(): void {
    this.ready.set(this.notReady() === undefined ? 1 : 0);
  }
}

/** METRICS_LISTEN_FAILED: the metrics port cannot be bound. */
export class MetricsServerError extends LakestreamError {
  constructor(message: string, cause: unknown) {
    super(message, { code: 'METRICS_LISTEN_FAILED', domain: 'user', retryable: false, cause });
  }
}

export interface MetricsServer {
  /** 'host:port' actually bound (port 0 picks a free one). */
  address: string;
  port: number;
  close(): Promise<void>;
}

/** Serves /metrics, /healthz and /readyz; resolves once listening. */
export async function startMetricsServer(metrics: IngestMetrics, host: string, port: number): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n');
    if (path === '/metrics') {
      metrics.registry.metrics().then(
        (body) => send(200, body, metrics.registry.contentType),
        (error: unknown) => send(500, `${(error as Error).message}\n`),
      );
      return;
    }
    if (path === '/healthz') return send(200, 'ok\n');
    if (path === '/readyz') {
      const why = metrics.notReady();
      return why === undefined ? send(200, 'ready\n') : send(503, `not ready: ${why}\n`);
    }
    send(404, 'not found: try /metrics, /healthz or /readyz\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        new MetricsServerError(
          `cannot serve metrics on ${host}:${port}: ${error.code === 'EADDRINUSE' ? 'the port is in use' : error.message}`,
          error,
        ),
      );
    });
    server.listen(port, host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  return {
    address: `${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`,
    port: bound.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
