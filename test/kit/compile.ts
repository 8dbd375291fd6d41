// Compiles the project's TypeScript as `npm run build` does (or by another tsconfig of the project
// root), into a new folder under .cache/ — inside the project, so the compiled files resolve its
// node_modules. Used where the shipped JavaScript must run under plain node: the daemon tests that
// spawn the compiled CLI, and the Kafka benchmark's legs.

import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from './paths.js';

/** Runs tsc with `tsconfig` (relative to the project root) into a new .cache/<prefix>* folder; returns it. */
export async function compileSources(tsconfig = 'tsconfig.build.json', prefix = 'compiled-'): Promise<string> {
  mkdirSync(join(PROJECT_ROOT, '.cache'), { recursive: true });
  const outDir = mkdtempSync(join(PROJECT_ROOT, '.cache', prefix));
  const tsc = join(PROJECT_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  await new Promise<void>((resolve, reject) => {
    execFile(
      process.execPath,
      [tsc, '-p', join(PROJECT_ROOT, tsconfig), '--outDir', outDir],
      { cwd: PROJECT_ROOT },
      (error, stdout) => (error ? reject(new Error(`tsc failed: ${stdout}`)) : resolve()),
    );
  });
  return outDir;
}
