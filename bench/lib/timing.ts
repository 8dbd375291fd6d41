// Timing helpers for the benchmarks: wall and on-CPU time of a call, medians.
import { readFileSync } from 'node:fs';

/**
 * On-CPU time of this thread in ms (Linux /proc/thread-self/schedstat; NaN elsewhere). On a shared
 * host wall time also counts time spent waiting for a core; CPU time does not, so both are reported.
 */
export function threadCpuMs(): number {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return Number.NaN;
  }
}

/** Wall and on-CPU milliseconds of `fn`. */
export function timed<T>(fn: () => T): { value: T; wall: number; cpu: number } {
  const c0 = threadCpuMs();
  const t0 = performance.now();
  const value = fn();
  const wall = performance.now() - t0;
  return { value, wall, cpu: threadCpuMs() - c0 };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Wall and on-CPU (this thread) milliseconds of an async `fn`. */
export async function timedAsync<T>(fn: () => Promise<T>): Promise<{ value: T; wall: number; cpu: number }> {
  const c0 = threadCpuMs();
  const t0 = performance.now();
  const value = await fn();
  const wall = performance.now() - t0;
  return { value, wall, cpu: threadCpuMs() - c0 };
}

/**
 * Prints one leg's medians — wall ms, rows/s, `extra(wallMs)` (e.g. MB/s), CPU ms and every run's wall
 * time — under `label` (padded to `width`), and returns the medians.
 */
export function reportLeg(
  label: string,
  runs: readonly { wall: number; cpu: number }[],
  rows: number,
  width: number,
  extra: (wallMs: number) => string = () => '',
): { wall: number; cpu: number } {
  const wall = median(runs.map((x) => x.wall));
  const cpu = median(runs.map((x) => x.cpu));
  console.log(
    `${label.padEnd(width)} wall ${wall.toFixed(0).padStart(5)} ms ${((rows / wall) * 1000).toFixed(0).padStart(7)} rows/s ` +
      `${extra(wall)}| cpu ${cpu.toFixed(0).padStart(5)} ms [wall runs ${runs.map((x) => x.wall.toFixed(0)).join(', ')}]`,
  );
  return { wall, cpu };
}
