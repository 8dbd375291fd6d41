// The lakestream command line: parses argv with commander, runs a command, and turns failures into
// one clear error line plus a hint (exit code 1; 2 for usage errors).
import { Command, CommanderError } from 'commander';
import { registerIngestCommand } from './commands/ingest.js';
import { registerTableCommands } from './commands/table.js';
import { type CliIo, processIo } from './io.js';
import { reportError } from './report-error.js';

export const VERSION = '0.1.0';

/** Runs the CLI; resolves with the process exit code. Never throws. */
export async function runCli(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const program = new Command('lakestream')
    .description('exactly-once streaming into Delta Lake and Iceberg tables')
    .version(VERSION)
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s.replace(/\n$/, '')),
      writeErr: (s) => io.err(s.replace(/\n$/, '')),
      outputError: (s, write) => write(s),
    })
    .showHelpAfterError('(run lakestream --help for usage)');
  registerTableCommands(program, io);
  registerIngestCommand(program, io);
  for (const command of program.commands) {
    command.exitOverride();
    for (const sub of command.commands) sub.exitOverride();
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // help and version exit with 0; usage errors were already printed by commander
      return error.exitCode === 0 ? 0 : 2;
    }
    const report = reportError(error);
    io.err(report.line);
    if (report.hint) io.err(`hint: ${report.hint}`);
    if (process.env.LAKESTREAM_DEBUG && error instanceof Error && error.stack) io.err(error.stack);
    return 1;
  }
}
