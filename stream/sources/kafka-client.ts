// The Kafka client seam of KafkaSource: the subset of the KafkaJS API the source uses (admin offsets and
// metadata, and a consumer with subscribe/seek/pause/resume/run), so that any KafkaJS-compatible client
// (kafkajs itself, @confluentinc/kafka-javascript's KafkaJS API, …) can sit behind the source. Only this
// file and kafka.ts import kafkajs.
//
// Reading an exact offset range. KafkaJS has no assign(): a consumer always belongs to a group. Spark
// gives each query a unique group id and assigns partitions itself; the closest KafkaJS equivalent is
// one long-lived consumer per source instance, in a group of its own (a unique group id, so it is the
// only member and owns every partition, with no rebalances), that never commits offsets. Every
// partition stays paused except while a read() wants data from it; a read seeks each partition to the
// start of its range, resumes it, keeps the records in [start, end) in offset order and pauses the
// partition again once its position reaches `end`. Paying the group join once per source (instead of
// once per read with a consumer per read) keeps a micro-batch's read at one fetch round trip.
//
// Determinism (a planned range must always give the same records):
// - Records at an offset never change, so a batch fetched at or before our position holds every
//   existing record from the position to its last offset: records below the position (a broker batch
//   starting before it) are dropped, the first record at or above `end` stops the range.
// - Control records and aborted transactional records occupy offsets but are not data: the position
//   moves past them (batch.lastOffset() counts them), so ranges ending at a transaction marker finish.
// - A delivered batch fetched *after* our position (a stale prefetch, or the client jumping after an
//   out-of-range reset) is checked: when the low watermark moved past the position, the records in
//   between are lost to retention (reported through onLoss, which throws for failOnDataLoss);
//   otherwise it is dropped and the partition sought back to the position. A gap is never assumed
//   to be data-free: offsets KafkaJS skips because they hold only control records or aborted
//   transactional records are reported by its END_BATCH_PROCESS event (batchSize 0), which moves the
//   position past them.
// Read-ahead: after a read, its partitions keep fetching from where it stopped into a bounded buffer
// (readAheadBytes), which the next read of the same partitions — the next ranges — takes first.
// Records are kept as the hooks' `record` converts them on arrival (the source's rows), so the client's
// message objects die young instead of living in the heap until the read ends.
// - Batches flagged stale by the client (a seek is pending) are ignored.
// A watchdog re-seeks a partition that made no progress for `stallMs` (the client restarted after a
// crash, or lost the pause state in a rejoin) and fails the read as SOURCE_UNAVAILABLE (retryable)
// after `timeoutMs` without progress.

import type { ConnectionOptions } from 'node:tls';
import { Kafka, type KafkaConfig, logLevel, type SASLOptions } from 'kafkajs';
import { SourceError } from '../errors.js';

// ---------------------------------------------------------------------------------------------------
// The KafkaJS-shaped seam

/** Header values as KafkaJS gives them. */

/**
 * Default read-ahead: 64 MiB, librdkafka's default queue bound (queued.max.messages.kbytes). Measured
 * (bench/kafka-ingest.ts, 100k-record batches of 379 B events): against 32 MiB, the batch's read waits
 * a third as long and the daemon ingests 7-8 % more events per second, for ~50 MiB more memory.
 */
export const DEFAULT_READ_AHEAD_BYTES = 64 * 2 ** 20;
export interface KafkaHeadersLike {
  [key: string]: Buffer | string | (Buffer | string)[] | undefined;
}

/** A record as the KafkaJS consumer delivers it. */
export interface KafkaMessageLike {
  key: Buffer | null;
  value: Buffer | null;
  /** Milliseconds since the epoch, as a decimal string. */
  timestamp: string;
  offset: string;
  headers?: KafkaHeadersLike;
}

/** A fetched batch of one partition (KafkaJS `Batch`). */
export interface KafkaBatchLike {
  topic: string;
  partition: number;
  highWatermark: string;
  /** Data records at or after the fetch offset (control and aborted records removed). */
  messages: KafkaMessageLike[];
  firstOffset(): string | null;
  /** The last offset of the batch, control records included. */
  lastOffset(): string;
  /** The offset the fetch asked for (a KafkaJS Batch field, not in its typings; optional). */
  fetchedOffset?: string;
}

export interface KafkaEachBatchPayloadLike {
  batch: KafkaBatchLike;
  /** True when a seek of this partition is pending (the batch comes from the old position). */
  isStale?(): boolean;
}

export interface KafkaConsumerRunConfigLike {
  autoCommit?: boolean;
  eachBatchAutoResolve?: boolean;
  partitionsConsumedConcurrently?: number;
  eachBatch: (payload: KafkaEachBatchPayloadLike) => Promise<void>;
}

export interface KafkaTopicPartitionsLike {
  topic: string;
  partitions?: number[];
}

export interface KafkaConsumerLike {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  subscribe(subscription: { topics: string[]; fromBeginning?: boolean }): Promise<void>;
  run(config: KafkaConsumerRunConfigLike): Promise<void>;
  stop(): Promise<void>;
  seek(target: { topic: string; partition: number; offset: string }): void;
  pause(topics: KafkaTopicPartitionsLike[]): void;
  resume(topics: KafkaTopicPartitionsLike[]): void;
  commitOffsets(offsets: Array<{ topic: string; partition: number; offset: string }>): Promise<void>;
  /** Instrumentation events (KafkaJS); used to restore the pause/seek state after a rejoin. */
  readonly events?: { GROUP_JOIN: string; END_BATCH_PROCESS?: string };
  on?(eventName: never, listener: (event: unknown) => void): unknown;
}

export interface KafkaConsumerConfigLike {
  groupId: string;
  sessionTimeout?: number;
  heartbeatInterval?: number;
  maxBytes?: number;
  maxBytesPerPartition?: number;
  maxWaitTimeInMs?: number;
  allowAutoTopicCreation?: boolean;
  retry?: KafkaRetryLike;
}

export interface KafkaRetryLike {
  retries?: number;
  initialRetryTime?: number;
  maxRetryTime?: number;
}

/** Offsets of one partition: `high` = `offset` = the next offset to be written, `low` = the earliest kept. */
export interface KafkaPartitionOffsetsLike {
  partition: number;
  offset: string;
  high: string;
  low: string;
}

export interface KafkaAdminLike {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  fetchTopicMetadata(options?: {
    topics: string[];
  }): Promise<{ topics: Array<{ name: string; partitions: Array<{ partitionId: number }> }> }>;
  fetchTopicOffsets(topic: string): Promise<KafkaPartitionOffsetsLike[]>;
  setOffsets(options: {
    groupId: string;
    topic: string;
    partitions: { partition: number; offset: string }[];
  }): Promise<void>;
}

/** A KafkaJS-compatible client: `new Kafka(config)` of kafkajs, or a compatible one. */
export interface KafkaClientLike {
  admin(config?: { retry?: KafkaRetryLike }): KafkaAdminLike;
  consumer(config: KafkaConsumerConfigLike): KafkaConsumerLike;
}

// ---------------------------------------------------------------------------------------------------
// Building a kafkajs client

export interface KafkaConnectionOptions {
  brokers: string[];
  clientId?: string;
  ssl?: ConnectionOptions | boolean;
  sasl?: SASLOptions;
  /** Time to establish a TCP connection (ms). Default 3000. */
  connectionTimeout?: number;
  /** Time to wait for a broker's answer (ms). Default 10 000. */
  requestTimeout?: number;
  /** Retries of a failed request before giving up. Default 3 (with 250 ms growing to 2 s between). */
  retries?: number;
}

/** Default retry policy: an unreachable cluster is reported within a few seconds. */
export function defaultRetry(retries = 3): KafkaRetryLike {
  return { retries, initialRetryTime: 250, maxRetryTime: 2_000 };
}

/** A kafkajs client with bounded timeouts and its logs silenced (faults surface as SourceErrors). */
export function createKafkaClient(options: KafkaConnectionOptions): KafkaClientLike {
  const config: KafkaConfig = {
    brokers: options.brokers,
    clientId: options.clientId ?? 'lakestream',
    connectionTimeout: options.connectionTimeout ?? 3_000,
    requestTimeout: options.requestTimeout ?? 10_000,
    retry: defaultRetry(options.retries),
    logLevel: logLevel.NOTHING,
  };
  if (options.ssl !== undefined) config.ssl = options.ssl;
  if (options.sasl !== undefined) config.sasl = options.sasl;
  return new Kafka(config);
}

// ---------------------------------------------------------------------------------------------------
// Classifying client faults

export type KafkaFaultKind = 'unavailable' | 'not-found' | 'auth' | 'other';

interface ErrorLike {
  name?: unknown;
  type?: unknown;
  message?: unknown;
  retriable?: unknown;
  originalError?: unknown;
  cause?: unknown;
}

/** The chain of an error and its causes (KafkaJS wraps the last attempt's error in originalError). */
function chain(error: unknown): ErrorLike[] {
  const out: ErrorLike[] = [];
  let current: unknown = error;
  while (current !== null && typeof current === 'object' && out.length < 8) {
    const e = current as ErrorLike;
    out.push(e);
    current = e.originalError ?? e.cause;
  }
  return out;
}

/** What kind of fault a client error is, looking through its causes. */
export function classifyKafkaError(error: unknown): KafkaFaultKind {
  const errors = chain(error);
  for (const e of errors) {
    const name = String(e.name ?? '');
    const type = String(e.type ?? '');
    if (type === 'UNKNOWN_TOPIC_OR_PARTITION' || type === 'UNKNOWN_TOPIC_ID') return 'not-found';
    if (/SASL|Authentication/i.test(name) || /SASL|AUTHENTICATION|AUTHORIZATION/.test(type)) return 'auth';
  }
  for (const e of errors) {
    const name = String(e.name ?? '');
    const message = String(e.message ?? '');
    if (
      /Connection|BrokerNotFound|RequestTimeout|NoBrokerAvailable|LockTimeout|NumberOfRetriesExceeded/.test(name) ||
      /ECONNREFUSED|ENOTFOUND|ETIMEDOUT|EHOSTUNREACH|ECONNRESET|Connection timeout|Closed connection/i.test(message)
    ) {
      return 'unavailable';
    }
  }
  return 'other';
}

/** The innermost message of an error chain (the actual cause, e.g. "connect ECONNREFUSED …"). */
export function rootMessage(error: unknown): string {
  const errors = chain(error);
  const messages = errors.map((e) => String(e.message ?? '')).filter((m) => m.length > 0);
  return messages[messages.length - 1] ?? String(error);
}

// ---------------------------------------------------------------------------------------------------
// Exact-range reads with one long-lived consumer

export interface KafkaRangeRequest {
  topic: string;
  partition: number;
  /** Inclusive. */
  start: number;
  /** Exclusive. */
  end: number;
}

export interface KafkaRangeReaderOptions {
  /** The reader's own group (unique per source instance; never committed to). */
  groupId: string;
  /** Fetch limits of the consumer (KafkaJS maxBytes / maxBytesPerPartition). */
  maxBytes?: number;
  maxBytesPerPartition?: number;
  retry?: KafkaRetryLike;
  /** Re-seek a partition that made no progress for this long (ms). Default 5000. */
  stallMs?: number;
  /** Fail a read whose partitions made no progress for this long (ms). Default 60 000. */
  timeoutMs?: number;
  /**
   * Read-ahead: after a read, keep fetching its partitions from where it ended and buffer up to this
   * many bytes (keys + values) in total, so that the next read — normally the next range of the same
   * partitions — finds its records already fetched while the query processed the previous batch.
   * 0 turns it off. Default DEFAULT_READ_AHEAD_BYTES (64 MiB).
   */
  readAheadBytes?: number;
  /** Names the brokers in messages. */
  brokers: string;
}

export interface KafkaRangeReaderHooks<R> {
  /**
   * What the reader keeps of a fetched message (called once per message in [start, end) or read
   * ahead, in offset order, as it arrives). Must not keep `message` itself.
   */
  record(topic: string, partition: number, message: KafkaMessageLike): R;
  /** The current low watermark (earliest kept offset) of a partition. */
  lowWatermark(topic: string, partition: number): Promise<number>;
  /**
   * Records [from, to) of a partition were lost to retention while reading (`earliest` is the low
   * watermark now). Throws to fail the read (failOnDataLoss); returns to skip them.
   */
  onLoss(topic: string, partition: number, from: number, to: number, earliest: number): void;
}

interface Pending<R> {
  topic: string;
  partition: number;
  end: number;
  /** The next offset wanted. */
  position: number;
  records: R[];
  /** Records at or after `end` delivered with the range's last batches (the next read-ahead). */
  beyond: Buffered<R>;
  done: boolean;
  lastProgress: number;
  lastSeek: number;
  /** The position at which a gap already made us seek back once. */
  reseekedAt: number | undefined;
}

/** Records kept ahead of a read, in offset order, with the offset of each and their size in bytes. */
interface Buffered<R> {
  records: R[];
  offsets: number[];
  bytes: number;
}

function buffer<R>(into: Buffered<R>, record: R, offset: number, bytes: number): void {
  into.records.push(record);
  into.offsets.push(offset);
  into.bytes += bytes;
}

/**
 * The records of read-ahead `a` from offset `start` on into the read `p`: those before p.end as its
 * records, later ones kept for the next read. A synchronous loop of its own, out of the async readNow.
 */
function takeAhead<R>(a: ReadAhead<R>, p: Pending<R>, start: number): void {
  for (let i = 0; i < a.records.length; i++) {
    const offset = a.offsets[i]!;
    if (offset < start) continue;
    if (offset < p.end) p.records.push(a.records[i]!);
    // Sizes of the records carried on again are not known any more: a share of the buffer's.
    else buffer(p.beyond, a.records[i]!, offset, a.bytes / a.records.length);
  }
}

/**
 * Records fetched ahead of the next read of a partition: every record in [start, position), in order.
 */
interface ReadAhead<R> extends Buffered<R> {
  topic: string;
  partition: number;
  start: number;
  /** The next offset to fetch. */
  position: number;
}

const partitionKey = (topic: string, partition: number) => `${topic}-${partition}`;

const messageBytes = (m: KafkaMessageLike) => (m.value?.length ?? 0) + (m.key?.length ?? 0) + 64;

/** The offset a batch was fetched from (its first record's when the client does not say; else `fallback`). */
function fetchedAt(batch: KafkaBatchLike, fallback: number): number {
  const text = batch.fetchedOffset ?? batch.firstOffset();
  return text === null ? fallback : Number(text);
}

/**
 * The position after a delivered batch: past its trailing control records and aborted transactional
 * records too (they are not data), when it had records at all.
 */
function positionAfter(batch: KafkaBatchLike, position: number): number {
  if (batch.messages.length === 0) return position;
  const last = Number(batch.lastOffset());
  return Number.isFinite(last) ? Math.max(position, last + 1) : position;
}

/**
 * Reads exact offset ranges through one KafkaJS-style consumer (see the file comment). Reads are
 * serialized; `close()` disconnects the consumer.
 */
export class KafkaRangeReader<R> {
  private consumer: KafkaConsumerLike | undefined;
  /** Subscribed topics → partition count at subscription time. */
  private subscribed = new Map<string, number>();
  private readonly active = new Map<string, Pending<R>>();
  private readonly ahead = new Map<string, ReadAhead<R>>();
  private aheadBytes = 0;
  private readonly readAheadBytes: number;
  private settle: { resolve: () => void; reject: (error: unknown) => void } | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly stallMs: number;
  private readonly timeoutMs: number;

  constructor(
    private readonly client: KafkaClientLike,
    private readonly options: KafkaRangeReaderOptions,
    private readonly hooks: KafkaRangeReaderHooks<R>,
  ) {
    this.stallMs = options.stallMs ?? 5_000;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.readAheadBytes = options.readAheadBytes ?? DEFAULT_READ_AHEAD_BYTES;
  }

  /** Bytes buffered ahead of the next read (for tests and metrics). */
  get bufferedBytes(): number {
    return this.aheadBytes;
  }

  private dropAhead(key: string): void {
    const a = this.ahead.get(key);
    if (!a) return;
    this.aheadBytes -= a.bytes;
    this.ahead.delete(key);
  }

  private clearAhead(): void {
    this.ahead.clear();
    this.aheadBytes = 0;
  }

  /**
   * The records of each range, in offset order, keyed '<topic>-<partition>'. `partitions` gives the
   * current partition count of every topic read (a grown topic makes the consumer resubscribe).
   */
  read(requests: readonly KafkaRangeRequest[], partitions: ReadonlyMap<string, number>) {
    const run = this.tail.then(
      () => this.readNow(requests, partitions),
      () => this.readNow(requests, partitions),
    );
    this.tail = run.catch(() => {});
    return run;
  }

  private async readNow(
    requests: readonly KafkaRangeRequest[],
    partitions: ReadonlyMap<string, number>,
  ): Promise<Map<string, R[]>> {
    if (this.closed) throw new SourceError('SOURCE_CLOSED', 'the Kafka reader is closed');
    const result = new Map<string, R[]>();
    const todo = requests.filter((r) => r.end > r.start);
    for (const r of requests) result.set(partitionKey(r.topic, r.partition), []);
    if (todo.length === 0) return result;
    const consumer = await this.ensureConsumer(todo, partitions);

    // Read-ahead of partitions this read does not want is dropped: they have no new records, or the
    // query no longer reads them (a consumer-group member lost them in a rebalance).
    const wanted = new Set(todo.map((r) => partitionKey(r.topic, r.partition)));
    for (const key of [...this.ahead.keys()]) if (!wanted.has(key)) this.dropAhead(key);
    const now = Date.now();
    const toSeek: Pending<R>[] = [];
    for (const r of todo) {
      const key = partitionKey(r.topic, r.partition);
      const p: Pending<R> = {
        topic: r.topic,
        partition: r.partition,
        end: r.end,
        position: r.start,
        records: [],
        beyond: { records: [], offsets: [], bytes: 0 },
        done: false,
        lastProgress: now,
        lastSeek: now,
        reseekedAt: undefined,
      };
      const a = this.ahead.get(key);
      this.dropAhead(key);
      if (a && a.start <= r.start && r.start <= a.position) {
        // The read-ahead covers the start: take its records, fetch on from where it is (no seek).
        takeAhead(a, p, r.start);
        p.position = Math.max(r.start, a.position);
        if (p.position >= p.end) p.done = true;
      } else {
        toSeek.push(p);
      }
      this.active.set(key, p);
    }
    let ok = false;
    const finished = new Promise<void>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    const watchdog = setInterval(() => this.watch(), Math.min(500, this.stallMs));
    try {
      for (const p of toSeek) this.seek(consumer, p);
      this.applyPauses();
      this.checkDone();
      await finished;
      for (const [key, p] of this.active) result.set(key, p.records);
      ok = true;
      return result;
    } finally {
      clearInterval(watchdog);
      this.settle = undefined;
      if (ok && this.readAheadBytes > 0) {
        // Keep fetching the partitions just read, from where each stopped (records past `end` kept).
        for (const [key, p] of this.active) {
          this.ahead.set(key, {
            ...p.beyond,
            topic: p.topic,
            partition: p.partition,
            start: p.end,
            position: Math.max(p.position, p.end),
          });
          this.aheadBytes += p.beyond.bytes;
        }
      }
      this.active.clear();
      this.applyPauses();
    }
  }

  /** A consumer subscribed to every topic read so far, with the current partition counts. */
  private async ensureConsumer(
    todo: readonly KafkaRangeRequest[],
    partitions: ReadonlyMap<string, number>,
  ): Promise<KafkaConsumerLike> {
    let stale = this.consumer === undefined;
    const wanted = new Map(this.subscribed);
    for (const r of todo) {
      const count = Math.max(partitions.get(r.topic) ?? 0, r.partition + 1);
      if ((wanted.get(r.topic) ?? 0) < count) {
        wanted.set(r.topic, count);
        stale = true;
      }
    }
    if (!stale && this.consumer) return this.consumer;
    if (this.consumer) {
      const old = this.consumer;
      this.consumer = undefined;
      this.clearAhead();
      await old.disconnect().catch(() => {});
    }
    const consumer = this.client.consumer({
      groupId: this.options.groupId,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 100,
      retry: this.options.retry ?? defaultRetry(),
      ...(this.options.maxBytes !== undefined ? { maxBytes: this.options.maxBytes } : {}),
      ...(this.options.maxBytesPerPartition !== undefined
        ? { maxBytesPerPartition: this.options.maxBytesPerPartition }
        : {}),
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [...wanted.keys()], fromBeginning: true });
      const join = consumer.events?.GROUP_JOIN;
      const on = consumer.on as unknown as ((event: string, listener: (event: never) => void) => unknown) | undefined;
      if (join && on) {
        // A (re)join starts from a fresh assignment: restore pauses and pending seeks.
        on.call(consumer, join, () => this.restore());
      }
      const filtered = (consumer.events as { END_BATCH_PROCESS?: string } | undefined)?.END_BATCH_PROCESS;
      if (filtered && on) on.call(consumer, filtered, (event) => this.onFilteredBatch(event));
      this.consumer = consumer;
      this.subscribed = wanted;
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: true,
        eachBatch: (payload) => this.onBatch(payload),
      });
      this.applyPauses();
      return consumer;
    } catch (error) {
      this.consumer = undefined;
      await consumer.disconnect().catch(() => {});
      throw unavailable(error, this.options.brokers, 'could not start the Kafka consumer');
    }
  }

  /**
   * Everything paused except the partitions a read still waits for, and between reads the partitions
   * read ahead while the buffer has room (idempotent; see KafkaJS pause semantics).
   */
  private applyPauses(): void {
    const consumer = this.consumer;
    if (!consumer) return;
    try {
      consumer.pause([...this.subscribed.keys()].map((topic) => ({ topic })));
      const wanted = new Map<string, number[]>();
      const want = (topic: string, partition: number) => {
        const list = wanted.get(topic) ?? [];
        list.push(partition);
        wanted.set(topic, list);
      };
      for (const p of this.active.values()) if (!p.done) want(p.topic, p.partition);
      if (this.active.size === 0 && this.aheadBytes < this.readAheadBytes) {
        for (const a of this.ahead.values()) want(a.topic, a.partition);
      }
      if (wanted.size > 0) consumer.resume([...wanted].map(([topic, partitions]) => ({ topic, partitions })));
    } catch {
      // The consumer is restarting; restore() runs again when it has rejoined.
    }
  }

  private seek(consumer: KafkaConsumerLike, p: Pending<R>): void {
    p.lastSeek = Date.now();
    try {
      consumer.seek({ topic: p.topic, partition: p.partition, offset: String(p.position) });
    } catch {
      // Not running right now (restarting after a crash): the watchdog or restore() seeks again.
    }
  }

  private restore(): void {
    const consumer = this.consumer;
    if (!consumer) return;
    // A rejoin loses the client's positions: read-ahead starts over at the next read.
    this.clearAhead();
    for (const p of this.active.values()) if (!p.done) this.seek(consumer, p);
    this.applyPauses();
  }

  private watch(): void {
    const consumer = this.consumer;
    const now = Date.now();
    for (const p of this.active.values()) {
      if (p.done) continue;
      if (now - p.lastProgress > this.timeoutMs) {
        this.fail(
          new SourceError(
            'SOURCE_UNAVAILABLE',
            `Kafka partition ${p.topic}-${p.partition} made no progress for ${this.timeoutMs} ms at offset ${p.position} ` +
              `(reading up to ${p.end}) from brokers ${this.options.brokers}`,
            {
              retryable: true,
              context: { topic: p.topic, partition: p.partition, offset: p.position, end: p.end },
            },
          ),
        );
        return;
      }
      if (consumer && now - p.lastProgress > this.stallMs && now - p.lastSeek > this.stallMs) {
        this.seek(consumer, p);
        this.applyPauses();
      }
    }
  }

  private fail(error: unknown): void {
    const settle = this.settle;
    this.settle = undefined;
    for (const p of this.active.values()) p.done = true;
    settle?.reject(error);
  }

  private checkDone(): void {
    for (const p of this.active.values()) if (!p.done) return;
    const settle = this.settle;
    this.settle = undefined;
    settle?.resolve();
  }

  /** A batch delivered between reads: buffered for the next read if it continues the read-ahead. */
  private onAheadBatch(payload: KafkaEachBatchPayloadLike, a: ReadAhead<R>): void {
    const { batch } = payload;
    if (payload.isStale?.()) return;
    if (fetchedAt(batch, a.position) > a.position) {
      // Not contiguous (a stale fetch, retention, control records): give up reading ahead here; the
      // next read seeks and applies the full gap rules.
      this.dropAhead(partitionKey(a.topic, a.partition));
      this.applyPauses();
      return;
    }
    for (const message of batch.messages) {
      const offset = Number(message.offset);
      if (offset < a.position) continue;
      const bytes = messageBytes(message);
      buffer(a, this.hooks.record(batch.topic, batch.partition, message), offset, bytes);
      this.aheadBytes += bytes;
      a.position = offset + 1;
    }
    a.position = positionAfter(batch, a.position);
    if (this.aheadBytes >= this.readAheadBytes) this.applyPauses();
  }

  private async onBatch(payload: KafkaEachBatchPayloadLike): Promise<void> {
    const { batch } = payload;
    const key = partitionKey(batch.topic, batch.partition);
    const p = this.active.get(key);
    if (!p) {
      const a = this.ahead.get(key);
      if (a) this.onAheadBatch(payload, a);
      else this.applyPauses(); // a partition that should not be fetching
      return;
    }
    if (!p || p.done || this.settle === undefined) {
      if (!p) this.applyPauses(); // a partition that should not be fetching (after a restart)
      return;
    }
    if (payload.isStale?.()) return;
    try {
      const fetched = fetchedAt(batch, p.position);
      if (fetched > p.position && !(await this.acceptGap(p, fetched))) return;
      if (p.done) return;
      this.take(p, batch);
      p.position = positionAfter(batch, p.position);
      p.lastProgress = Date.now();
      if (p.position >= p.end) {
        p.done = true;
        this.applyPauses();
        this.checkDone();
      }
    } catch (error) {
      this.fail(error);
    }
  }

  /**
   * Takes the messages of `batch` from p.position on: those before p.end as the read's records, later
   * ones kept for the next read (with read-ahead; without, the read stops at p.end). Synchronous, out
   * of the async onBatch: V8 optimizes the loop once and keeps it.
   */
  private take(p: Pending<R>, batch: KafkaEachBatchPayloadLike['batch']): void {
    const readAhead = this.readAheadBytes > 0;
    for (const message of batch.messages) {
      const offset = Number(message.offset);
      if (offset < p.position) continue;
      if (offset >= p.end) {
        if (!readAhead) {
          p.position = p.end;
          break;
        }
        // The start of the next range, kept for the next read.
        buffer(p.beyond, this.hooks.record(batch.topic, batch.partition, message), offset, messageBytes(message));
      } else p.records.push(this.hooks.record(batch.topic, batch.partition, message));
      p.position = offset + 1;
    }
  }

  /**
   * A batch fetched beyond our position: retention (the low watermark passed the position), a stale
   * or skipped-ahead fetch (seek back once), or a run of control records (the same gap again).
   */
  private async acceptGap(p: Pending<R>, fetched: number): Promise<boolean> {
    const low = await this.hooks.lowWatermark(p.topic, p.partition);
    if (low > p.position) {
      const to = Math.min(low, p.end);
      this.hooks.onLoss(p.topic, p.partition, p.position, to, low);
      p.position = to;
      p.lastProgress = Date.now();
      if (p.position >= p.end) {
        p.done = true;
        this.applyPauses();
        this.checkDone();
        return false;
      }
      if (fetched <= p.position) return true;
    }
    // Not retention: a fetch from before our seek (or the client jumped). Never taken as data-free:
    // seek back and wait for records from our position. (Offsets the client skipped because they hold
    // only control or aborted records are reported by its batch events: onFilteredBatch.)
    if (p.reseekedAt !== p.position || Date.now() - p.lastSeek > this.stallMs) {
      p.reseekedAt = p.position;
      if (this.consumer) this.seek(this.consumer, p);
    }
    return false;
  }

  /**
   * KafkaJS resolves a fetched batch that holds only control records or aborted transactional
   * records without delivering it, and reports it in its END_BATCH_PROCESS event (batchSize 0): its
   * offsets carry no data, so a read (or the read-ahead) at one of them moves past them.
   */
  private onFilteredBatch(event: { payload?: Record<string, unknown> }): void {
    const e = event.payload;
    if (e?.batchSize !== 0 || e.firstOffset === null || e.firstOffset === undefined) return;
    const key = partitionKey(String(e.topic), Number(e.partition));
    const first = Number(e.firstOffset);
    const last = Number(e.lastOffset);
    if (!Number.isFinite(first) || !Number.isFinite(last)) return;
    const p = this.active.get(key);
    if (p && !p.done && first <= p.position && p.position <= last) {
      p.position = last + 1;
      p.lastProgress = Date.now();
      if (p.position >= p.end) {
        p.done = true;
        this.applyPauses();
        this.checkDone();
      }
      return;
    }
    const a = this.ahead.get(key);
    if (!p && a && first <= a.position && a.position <= last) a.position = last + 1;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.clearAhead();
    this.fail(new SourceError('SOURCE_CLOSED', 'the Kafka reader was closed during a read'));
    const consumer = this.consumer;
    this.consumer = undefined;
    if (consumer) await consumer.disconnect().catch(() => {});
  }
}

/** SOURCE_UNAVAILABLE (retryable) for connection faults, else the fault as it is classified. */
export function unavailable(error: unknown, brokers: string, what: string): SourceError {
  if (error instanceof SourceError) return error;
  const kind = classifyKafkaError(error);
  const detail = rootMessage(error);
  if (kind === 'auth') {
    return new SourceError(
      'SOURCE_AUTH_FAILED',
      `${what}: authentication with Kafka brokers ${brokers} failed: ${detail}`,
      {
        context: { brokers },
        cause: error,
      },
    );
  }
  const retryable = kind === 'unavailable' || (error as ErrorLike | null)?.retriable === true;
  return new SourceError(
    retryable ? 'SOURCE_UNAVAILABLE' : 'SOURCE_FAILED',
    `${what}: ${retryable ? `Kafka brokers ${brokers} are unreachable or not answering` : 'Kafka request failed'}: ${detail}`,
    { retryable, context: { brokers }, cause: error },
  );
}

// ---------------------------------------------------------------------------------------------------
// Lag-monitoring commits

/**
 * Commits processed offsets to a consumer group for lag tools only (the checkpoint holds the offsets
 * of record; these are never read back). A consumer joins the group once, keeps every partition
 * paused (it never fetches) and commits with the group's generation; a grown topic set makes it join
 * again. (KafkaJS's admin.setOffsets would join and leave the group on every commit.)
 */
export class KafkaOffsetCommitter {
  private consumer: KafkaConsumerLike | undefined;
  private topics = new Set<string>();

  constructor(
    private readonly client: KafkaClientLike,
    private readonly groupId: string,
  ) {}

  async commit(offsets: ReadonlyArray<{ topic: string; partition: number; offset: string }>): Promise<void> {
    if (offsets.length === 0) return;
    const consumer = await this.ensure(new Set(offsets.map((o) => o.topic)));
    await consumer.commitOffsets(offsets.map((o) => ({ ...o })));
  }

  private async ensure(topics: ReadonlySet<string>): Promise<KafkaConsumerLike> {
    if (this.consumer && [...topics].every((t) => this.topics.has(t))) return this.consumer;
    await this.close();
    const all = new Set([...this.topics, ...topics]);
    const consumer = this.client.consumer({
      groupId: this.groupId,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 1_000,
      retry: defaultRetry(),
    });
    const pauseAll = () => {
      try {
        consumer.pause([...all].map((topic) => ({ topic })));
      } catch {
        // restarting: paused again on the next join
      }
    };
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [...all] });
      const join = consumer.events?.GROUP_JOIN;
      if (join && consumer.on) {
        (consumer.on as unknown as (event: string, listener: () => void) => unknown).call(consumer, join, pauseAll);
      }
      await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: async () => pauseAll() });
      pauseAll();
    } catch (error) {
      await consumer.disconnect().catch(() => {});
      throw error;
    }
    this.consumer = consumer;
    this.topics = all;
    return consumer;
  }

  async close(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = undefined;
    if (consumer) await consumer.disconnect().catch(() => {});
  }
}
