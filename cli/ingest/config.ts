// The pipeline config of `lakestream ingest`: a YAML or JSON file validated with zod. Every key is
// described with .describe() (printed as JSON Schema by `lakestream ingest --print-config-schema`).
// Errors name the key path and what was expected, e.g.
//   kafka.brokers: expected a non-empty array of host:port strings
// Every string value may use ${ENV_VAR} or ${ENV_VAR:-default} ($${ for a literal ${); relative paths
// (checkpoint, tables, TLS files) are resolved against the folder of the config file.

import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, extname, resolve } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { LakestreamError } from '../../common/errors.js';
import { parseSchema } from '../../sinks/delta/schema-json.js';
import type { DataType, PrimitiveType, StructType } from '../../sinks/schema.js';
import { JsonColumnScanner } from '../../stream/input/json-columns.js';
import { durationMs } from '../../stream/time.js';

/** CONFIG_INVALID (a key is wrong) or CONFIG_UNREADABLE (the file cannot be read or parsed). */
export class ConfigError extends LakestreamError {
  constructor(
    code: 'CONFIG_INVALID' | 'CONFIG_UNREADABLE',
    message: string,
    readonly issues: readonly string[] = [],
    context: Record<string, unknown> = {},
  ) {
    super(message, { code, domain: 'user', retryable: false, context });
  }
}

/** Prefix of the Kafka coordinate columns every row carries through the transforms (never written). */
export const KAFKA_PREFIX = 'kafka.';

// ---------------------------------------------------------------------------------------------------
// Small schema builders with messages that say what was expected

const expected = (what: string) => ({ error: `expected ${what}` });

function text(what = 'a non-empty string') {
  return z.string(expected(what)).min(1, expected(what));
}

/** Accepts numbers and numeric strings (values that came through ${ENV} substitution). */
function integer(what: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return z.preprocess(
    (v) => (typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v),
    z.number(expected(what)).int(expected(what)).min(min, expected(what)).max(max, expected(what)),
  );
}

function bool(what = 'true or false') {
  return z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean(expected(what)));
}

const DURATION = "a duration such as '10 seconds' or '5 minutes'";
/** kafka.maxOffsetsPerTrigger when the config does not set it. */
export const DEFAULT_MAX_OFFSETS_PER_TRIGGER = 200_000;

function duration() {
  return z.union([z.string(), z.number()], expected(DURATION)).transform((value, ctx) => {
    try {
      return { text: String(value), ms: durationMs(value, 'duration') };
    } catch {
      ctx.addIssue({ code: 'custom', message: `expected ${DURATION}` });
      return z.NEVER;
    }
  });
}

const SIZE_UNITS: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};
const SIZE = "a size in bytes, or text such as '128 MiB' or '64 MB'";

function size() {
  return z.union([z.string(), z.number()], expected(SIZE)).transform((value, ctx) => {
    let bytes: number | undefined;
    if (typeof value === 'number') bytes = value;
    else {
      const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
      const factor = m ? SIZE_UNITS[(m[2] || 'b').toLowerCase()] : undefined;
      if (m && factor !== undefined) bytes = Math.round(Number(m[1]) * factor);
    }
    if (bytes === undefined || !Number.isSafeInteger(bytes) || bytes < 1) {
      ctx.addIssue({ code: 'custom', message: `expected ${SIZE}` });
      return z.NEVER;
    }
    return bytes;
  });
}

/** An object with exactly one of `keys` set (a tagged choice such as { delta: … } | { kafka: … }). */
function oneOf<T extends z.ZodRawShape>(shape: T, description: string) {
  const keys = Object.keys(shape);
  const choices = keys.join(', ');
  return z
    .strictObject(shape, expected(`an object with one of ${choices}`))
    .superRefine((value, ctx) => {
      const set = keys.filter((k) => (value as Record<string, unknown>)[k] !== undefined);
      if (set.length === 0) ctx.addIssue({ code: 'custom', message: `expected one of ${choices}` });
      else if (set.length > 1) {
        ctx.addIssue({ code: 'custom', message: `expected exactly one of ${choices}, got ${set.join(' and ')}` });
      }
    })
    .describe(description);
}

// ---------------------------------------------------------------------------------------------------
// Column types

const PRIMITIVES: readonly PrimitiveType[] = [
  'string',
  'long',
  'integer',
  'short',
  'byte',
  'double',
  'float',
  'boolean',
  'date',
  'timestamp',
  'binary',
];
const TYPE_NAMES = `${PRIMITIVES.join(', ')} or decimal(p,s)`;

/** A primitive type name ('long', 'decimal(12,2)', 'int' as an alias of integer). */
export function primitiveType(name: string): PrimitiveType | undefined {
  const t = name.trim().toLowerCase();
  const alias: Record<string, PrimitiveType> = { int: 'integer', bigint: 'long', bool: 'boolean', str: 'string' };
  if (alias[t]) return alias[t];
  if ((PRIMITIVES as readonly string[]).includes(t)) return t as PrimitiveType;
  const m = /^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$/.exec(t);
  if (m) {
    const p = Number(m[1]);
    const s = Number(m[2]);
    if (p >= 1 && p <= 38 && s <= p) return `decimal(${p},${s})`;
  }
  return undefined;
}

function typeName() {
  return z.string(expected(`a type: ${TYPE_NAMES}`)).transform((value, ctx) => {
    const type = primitiveType(value);
    if (!type) {
      ctx.addIssue({ code: 'custom', message: `expected a type (${TYPE_NAMES}), got '${value}'` });
      return z.NEVER;
    }
    return type;
  });
}

/** format.schema: a Spark StructType JSON or a { column: type } map. */
function schemaOption() {
  return z
    .record(z.string(), z.unknown(), expected('a { column: type } map or a Spark StructType JSON'))
    .transform((value, ctx): StructType => {
      let schema: StructType;
      if (value.type === 'struct' && Array.isArray(value.fields)) {
        try {
          schema = parseSchema(JSON.stringify(value));
        } catch (error) {
          const message = (error as Error).message.replace(/^invalid table schema: /, '');
          ctx.addIssue({ code: 'custom', message: `expected a Spark StructType JSON: ${message}` });
          return z.NEVER;
        }
      } else {
        const fields: StructType['fields'] = [];
        for (const [name, type] of Object.entries(value)) {
          const parsed = typeof type === 'string' ? primitiveType(type) : undefined;
          if (!parsed) {
            ctx.addIssue({
              code: 'custom',
              path: [name],
              message: `expected a type (${TYPE_NAMES}), got ${JSON.stringify(type)}`,
            });
            continue;
          }
          fields.push({ name, type: parsed as DataType, nullable: true, metadata: {} });
        }
        schema = { type: 'struct', fields };
      }
      if (Object.keys(value).length === 0) {
        ctx.addIssue({ code: 'custom', message: 'expected at least one column' });
        return z.NEVER;
      }
      for (const field of schema.fields) {
        if (field.name.startsWith(KAFKA_PREFIX)) {
          ctx.addIssue({
            code: 'custom',
            path: [field.name],
            message: `column names starting with '${KAFKA_PREFIX}' are reserved for the Kafka coordinates`,
          });
        }
      }
      return schema;
    });
}

// ---------------------------------------------------------------------------------------------------
// The config schema

/** A 'a, b,c' string as ['a', 'b', 'c'] (for list options given as one string, e.g. from ${ENV}). */
const commaSeparated = (v: unknown): unknown =>
  typeof v === 'string'
    ? v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : v;

const HOST_PORT = /^(?:\[[0-9a-fA-F:.]+\]|[^\s:,[\]]+):\d{1,5}$/;
const BROKERS = 'a non-empty array of host:port strings';

const brokers = z
  .preprocess(
    commaSeparated,
    z
      .array(
        z.string(expected('a host:port string')).regex(HOST_PORT, expected('a host:port string')),
        expected(BROKERS),
      )
      .min(1, expected(BROKERS)),
  )
  .describe("Bootstrap brokers: ['host:port', …] (or one comma-separated string)");

const sasl = z
  .strictObject(
    {
      mechanism: z
        .enum(['plain', 'scram-sha-256', 'scram-sha-512'], expected('plain, scram-sha-256 or scram-sha-512'))
        .describe('SASL mechanism: plain, scram-sha-256 or scram-sha-512'),
      username: text().describe('SASL user name'),
      password: z
        .string(expected('a string'))
        // biome-ignore lint/suspicious/noTemplateCurlyInString: documents the literal ${ENV_VAR} syntax
        .describe('SASL password; write ${ENV_VAR} to read it from the environment'),
    },
    expected('{ mechanism, username, password }'),
  )
  .describe('SASL authentication');

const ssl = z
  .union(
    [
      bool(),
      z.strictObject({
        ca: text('a file path').optional().describe('PEM file of the CA certificates to trust'),
        cert: text('a file path').optional().describe('PEM file of the client certificate (mutual TLS)'),
        key: text('a file path').optional().describe('PEM file of the client private key (mutual TLS)'),
        passphrase: z.string(expected('a string')).optional().describe('Passphrase of the private key'),
        rejectUnauthorized: bool().optional().describe('Verify the broker certificates (default true)'),
      }),
    ],
    expected('true, false or { ca, cert, key } file paths'),
  )
  .describe('TLS: true (system CAs) or { ca, cert, key } PEM file paths');

const startingOffsets = z
  .union(
    [
      z.enum(['earliest', 'latest']),
      z.record(z.string(), z.record(z.string().regex(/^\d+$/), z.number().int().min(-2))),
    ],
    expected("'earliest', 'latest' or { topic: { partition: offset } } (-2 = earliest, -1 = latest)"),
  )
  .describe(
    "Where a new pipeline starts: 'earliest', 'latest' (default, as Spark) or { topic: { partition: offset } }; " +
      'ignored once the checkpoint exists',
  );

const kafka = z
  .strictObject(
    {
      brokers,
      clientId: text().optional().describe("Kafka client id (default 'lakestream')"),
      groupId: text()
        .optional()
        .describe('Consumer group to commit processed offsets to, for lag monitoring only (never read back)'),
      ssl: ssl.optional(),
      sasl: sasl.optional(),
      topics: z
        .preprocess(
          commaSeparated,
          z
            .array(text('a topic name'), expected('a non-empty array of topic names'))
            .min(1, expected('a non-empty array of topic names')),
        )
        .optional()
        .describe('Topics to read (exactly one of topics and topicPattern)'),
      topicPattern: text('a regular expression')
        .refine((v) => {
          try {
            new RegExp(v);
            return true;
          } catch {
            return false;
          }
        }, expected('a valid regular expression'))
        .optional()
        .describe('Regular expression matching whole topic names; new matching topics are picked up'),
      startingOffsets: startingOffsets.optional(),
      maxOffsetsPerTrigger: integer('an integer >= 1', 1)
        .optional()
        .describe('Cap on the records of one micro-batch, split across partitions by lag (default 200 000)'),
      minOffsetsPerTrigger: integer('an integer >= 1', 1)
        .optional()
        .describe(
          'A trigger with fewer new records waits (no batch) until enough arrive or maxTriggerDelay passed: ' +
            'larger files and fewer commits (Spark minOffsetsPerTrigger)',
        ),
      maxTriggerDelay: duration()
        .optional()
        .describe("With minOffsetsPerTrigger: the longest wait between batches (default '15 minutes')"),
      maxBytes: integer('an integer >= 1', 1).optional().describe('Bytes per fetch request (KafkaJS maxBytes)'),
      maxBytesPerPartition: integer('an integer >= 1', 1)
        .optional()
        .describe('Bytes per partition and fetch request (KafkaJS maxBytesPerPartition)'),
      readAhead: z
        .union([z.literal(0), size()], expected(`0 or ${SIZE}`))
        .optional()
        .describe("Records fetched ahead while a batch is processed, at most this size (default '64 MiB'; 0: off)"),
      failOnDataLoss: bool()
        .optional()
        .describe('Fail when records were deleted by retention before being read (default true)'),
      scaleOut: z
        .strictObject(
          {
            sessionTimeout: duration()
              .optional()
              .describe("How long a dead member keeps its partitions before they move (default '30 seconds')"),
          },
          expected('an object'),
        )
        .optional()
        .describe(
          'Share the topics with the other daemons of kafka.groupId (Kafka assigns partitions; each partition ' +
            'resumes from the offsets of record kept in the target table). Each daemon needs its own checkpoint.',
        ),
    },
    expected('an object'),
  )
  .superRefine((value, ctx) => {
    if ((value.topics === undefined) === (value.topicPattern === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'expected exactly one of topics and topicPattern' });
    }
    if (
      value.minOffsetsPerTrigger !== undefined &&
      value.maxOffsetsPerTrigger !== undefined &&
      value.minOffsetsPerTrigger > value.maxOffsetsPerTrigger
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['minOffsetsPerTrigger'],
        message: `expected at most maxOffsetsPerTrigger (${value.maxOffsetsPerTrigger})`,
      });
    }
    if (value.maxTriggerDelay !== undefined && value.minOffsetsPerTrigger === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['maxTriggerDelay'],
        message: 'expected minOffsetsPerTrigger with it (maxTriggerDelay bounds its wait)',
      });
    }
    if (value.scaleOut !== undefined && value.groupId === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['groupId'],
        message: 'expected the consumer group the daemons share (kafka.scaleOut needs kafka.groupId)',
      });
    }
    if (value.scaleOut !== undefined && value.topicPattern !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['topicPattern'],
        message: 'expected topics: kafka.scaleOut subscribes to a list of topics, not a pattern',
      });
    }
  })
  .describe('The Kafka source');

const format = z
  .strictObject(
    {
      type: z
        .enum(['json', 'string'], expected('json or string'))
        .optional()
        .describe("How the record value is read: 'json' (parsed against schema; default) or 'string' (a value column)"),
      schema: schemaOption()
        .optional()
        .describe('Columns of the JSON value: a { column: type } map or a Spark StructType JSON'),
    },
    expected('{ type, schema }'),
  )
  .superRefine((value, ctx) => {
    const type = value.type ?? 'json';
    if (type === 'json' && value.schema === undefined) {
      ctx.addIssue({ code: 'custom', path: ['schema'], message: 'expected a schema for type json' });
    }
    if (type === 'string' && value.schema !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['schema'],
        message: "expected no schema for type string (one 'value' column)",
      });
    }
  })
  .describe('The format of the record values');

export const DERIVE_FUNCTIONS = ['date', 'hour', 'lower', 'upper', 'concat'] as const;
export type DeriveFunction = (typeof DERIVE_FUNCTIONS)[number];

const columnList = (what: string) => z.array(text('a column name'), expected(what)).min(1, expected(what));

const derive = z
  .strictObject(
    {
      name: text('a column name').describe('The column to add (or replace)'),
      fn: z
        .enum(DERIVE_FUNCTIONS, expected(`one of ${DERIVE_FUNCTIONS.join(', ')}`))
        .describe(
          'date: UTC day of a timestamp (a date); hour: UTC hour of a timestamp (0-23); lower, upper: of a string; ' +
            'concat: the columns joined by separator',
        ),
      column: text('a column name').optional().describe('The input column (date, hour, lower, upper)'),
      columns: columnList('a non-empty array of column names').optional().describe('The input columns (concat)'),
      separator: z.string(expected('a string')).optional().describe("concat's separator (default '')"),
    },
    expected('{ name, fn, column }'),
  )
  .superRefine((value, ctx) => {
    if (value.fn === 'concat') {
      if (value.columns === undefined)
        ctx.addIssue({ code: 'custom', path: ['columns'], message: 'expected the columns to concat' });
      if (value.column !== undefined)
        ctx.addIssue({ code: 'custom', path: ['column'], message: 'expected columns (a list) for concat' });
    } else {
      if (value.column === undefined)
        ctx.addIssue({ code: 'custom', path: ['column'], message: `expected the input column of ${value.fn}` });
      if (value.columns !== undefined || value.separator !== undefined) {
        ctx.addIssue({ code: 'custom', message: `expected only name, fn and column for ${value.fn}` });
      }
    }
  });

const transform = oneOf(
  {
    select: columnList("a non-empty array of columns ('a' or 'a as b')")
      .optional()
      .describe("Keeps these columns, in order; 'a as b' renames"),
    rename: z
      .record(text('a column name'), text('a column name'), expected('a { from: to } map'))
      .refine((v) => Object.keys(v).length > 0, expected('a non-empty { from: to } map'))
      .optional()
      .describe('Renames columns: { from: to }'),
    cast: z
      .record(text('a column name'), typeName(), expected('a { column: type } map'))
      .refine((v) => Object.keys(v).length > 0, expected('a non-empty { column: type } map'))
      .optional()
      .describe('Converts columns to types: { column: type }; a value that does not convert is a dead letter'),
    derive: derive.optional().describe('Adds a column computed from others: { name, fn, column }'),
  },
  'One transform: { select } | { rename } | { cast } | { derive }',
);

const dedup = z
  .strictObject(
    {
      keys: columnList('a non-empty array of column names').describe('Columns identifying a duplicate'),
      watermark: z
        .strictObject(
          {
            column: text('a column name').describe('The event-time column (a timestamp)'),
            delay: duration().describe("How late a duplicate may arrive, e.g. '10 minutes'"),
          },
          expected('{ column, delay }'),
        )
        .describe('Keys are remembered until the watermark passes their event time + delay'),
    },
    expected('{ keys, watermark: { column, delay } }'),
  )
  .describe("Drops rows whose keys were seen within the watermark delay (Spark's dropDuplicatesWithinWatermark)");

const target = z
  .strictObject(
    {
      delta: z
        .strictObject(
          {
            path: text('a folder path').describe('The Delta table folder (created when missing)'),
            partitionBy: z
              .array(text('a column name'), expected('an array of column names'))
              .optional()
              .describe('Partition columns of a table the daemon creates'),
            mode: z.literal('append', expected("'append'")).optional().describe("Output mode: 'append' (the only one)"),
          },
          expected('{ path, partitionBy, mode }'),
        )
        .describe('The Delta table written exactly once per micro-batch (txn = query id, batch id)'),
      targetFileSize: size().optional().describe("Target data file size (default '128 MiB')"),
      compression: z
        .enum(['snappy', 'zstd', 'uncompressed'], expected("'snappy', 'zstd' or 'uncompressed'"))
        .optional()
        .describe("Parquet codec (default: the table's delta.parquet.compression.codec, else 'snappy')"),
      autoCompact: z
        .union(
          [
            z.boolean(),
            z.strictObject(
              {
                minFiles: integer('an integer of at least 2', 2)
                  .optional()
                  .describe('Compact a partition once it has this many small files (default 50)'),
                maxFileSize: size()
                  .optional()
                  .describe(
                    "Files smaller than this are small, and compacted into files of about it (default '128 MiB')",
                  ),
              },
              expected('{ minFiles, maxFileSize }'),
            ),
          ],
          expected('true, false or { minFiles, maxFileSize }'),
        )
        .optional()
        .describe(
          "Compact small files after commits (OPTIMIZE, dataChange=false). Default: the table's delta.autoOptimize.autoCompact property, else off",
        ),
    },
    expected('{ delta: { path } }'),
  )
  .describe('Where the rows go');

const deadLetters = oneOf(
  {
    delta: z
      .strictObject(
        { path: text('a folder path').describe('The dead-letter Delta table folder (created when missing)') },
        expected('{ path }'),
      )
      .optional()
      .describe('Dead letters appended to a Delta table, exactly once per batch'),
    kafka: z
      .strictObject(
        { topic: text('a topic name').describe('The dead-letter topic (must exist)') },
        expected('{ topic }'),
      )
      .optional()
      .describe('Dead letters produced to a Kafka topic, at least once (key <queryId>/<batchId>/<index>)'),
  },
  'Where rejected records go (default: JSON Lines under <checkpoint>/dead-letters/)',
);

const trigger = oneOf(
  {
    interval: duration()
      .optional()
      .describe("A micro-batch every interval, e.g. '10 seconds' ('0 seconds': back to back)"),
    availableNow: z
      .literal(true, expected('true'))
      .optional()
      .describe('Process everything available at start in rate-limited batches, then exit'),
  },
  "When micro-batches run (default { interval: '10 seconds' })",
);

const metrics = z
  .strictObject(
    {
      enabled: bool().optional().describe('Serve /metrics, /healthz and /readyz (default true)'),
      port: integer('a port number from 0 to 65535', 0, 65535)
        .optional()
        .describe('Port (default 9090; 0: any free port)'),
      host: text('a host name or address').optional().describe("Address to listen on (default '0.0.0.0')"),
    },
    expected('{ port, host }'),
  )
  .describe('The HTTP endpoint for Prometheus and health checks');

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const log = z
  .strictObject(
    {
      level: z
        .enum(LEVELS, expected(LEVELS.join(', ')))
        .optional()
        .describe('Log level (default info); logs are JSON lines on stdout'),
    },
    expected('{ level }'),
  )
  .describe('Structured logs');

export const PIPELINE_CONFIG = z
  .strictObject(
    {
      name: text('a non-empty pipeline name').describe('The pipeline (query) name, in logs and metrics'),
      checkpoint: text('a folder path').describe('The checkpoint folder: offsets, commits, state, lease'),
      kafka,
      format,
      transforms: z
        .array(transform, expected('a list of transforms'))
        .optional()
        .describe('Stateless transforms applied in order after parsing'),
      dedup: dedup.optional(),
      target,
      deadLetters: deadLetters.optional(),
      trigger: trigger.optional(),
      metrics: metrics.optional(),
      log: log.optional(),
      workers: integer('an integer from 0 to 64', 0, 64)
        .optional()
        .describe(
          'Worker threads that parse, transform and encode records when there is no dedup and no ' +
            'scale-out (default: the cores but one, at most 4, and none on 2 cores; 0: the main thread)',
        ),
    },
    expected('a mapping of pipeline keys'),
  )
  .describe('A lakestream ingest pipeline: Kafka → parse → transforms → dedup → Delta');

type Parsed = z.output<typeof PIPELINE_CONFIG>;

// ---------------------------------------------------------------------------------------------------
// The resolved config

export type Transform =
  | { kind: 'select'; columns: string[]; path: string }
  | { kind: 'rename'; renames: Record<string, string>; path: string }
  | { kind: 'cast'; casts: Record<string, PrimitiveType>; path: string }
  | {
      kind: 'derive';
      name: string;
      fn: DeriveFunction;
      columns: string[];
      separator: string;
      path: string;
    };

export interface IngestConfig {
  /** The config file (absolute). */
  file: string;
  name: string;
  checkpoint: string;
  kafka: {
    brokers: string[];
    clientId?: string;
    groupId?: string;
    ssl?: ConnectionOptions | boolean;
    sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
    topics?: string[];
    topicPattern?: string;
    startingOffsets: 'earliest' | 'latest' | Record<string, Record<string, number>>;
    maxOffsetsPerTrigger: number;
    minOffsetsPerTrigger?: number;
    maxTriggerDelayMs?: number;
    maxBytes?: number;
    maxBytesPerPartition?: number;
    /** KafkaSourceOptions.readAheadBytes. */
    readAheadBytes?: number;
    failOnDataLoss: boolean;
    /** Consumer-group scale-out (needs groupId and topics). */
    scaleOut?: { sessionTimeoutMs: number };
  };
  format: { type: 'json'; schema: StructType } | { type: 'string' };
  transforms: Transform[];
  dedup?: { keys: string[]; watermark: { column: string; delay: string; delayMs: number } };
  target: {
    delta: { path: string; partitionBy: string[]; mode: 'append' };
    targetFileSize?: number;
    compression?: 'snappy' | 'zstd' | 'uncompressed';
    /** DeltaSinkOptions.autoCompact. */
    autoCompact?: boolean | { minFiles?: number; maxFileSize?: number };
  };
  deadLetters: { kind: 'checkpoint' } | { kind: 'delta'; path: string } | { kind: 'kafka'; topic: string };
  trigger: { kind: 'interval'; interval: string; intervalMs: number } | { kind: 'availableNow' };
  metrics: { enabled: boolean; port: number; host: string };
  log: { level: (typeof LEVELS)[number] };
  /** Worker threads of the parallel stage (0: the serial pipeline on the main thread). */
  workers: number;
}

// ---------------------------------------------------------------------------------------------------
// Formatting issues

/** 'kafka.brokers[0]', 'transforms[2].derive.fn'. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else {
      const name = String(part);
      out += /^[A-Za-z_][\w-]*$/.test(name) ? `${out ? '.' : ''}${name}` : `[${JSON.stringify(name)}]`;
    }
  }
  return out;
}

/** The zod object schema at a path of the config (for the known keys of an unknown-key issue). */
function shapeAt(path: readonly PropertyKey[]): string[] | undefined {
  type Def = { type: string; [key: string]: unknown };
  const defOf = (schema: unknown): Def | undefined => (schema as { _zod?: { def?: Def } })?._zod?.def;
  const unwrap = (schema: unknown): unknown => {
    for (let i = 0; i < 10; i++) {
      const def = defOf(schema);
      if (!def) return schema;
      if (def.type === 'optional' || def.type === 'default' || def.type === 'nullable') schema = def.innerType;
      else if (def.type === 'pipe') schema = def.out && defOf(def.out)?.type !== 'transform' ? def.out : def.in;
      else return schema;
    }
    return schema;
  };
  let schema = unwrap(PIPELINE_CONFIG);
  for (const part of path) {
    const def = defOf(schema);
    if (!def) return undefined;
    if (def.type === 'array' && typeof part === 'number') schema = unwrap(def.element);
    else if (def.type === 'object' && typeof part === 'string') {
      schema = unwrap((def.shape as Record<string, unknown>)[part]);
    } else if (def.type === 'union') {
      const options = (def.options as unknown[]).map(unwrap).filter((o) => defOf(o)?.type === 'object');
      if (options.length !== 1) return undefined;
      schema = options[0];
      const inner = defOf(schema)!;
      schema = unwrap((inner.shape as Record<string, unknown>)[String(part)]);
    } else return undefined;
  }
  const def = defOf(schema);
  if (def?.type === 'object') return Object.keys(def.shape as Record<string, unknown>);
  if (def?.type === 'union') {
    const options = (def.options as unknown[]).map(unwrap).filter((o) => defOf(o)?.type === 'object');
    if (options.length === 1) return Object.keys(defOf(options[0])!.shape as Record<string, unknown>);
  }
  return undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = current;
    }
  }
  return row[b.length]!;
}

function formatIssue(issue: z.core.$ZodIssue): string[] {
  const path = issue.path;
  const where = (p: readonly PropertyKey[]) => (p.length > 0 ? `${formatPath(p)}: ` : '');
  if (issue.code === 'unrecognized_keys') {
    const known = shapeAt(path) ?? [];
    return issue.keys.map((key) => {
      const close = known
        .map((k) => ({ k, d: editDistance(key.toLowerCase(), k.toLowerCase()) }))
        .filter((c) => c.d <= Math.max(1, Math.floor(key.length / 3)))
        .sort((a, b) => a.d - b.d)[0];
      const hint = close
        ? ` (did you mean '${close.k}'?)`
        : known.length > 0
          ? ` (expected one of ${known.join(', ')})`
          : '';
      return `${formatPath([...path, key])}: unknown key${hint}`;
    });
  }
  return [`${where(path)}${issue.message}`];
}

// ---------------------------------------------------------------------------------------------------
// Loading

/** Replaces ${NAME} and ${NAME:-default} in every string; $${ is a literal ${. */
function substituteEnv(value: unknown, env: NodeJS.ProcessEnv, path: PropertyKey[], issues: string[]): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$(\$)?\{([^}]*)\}/g, (whole, escaped: string | undefined, body: string) => {
      if (escaped) return whole.slice(1);
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s.exec(body);
      if (!m) {
        issues.push(
          `${formatPath(path)}: '\${${body}}' is not an environment variable reference (\${NAME} or \${NAME:-default})`,
        );
        return whole;
      }
      const found = env[m[1]!];
      if (found !== undefined && found !== '') return found;
      if (m[2] !== undefined) return m[2];
      issues.push(`${formatPath(path)}: environment variable ${m[1]} is not set`);
      return whole;
    });
  }
  if (Array.isArray(value)) return value.map((item, i) => substituteEnv(item, env, [...path, i], issues));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      Object.defineProperty(out, key, {
        value: substituteEnv(item, env, [...path, key], issues),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}

/** CONFIG_INVALID listing `issues` ('key.path: what was expected'). */
export function invalidConfig(file: string, issues: readonly string[]): ConfigError {
  return new ConfigError('CONFIG_INVALID', `invalid config ${file}: ${issues.join('; ')}`, issues, { file });
}

/** Parses the text of a config file (YAML for .yaml/.yml, JSON for .json). */
export function parseConfigText(text: string, file: string): unknown {
  const ext = extname(file).toLowerCase();
  if (ext === '.json') {
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new ConfigError('CONFIG_UNREADABLE', `config ${file} is not valid JSON: ${(error as Error).message}`, [], {
        file,
      });
    }
  }
  if (ext === '.yaml' || ext === '.yml') {
    try {
      return parseYaml(text, { prettyErrors: true }) as unknown;
    } catch (error) {
      if (error instanceof YAMLParseError) {
        const at = error.linePos?.[0];
        const where = at ? ` at line ${at.line}, column ${at.col}` : '';
        const reason = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
        throw new ConfigError('CONFIG_UNREADABLE', `config ${file} is not valid YAML${where}: ${reason}`, [], { file });
      }
      throw error;
    }
  }
  throw new ConfigError(
    'CONFIG_UNREADABLE',
    `config ${file}: expected a .yaml, .yml or .json file, got '${ext || 'no extension'}'`,
    [],
    { file },
  );
}

/**
 * Validates a parsed config document and resolves it: env substitution, defaults, paths against
 * `baseDir`, TLS files read. Throws ConfigError CONFIG_INVALID listing every issue.
 */
export function resolveConfig(
  document: unknown,
  options: { file: string; baseDir: string; env?: NodeJS.ProcessEnv },
): IngestConfig {
  const { file, baseDir } = options;
  const envIssues: string[] = [];
  const substituted = substituteEnv(document, options.env ?? process.env, [], envIssues);
  if (envIssues.length > 0) throw invalidConfig(file, envIssues);
  if (substituted === null || substituted === undefined) throw invalidConfig(file, ['the file is empty']);
  const result = PIPELINE_CONFIG.safeParse(substituted);
  if (!result.success) {
    const issues = result.error.issues;
    // An unknown key already explains why a one-of object has none of its keys.
    const unknownAt = new Set(issues.filter((i) => i.code === 'unrecognized_keys').map((i) => formatPath(i.path)));
    const kept = issues.filter(
      (i) => !(i.code === 'custom' && i.message.startsWith('expected one of') && unknownAt.has(formatPath(i.path))),
    );
    throw invalidConfig(file, kept.flatMap(formatIssue));
  }
  const c: Parsed = result.data;
  const issues: string[] = [];
  if (c.kafka.scaleOut !== undefined && c.dedup !== undefined) {
    issues.push(
      'dedup: not supported with kafka.scaleOut (dedup state is per daemon and does not move with a partition); ' +
        'run one daemon, or deduplicate downstream',
    );
  }
  const path = (p: string) => resolve(baseDir, p);

  let sslOptions: ConnectionOptions | boolean | undefined;
  if (typeof c.kafka.ssl === 'object') {
    const tls: ConnectionOptions = {};
    for (const key of ['ca', 'cert', 'key'] as const) {
      const f = c.kafka.ssl[key];
      if (f === undefined) continue;
      try {
        tls[key] = readFileSync(path(f), 'utf8');
      } catch (error) {
        issues.push(
          `kafka.ssl.${key}: cannot read ${path(f)} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
        );
      }
    }
    if (c.kafka.ssl.passphrase !== undefined) tls.passphrase = c.kafka.ssl.passphrase;
    if (c.kafka.ssl.rejectUnauthorized !== undefined) tls.rejectUnauthorized = c.kafka.ssl.rejectUnauthorized;
    sslOptions = tls;
  } else sslOptions = c.kafka.ssl;

  const transforms: Transform[] = (c.transforms ?? []).map((t, i): Transform => {
    if (t.select) return { kind: 'select', columns: t.select, path: `transforms[${i}].select` };
    if (t.rename) return { kind: 'rename', renames: t.rename, path: `transforms[${i}].rename` };
    if (t.cast) return { kind: 'cast', casts: t.cast, path: `transforms[${i}].cast` };
    const d = t.derive!;
    return {
      kind: 'derive',
      name: d.name,
      fn: d.fn,
      columns: d.columns ?? (d.column !== undefined ? [d.column] : []),
      separator: d.separator ?? '',
      path: `transforms[${i}].derive`,
    };
  });
  if (issues.length > 0) throw invalidConfig(file, issues);

  const trigger: IngestConfig['trigger'] = c.trigger?.availableNow
    ? { kind: 'availableNow' }
    : c.trigger?.interval
      ? { kind: 'interval', interval: c.trigger.interval.text, intervalMs: c.trigger.interval.ms }
      : { kind: 'interval', interval: '10 seconds', intervalMs: 10_000 };
  const deadLetters: IngestConfig['deadLetters'] = c.deadLetters?.delta
    ? { kind: 'delta', path: path(c.deadLetters.delta.path) }
    : c.deadLetters?.kafka
      ? { kind: 'kafka', topic: c.deadLetters.kafka.topic }
      : { kind: 'checkpoint' };

  const format: IngestConfig['format'] =
    (c.format.type ?? 'json') === 'json' ? { type: 'json', schema: c.format.schema! } : { type: 'string' };
  const columnar = columnarPipeline({
    format,
    transforms,
    dedup: c.dedup,
    scaleOut: c.kafka.scaleOut,
    target: { delta: { partitionBy: c.target.delta.partitionBy ?? [] } },
  });
  return {
    file,
    name: c.name,
    checkpoint: path(c.checkpoint),
    kafka: {
      brokers: c.kafka.brokers,
      ...(c.kafka.clientId !== undefined ? { clientId: c.kafka.clientId } : {}),
      ...(c.kafka.groupId !== undefined ? { groupId: c.kafka.groupId } : {}),
      ...(sslOptions !== undefined ? { ssl: sslOptions } : {}),
      ...(c.kafka.sasl !== undefined ? { sasl: c.kafka.sasl } : {}),
      ...(c.kafka.topics !== undefined ? { topics: c.kafka.topics } : {}),
      ...(c.kafka.topicPattern !== undefined ? { topicPattern: c.kafka.topicPattern } : {}),
      startingOffsets: c.kafka.startingOffsets ?? 'latest',
      // A daemon bounds its batches (and so its memory) by default; Spark's unbounded first batch of a
      // large backlog would hold it all in memory at once.
      maxOffsetsPerTrigger: c.kafka.maxOffsetsPerTrigger ?? DEFAULT_MAX_OFFSETS_PER_TRIGGER,
      ...(c.kafka.minOffsetsPerTrigger !== undefined ? { minOffsetsPerTrigger: c.kafka.minOffsetsPerTrigger } : {}),
      ...(c.kafka.maxTriggerDelay !== undefined ? { maxTriggerDelayMs: c.kafka.maxTriggerDelay.ms } : {}),
      ...(c.kafka.maxBytes !== undefined ? { maxBytes: c.kafka.maxBytes } : {}),
      ...(c.kafka.maxBytesPerPartition !== undefined ? { maxBytesPerPartition: c.kafka.maxBytesPerPartition } : {}),
      ...(c.kafka.readAhead !== undefined ? { readAheadBytes: c.kafka.readAhead } : {}),
      failOnDataLoss: c.kafka.failOnDataLoss ?? true,
      ...(c.kafka.scaleOut !== undefined
        ? { scaleOut: { sessionTimeoutMs: c.kafka.scaleOut.sessionTimeout?.ms ?? 30_000 } }
        : {}),
    },
    format,
    transforms,
    ...(c.dedup
      ? {
          dedup: {
            keys: c.dedup.keys,
            watermark: {
              column: c.dedup.watermark.column,
              delay: c.dedup.watermark.delay.text,
              delayMs: c.dedup.watermark.delay.ms,
            },
          },
        }
      : {}),
    target: {
      delta: {
        path: path(c.target.delta.path),
        partitionBy: c.target.delta.partitionBy ?? [],
        mode: 'append',
      },
      ...(c.target.targetFileSize !== undefined ? { targetFileSize: c.target.targetFileSize } : {}),
      ...(c.target.compression !== undefined ? { compression: c.target.compression } : {}),
      ...(c.target.autoCompact !== undefined ? { autoCompact: c.target.autoCompact } : {}),
    },
    deadLetters,
    trigger,
    metrics: {
      enabled: c.metrics?.enabled ?? true,
      port: c.metrics?.port ?? 9090,
      host: c.metrics?.host ?? '0.0.0.0',
    },
    log: { level: c.log?.level ?? 'info' },
    workers: c.workers ?? defaultWorkers(availableParallelism(), columnar),
  };
}

/**
 * Whether a pipeline's records can be scanned straight into columns by the stage (parallel/task.ts,
 * the columnar path): JSON of a flat primitive schema (JsonColumnScanner.supports), no transforms, no
 * dedup (its state is the main thread's: that query takes columns itself, see pipeline.ts) and no
 * scale-out (rows carry their origin), an unpartitioned table (the stage also checks its columns).
 */
export function columnarPipeline(
  config: Pick<IngestConfig, 'format' | 'transforms'> & {
    dedup?: unknown;
    scaleOut?: unknown;
    target?: { delta: { partitionBy: readonly string[] } };
  },
): boolean {
  return (
    config.format.type === 'json' &&
    config.transforms.length === 0 &&
    (config.target?.delta.partitionBy.length ?? 0) === 0 &&
    config.dedup === undefined &&
    config.scaleOut === undefined &&
    JsonColumnScanner.supports(config.format.schema)
  );
}

/**
 * The default of `workers`: the cores but one (the main thread reads Kafka and commits), at most 4.
 * On 2 cores, 1 for a pipeline that takes the columnar path, else none. Measured there
 * (bench/kafka-ingest.ts, compiled, the broker on the same 2 cores, 100k-record batches, against a
 * raw kafkajs consumer in the same run): on the columnar path 1 worker reaches 0.53-0.55 of the raw
 * consumer's events per second, the main thread alone 0.49-0.51 and 2 workers 0.48-0.49 (at 18 %
 * more CPU per event); on the row path (transforms) 1 worker is slower than none and 2 gain 2-12 %
 * for 13-21 % more CPU per event and 1.3-1.6x the memory.
 */
export function defaultWorkers(cores: number, columnar = false): number {
  if (cores <= 2) return cores === 2 && columnar ? 1 : 0;
  return Math.min(4, cores - 1);
}

/** Reads, parses and validates a config file. Throws ConfigError. */
export async function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Promise<IngestConfig> {
  const absolute = resolve(file);
  let text: string;
  try {
    text = await readFile(absolute, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'it is a folder'
            : (code ?? (error as Error).message);
    throw new ConfigError('CONFIG_UNREADABLE', `cannot read config ${file}: ${why}`, [], { file });
  }
  return resolveConfig(parseConfigText(text, file), { file, baseDir: dirname(absolute), env });
}

/** The config's JSON Schema (for editors), from the zod schema and its descriptions. */
export function configJsonSchema(): unknown {
  return z.toJSONSchema(PIPELINE_CONFIG, { io: 'input', unrepresentable: 'any' });
}
