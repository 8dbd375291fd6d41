// KafkaSource: Kafka topics as a replayable, partitioned source with Spark's Kafka source semantics
// (KIG; streaming-semantics.md §1.10). The offsets of record live in the query's checkpoint (offsets/N),
// never in Kafka: a restart resumes from the checkpoint and re-reads a planned range exactly. Kafka
// consumer-group offsets are written only for lag monitoring when a groupId is given (KDI-style).
//
// - Partition ids are '<topic>-<partition>'; offsets are decimal strings (the next offset to read).
// - startingOffsets applies to a new query only and is resolved to concrete offsets once, kept in the
//   source's checkpoint area (sources/0/kafka-initial-offsets.json) so that a crash before offsets/0
//   starts from the same place. Partitions discovered later (a topic grew, or a new topic matched
//   topicPattern) start at their earliest offset, as in Spark.
// - maxOffsetsPerTrigger caps a batch, split across partitions in proportion to their lag (Spark's
//   rateLimit). Trigger.availableNow reads up to the high watermarks seen when the run started.
// - read() returns exactly the records of [start, end) in offset order (see kafka-client.ts for how one
//   consumer reads exact ranges), one RowGroup per partition with rows
//   { key, value, topic, partition, offset, timestamp, headers }.
// - Retention: a start offset below the partition's earliest available offset means records were lost.
//   failOnDataLoss (default true) fails with SOURCE_DATA_LOST; false skips to the earliest offset,
//   counts the skipped records in metrics().numRecordsLost and warns.
// - Isolation: read_committed (KafkaJS's default): offsets end at the last stable offset, aborted
//   records are skipped and transaction markers occupy offsets without producing rows.

import { randomUUID } from 'node:crypto';
import type { ConnectionOptions } from 'node:tls';
import type { SASLOptions } from 'kafkajs';
import { hasCode } from '../../common/errors.js';
import type { DataType, StructField, StructType } from '../../sinks/schema.js';
import type { PartitionRange } from '../checkpoint-log.js';
import { SourceError, StreamArgumentError } from '../errors.js';
import type { PartitionOffsets, Source, SourceContext, SourceMetrics } from '../source.js';
import type { Row, RowGroup } from '../types.js';
import {
  classifyKafkaError,
  createKafkaClient,
  defaultRetry,
  type KafkaAdminLike,
  type KafkaClientLike,
  type KafkaHeadersLike,
  type KafkaMessageLike,
  KafkaOffsetCommitter,
  KafkaRangeReader,
  type KafkaRangeRequest,
  unavailable,
} from './kafka-client.js';
import { parseOffset } from './offsets.js';

/** Spark's startingOffsets: 'earliest', 'latest', or per topic and partition (-2 = earliest, -1 = latest). */
export type KafkaStartingOffsets =
  | 'earliest'
  | 'latest'
  | Readonly<Record<string, Readonly<Record<string | number, number>>>>;

export type KafkaDataFormat = 'string' | 'bytes';

export interface KafkaSourceOptions {
  /** Bootstrap brokers ('host:port'), or a KafkaJS-compatible client (then ssl/sasl/timeouts are its own). */
  brokers: string[] | KafkaClientLike;
  /** Topics to read (exactly one of topics and topicPattern). */
  topics?: readonly string[];
  /**
   * Topics whose whole name matches the pattern (Spark's subscribePattern; internal topics starting
   * with '__' are never matched). Checked again at every trigger: new topics start at earliest.
   */
  topicPattern?: RegExp;
  /** Where a new query starts. Default 'latest'. */
  startingOffsets?: KafkaStartingOffsets;
  /** Cap on the records of one batch, split across partitions in proportion to their lag. */
  maxOffsetsPerTrigger?: number;
  /**
   * Spark's minOffsetsPerTrigger: a trigger with fewer new records than this waits (no batch) until
   * enough arrive or maxTriggerDelayMs passed since the last batch — larger files and fewer commits
   * without giving up latency bounds. Ignored by Trigger.availableNow and once.
   */
  minOffsetsPerTrigger?: number;
  /** With minOffsetsPerTrigger: the longest wait between batches while records are available (ms). Default 15 min. */
  maxTriggerDelayMs?: number;
  /** Fail (SOURCE_DATA_LOST) when records to read were deleted by retention. Default true. */
  failOnDataLoss?: boolean;
  clientId?: string;
  /** A consumer group to commit processed offsets to, for lag monitoring only (never read back). */
  groupId?: string;
  /** Fetch limits (KafkaJS maxBytes: per fetch; maxBytesPerPartition: per partition and fetch). */
  maxBytes?: number;
  maxBytesPerPartition?: number;
  /**
   * Between batches, the partitions just read keep being fetched into a buffer of at most this many
   * bytes of keys and values (plus one fetch), which the next batch takes first. 0 turns it off.
   * Default 64 MiB.
   */
  readAheadBytes?: number;
  ssl?: ConnectionOptions | boolean;
  sasl?: SASLOptions;
  /** TCP connect timeout (ms). Default 3000. */
  connectionTimeout?: number;
  /** Broker request timeout (ms). Default 10 000. */
  requestTimeout?: number;
  /** How the record key is given: a UTF-8 string (default) or bytes (Uint8Array). */
  keyFormat?: KafkaDataFormat;
  /** How the record value is given: a UTF-8 string (default) or bytes (Uint8Array). */
  valueFormat?: KafkaDataFormat;
  /**
   * Keys and values of format 'string' are given undecoded: as their UTF-8 bytes (Uint8Array views of
   * the fetched data, not copies), while the schema still says string. For a consumer that decodes
   * them itself, elsewhere (the ingest daemon's worker threads, cli/ingest/parallel). Default false.
   */
  undecodedText?: boolean;
  /** A read that makes no progress for this long fails with SOURCE_UNAVAILABLE (retryable). Default 60 000 ms. */
  readTimeoutMs?: number;
}

/** Offsets of one partition as the broker reports them. */
interface PartitionWatermarks {
  topic: string;
  partition: number;
  /** Earliest available offset. */
  low: number;
  /** Next offset to be written (last stable offset under read_committed). */
  high: number;
}

const INITIAL_OFFSETS_KEY = 'kafka-initial-offsets.json';
const COMMIT_FLUSH_MS = 10_000;
/** Spark's default maxTriggerDelay. */
const DEFAULT_MAX_TRIGGER_DELAY_MS = 15 * 60_000;

const field = (name: string, type: DataType, nullable = true): StructField => ({ name, type, nullable, metadata: {} });

/** The partition id of a topic partition. */
export function kafkaPartitionId(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

/** The client of a source's options: the given KafkaJS-compatible client, or a kafkajs one for the brokers. */
export function kafkaClientOf(o: KafkaSourceOptions): KafkaClientLike {
  return Array.isArray(o.brokers)
    ? createKafkaClient({
        brokers: o.brokers,
        ...(o.clientId !== undefined ? { clientId: o.clientId } : {}),
        ...(o.ssl !== undefined ? { ssl: o.ssl } : {}),
        ...(o.sasl !== undefined ? { sasl: o.sasl } : {}),
        ...(o.connectionTimeout !== undefined ? { connectionTimeout: o.connectionTimeout } : {}),
        ...(o.requestTimeout !== undefined ? { requestTimeout: o.requestTimeout } : {}),
      })
    : (o.brokers as KafkaClientLike);
}

/** Splits '<topic>-<partition>' (topics may contain '-'). */
export function parseKafkaPartitionId(id: string): { topic: string; partition: number } {
  const at = id.lastIndexOf('-');
  const partition = at > 0 ? Number(id.slice(at + 1)) : Number.NaN;
  if (!Number.isSafeInteger(partition) || partition < 0 || id.slice(at + 1) !== String(partition)) {
    throw new SourceError('SOURCE_OFFSET_INVALID', `'${id}' is not a Kafka partition id ('<topic>-<partition>')`, {
      context: { partition: id },
    });
  }
  return { topic: id.slice(0, at), partition };
}

function decode(bytes: Buffer | null, format: KafkaDataFormat, undecodedText: boolean): string | Uint8Array | null {
  if (bytes === null || bytes === undefined) return null;
  if (format === 'bytes') return new Uint8Array(bytes);
  return undecodedText ? bytes : bytes.toString('utf8');
}

/** Header values as UTF-8 strings; a repeated header keeps its last value. */
function headersOf(headers: KafkaHeadersLike | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  for (const [name, raw] of Object.entries(headers)) {
    const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
    if (value === undefined) continue;
    Object.defineProperty(out, name, {
      value: typeof value === 'string' ? value : value.toString('utf8'),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

function checkCount(name: string, value: number | undefined, min = 1): void {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < min)) {
    throw new StreamArgumentError(`KafkaSource ${name} must be an integer >= ${min}, got ${value}`, { option: name });
  }
}

export class KafkaSource implements Source {
  readonly description: string;
  readonly schema: StructType;
  private readonly failOnDataLoss: boolean;
  private readonly keyFormat: KafkaDataFormat;
  private readonly valueFormat: KafkaDataFormat;
  private readonly undecodedText: boolean;
  private readonly brokersText: string;
  private readonly pattern: RegExp | undefined;

  private ctx: SourceContext | undefined;
  private client: KafkaClientLike | undefined;
  private admin: KafkaAdminLike | undefined;
  private reader: KafkaRangeReader<Row> | undefined;
  private closed = false;

  /** The resolved startingOffsets (a new query's start), once asked for. */
  private initial: Record<string, string> | undefined;
  /** Start offsets of partitions discovered after the query started (their earliest offset then). */
  private readonly discovered: Record<string, string> = {};
  /** High watermarks seen last, per partition. */
  private readonly latest: Record<string, string> = {};
  /** The end of the last committed batch (for the offsets-behind-latest metrics). */
  private committedEnd: PartitionOffsets = {};
  private numRecordsLost = 0;
  /** When nextOffsets last let a batch through under minOffsetsPerTrigger. */
  private lastTriggerMs: number | undefined;
  private readonly warnedGone = new Set<string>();

  private committer: KafkaOffsetCommitter | undefined;
  private pendingCommit: PartitionOffsets | undefined;
  private commitLoop: Promise<void> | undefined;

  constructor(private readonly options: KafkaSourceOptions) {
    const { topics, topicPattern } = options;
    if ((topics === undefined) === (topicPattern === undefined)) {
      throw new StreamArgumentError('KafkaSource needs exactly one of topics and topicPattern', {
        option: topics === undefined ? 'topics' : 'topicPattern',
      });
    }
    if (topics !== undefined) {
      if (topics.length === 0 || topics.some((t) => typeof t !== 'string' || t.length === 0)) {
        throw new StreamArgumentError('KafkaSource topics must be a non-empty list of topic names', {
          option: 'topics',
        });
      }
    }
    if (topicPattern !== undefined) {
      if (!(topicPattern instanceof RegExp)) {
        throw new StreamArgumentError('KafkaSource topicPattern must be a RegExp', { option: 'topicPattern' });
      }
      this.pattern = new RegExp(`^(?:${topicPattern.source})$`, topicPattern.flags.replace(/[gy]/g, ''));
    }
    if (Array.isArray(options.brokers)) {
      if (options.brokers.length === 0 || options.brokers.some((b) => typeof b !== 'string' || b.length === 0)) {
        throw new StreamArgumentError('KafkaSource brokers must be a non-empty list of host:port', {
          option: 'brokers',
        });
      }
      this.brokersText = options.brokers.join(',');
    } else if (options.brokers && typeof options.brokers.admin === 'function') {
      this.brokersText = 'of the given client';
    } else {
      throw new StreamArgumentError('KafkaSource brokers must be a list of host:port or a KafkaJS-compatible client', {
        option: 'brokers',
      });
    }
    checkCount('maxOffsetsPerTrigger', options.maxOffsetsPerTrigger);
    checkCount('minOffsetsPerTrigger', options.minOffsetsPerTrigger);
    checkCount('maxTriggerDelayMs', options.maxTriggerDelayMs);
    if (
      options.minOffsetsPerTrigger !== undefined &&
      options.maxOffsetsPerTrigger !== undefined &&
      options.minOffsetsPerTrigger > options.maxOffsetsPerTrigger
    ) {
      throw new StreamArgumentError(
        `KafkaSource minOffsetsPerTrigger (${options.minOffsetsPerTrigger}) must not exceed maxOffsetsPerTrigger (${options.maxOffsetsPerTrigger})`,
        { option: 'minOffsetsPerTrigger' },
      );
    }
    checkCount('maxBytes', options.maxBytes);
    checkCount('maxBytesPerPartition', options.maxBytesPerPartition);
    checkCount('readAheadBytes', options.readAheadBytes, 0);
    checkCount('readTimeoutMs', options.readTimeoutMs);
    for (const name of ['keyFormat', 'valueFormat'] as const) {
      const format = options[name];
      if (format !== undefined && format !== 'string' && format !== 'bytes') {
        throw new StreamArgumentError(`KafkaSource ${name} must be 'string' or 'bytes', got ${String(format)}`, {
          option: name,
        });
      }
    }
    const starting = options.startingOffsets ?? 'latest';
    if (typeof starting === 'string') {
      if (starting !== 'earliest' && starting !== 'latest') {
        throw new StreamArgumentError(
          `KafkaSource startingOffsets must be 'earliest', 'latest' or {topic: {partition: offset}}, got '${starting}'`,
          { option: 'startingOffsets' },
        );
      }
    } else if (typeof starting !== 'object' || starting === null) {
      throw new StreamArgumentError('KafkaSource startingOffsets must be a string or an object', {
        option: 'startingOffsets',
      });
    } else {
      for (const [topic, partitions] of Object.entries(starting)) {
        for (const [partition, offset] of Object.entries(partitions)) {
          if (!/^\d+$/.test(partition) || !Number.isSafeInteger(offset) || offset < -2) {
            throw new StreamArgumentError(
              `KafkaSource startingOffsets['${topic}']['${partition}'] must be an offset >= 0, -1 (latest) or -2 (earliest), got ${offset}`,
              { option: 'startingOffsets', topic, partition },
            );
          }
        }
      }
    }
    this.failOnDataLoss = options.failOnDataLoss ?? true;
    this.keyFormat = options.keyFormat ?? 'string';
    this.valueFormat = options.valueFormat ?? 'string';
    this.undecodedText = options.undecodedText ?? false;
    this.description = `KafkaSource[${topics ? topics.join(',') : `pattern ${String(topicPattern)}`}]`;
    const binary = (format: KafkaDataFormat): DataType => (format === 'bytes' ? 'binary' : 'string');
    this.schema = {
      type: 'struct',
      fields: [
        field('key', binary(this.keyFormat)),
        field('value', binary(this.valueFormat)),
        field('topic', 'string', false),
        field('partition', 'integer', false),
        field('offset', 'long', false),
        field('timestamp', 'timestamp', false),
        field('headers', { type: 'map', keyType: 'string', valueType: 'string', valueContainsNull: true }, false),
      ],
    };
  }

  async open(ctx: SourceContext): Promise<void> {
    this.ctx = ctx;
    this.client = kafkaClientOf(this.options);
    this.admin = await this.connectAdmin();
    await this.resolveTopics();
  }

  private get adminClient(): KafkaAdminLike {
    if (!this.admin || this.closed) {
      throw new SourceError('SOURCE_CLOSED', `${this.description} is not open`, {});
    }
    return this.admin;
  }

  /**
   * The subscribed topics that exist now, with their partition counts (topics: all of them or
   * SOURCE_NOT_FOUND; pattern: the matches). Fresh metadata on every call, so grown topics are seen.
   */
  private async resolveTopics(): Promise<Map<string, number>> {
    let metadata: Awaited<ReturnType<KafkaAdminLike['fetchTopicMetadata']>>;
    try {
      metadata = await this.adminClient.fetchTopicMetadata();
    } catch (error) {
      throw unavailable(error, this.brokersText, `${this.description} could not list topics`);
    }
    const counts = new Map(metadata.topics.map((t) => [t.name, t.partitions.length] as const));
    const out = new Map<string, number>();
    if (this.options.topics) {
      const missing = this.options.topics.filter((t) => !counts.has(t));
      if (missing.length > 0) throw this.notFound(missing);
      for (const topic of this.options.topics) out.set(topic, counts.get(topic)!);
      return out;
    }
    const pattern = this.pattern!;
    for (const name of [...counts.keys()].sort()) {
      if (!name.startsWith('__') && pattern.test(name)) out.set(name, counts.get(name)!);
    }
    return out;
  }

  private notFound(topics: readonly string[]): SourceError {
    return new SourceError(
      'SOURCE_NOT_FOUND',
      `${this.description}: Kafka topic${topics.length > 1 ? 's' : ''} ${topics.map((t) => `'${t}'`).join(', ')} ` +
        `not found on brokers ${this.brokersText}`,
      { context: { topics: [...topics], brokers: this.brokersText } },
    );
  }

  /**
   * Low and high watermarks of every partition of the topics (topic → partitions expected at least),
   * keyed by partition id. A client whose cached metadata misses partitions (KafkaJS refreshes it only
   * every few minutes) is replaced once by a fresh one.
   */
  private async watermarks(topics: ReadonlyMap<string, number>): Promise<Map<string, PartitionWatermarks>> {
    const fetch = (admin: KafkaAdminLike) =>
      Promise.all(
        [...topics.keys()].map(async (topic) => {
          try {
            return { topic, offsets: await admin.fetchTopicOffsets(topic) };
          } catch (error) {
            if (classifyKafkaError(error) === 'not-found') throw this.notFound([topic]);
            throw unavailable(
              error,
              this.brokersText,
              `${this.description} could not fetch offsets of topic '${topic}'`,
            );
          }
        }),
      );
    const stale = (result: Awaited<ReturnType<typeof fetch>>) =>
      result.some(({ topic, offsets }) => offsets.length < (topics.get(topic) ?? 0));
    let perTopic = await fetch(this.adminClient);
    if (stale(perTopic)) perTopic = await fetch(await this.freshAdmin());
    const out = new Map<string, PartitionWatermarks>();
    for (const { topic, offsets } of perTopic) {
      for (const p of [...offsets].sort((a, b) => a.partition - b.partition)) {
        const id = kafkaPartitionId(topic, p.partition);
        const w = { topic, partition: p.partition, low: Number(p.low), high: Number(p.high) };
        out.set(id, w);
        this.latest[id] = String(w.high);
      }
    }
    return out;
  }

  /** Replaces the admin client (its metadata cache is stale). */
  private async freshAdmin(): Promise<KafkaAdminLike> {
    const admin = await this.connectAdmin();
    const old = this.admin;
    this.admin = admin;
    await old?.disconnect().catch(() => {});
    return admin;
  }

  private async connectAdmin(): Promise<KafkaAdminLike> {
    if (!this.client) throw new SourceError('SOURCE_CLOSED', `${this.description} is not open`, {});
    const admin = this.client.admin({ retry: defaultRetry() });
    try {
      await admin.connect();
    } catch (error) {
      await admin.disconnect().catch(() => {});
      throw unavailable(error, this.brokersText, `${this.description} could not connect`);
    }
    return admin;
  }

  private dataLostError(message: string, context: Record<string, unknown>): SourceError {
    return new SourceError(
      'SOURCE_DATA_LOST',
      `${this.description}: ${message}. Records were deleted by retention (or the topic was deleted or recreated) ` +
        'before the query read them. To skip lost records and continue, set failOnDataLoss: false.',
      { context },
    );
  }

  /** Records [from, to) of a partition are gone: fail (failOnDataLoss) or count, warn and skip. */
  private lost(topic: string, partition: number, from: number, to: number, earliest: number): void {
    const count = to - from;
    if (count <= 0) return;
    const where = `Kafka topic '${topic}' partition ${partition}`;
    const context = { topic, partition, requestedOffset: from, earliestOffset: earliest, lost: count };
    if (this.failOnDataLoss) {
      throw this.dataLostError(
        `${where}: offset ${from} is no longer available (the earliest available offset is ${earliest}; ${count} record${count === 1 ? '' : 's'} lost)`,
        context,
      );
    }
    this.numRecordsLost += count;
    this.ctx?.warn(
      `${this.description}: ${where}: offsets ${from}..${to - 1} were deleted by retention before they were read; ` +
        `skipped ${count} record${count === 1 ? '' : 's'} (failOnDataLoss: false)`,
      context,
    );
  }

  /** Other data loss (a partition vanished, offsets went backwards): fail or warn once. */
  private lostOther(key: string, message: string, context: Record<string, unknown>): void {
    if (this.failOnDataLoss) throw this.dataLostError(message, context);
    if (this.warnedGone.has(key)) return;
    this.warnedGone.add(key);
    this.ctx?.warn(`${this.description}: ${message} (failOnDataLoss: false, continuing)`, context);
  }

  async initialOffsets(): Promise<PartitionOffsets> {
    if (this.initial === undefined && Object.keys(this.discovered).length === 0) {
      this.initial = await this.loadInitial();
    }
    return { ...(this.initial ?? {}), ...this.discovered };
  }

  /** startingOffsets resolved once per checkpoint (kept in the source's checkpoint area). */
  private async loadInitial(): Promise<Record<string, string>> {
    const metadata = this.ctx!.metadata;
    const read = async (): Promise<Record<string, string> | undefined> => {
      let bytes: Uint8Array;
      try {
        bytes = await metadata.get(INITIAL_OFFSETS_KEY);
      } catch (error) {
        if (hasCode(error, 'OBJECT_NOT_FOUND')) return undefined;
        throw error;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(new TextDecoder().decode(bytes));
      } catch {
        parsed = undefined;
      }
      const offsets = (parsed as { version?: unknown; offsets?: unknown } | undefined)?.offsets;
      if (
        (parsed as { version?: unknown } | undefined)?.version !== 1 ||
        typeof offsets !== 'object' ||
        offsets === null ||
        Object.values(offsets).some((v) => typeof v !== 'string')
      ) {
        throw new SourceError(
          'SOURCE_METADATA_CORRUPT',
          `${this.description}: ${INITIAL_OFFSETS_KEY} in ${metadata.location} is not {"version":1,"offsets":{...}}`,
          { context: { location: metadata.location, key: INITIAL_OFFSETS_KEY } },
        );
      }
      return offsets as Record<string, string>;
    };
    const stored = await read();
    if (stored) return stored;
    const resolved = await this.resolveStartingOffsets();
    const outcome = await metadata.putIfAbsent(
      INITIAL_OFFSETS_KEY,
      new TextEncoder().encode(JSON.stringify({ version: 1, offsets: resolved })),
    );
    return outcome === 'created' ? resolved : ((await read()) ?? resolved);
  }

  private async resolveStartingOffsets(): Promise<Record<string, string>> {
    const topics = await this.resolveTopics();
    const marks = await this.watermarks(topics);
    const starting = this.options.startingOffsets ?? 'latest';
    const out: Record<string, string> = {};
    if (typeof starting === 'string') {
      for (const [id, w] of marks) out[id] = String(starting === 'earliest' ? w.low : w.high);
      return out;
    }
    const subscribed = new Set(topics.keys());
    const unknown = Object.keys(starting).filter((t) => !subscribed.has(t));
    if (unknown.length > 0) {
      throw new StreamArgumentError(
        `KafkaSource startingOffsets names topic${unknown.length > 1 ? 's' : ''} ${unknown.map((t) => `'${t}'`).join(', ')} ` +
          `that ${unknown.length > 1 ? 'are' : 'is'} not subscribed or does not exist (subscribed: ${[...subscribed].join(', ') || 'none'})`,
        { option: 'startingOffsets', topics: unknown },
      );
    }
    const missing: string[] = [];
    for (const [id, w] of marks) {
      const given = starting[w.topic]?.[String(w.partition)];
      if (given === undefined) {
        missing.push(id);
        continue;
      }
      out[id] = String(given === -2 ? w.low : given === -1 ? w.high : given);
    }
    const extra = Object.entries(starting).flatMap(([topic, partitions]) =>
      Object.keys(partitions)
        .map((p) => kafkaPartitionId(topic, Number(p)))
        .filter((id) => !marks.has(id)),
    );
    if (missing.length > 0 || extra.length > 0) {
      throw new StreamArgumentError(
        'KafkaSource startingOffsets with specific offsets must name every partition of the subscribed topics ' +
          '(use -2 for earliest, -1 for latest)' +
          (missing.length > 0 ? `; missing: ${missing.join(', ')}` : '') +
          (extra.length > 0 ? `; not existing: ${extra.join(', ')}` : ''),
        { option: 'startingOffsets', missing, extra },
      );
    }
    return out;
  }

  async nextOffsets(start: PartitionOffsets, limit?: PartitionOffsets): Promise<PartitionOffsets> {
    const topics = await this.resolveTopics();
    const marks = await this.watermarks(topics);
    const out: Record<string, string> = { ...start };
    /** Per partition with possible data: where the batch can begin and the furthest it may end. */
    const spans = new Map<string, { begin: number; until: number }>();

    for (const [id, text] of Object.entries(start)) {
      const w = marks.get(id);
      if (!w) {
        const { topic, partition } = parseKafkaPartitionId(id);
        this.lostOther(
          `gone:${id}`,
          `Kafka topic '${topic}' partition ${partition} is gone (the topic was deleted${this.pattern ? ' or no longer matches' : ''}); its records after offset ${text} cannot be read`,
          { topic, partition, offset: text },
        );
        continue;
      }
      let begin = parseOffset(text, this.description);
      if (begin < w.low) {
        // Throws with failOnDataLoss; otherwise read() counts and skips the lost records.
        if (this.failOnDataLoss) this.lost(w.topic, w.partition, begin, w.low, w.low);
        begin = w.low;
      }
      if (begin > w.high) {
        this.lostOther(
          `back:${id}:${begin}`,
          `Kafka topic '${w.topic}' partition ${w.partition}: offset ${begin} is beyond the latest offset ${w.high} ` +
            '(the topic was recreated or truncated); records may have been missed',
          { topic: w.topic, partition: w.partition, offset: begin, latestOffset: w.high },
        );
        out[id] = String(w.high); // resume from the new end (the range [begin, high) reads nothing)
        continue;
      }
      spans.set(id, { begin, until: w.high });
    }

    for (const [id, w] of marks) {
      if (start[id] !== undefined || w.high <= w.low) continue;
      if (limit && limit[id] === undefined) continue; // availableNow covers the partitions known at its start
      this.discovered[id] ??= String(w.low);
      const begin = Math.max(parseOffset(this.discovered[id], this.description), w.low);
      spans.set(id, { begin, until: w.high });
    }

    if (limit) {
      for (const [id, span] of spans) {
        const cap = limit[id];
        span.until =
          cap === undefined
            ? span.begin
            : Math.min(span.until, Math.max(span.begin, parseOffset(cap, this.description)));
      }
    }

    const max = this.options.maxOffsetsPerTrigger;
    let total = 0;
    for (const span of spans.values()) total += Math.max(0, span.until - span.begin);
    const min = this.options.minOffsetsPerTrigger;
    if (min !== undefined && !limit && total > 0) {
      // Spark's delayed trigger: wait for minOffsetsPerTrigger new records, at most maxTriggerDelay.
      // As in Spark, the first trigger of a run is never delayed.
      const now = this.ctx!.now();
      const delay = this.options.maxTriggerDelayMs ?? DEFAULT_MAX_TRIGGER_DELAY_MS;
      if (total < min && this.lastTriggerMs !== undefined && now - this.lastTriggerMs < delay) return { ...start };
      this.lastTriggerMs = now;
    }
    for (const [id, span] of spans) {
      let end = span.until;
      const size = span.until - span.begin;
      if (max !== undefined && total > max && size > 0) {
        // Spark's rateLimit: a share of the cap in proportion to the partition's lag.
        const prorate = (max * size) / total;
        const share = prorate < 1 ? Math.ceil(prorate) : Math.floor(prorate);
        end = Math.min(span.until, span.begin + share);
      }
      const from = start[id] === undefined ? undefined : parseOffset(start[id], this.description);
      if (from === undefined) {
        if (end > span.begin) out[id] = String(end);
      } else if (end > from) out[id] = String(end);
    }
    return out;
  }

  async availableNow(): Promise<PartitionOffsets> {
    const marks = await this.watermarks(await this.resolveTopics());
    const out: Record<string, string> = {};
    for (const [id, w] of marks) out[id] = String(w.high);
    return out;
  }

  async read(ranges: Readonly<Record<string, PartitionRange>>): Promise<RowGroup[]> {
    const parsed = Object.entries(ranges).map(([id, range]) => ({
      id,
      ...parseKafkaPartitionId(id),
      start: parseOffset(range.start, this.description),
      end: parseOffset(range.end, this.description),
    }));
    const topics = new Map<string, number>();
    for (const r of parsed) {
      if (r.end > r.start) topics.set(r.topic, Math.max(topics.get(r.topic) ?? 0, r.partition + 1));
    }
    const marks = topics.size > 0 ? await this.watermarks(topics) : new Map<string, PartitionWatermarks>();
    const counts = new Map<string, number>();
    for (const w of marks.values()) counts.set(w.topic, Math.max(counts.get(w.topic) ?? 0, w.partition + 1));

    const requests: KafkaRangeRequest[] = [];
    for (const r of parsed) {
      if (r.end <= r.start) continue;
      const w = marks.get(r.id);
      if (!w) {
        this.lostOther(
          `gone:${r.id}`,
          `Kafka topic '${r.topic}' partition ${r.partition} is gone; offsets ${r.start}..${r.end - 1} cannot be read`,
          { topic: r.topic, partition: r.partition, start: r.start, end: r.end },
        );
        continue;
      }
      let { start, end } = r;
      if (start < w.low) {
        const to = Math.min(end, w.low);
        this.lost(r.topic, r.partition, start, to, w.low);
        start = to;
      }
      if (end > w.high) {
        this.lostOther(
          `beyond:${r.id}:${end}`,
          `Kafka topic '${r.topic}' partition ${r.partition}: the planned range ends at offset ${end}, beyond the latest offset ${w.high} ` +
            '(the topic was recreated or truncated)',
          { topic: r.topic, partition: r.partition, end, latestOffset: w.high },
        );
        end = Math.max(start, w.high);
      }
      if (end > start) requests.push({ topic: r.topic, partition: r.partition, start, end });
    }

    const records = requests.length > 0 ? await this.rangeReader().read(requests, counts) : new Map<string, Row[]>();
    return parsed.map((r) => ({ partition: r.id, rows: records.get(r.id) ?? [] }));
  }

  private rangeReader(): KafkaRangeReader<Row> {
    if (this.closed || !this.client) throw new SourceError('SOURCE_CLOSED', `${this.description} is not open`, {});
    if (!this.reader) {
      const o = this.options;
      this.reader = new KafkaRangeReader(
        this.client,
        {
          groupId: `lakestream-source-${this.ctx?.queryId ?? 'query'}-${randomUUID()}`,
          brokers: this.brokersText,
          ...(o.maxBytes !== undefined ? { maxBytes: o.maxBytes } : {}),
          ...(o.maxBytesPerPartition !== undefined ? { maxBytesPerPartition: o.maxBytesPerPartition } : {}),
          ...(o.readTimeoutMs !== undefined ? { timeoutMs: o.readTimeoutMs } : {}),
          ...(o.readAheadBytes !== undefined ? { readAheadBytes: o.readAheadBytes } : {}),
        },
        {
          record: (topic, partition, message) => this.toRow(topic, partition, message),
          lowWatermark: async (topic, partition) => {
            const marks = await this.watermarks(new Map([[topic, partition + 1]]));
            return marks.get(kafkaPartitionId(topic, partition))?.low ?? 0;
          },
          onLoss: (topic, partition, from, to, earliest) => this.lost(topic, partition, from, to, earliest),
        },
      );
    }
    return this.reader;
  }

  private toRow(topic: string, partition: number, m: KafkaMessageLike): Row {
    return {
      key: decode(m.key, this.keyFormat, this.undecodedText),
      value: decode(m.value, this.valueFormat, this.undecodedText),
      topic,
      partition,
      offset: Number(m.offset),
      timestamp: new Date(Number(m.timestamp)),
      headers: headersOf(m.headers),
    };
  }

  async commit(end: PartitionOffsets): Promise<void> {
    this.committedEnd = { ...end };
    if (this.options.groupId === undefined || this.closed) return;
    this.pendingCommit = { ...end };
    this.commitLoop ??= this.commitToKafka().finally(() => {
      this.commitLoop = undefined;
    });
  }

  /** Commits the newest processed offsets to the monitoring group, in the background (failures warn). */
  private async commitToKafka(): Promise<void> {
    const groupId = this.options.groupId!;
    while (this.pendingCommit !== undefined && this.client) {
      const end = this.pendingCommit;
      this.pendingCommit = undefined;
      const offsets = Object.entries(end).map(([id, offset]) => ({ ...parseKafkaPartitionId(id), offset }));
      try {
        this.committer ??= new KafkaOffsetCommitter(this.client, groupId);
        await this.committer.commit(offsets);
      } catch (error) {
        this.ctx?.warn(
          `${this.description}: committing offsets to consumer group '${groupId}' for lag monitoring failed ` +
            '(the checkpoint holds the offsets of record; nothing is lost)',
          { groupId, message: (error as Error).message },
        );
      }
    }
  }

  metrics(): SourceMetrics {
    const behind: number[] = [];
    for (const [id, latest] of Object.entries(this.latest)) {
      const at = this.committedEnd[id];
      if (at !== undefined) behind.push(Math.max(0, Number(latest) - Number(at)));
    }
    const metrics: SourceMetrics = { latestOffset: { ...this.latest }, numRecordsLost: this.numRecordsLost };
    if (behind.length > 0) {
      metrics.minOffsetsBehindLatest = Math.min(...behind);
      metrics.maxOffsetsBehindLatest = Math.max(...behind);
      metrics.avgOffsetsBehindLatest = behind.reduce((a, b) => a + b, 0) / behind.length;
    }
    return metrics;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    const flush = this.commitLoop;
    if (flush) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([flush, new Promise<void>((r) => (timer = setTimeout(r, COMMIT_FLUSH_MS)))]);
      clearTimeout(timer);
    }
    this.closed = true;
    const reader = this.reader;
    this.reader = undefined;
    await reader?.close();
    const committer = this.committer;
    this.committer = undefined;
    await committer?.close();
    const admin = this.admin;
    this.admin = undefined;
    await admin?.disconnect().catch(() => {});
  }
}
