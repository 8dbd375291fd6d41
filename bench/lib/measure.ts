// Measuring one benchmark leg: wall, process CPU (user + system, all threads of this process) and
// peak RSS (sampled every 20 ms), after a full GC. The same as bench/engine.ts's local helpers.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
/** A full, synchronous garbage collection. */
export const gc = runInNewContext('gc') as () => void;

/** Max of process.memoryUsage.rss() sampled every 20 ms (and on demand) while running. */
export class RssSampler {
  peak = process.memoryUsage.rss();
  private readonly timer = setInterval(() => this.sample(), 20);
  sample(): void {
    const rss = process.memoryUsage.rss();
    if (rss > this.peak) this.peak = rss;
  }
  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peak;
  }
}

export interface Measured {
  /** ms */
  wall: number;
  /** Process CPU ms (user + system, all threads). */
  cpu: number;
  /** Peak RSS, bytes. */
  rss: number;
  /** RSS when the run started (after a full GC): what the process held before it. */
  rssStart: number;
}

/** Runs `body` once, measured. */
export async function measure<T>(body: (sampler: RssSampler) => Promise<T>): Promise<Measured & { value: T }> {
  gc();
  const sampler = new RssSampler();
  const rssStart = sampler.peak;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  try {
    const value = await body(sampler);
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(c0);
    return { value, wall, cpu: (cpu.user + cpu.system) / 1000, rss: sampler.stop(), rssStart };
  } finally {
    sampler.stop();
  }
}
