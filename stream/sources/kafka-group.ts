// KafkaGroupSource: KafkaSource for one member of a consumer group of queries that share the work of
// the subscribed topics and write one table (scale-out, as kafka-delta-ingest does). Kafka's group
// protocol decides which member owns which partition; the table decides where each partition
// resumes. Each member:
// - joins the shared group with a membership consumer that never fetches (every partition paused):
//   it only learns the assignment (GROUP_JOIN), heartbeats, and commits the processed offsets of its
//   partitions to the group so that lag tools see them (never read back);
// - plans batches only for the partitions it owns; a partition it gains starts at the table's offset
//   of record for it (`offsetsOfRecord`, the sink's per-partition txn), or at startingOffsets when the
//   table has none; a partition it loses is simply no longer planned (nothing is buffered beyond a
//   batch, so there is nothing to drop);
// - reads every planned range exactly with the inner KafkaSource (a private reader that can read any
//   partition), so replays of its own checkpoint stay exact even for partitions that moved away.
// Exactly-once across members comes from the sink (sinks/delta/partition-transactions.ts): rows below
// the table's offset of their partition are dropped, and a concurrent commit of the same partition
// makes the batch run again. A member may therefore read a range another member already wrote
// (right after a rebalance); it never writes it twice.

import type { PartitionRange } from '../checkpoint-log.js';
import { SourceError, StreamArgumentError } from '../errors.js';
import type { PartitionOffsets, Source, SourceContext, SourceMetrics } from '../source.js';
import type { RowGroup } from '../types.js';
import {
  KafkaSource,
  type KafkaSourceOptions,
  kafkaClientOf,
  kafkaPartitionId,
  parseKafkaPartitionId,
} from './kafka.js';
import { type KafkaConsumerLike, unavailable } from './kafka-client.js';

export interface KafkaGroupOptions {
  /** The consumer group shared by every member (also where processed offsets are committed for lag tools). */
  groupId: string;
  /** The target's offsets of record per partition id (next offset to read), undefined when it has none. */
  offsetsOfRecord: (partitions: readonly string[]) => Promise<Record<string, string | undefined>>;
  /** Kafka session timeout: how long a dead member keeps its partitions (ms). Default 30 000. */
  sessionTimeoutMs?: number;
  /** Heartbeat interval (ms). Default 3 000 (a third of the session timeout at most). */
  heartbeatIntervalMs?: number;
}

type Listener = (event: { payload?: { memberAssignment?: Record<string, number[]> } }) => void;

export class KafkaGroupSource implements Source {
  readonly description: string;
  readonly schema: KafkaSource['schema'];
  private readonly inner: KafkaSource;
  private ctx: SourceContext | undefined;
  private consumer: KafkaConsumerLike | undefined;
  /** Partition ids owned now; undefined before the first join and while a rebalance is in progress. */
  private assigned: Set<string> | undefined;
  private generation = 0;
  private rebalances = 0;
  /** Start offsets chosen for partitions gained since the last batch (given back by initialOffsets). */
  private gained: Record<string, string> = {};
  private pendingCommit: PartitionOffsets | undefined;
  private commitLoop: Promise<void> | undefined;
  private warnedCommit = false;
  private closed = false;

  constructor(
    private readonly options: KafkaSourceOptions,
    private readonly group: KafkaGroupOptions,
  ) {
    if (typeof group.groupId !== 'string' || group.groupId === '') {
      throw new StreamArgumentError('KafkaGroupSource needs a non-empty groupId', { option: 'groupId' });
    }
    if (options.topicPattern !== undefined) {
      throw new StreamArgumentError('KafkaGroupSource subscribes to a list of topics, not a topicPattern', {
        option: 'topicPattern',
      });
    }
    // The inner source reads ranges; it commits nothing (the membership consumer does, for its partitions).
    const { groupId: _unused, ...inner } = options;
    this.inner = new KafkaSource(inner);
    this.description = `${this.inner.description} in group '${group.groupId}'`;
    this.schema = this.inner.schema;
  }

  /** The partition ids this member owns now (empty before the first assignment). */
  get assignment(): string[] {
    return [...(this.assigned ?? [])].sort();
  }

  async open(ctx: SourceContext): Promise<void> {
    this.ctx = ctx;
    await this.inner.open(ctx);
    const client = kafkaClientOf(this.options);
    const sessionTimeout = this.group.sessionTimeoutMs ?? 30_000;
    const consumer = client.consumer({
      groupId: this.group.groupId,
      sessionTimeout,
      heartbeatInterval: this.group.heartbeatIntervalMs ?? Math.min(3_000, Math.floor(sessionTimeout / 3)),
      maxWaitTimeInMs: 1_000,
      allowAutoTopicCreation: false,
    });
    const on = consumer.on as unknown as ((event: string, listener: Listener) => unknown) | undefined;
    const events = consumer.events as { GROUP_JOIN?: string; REBALANCING?: string } | undefined;
    if (!on || !events?.GROUP_JOIN) {
      throw new StreamArgumentError('KafkaGroupSource needs a client whose consumer reports GROUP_JOIN events', {
        option: 'brokers',
      });
    }
    on.call(consumer, events.GROUP_JOIN, (event) => this.onJoin(consumer, event));
    if (events.REBALANCING) {
      on.call(consumer, events.REBALANCING, () => {
        // Until the join completes, plan nothing new (the partitions may be moving).
        this.assigned = undefined;
      });
    }
    const topics = [...(this.options.topics ?? [])];
    try {
      await consumer.connect();
      await consumer.subscribe({ topics, fromBeginning: false });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        // The membership consumer never processes records (all paused; a batch fetched before the
        // pause is ignored and never acknowledged).
        eachBatch: async () => {},
      });
      consumer.pause(topics.map((topic) => ({ topic })));
    } catch (error) {
      await consumer.disconnect().catch(() => {});
      const brokers = Array.isArray(this.options.brokers) ? this.options.brokers.join(',') : 'of the given client';
      throw unavailable(error, brokers, `${this.description} could not join the group`);
    }
    this.consumer = consumer;
  }

  /** Resolves once the member has an assignment; SOURCE_UNAVAILABLE (retryable) after two session timeouts. */
  private async joined(): Promise<void> {
    const timeoutMs = 2 * (this.group.sessionTimeoutMs ?? 30_000);
    const deadline = Date.now() + timeoutMs;
    while (this.assigned === undefined && !this.closed) {
      if (Date.now() > deadline) {
        throw new SourceError(
          'SOURCE_UNAVAILABLE',
          `${this.description}: no partition assignment from the group coordinator within ${timeoutMs} ms`,
          { retryable: true, context: { groupId: this.group.groupId } },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  private onJoin(consumer: KafkaConsumerLike, event: Parameters<Listener>[0]): void {
    const topics = [...(this.options.topics ?? [])];
    consumer.pause(topics.map((topic) => ({ topic })));
    const assignment = event.payload?.memberAssignment ?? {};
    const ids = new Set<string>();
    for (const [topic, partitions] of Object.entries(assignment)) {
      for (const partition of partitions) ids.add(kafkaPartitionId(topic, partition));
    }
    this.generation++;
    if (this.generation > 1) this.rebalances++;
    this.assigned = ids;
    this.ctx?.warn(`${this.description}: assigned ${ids.size} partition(s)`, {
      groupId: this.group.groupId,
      partitions: [...ids].sort(),
      generation: this.generation,
    });
  }

  /** Start offsets of partitions gained since the last batch (the engine asks when they first appear). */
  async initialOffsets(): Promise<PartitionOffsets> {
    return { ...this.gained };
  }

  async nextOffsets(start: PartitionOffsets, limit?: PartitionOffsets): Promise<PartitionOffsets> {
    // A bounded run (availableNow, once) must not end before it knows its partitions: wait for the join.
    if (this.assigned === undefined && limit !== undefined) await this.joined();
    const assigned = this.assigned;
    // No assignment yet, or a rebalance in progress: nothing new (the engine stays idle).
    if (assigned === undefined) return { ...start };
    const begins: Record<string, string> = {};
    for (const id of assigned) if (start[id] !== undefined) begins[id] = start[id]!;
    const gained = [...assigned].filter((id) => start[id] === undefined);
    this.gained = {};
    if (gained.length > 0) {
      const recorded = await this.group.offsetsOfRecord(gained);
      const starting = gained.some((id) => recorded[id] === undefined) ? await this.inner.initialOffsets() : {};
      for (const id of gained) {
        const from = recorded[id] ?? starting[id];
        if (from !== undefined) {
          begins[id] = from;
          this.gained[id] = from;
        }
      }
    }
    const ends = await this.inner.nextOffsets(begins, limit);
    const out: Record<string, string> = {};
    for (const id of assigned) if (ends[id] !== undefined && begins[id] !== undefined) out[id] = ends[id]!;
    return out;
  }

  async availableNow(): Promise<PartitionOffsets> {
    return this.inner.availableNow();
  }

  read(ranges: Readonly<Record<string, PartitionRange>>): Promise<RowGroup[]> {
    return this.inner.read(ranges);
  }

  async commit(end: PartitionOffsets): Promise<void> {
    await this.inner.commit(end);
    const owned = this.assigned;
    if (!owned || this.closed) return;
    const mine: Record<string, string> = {};
    for (const [id, offset] of Object.entries(end)) if (owned.has(id)) mine[id] = offset;
    this.pendingCommit = mine;
    this.commitLoop ??= this.commitToGroup().finally(() => {
      this.commitLoop = undefined;
    });
  }

  /** Commits processed offsets to the shared group for lag tools, in the background (failures warn once). */
  private async commitToGroup(): Promise<void> {
    while (this.pendingCommit !== undefined && this.consumer && !this.closed) {
      const end = this.pendingCommit;
      this.pendingCommit = undefined;
      const offsets = Object.entries(end).map(([id, offset]) => ({ ...parseKafkaPartitionId(id), offset }));
      if (offsets.length === 0) continue;
      try {
        await this.consumer.commitOffsets(offsets);
      } catch (error) {
        // Expected around a rebalance (the generation changed); the table holds the offsets of record.
        if (!this.warnedCommit) {
          this.warnedCommit = true;
          this.ctx?.warn(`${this.description}: committing offsets to the group for lag monitoring failed`, {
            groupId: this.group.groupId,
            message: (error as Error).message,
          });
        }
      }
    }
  }

  metrics(): SourceMetrics {
    return {
      ...this.inner.metrics(),
      groupId: this.group.groupId,
      assignedPartitions: this.assignment,
      numRebalances: this.rebalances,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.commitLoop?.catch(() => {});
    const consumer = this.consumer;
    this.consumer = undefined;
    // Leaving the group hands the partitions to the other members at once.
    await consumer?.disconnect().catch(() => {});
    await this.inner.close();
  }
}
