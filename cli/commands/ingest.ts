// `lakestream ingest --config <pipeline.yaml|json>`: the Kafka → Delta ingestion daemon (cli/ingest/).
import type { Command } from 'commander';
import { configJsonSchema } from '../ingest/config.js';
import { checkIngest, runIngest } from '../ingest/daemon.js';
import type { CliIo } from '../io.js';

export function registerIngestCommand(program: Command, io: CliIo): void {
  program
    .command('ingest')
    .description(
      'run a Kafka → Delta ingestion pipeline exactly once (config: YAML or JSON; see README "Run the ingestion daemon")',
    )
    .option('--config <file>', 'the pipeline config (.yaml, .yml or .json)')
    .option('--check', 'validate the config and check Kafka and the tables, then exit (creates nothing)')
    .option('--print-config-schema', 'print the JSON Schema of the config file and exit')
    .action(async (opts: { config?: string; check?: boolean; printConfigSchema?: boolean }, command: Command) => {
      if (opts.printConfigSchema) {
        io.out(JSON.stringify(configJsonSchema(), null, 2));
        return;
      }
      if (!opts.config) command.error("error: required option '--config <file>' not specified");
      const file = opts.config!;
      if (opts.check) {
        const { config, report, columns } = await checkIngest(file);
        const topics = Object.entries(report.partitions)
          .map(([topic, n]) => `${topic} (${n} partition${n === 1 ? '' : 's'})`)
          .join(', ');
        io.out(`config ${file}: ok (pipeline '${config.name}')`);
        io.out(`kafka: ${config.kafka.brokers.join(',')}: ${topics || 'no matching topic yet'}`);
        io.out(`columns: ${columns.join(', ')}`);
        io.out(
          `table ${config.target.delta.path}: ${report.tableVersion === undefined ? 'will be created' : `version ${report.tableVersion}`}`,
        );
        io.out(
          `checkpoint ${config.checkpoint}: ${report.resumes ? 'exists (the pipeline resumes)' : 'will be created'}`,
        );
        return;
      }
      await runIngest(file, io);
    });
}
