// `lakestream table …`: write/read/history/vacuum/optimize a Delta table on the local filesystem.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { DeltaError } from '../../sinks/delta/errors.js';
import { parseSchema } from '../../sinks/delta/schema-json.js';
import { DeltaTable } from '../../sinks/delta/table.js';
import type { StructType } from '../../sinks/schema.js';
import { LocalObjectStore } from '../../storage/local.js';
import { InputArgumentError } from '../../stream/input/errors.js';
import { openInput } from '../../stream/input/read-input.js';
import { toJsonLines, toTextTable } from '../format-rows.js';
import type { CliIo } from '../io.js';

function invalidOption(option: string, message: string): DeltaError {
  return new DeltaError(`${option}: ${message}`, { code: 'INVALID_ARGUMENT', context: { option } });
}

function parseNonNegativeInt(option: string, text: string): number {
  if (!/^\d+$/.test(text)) throw invalidOption(option, `expected a non-negative integer, got ${JSON.stringify(text)}`);
  return Number(text);
}

async function readSchemaFile(file: string): Promise<StructType> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new InputArgumentError('--schema', `cannot read schema file ${file}: ${(cause as Error).message}`, { file });
  }
  try {
    return parseSchema(text);
  } catch (cause) {
    throw new InputArgumentError('--schema', `${file} is not a Spark/Delta schema JSON: ${(cause as Error).message}`, {
      file,
    });
  }
}

async function tableExists(store: LocalObjectStore): Promise<boolean> {
  for await (const _ of store.list({ prefix: '_delta_log/' })) return true;
  return false;
}

export function registerTableCommands(program: Command, io: CliIo): void {
  const table = program.command('table').description('write, read and maintain Delta tables');

  table
    .command('write <path>')
    .description('append or overwrite rows from a JSONL or CSV file (creates the table if needed)')
    .requiredOption('--input <file>', 'input file: .jsonl/.ndjson/.json (JSON Lines) or .csv/.tsv')
    .option('--schema <schema.json>', 'table schema as Spark/Delta schema JSON (default: inferred from the input)')
    .option('--partition-by <columns>', 'comma-separated partition columns (new tables only)')
    .option('--mode <mode>', 'append | overwrite', 'append')
    .option('--merge-schema', 'add new columns of the input to the table schema')
    .option('--format <format>', 'input format when the extension does not tell: jsonl | csv')
    .action(async (path: string, opts: Record<string, string | boolean | undefined>) => {
      const mode = String(opts.mode);
      if (mode !== 'append' && mode !== 'overwrite')
        throw invalidOption('--mode', `expected append or overwrite, got ${mode}`);
      const store = new LocalObjectStore(resolve(path));
      const exists = await tableExists(store);
      const existing = exists ? await DeltaTable.open(store) : undefined;
      const given = opts.schema ? await readSchemaFile(String(opts.schema)) : undefined;
      // Convert the input to the table's schema unless the user gave one or asked to evolve it.
      const schema = given ?? (existing && !opts.mergeSchema ? existing.snapshot().schema : undefined);
      const input = await openInput(resolve(String(opts.input)), {
        ...(schema ? { schema } : {}),
        ...(opts.format ? { format: String(opts.format) as 'jsonl' | 'csv' } : {}),
      });
      const rows: Record<string, unknown>[] = [];
      for await (const row of input.rows()) rows.push(row);
      const partitionBy = opts.partitionBy
        ? String(opts.partitionBy)
            .split(',')
            .map((c) => c.trim())
            .filter(Boolean)
        : [];
      let target = existing;
      if (!target) {
        target = await DeltaTable.create(store, { schema: input.schema, partitionColumns: partitionBy });
        io.err(`created table ${store.location} (${input.schema.fields.length} columns)`);
      } else if (partitionBy.length > 0) {
        const current = target.snapshot().partitionColumns;
        if (current.join(',') !== partitionBy.join(',')) {
          throw invalidOption(
            '--partition-by',
            `the table is partitioned by [${current.join(', ')}], not [${partitionBy.join(', ')}]`,
          );
        }
      }
      const writeOptions = { dataSchema: input.schema, ...(opts.mergeSchema ? { mergeSchema: true } : {}) };
      const outcome =
        mode === 'overwrite' ? await target.overwrite(rows, writeOptions) : await target.append(rows, writeOptions);
      io.out(
        `${mode === 'overwrite' ? 'overwrote' : 'appended'} ${outcome.numRows} rows in ${outcome.numFiles} files: version ${outcome.version}`,
      );
    });

  table
    .command('read <path>')
    .description('print the rows of a table, at the latest version or by time travel')
    .option('--version <n>', 'read the table as of this version')
    .option('--timestamp <iso>', 'read the table as of this time (ISO-8601)')
    .option('--limit <n>', 'print at most this many rows')
    .option('--columns <list>', 'comma-separated columns to print')
    .option('--format <format>', 'table | jsonl', 'table')
    .action(async (path: string, opts: Record<string, string | undefined>) => {
      const format = opts.format ?? 'table';
      if (format !== 'table' && format !== 'jsonl')
        throw invalidOption('--format', `expected table or jsonl, got ${format}`);
      if (opts.version !== undefined && opts.timestamp !== undefined) {
        throw invalidOption('--version', 'give either --version or --timestamp, not both');
      }
      const store = new LocalObjectStore(resolve(path));
      const t = await DeltaTable.open(store);
      let snapshot = t.snapshot();
      if (opts.version !== undefined)
        snapshot = await t.snapshotAt({ version: parseNonNegativeInt('--version', opts.version) });
      if (opts.timestamp !== undefined) {
        const ms = Date.parse(opts.timestamp);
        if (Number.isNaN(ms)) throw invalidOption('--timestamp', `not an ISO-8601 time: ${opts.timestamp}`);
        snapshot = await t.snapshotAt({ timestamp: ms });
      }
      const columns = opts.columns ? opts.columns.split(',').map((c) => c.trim()) : undefined;
      let rows = await t.scanRows({ snapshot, ...(columns ? { columns } : {}) });
      if (opts.limit !== undefined) rows = rows.slice(0, parseNonNegativeInt('--limit', opts.limit));
      const schema: StructType = columns
        ? {
            type: 'struct',
            fields: columns.map((c) => {
              const f = snapshot.schema.fields.find((x) => x.name.toLowerCase() === c.toLowerCase());
              if (!f) throw invalidOption('--columns', `column "${c}" is not in the table schema`);
              return f;
            }),
          }
        : snapshot.schema;
      const lines = format === 'jsonl' ? toJsonLines(rows, schema) : toTextTable(rows, schema);
      for (const line of lines) io.out(line);
    });

  table
    .command('history <path>')
    .description('list the commits of a table, newest first')
    .option('--limit <n>', 'at most this many commits')
    .option('--format <format>', 'table | jsonl', 'table')
    .action(async (path: string, opts: Record<string, string | undefined>) => {
      const t = await DeltaTable.open(new LocalObjectStore(resolve(path)));
      const limit = opts.limit === undefined ? undefined : parseNonNegativeInt('--limit', opts.limit);
      const entries = await t.history(limit === undefined ? {} : { limit });
      if (opts.format === 'jsonl') {
        for (const e of entries)
          io.out(
            JSON.stringify({ version: e.version, timestamp: new Date(e.timestamp).toISOString(), ...e.commitInfo }),
          );
        return;
      }
      io.out('version | timestamp                | operation          | parameters');
      for (const e of entries) {
        const op = String(e.commitInfo.operation ?? '');
        io.out(
          `${String(e.version).padStart(7)} | ${new Date(e.timestamp).toISOString()} | ${op.padEnd(18)} | ${JSON.stringify(e.commitInfo.operationParameters ?? {})}`,
        );
      }
    });

  table
    .command('vacuum <path>')
    .description('delete data files no longer referenced and older than the retention period')
    .option('--dry-run', 'only list the files that would be deleted')
    .option('--retention-hours <n>', 'retention in hours (default: delta.deletedFileRetentionDuration, 7 days)')
    .option('--force', 'allow a retention shorter than the table’s deletedFileRetentionDuration')
    .action(async (path: string, opts: Record<string, string | boolean | undefined>) => {
      const t = await DeltaTable.open(new LocalObjectStore(resolve(path)));
      const result = await t.vacuum({
        ...(opts.dryRun ? { dryRun: true } : {}),
        ...(opts.force ? { force: true } : {}),
        ...(opts.retentionHours !== undefined
          ? { retentionHours: Number(parseNonNegativeInt('--retention-hours', String(opts.retentionHours))) }
          : {}),
      });
      for (const f of result.files) io.out(f);
      io.out(`${result.dryRun ? 'would delete' : 'deleted'} ${result.files.length} files (${result.bytes} bytes)`);
    });

  table
    .command('optimize <path>')
    .description('compact small files (bin-packing, dataChange=false)')
    .option('--target-size <bytes>', 'target file size in bytes (default 128 MiB)')
    .action(async (path: string, opts: Record<string, string | undefined>) => {
      const t = await DeltaTable.open(new LocalObjectStore(resolve(path)));
      const result = await t.optimize(
        opts.targetSize === undefined ? {} : { targetFileSize: parseNonNegativeInt('--target-size', opts.targetSize) },
      );
      io.out(
        result.outcome
          ? `compacted ${result.filesRemoved} files into ${result.filesAdded} in ${result.partitionsOptimized} partitions: version ${result.outcome.version}`
          : 'nothing to compact',
      );
    });
}
