// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the tests write literal ${ENV} references
// `lakestream ingest` config handling without a broker: bad configs print one line naming the key path
// and what was expected (exit 1) and create nothing; an unreachable broker fails the same way before
// anything is written; env substitution, defaults and the example config.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { columnarPipeline, defaultWorkers, loadConfig, resolveConfig } from '../../../cli/ingest/config.js';
import { buildPipeline, kafkaSourceOptions } from '../../../cli/ingest/pipeline.js';
import { runCli } from '../../../cli/run-cli.js';
import { KafkaSource } from '../../../stream/sources/kafka.js';
import { PROJECT_ROOT } from '../../kit/paths.js';
import { filesUnder, runDaemon } from './daemon-process.js';

const dir = mkdtempSync(join(tmpdir(), 'lakestream-ingest-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const BASE = {
  name: 'events',
  checkpoint: './checkpoint',
  kafka: { brokers: ['127.0.0.1:1'], topics: ['events'], startingOffsets: 'earliest' },
  format: {
    type: 'json',
    schema: { event_id: 'string', user_id: 'long', channel: 'string', amount: 'double', event_time: 'timestamp' },
  },
  target: { delta: { path: './table' } },
  deadLetters: { delta: { path: './dead-letters' } },
  trigger: { availableNow: true },
  metrics: { enabled: false },
};

type Config = Record<string, unknown>;

const with_ = (patch: (c: Config) => void): Config => {
  const c = structuredClone(BASE) as Config;
  patch(c);
  return c;
};

let seq = 0;
function writeConfig(config: Config | string, ext = 'json'): { file: string; folder: string } {
  const folder = join(dir, `case-${seq++}`);
  mkdirSync(folder);
  const file = join(folder, `pipeline.${ext}`);
  writeFileSync(file, typeof config === 'string' ? config : JSON.stringify(config, null, 2));
  return { file, folder };
}

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

const HINT =
  'hint: fix the named keys; README "Run the ingestion daemon" describes every key (`lakestream ingest --print-config-schema` prints its JSON Schema)';

describe('lakestream ingest: config validation', () => {
  const cases: [string, Config, string][] = [
    [
      'empty broker list',
      with_((c) => {
        (c.kafka as Config).brokers = [];
      }),
      'kafka.brokers: expected a non-empty array of host:port strings',
    ],
    [
      'a broker without a port',
      with_((c) => {
        (c.kafka as Config).brokers = ['localhost'];
      }),
      'kafka.brokers[0]: expected a host:port string',
    ],
    [
      'a misspelt key',
      with_((c) => {
        c.kafka = { brokerz: ['a:1'], topics: ['events'] };
      }),
      "kafka.brokers: expected a non-empty array of host:port strings; kafka.brokerz: unknown key (did you mean 'brokers'?)",
    ],
    [
      'topics and topicPattern',
      with_((c) => {
        (c.kafka as Config).topicPattern = 'events-.*';
      }),
      'kafka: expected exactly one of topics and topicPattern',
    ],
    [
      'minOffsetsPerTrigger above maxOffsetsPerTrigger, maxTriggerDelay alone',
      with_((c) => {
        Object.assign(c.kafka as Config, { minOffsetsPerTrigger: 500, maxOffsetsPerTrigger: 100 });
      }),
      'kafka.minOffsetsPerTrigger: expected at most maxOffsetsPerTrigger (100)',
    ],
    [
      'maxTriggerDelay without minOffsetsPerTrigger',
      with_((c) => {
        (c.kafka as Config).maxTriggerDelay = '1 minute';
      }),
      'kafka.maxTriggerDelay: expected minOffsetsPerTrigger with it (maxTriggerDelay bounds its wait)',
    ],
    [
      'scale-out without a consumer group',
      with_((c) => {
        (c.kafka as Config).scaleOut = {};
      }),
      'kafka.groupId: expected the consumer group the daemons share (kafka.scaleOut needs kafka.groupId)',
    ],
    [
      'scale-out with a bad session timeout',
      with_((c) => {
        (c.kafka as Config).groupId = 'g';
        (c.kafka as Config).scaleOut = { sessionTimeout: 'soon' };
      }),
      "kafka.scaleOut.sessionTimeout: expected a duration such as '10 seconds' or '5 minutes'",
    ],
    [
      'scale-out with dedup',
      with_((c) => {
        (c.kafka as Config).groupId = 'g';
        (c.kafka as Config).scaleOut = { sessionTimeout: '10 seconds' };
        c.dedup = { keys: ['event_id'], watermark: { column: 'event_time', delay: '10 minutes' } };
      }),
      'dedup: not supported with kafka.scaleOut (dedup state is per daemon and does not move with a partition); run one daemon, or deduplicate downstream',
    ],
    [
      'an unknown SASL mechanism',
      with_((c) => {
        (c.kafka as Config).sasl = { mechanism: 'gssapi', username: 'u', password: 'p' };
      }),
      'kafka.sasl.mechanism: expected plain, scram-sha-256 or scram-sha-512',
    ],
    [
      'an unset environment variable',
      with_((c) => {
        (c.kafka as Config).sasl = {
          mechanism: 'plain',
          username: 'u',
          password: '${LAKESTREAM_TEST_UNSET_PASSWORD}',
        };
      }),
      'kafka.sasl.password: environment variable LAKESTREAM_TEST_UNSET_PASSWORD is not set',
    ],
    [
      'an unknown column type',
      with_((c) => {
        ((c.format as Config).schema as Config).amount = 'money';
      }),
      'format.schema.amount: expected a type (string, long, integer, short, byte, double, float, boolean, date, timestamp, binary or decimal(p,s)), got "money"',
    ],
    [
      'json without a schema',
      with_((c) => {
        c.format = { type: 'json' };
      }),
      'format.schema: expected a schema for type json',
    ],
    [
      'an unknown derive function',
      with_((c) => {
        c.transforms = [{ derive: { name: 'day', fn: 'day', column: 'event_time' } }];
      }),
      'transforms[0].derive.fn: expected one of date, hour, lower, upper, concat',
    ],
    [
      'two transforms in one item',
      with_((c) => {
        c.transforms = [{ select: ['event_id'], rename: { event_id: 'id' } }];
      }),
      'transforms[0]: expected exactly one of select, rename, cast, derive, got select and rename',
    ],
    [
      'a selected column that does not exist',
      with_((c) => {
        c.transforms = [{ select: ['event_id', 'nope'] }];
      }),
      "transforms[0].select[1]: column 'nope' is not in the input (columns: event_id, user_id, channel, amount, event_time)",
    ],
    [
      'a coordinate selected without a new name',
      with_((c) => {
        c.transforms = [{ select: ['event_id', 'kafka.offset'] }];
      }),
      "transforms[0].select[1]: 'kafka.offset' needs a new name to be written ('kafka.offset as offset')",
    ],
    [
      'lower of a number',
      with_((c) => {
        c.transforms = [{ derive: { name: 'u', fn: 'lower', column: 'user_id' } }];
      }),
      "transforms[0].derive.column: lower needs a string column, 'user_id' is a long",
    ],
    [
      'a watermark on a string column',
      with_((c) => {
        c.dedup = { keys: ['event_id'], watermark: { column: 'channel', delay: '10 minutes' } };
      }),
      "dedup.watermark.column: column 'channel' is a string; the event-time column must be a timestamp (cast it first)",
    ],
    [
      'a dedup key that does not exist',
      with_((c) => {
        c.dedup = { keys: ['id'], watermark: { column: 'event_time', delay: '10 minutes' } };
      }),
      "dedup.keys[0]: column 'id' is not in the input (columns: event_id, user_id, channel, amount, event_time)",
    ],
    [
      'a bad watermark delay',
      with_((c) => {
        c.dedup = { keys: ['event_id'], watermark: { column: 'event_time', delay: 'soon' } };
      }),
      "dedup.watermark.delay: expected a duration such as '10 seconds' or '5 minutes'",
    ],
    [
      'a partition column that is not written',
      with_((c) => {
        c.target = { delta: { path: './table', partitionBy: ['event_date'] } };
      }),
      'target.delta.partitionBy: partition column event_date is not a column of the schema (output columns: event_id, user_id, channel, amount, event_time)',
    ],
    [
      'an output mode other than append',
      with_((c) => {
        c.target = { delta: { path: './table', mode: 'overwrite' } };
      }),
      "target.delta.mode: expected 'append'",
    ],
    [
      'a codec lakestream does not write',
      with_((c) => {
        c.target = { delta: { path: './table' }, compression: 'gzip' };
      }),
      "target.compression: expected 'snappy', 'zstd' or 'uncompressed'",
    ],
    [
      'auto compaction of fewer than 2 files',
      with_((c) => {
        c.target = { delta: { path: './table' }, autoCompact: { minFiles: 1 } };
      }),
      'target.autoCompact.minFiles: expected an integer of at least 2',
    ],
    [
      'auto compaction given as text',
      with_((c) => {
        c.target = { delta: { path: './table' }, autoCompact: 'yes' };
      }),
      'target.autoCompact: expected true, false or { minFiles, maxFileSize }',
    ],
    [
      'a negative worker count',
      with_((c) => {
        c.workers = -1;
      }),
      'workers: expected an integer from 0 to 64',
    ],
    [
      'two triggers',
      with_((c) => {
        c.trigger = { interval: '5 seconds', availableNow: true };
      }),
      'trigger: expected exactly one of interval, availableNow, got interval and availableNow',
    ],
    [
      'a port out of range',
      with_((c) => {
        c.metrics = { port: 70000 };
      }),
      'metrics.port: expected a port number from 0 to 65535',
    ],
    [
      'an unknown dead-letter destination',
      with_((c) => {
        c.deadLetters = { s3: { bucket: 'x' } };
      }),
      'deadLetters.s3: unknown key (expected one of delta, kafka)',
    ],
  ];

  it.each(cases)('%s: one line naming the key, exit 1, nothing written', async (_name, config, issue) => {
    const { file, folder } = writeConfig(config);
    const { code, err } = await run('ingest', '--config', file);
    expect(err).toEqual([`lakestream: invalid config ${file}: ${issue} [CONFIG_INVALID]`, HINT]);
    expect(code).toBe(1);
    expect(filesUnder(folder)).toEqual(['pipeline.json']);
  });

  it('reports every issue of a config in the one line', async () => {
    const { file } = writeConfig(
      with_((c) => {
        c.name = '';
        (c.kafka as Config).maxOffsetsPerTrigger = 0;
        c.log = { level: 'verbose' };
      }),
    );
    const { err } = await run('ingest', '--config', file);
    expect(err[0]).toBe(
      `lakestream: invalid config ${file}: name: expected a non-empty pipeline name; ` +
        'kafka.maxOffsetsPerTrigger: expected an integer >= 1; ' +
        'log.level: expected fatal, error, warn, info, debug, trace, silent [CONFIG_INVALID]',
    );
  });

  it('unreadable files: syntax errors with their position, a missing file, an unknown extension', async () => {
    const yaml = writeConfig('name: x\nname: y\n', 'yaml');
    expect((await run('ingest', '--config', yaml.file)).err).toEqual([
      `lakestream: config ${yaml.file} is not valid YAML at line 2, column 1: Map keys must be unique [CONFIG_UNREADABLE]`,
      'hint: check the --config path and its syntax (YAML for .yaml/.yml, JSON for .json)',
    ]);
    const json = writeConfig('{"name": ', 'json');
    const bad = await run('ingest', '--config', json.file);
    expect(bad.err[0]).toMatch(
      new RegExp(`^lakestream: config ${json.file} is not valid JSON: .+ \\[CONFIG_UNREADABLE\\]$`),
    );
    expect(bad.code).toBe(1);
    const missing = join(dir, 'missing.yaml');
    expect((await run('ingest', '--config', missing)).err[0]).toBe(
      `lakestream: cannot read config ${missing}: no such file [CONFIG_UNREADABLE]`,
    );
    const toml = writeConfig('name = "x"', 'toml');
    expect((await run('ingest', '--config', toml.file)).err[0]).toBe(
      `lakestream: config ${toml.file}: expected a .yaml, .yml or .json file, got '.toml' [CONFIG_UNREADABLE]`,
    );
    expect(filesUnder(yaml.folder)).toEqual(['pipeline.yaml']);
  });

  it('kafka.readAhead: a size or 0 (off), handed to the Kafka source as readAheadBytes', () => {
    const sourceOf = (readAhead?: unknown) =>
      kafkaSourceOptions(
        resolveConfig(
          with_((c) => Object.assign(c.kafka as Config, readAhead === undefined ? {} : { readAhead })),
          {
            file: 'p.json',
            baseDir: '/etc/lakestream',
            env: {},
          },
        ),
      );
    expect(sourceOf().readAheadBytes).toBeUndefined(); // the source's default, 64 MiB
    expect(sourceOf('64 MiB').readAheadBytes).toBe(64 * 2 ** 20);
    expect(sourceOf(1000).readAheadBytes).toBe(1000);
    expect(sourceOf(0).readAheadBytes).toBe(0);
    expect(() => sourceOf('lots')).toThrow(/kafka\.readAhead: expected 0 or a size in bytes/);
    expect(() => sourceOf(-5)).toThrow(/kafka\.readAhead: expected 0 or a size in bytes/);
    expect(() => new KafkaSource({ brokers: ['a:1'], topics: ['t'], readAheadBytes: -1 })).toThrow(
      /readAheadBytes must be an integer >= 0/,
    );
  });

  it('workers: the cores but one, at most 4; on 2 cores 1 for the columnar path, else none', () => {
    expect([1, 2, 3, 4, 6, 16].map((cores) => defaultWorkers(cores))).toEqual([0, 0, 2, 3, 4, 4]);
    expect([1, 2, 3, 4, 6, 16].map((cores) => defaultWorkers(cores, true))).toEqual([0, 1, 2, 3, 4, 4]);
    const config = (workers?: number) =>
      resolveConfig(
        { ...BASE, ...(workers === undefined ? {} : { workers }) },
        { file: 'p.json', baseDir: '/etc/lakestream', env: {} },
      );
    // BASE only parses JSON (the columnar path); with a transform its records take the row path.
    expect(config().workers).toBe(defaultWorkers(availableParallelism(), true));
    expect(columnarPipeline(config())).toBe(true);
    const rows = resolveConfig(
      { ...BASE, transforms: [{ select: ['event_id'] }] },
      { file: 'p.json', baseDir: '/etc/lakestream', env: {} },
    );
    expect(rows.workers).toBe(defaultWorkers(availableParallelism(), false));
    expect(columnarPipeline(rows)).toBe(false);
    const partitioned = { delta: { path: './table', partitionBy: ['channel'] } };
    expect(
      columnarPipeline(resolveConfig({ ...BASE, target: partitioned }, { file: 'p.json', baseDir: '/', env: {} })),
    ).toBe(false);
    const dedup = { keys: ['event_id'], watermark: { column: 'event_time', delay: '10 minutes' } };
    expect(columnarPipeline(resolveConfig({ ...BASE, dedup }, { file: 'p.json', baseDir: '/', env: {} }))).toBe(false);
    expect(config(0).workers).toBe(0);
    expect(config(3).workers).toBe(3);
  });

  it('without --config is a usage error (exit 2)', async () => {
    const { code, err } = await run('ingest');
    expect(code).toBe(2);
    expect(err[0]).toBe("error: required option '--config <file>' not specified");
  });

  it('substitutes ${ENV} and ${ENV:-default}, keeps $${ literal, applies defaults, resolves paths', () => {
    const config = resolveConfig(
      {
        ...BASE,
        name: 'events-${STAGE:-dev}',
        checkpoint: '${DATA}/checkpoint',
        kafka: {
          brokers: '${BROKERS}',
          topics: 'a,b',
          sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'p$${x}' },
          maxOffsetsPerTrigger: '${MAX:-500}',
        },
        trigger: undefined,
        metrics: undefined,
      },
      { file: 'p.json', baseDir: '/etc/lakestream', env: { DATA: '/data', BROKERS: 'k1:9092, k2:9092' } },
    );
    expect(config.name).toBe('events-dev');
    expect(config.checkpoint).toBe('/data/checkpoint');
    expect(config.target.delta.path).toBe('/etc/lakestream/table');
    expect(config.kafka).toMatchObject({
      brokers: ['k1:9092', 'k2:9092'],
      topics: ['a', 'b'],
      maxOffsetsPerTrigger: 500,
      failOnDataLoss: true,
      startingOffsets: 'latest',
      sasl: { password: 'p${x}' },
    });
    expect(config.trigger).toEqual({ kind: 'interval', interval: '10 seconds', intervalMs: 10_000 });
    expect(config.metrics).toEqual({ enabled: true, port: 9090, host: '0.0.0.0' });
    expect(config.log.level).toBe('info');
  });

  it('target.autoCompact: true, false or { minFiles, maxFileSize } (a size), handed to the Delta sink', async () => {
    const read = async (autoCompact: unknown) =>
      (
        await loadConfig(
          writeConfig(
            with_((c) => {
              c.target = { delta: { path: './table' }, autoCompact };
            }),
          ).file,
          {},
        )
      ).target.autoCompact;
    expect(await read({ minFiles: 10, maxFileSize: '64 MiB' })).toEqual({ minFiles: 10, maxFileSize: 64 * 1024 ** 2 });
    expect(await read(true)).toBe(true);
    expect(await read(false)).toBe(false);
    expect((await loadConfig(writeConfig(BASE).file, {})).target.autoCompact).toBeUndefined();
  });

  it('the example config is valid, and README shows it', async () => {
    const file = join(PROJECT_ROOT, 'examples/ingest/pipeline.yaml');
    const config = await loadConfig(file, { KAFKA_BROKERS: 'k1:9092,k2:9092', METRICS_PORT: '0' });
    expect(config.kafka.brokers).toEqual(['k1:9092', 'k2:9092']);
    expect(config.metrics.port).toBe(0);
    expect(config.target.compression).toBe('snappy');
    expect(config.target.autoCompact).toEqual({ minFiles: 50, maxFileSize: 128 * 1024 ** 2 });
    expect(config.checkpoint).toBe(join(PROJECT_ROOT, 'examples/ingest/data/checkpoints/orders'));
    const pipeline = buildPipeline(config);
    expect(pipeline.outputSchema.fields.map((f) => `${f.name}:${String(f.type)}`)).toEqual([
      'order_id:string',
      'customer:long',
      'amount:decimal(12,2)',
      'currency:string',
      'status:string',
      'event_time:timestamp',
      'order_date:date',
      'source_partition:integer',
      'source_offset:long',
    ]);
    const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
    expect(
      readme.includes(readFileSync(file, 'utf8').trim()),
      'README shows examples/ingest/pipeline.yaml verbatim',
    ).toBe(true);
  });

  it('an unreachable broker: one clear line and a hint, exit 1, no checkpoint, no table', async () => {
    const { file, folder } = writeConfig(BASE);
    const { code, stderr, logs } = await runDaemon(['--config', file]);
    expect(stderr).toHaveLength(2);
    expect(stderr[0]).toMatch(
      /^lakestream: KafkaSource\[events\] could not connect: Kafka brokers 127\.0\.0\.1:1 are unreachable or not answering: .*ECONNREFUSED.* \[SOURCE_UNAVAILABLE\]$/,
    );
    expect(stderr[1]).toBe(
      'hint: check kafka.brokers, that the brokers are reachable from this host, and kafka.ssl / kafka.sasl',
    );
    expect(code).toBe(1);
    expect(logs.map((l) => l.msg)).toEqual(['starting', 'failed']);
    expect(filesUnder(folder)).toEqual(['pipeline.json']);
  }, 30_000);
});
