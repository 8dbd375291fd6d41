// KafkaDeadLetters: a query's dead letters produced to a Kafka topic (Kafka Connect's DLQ convention:
// the raw record value as the message value, the error and the source coordinates in headers).
//
// Delivery is AT LEAST ONCE: the letters of batch N are produced before the query's sink commit, so a
// crash after producing and before the commit produces them again when batch N is replayed (with the
// same content). Every message is keyed `<queryId>/<batchId>/<index>` (index: position of the letter
// within the batch, stable across replays) and carries the same ids in headers, so consumers dedupe
// by key. Within one run, the idempotent producer (acks = all) keeps broker-side retries from
// duplicating messages.

import type { ConnectionOptions } from 'node:tls';
import { type IHeaders, Kafka, logLevel, type Message, type Producer, type SASLOptions } from 'kafkajs';
import { LakestreamError } from '../common/errors.js';
import type { DeadLetterRecord, DeadLetterSink } from './dead-letters.js';
import { classifyKafkaError, defaultRetry, rootMessage } from './sources/kafka-client.js';

/** Where a rejected row came from, and its raw value (see DeltaDeadLetters' origin). */
export interface KafkaDeadLetterOrigin {
  topic: string | null;
  partition: number | null;
  offset: number | null;
  value: string | null;
  timestamp: Date | null;
}

export interface KafkaDeadLettersOptions {
  brokers: string[];
  /** The dead-letter topic; it must exist (open fails with DEAD_LETTERS_NOT_FOUND). */
  topic: string;
  clientId?: string;
  ssl?: ConnectionOptions | boolean;
  sasl?: SASLOptions;
  /** Reads the origin of a rejected row. Default: its topic, partition, offset, value, timestamp columns. */
  origin?: (row: Readonly<Record<string, unknown>>) => KafkaDeadLetterOrigin;
  /** Messages per produce request. Default 5000. */
  chunkSize?: number;
}

/** Header names of a dead-letter message. */
export const DEAD_LETTER_HEADERS = Object.freeze({
  queryId: 'lakestream.query_id',
  batchId: 'lakestream.batch_id',
  index: 'lakestream.index',
  operator: 'lakestream.operator',
  reason: 'lakestream.reason',
  topic: 'lakestream.source.topic',
  partition: 'lakestream.source.partition',
  offset: 'lakestream.source.offset',
  timestamp: 'lakestream.source.timestamp',
});

/** DEAD_LETTERS_NOT_FOUND (no such topic), DEAD_LETTERS_UNAVAILABLE (retryable), DEAD_LETTERS_FAILED. */
export class DeadLetterError extends LakestreamError {
  constructor(
    code: 'DEAD_LETTERS_NOT_FOUND' | 'DEAD_LETTERS_UNAVAILABLE' | 'DEAD_LETTERS_FAILED',
    message: string,
    options: { cause?: unknown; context?: Record<string, unknown> } = {},
  ) {
    const retryable = code === 'DEAD_LETTERS_UNAVAILABLE';
    super(message, {
      code,
      retryable,
      domain: retryable ? 'external' : 'user',
      ...(options.cause !== undefined ? { cause: options.cause } : {}),
      ...(options.context ? { context: options.context } : {}),
    });
  }
}

function textOf(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
}

function defaultOrigin(row: Readonly<Record<string, unknown>>): KafkaDeadLetterOrigin {
  const num = (v: unknown) => (typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : null);
  return {
    topic: typeof row.topic === 'string' ? row.topic : null,
    partition: num(row.partition),
    offset: num(row.offset),
    value: row.value === undefined ? textOf(row) : textOf(row.value),
    timestamp: row.timestamp instanceof Date ? row.timestamp : null,
  };
}

/** Dead letters produced to a Kafka topic, at least once, keyed for deduplication. */
export class KafkaDeadLetters implements DeadLetterSink {
  readonly description: string;
  private producer: Producer | undefined;
  private queryId = '';
  private readonly origin: (row: Readonly<Record<string, unknown>>) => KafkaDeadLetterOrigin;

  constructor(private readonly options: KafkaDeadLettersOptions) {
    if (!options.topic) throw new DeadLetterError('DEAD_LETTERS_FAILED', 'KafkaDeadLetters needs a topic');
    this.description = `Kafka dead-letter topic '${options.topic}' on ${options.brokers.join(',')}`;
    this.origin = options.origin ?? defaultOrigin;
  }

  private fault(error: unknown, what: string): DeadLetterError {
    if (error instanceof DeadLetterError) return error;
    const kind = classifyKafkaError(error);
    const brokers = this.options.brokers.join(',');
    if (kind === 'not-found') {
      return new DeadLetterError(
        'DEAD_LETTERS_NOT_FOUND',
        `dead-letter topic '${this.options.topic}' not found on brokers ${brokers}`,
        { cause: error, context: { topic: this.options.topic } },
      );
    }
    const retryable = kind === 'unavailable' || (error as { retriable?: unknown } | null)?.retriable === true;
    return new DeadLetterError(
      retryable ? 'DEAD_LETTERS_UNAVAILABLE' : 'DEAD_LETTERS_FAILED',
      `${what} (dead-letter topic '${this.options.topic}' on ${brokers}): ${rootMessage(error)}`,
      { cause: error, context: { topic: this.options.topic } },
    );
  }

  async open(context: { queryId: string }): Promise<void> {
    this.queryId = context.queryId;
    const o = this.options;
    const kafka = new Kafka({
      brokers: o.brokers,
      clientId: o.clientId ?? 'lakestream-dead-letters',
      connectionTimeout: 3_000,
      requestTimeout: 30_000,
      retry: defaultRetry(5),
      logLevel: logLevel.NOTHING,
      ...(o.ssl !== undefined ? { ssl: o.ssl } : {}),
      ...(o.sasl !== undefined ? { sasl: o.sasl } : {}),
    });
    const admin = kafka.admin();
    try {
      await admin.connect();
      const metadata = await admin.fetchTopicMetadata();
      if (!metadata.topics.some((t) => t.name === o.topic)) {
        throw new DeadLetterError(
          'DEAD_LETTERS_NOT_FOUND',
          `dead-letter topic '${o.topic}' not found on brokers ${o.brokers.join(',')}`,
          { context: { topic: o.topic } },
        );
      }
    } catch (error) {
      throw this.fault(error, 'could not check the dead-letter topic');
    } finally {
      await admin.disconnect().catch(() => {});
    }
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    try {
      await producer.connect();
    } catch (error) {
      await producer.disconnect().catch(() => {});
      throw this.fault(error, 'could not connect the dead-letter producer');
    }
    this.producer = producer;
  }

  /** The message of the index-th letter of a batch. */
  message(batchId: number, index: number, letter: DeadLetterRecord): Message {
    const origin = this.origin(letter.row);
    const headers: IHeaders = {
      [DEAD_LETTER_HEADERS.queryId]: this.queryId,
      [DEAD_LETTER_HEADERS.batchId]: String(batchId),
      [DEAD_LETTER_HEADERS.index]: String(index),
      [DEAD_LETTER_HEADERS.operator]: letter.operator,
      [DEAD_LETTER_HEADERS.reason]: letter.reason,
    };
    if (origin.topic !== null) headers[DEAD_LETTER_HEADERS.topic] = origin.topic;
    if (origin.partition !== null) headers[DEAD_LETTER_HEADERS.partition] = String(origin.partition);
    if (origin.offset !== null) headers[DEAD_LETTER_HEADERS.offset] = String(origin.offset);
    if (origin.timestamp !== null) headers[DEAD_LETTER_HEADERS.timestamp] = String(origin.timestamp.getTime());
    return { key: `${this.queryId}/${batchId}/${index}`, value: origin.value, headers };
  }

  async write(batchId: number, letters: readonly DeadLetterRecord[]): Promise<void> {
    if (letters.length === 0) return;
    const producer = this.producer;
    if (!producer) throw new DeadLetterError('DEAD_LETTERS_FAILED', `${this.description} is not open`);
    const chunk = this.options.chunkSize ?? 5000;
    for (let at = 0; at < letters.length; at += chunk) {
      const messages = letters.slice(at, at + chunk).map((letter, i) => this.message(batchId, at + i, letter));
      try {
        await producer.send({ topic: this.options.topic, acks: -1, messages });
      } catch (error) {
        throw this.fault(error, `producing the dead letters of batch ${batchId} failed`);
      }
    }
  }

  async close(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await producer?.disconnect().catch(() => {});
  }
}
