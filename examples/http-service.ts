// Embedding a streaming query in a small HTTP service: POST /events accepts JSON events (one object,
// an array, or JSON Lines), and answers only once the micro-batch holding them is committed to the
// Delta table — so a client that gets 200 knows its events are durable, and a client that gets no
// answer (crash, timeout) resends them; deduplication by event_id makes the resend harmless.
// GET /stats returns the query's last progress; GET /healthz answers while the query runs.
//
//   npx tsx examples/http-service.ts [folder] [port]
//   curl -d '{"event_id":"e1","user_id":1,"channel":"web","event_time":"2026-11-23T10:00:00Z"}' localhost:8080/events

import { createServer, type IncomingMessage, type Server } from 'node:http';
import { join, resolve } from 'node:path';
import { Subject } from 'rxjs';
import { deltaSink } from '../sinks/delta/stream-sink.js';
import type { StructType } from '../sinks/schema.js';
import { dropDuplicatesWithinWatermark, parseJson, withColumn, withWatermark } from '../stream/operators/index.js';
import type { StreamingQuery } from '../stream/query.js';
import { ObservableSource } from '../stream/sources/observable.js';
import { Trigger } from '../stream/trigger.js';
import { readStream } from '../stream/write-stream.js';

export const EVENT_SCHEMA: StructType = {
  type: 'struct',
  fields: [
    { name: 'event_id', type: 'string', nullable: true, metadata: {} },
    { name: 'user_id', type: 'long', nullable: true, metadata: {} },
    { name: 'channel', type: 'string', nullable: true, metadata: {} },
    { name: 'event_time', type: 'timestamp', nullable: true, metadata: {} },
  ],
};

export interface EventService {
  server: Server;
  query: StreamingQuery;
  url: string;
  close(): Promise<void>;
}

function readBody(request: IncomingMessage, limit = 10 * 1024 * 1024): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) reject(new Error(`body larger than ${limit} bytes`));
      else chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

/** Splits a body into raw JSON texts: an array's items, or one text per non-empty line. */
function records(body: string): string[] {
  const text = body.trim();
  if (text.startsWith('[')) return (JSON.parse(text) as unknown[]).map((item) => JSON.stringify(item));
  return text.split('\n').filter((line) => line.trim() !== '');
}

/** Starts the service: the query (checkpoint + Delta table under `root`) and the HTTP server on `port` (0 = any). */
export async function startEventService(root: string, port = 0): Promise<EventService> {
  const incoming = new Subject<string>();
  // Live input: not replayable; see ObservableSource's `replayable` option and the ack rule above.
  const source = new ObservableSource(incoming, { name: 'http', replayable: false, toRow: (value) => ({ value }) });
  /** Resolvers waiting for a committed offset, by the end offset they need. */
  let waiting: { end: number; resolve: () => void }[] = [];
  let committedEnd = 0;
  const query = await readStream(source)
    .pipe(
      parseJson(EVENT_SCHEMA),
      withWatermark('event_time', '1 hour'),
      dropDuplicatesWithinWatermark(['event_id']),
      withColumn('event_date', (row) => String(row.event_time).slice(0, 10), 'date'),
    )
    .writeStream(deltaSink(join(root, 'events'), { partitionBy: ['event_date'] }), {
      checkpointLocation: join(root, 'checkpoint'),
      queryName: 'http-events',
      trigger: Trigger.processingTime('200 ms'),
      onProgress: (progress) => {
        committedEnd = Number(progress.sources[0]?.endOffset['0'] ?? committedEnd);
        const ready = waiting.filter((w) => w.end <= committedEnd);
        waiting = waiting.filter((w) => w.end > committedEnd);
        for (const w of ready) w.resolve();
      },
    });
  await query.processAllAvailable(); // recovery done: offsets of new events continue the checkpoint's

  const server = createServer(async (request, response) => {
    const reply = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(`${JSON.stringify(body)}\n`);
    };
    try {
      if (request.method === 'POST' && request.url === '/events') {
        const texts = records(await readBody(request));
        for (const text of texts) incoming.next(text);
        const end = Number(source.metrics().latestOffset?.['0'] ?? 0);
        await new Promise<void>((resolve, reject) => {
          if (end <= committedEnd) resolve();
          else waiting.push({ end, resolve });
          query.awaitTermination().then(() => reject(new Error('the query stopped')), reject);
        });
        reply(200, { accepted: texts.length, committedThrough: committedEnd });
      } else if (request.method === 'GET' && request.url === '/stats') {
        reply(200, query.lastProgress ?? null);
      } else if (request.method === 'GET' && request.url === '/healthz') {
        reply(query.isActive ? 200 : 503, { active: query.isActive });
      } else reply(404, { error: 'not found' });
    } catch (error) {
      reply(500, { error: (error as Error).message });
    }
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}`;
  return {
    server,
    query,
    url,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await query.stop();
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = resolve(process.argv[2] ?? '.demo/http');
  const service = await startEventService(root, Number(process.argv[3] ?? 8080));
  console.log(`POST events to ${service.url}/events; table at ${join(root, 'events')}`);
  const stop = () => void service.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
