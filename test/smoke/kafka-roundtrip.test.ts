// Smoke: kafkajs produces to and consumes from the containerized broker (test/kit/kafka.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerRuntime } from '../kit/capabilities.js';
import { requireCapability } from '../kit/capability.js';
import { type StartedKafka, startKafka } from '../kit/kafka.js';

const cap = await requireCapability(containerRuntime);

describe.skipIf(!cap.available)('smoke: Kafka broker in a container', () => {
  let kafka: StartedKafka;
  beforeAll(async () => {
    kafka = await startKafka();
  });
  afterAll(async () => {
    await kafka?.stop();
  });

  it('advertises a listener on 127.0.0.1', () => {
    expect(kafka.brokers[0]).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('round-trips messages with kafkajs across partitions', async () => {
    const topic = 'smoke-roundtrip';
    await kafka.createTopic(topic, 3);
    const client = kafka.client('smoke');
    const producer = client.producer();
    await producer.connect();
    const sent = Array.from({ length: 300 }, (_, i) => ({ key: `k${i % 17}`, value: JSON.stringify({ i }) }));
    await producer.send({ topic, messages: sent });
    await producer.disconnect();

    const consumer = client.consumer({ groupId: 'smoke-group' });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received: { partition: number; offset: string; i: number }[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`received ${received.length} of ${sent.length}`)), 45_000);
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          received.push({ partition, offset: message.offset, i: JSON.parse(String(message.value)).i });
          if (received.length === sent.length) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    await consumer.disconnect();

    expect(received.map((r) => r.i).sort((a, b) => a - b)).toEqual(sent.map((_, i) => i));
    expect(new Set(received.map((r) => r.partition)).size).toBe(3);
    const offsets = await client.admin().fetchTopicOffsets(topic);
    expect(offsets.reduce((n, p) => n + Number(p.high), 0)).toBe(300);
  });
});
