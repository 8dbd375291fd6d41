// Runs `lakestream ingest` as a real child process (node with the tsx loader: one process, so signals
// reach the daemon itself; or, with `compiled`, the tsc output as the package's bin runs it) and
// follows its JSON log lines. compileCli builds that output.

import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { compileSources } from '../../kit/compile.js';
import { PROJECT_ROOT } from '../../kit/paths.js';

export interface LogLine {
  level: string;
  msg: string;
  time: string;
  [key: string]: unknown;
}

export interface DaemonProcess {
  child: ChildProcessWithoutNullStreams;
  /** Parsed stdout lines so far. */
  logs: LogLine[];
  /** stderr lines so far. */
  stderr: string[];
  /** Resolves with the first log line matching, or rejects when the process exits first. */
  waitFor(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Compiles the sources as `npm run build` does (test/kit/compile.ts); returns the folder. */
export function compileCli(): Promise<string> {
  return compileSources('tsconfig.build.json');
}

/**
 * Spawns `lakestream ingest <args>` (default: --config <config>): the TypeScript sources under tsx,
 * or with `compiled` (compileCli's folder) the compiled JavaScript under plain node.
 */
export function spawnDaemon(args: string[], env: NodeJS.ProcessEnv = {}, compiled?: string): DaemonProcess {
  const entry = compiled ? [join(compiled, 'cli/main.js')] : ['--import', 'tsx', join(PROJECT_ROOT, 'cli/main.ts')];
  const child = spawn(process.execPath, [...entry, 'ingest', ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  const stderr: string[] = [];
  const waiters = new Set<{ match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }>();
  createInterface({ input: child.stdout }).on('line', (text) => {
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      line = { level: 'raw', msg: text, time: '' };
    }
    logs.push(line);
    for (const w of [...waiters]) {
      if (w.match(line)) {
        waiters.delete(w);
        w.resolve(line);
      }
    }
  });
  createInterface({ input: child.stderr }).on('line', (text) => stderr.push(text));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  const waitFor = (match: (line: LogLine) => boolean, timeoutMs = 60_000) =>
    new Promise<LogLine>((resolve, reject) => {
      const found = logs.find(match);
      if (found) return resolve(found);
      const waiter = { match, resolve };
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`no matching log line within ${timeoutMs} ms; stderr: ${stderr.join('\n')}`));
      }, timeoutMs);
      waiters.add({
        match,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      });
      void exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`the daemon exited (${signal ?? code}) first; stderr: ${stderr.join('\n')}`));
      });
    });
  return { child, logs, stderr, waitFor, exited };
}

/** Runs the daemon to its end. */
export async function runDaemon(args: string[], env: NodeJS.ProcessEnv = {}, compiled?: string) {
  const daemon = spawnDaemon(args, env, compiled);
  const { code, signal } = await daemon.exited;
  return { code, signal, logs: daemon.logs, stderr: daemon.stderr };
}

/** Files and folders under `dir` (recursively, relative), or [] when it does not exist. */
export function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

/** Streaming commits per txn (appId@version) in a Delta table's log. */
export function txnCounts(table: string): Map<string, number> {
  const counts = new Map<string, number>();
  const log = join(table, '_delta_log');
  for (const name of readdirSync(log).filter((n) => /^\d{20}\.json$/.test(n))) {
    const text = readFileSync(join(log, name), 'utf8');
    for (const line of text.split('\n')) {
      if (!line.includes('"txn"')) continue;
      const txn = (JSON.parse(line) as { txn: { appId: string; version: number } }).txn;
      const key = `${txn.appId}@${txn.version}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return counts;
}
