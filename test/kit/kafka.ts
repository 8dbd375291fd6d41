// Kafka test fixture: a single-node KRaft broker in a container (image built by test/env/kafka-image.sh),
// reachable from the host at 127.0.0.1:<mapped port>.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { GenericContainer, type StartedTestContainer, Wait } from 'testcontainers';
import { PROJECT_ROOT } from './paths.js';

const KAFKA_PORT = 9092;

/** Image name; LAKESTREAM_KAFKA_IMAGE overrides (the image must run test/env/kafka/start-kafka.sh's contract). */
export const KAFKA_IMAGE = process.env.LAKESTREAM_KAFKA_IMAGE ?? 'localhost/lakestream-kafka:3.9.1';

export interface KafkaOptions {
  /** Default partition count for auto-created topics (auto-creation is off unless `autoCreateTopics`). */
  numPartitions?: number;
  autoCreateTopics?: boolean;
  /** Extra container environment (for example KAFKA_LOG_RETENTION_CHECK_MS). */
  env?: Record<string, string>;
  startupTimeoutMs?: number;
}

export interface StartedKafka {
  /** Bootstrap servers reachable from this host, e.g. ["127.0.0.1:40123"]. */
  brokers: string[];
  container: StartedTestContainer;
  /** A kafkajs client for the broker (quiet logs). */
  client(clientId?: string): Kafka;
  createTopic(topic: string, numPartitions?: number, configEntries?: Record<string, string>): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a broker and waits until it serves metadata. Stop it with `stop()` (Ryuk may be disabled). */
export async function startKafka(options: KafkaOptions = {}): Promise<StartedKafka> {
  const timeout = options.startupTimeoutMs ?? 120_000;
  // The entrypoint of this checkout (not the one baked into the image when it was built).
  const entrypoint = readFileSync(join(PROJECT_ROOT, 'test/env/kafka/start-kafka.sh'), 'utf8');
  // Handed over in the environment rather than copied in: podman's archive upload is not reliable
  // under load ("write child: broken pipe").
  const container = await new GenericContainer(KAFKA_IMAGE)
    .withCommand([
      '/bin/sh',
      '-c',
      'printf "%s" "$LAKESTREAM_KAFKA_ENTRYPOINT" > /tmp/start-kafka.sh && exec /bin/sh /tmp/start-kafka.sh',
    ])
    .withExposedPorts(KAFKA_PORT)
    .withEnvironment({
      LAKESTREAM_KAFKA_ENTRYPOINT: entrypoint,
      KAFKA_NUM_PARTITIONS: String(options.numPartitions ?? 1),
      KAFKA_AUTO_CREATE_TOPICS: String(options.autoCreateTopics ?? false),
      ...options.env,
    })
    .withWaitStrategy(Wait.forLogMessage(/waiting for advertised listener/))
    .withStartupTimeout(timeout)
    .start();
  try {
    const host = container.getHost();
    const port = container.getMappedPort(KAFKA_PORT);
    const listener = `PLAINTEXT://${host}:${port}`;
    const wrote = await container.exec([
      'sh',
      '-c',
      `echo '${listener}' > /tmp/advertised-listener.tmp && mv /tmp/advertised-listener.tmp /tmp/advertised-listener`,
    ]);
    if (wrote.exitCode !== 0) throw new Error(`could not hand the advertised listener to the broker: ${wrote.output}`);
    const brokers = [`${host}:${port}`];
    const client = (clientId = 'lakestream-test') =>
      new Kafka({ clientId, brokers, logLevel: logLevel.NOTHING, retry: { retries: 8 } });
    await waitForBroker(client('lakestream-test-ready'), timeout);
    return {
      brokers,
      container,
      client,
      async createTopic(topic, numPartitions = 1, configEntries = {}) {
        const admin = client('lakestream-test-admin').admin();
        await admin.connect();
        try {
          await admin.createTopics({
            waitForLeaders: true,
            topics: [
              {
                topic,
                numPartitions,
                replicationFactor: 1,
                configEntries: Object.entries(configEntries).map(([name, value]) => ({ name, value })),
              },
            ],
          });
          // Until the broker serves every partition (a produce right after creation can otherwise
          // meet UNKNOWN_TOPIC_OR_PARTITION while the new leaders load).
          const offsets = client('lakestream-test-ready').admin();
          await offsets.connect();
          try {
            for (let attempt = 0; ; attempt++) {
              let reason = 'missing partitions';
              try {
                const partitions = await offsets.fetchTopicOffsets(topic);
                if (partitions.length === numPartitions) break;
              } catch (error) {
                reason = String(error);
              }
              if (attempt >= 100) throw new Error(`topic ${topic} is not served after creation: ${reason}`);
              await new Promise((resolve) => setTimeout(resolve, 100));
            }
          } finally {
            await offsets.disconnect();
          }
        } finally {
          await admin.disconnect();
        }
      },
      async stop() {
        await container.stop({ timeout: 5_000 });
      },
    };
  } catch (error) {
    await container.stop({ timeout: 1_000 }).catch(() => undefined);
    throw error;
  }
}

async function waitForBroker(kafka: Kafka, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    const admin = kafka.admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      if (cluster.brokers.length > 0) return;
    } catch (error) {
      last = error;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`Kafka broker did not become ready within ${timeoutMs} ms: ${String(last)}`);
}
