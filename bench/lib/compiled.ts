// The benchmarks measure the code as the package ships it: compiled JavaScript under plain node (the
// `lakestream` bin runs dist/, see package.json), not TypeScript under tsx — under tsx every worker
// thread loads its own transpiler, which the shipped daemon never pays for.
//
// compiledEntry() compiles the sources, the benches and test/kit (tsconfig.bench.json) into a fresh
// folder under .cache/ (inside the project, so the output resolves its node_modules) and returns the
// compiled path of a bench file. LAKESTREAM_BENCH_TSX=1 skips it (the sources under tsx, e.g. for a
// profile with source names).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

let outDir: string | undefined;

/** Whether the benches should run compiled (the default) rather than under tsx. */
export function runCompiled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.LAKESTREAM_BENCH_TSX !== '1' && import.meta.url.endsWith('.ts');
}

/** The compiled JavaScript of the bench source `file` (a file URL or path), compiling once per process. */
export function compiledEntry(file: string | URL): string {
  if (outDir === undefined) {
    mkdirSync(join(ROOT, '.cache'), { recursive: true });
    const dir = mkdtempSync(join(ROOT, '.cache', 'bench-build-'));
    const started = performance.now();
    execFileSync(
      process.execPath,
      [
        join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
        '-p',
        join(ROOT, 'tsconfig.bench.json'),
        '--outDir',
        dir,
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    console.log(
      `  compiled the sources to ${relative(ROOT, dir)} in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    outDir = dir;
  }
  const source = typeof file === 'string' && !file.startsWith('file:') ? file : fileURLToPath(file);
  return join(outDir, relative(ROOT, source)).replace(/\.ts$/, '.js');
}

/** Removes the compiled folder, if this process made one. */
export function removeCompiled(): void {
  if (outDir !== undefined) rmSync(outDir, { recursive: true, force: true });
  outDir = undefined;
}

/** Node flags for compiled bench processes: LAKESTREAM_BENCH_NODE_FLAGS, split at spaces. */
export function nodeFlags(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.LAKESTREAM_BENCH_NODE_FLAGS ?? '').split(' ').filter((flag) => flag.length > 0);
}
