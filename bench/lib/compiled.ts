// The benchmarks measure the code as the package ships it: compiled JavaScript under plain node (the
// `lakestream` bin runs dist/, see package.json), not TypeScript under tsx — under tsx every worker
// thread loads its own transpiler, which the shipped daemon never pays for. A bench compiles the
// sources, the benches and test/kit with test/kit/compile.ts (tsconfig.bench.json) and runs the
// compiled file. LAKESTREAM_BENCH_TSX=1 skips it (the sources under tsx, e.g. for a profile with
// source names).

/** Whether the benches should run compiled (the default) rather than under tsx. */
export function runCompiled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.LAKESTREAM_BENCH_TSX !== '1' && import.meta.url.endsWith('.ts');
}

/** Node flags for compiled bench processes: LAKESTREAM_BENCH_NODE_FLAGS, split at spaces. */
export function nodeFlags(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.LAKESTREAM_BENCH_NODE_FLAGS ?? '').split(' ').filter((flag) => flag.length > 0);
}
