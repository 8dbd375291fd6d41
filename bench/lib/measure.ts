// Measuring one benchmark leg: wall, process CPU (user + system, all threads of this process), the
// main thread's share of it (Linux) and peak RSS (sampled every 20 ms), after a full GC.
import { readFileSync } from 'node:fs';
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
  /**
   * CPU ms of the main thread alone (Linux, from /proc; 10 ms resolution), else undefined. The rest
   * of `cpu` is worker threads, V8's platform threads (concurrent and parallel GC, compilation) and
   * libuv's.
   */
  mainCpu: number | undefined;
  /** Peak RSS, bytes. */
  rss: number;
  /** RSS when the run started (after a full GC): what the process held before it. */
  rssStart: number;
}

/** This process's main thread's CPU ms (user + system) from /proc, or undefined off Linux. */
function mainThreadCpu(): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    // Fields after the command name: state is field 3, utime 14 and stime 15 (clock ticks of 10 ms).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/** Runs `body` once, measured. */
export async function measure<T>(body: (sampler: RssSampler) => Promise<T>): Promise<Measured & { value: T }> {
  gc();
  const sampler = new RssSampler();
  const rssStart = sampler.peak;
  const c0 = process.cpuUsage();
  const m0 = mainThreadCpu();
  const t0 = performance.now();
  try {
    const value = await body(sampler);
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(c0);
    const m1 = mainThreadCpu();
    const mainCpu = m0 !== undefined && m1 !== undefined ? m1 - m0 : undefined;
    return { value, wall, cpu: (cpu.user + cpu.system) / 1000, mainCpu, rss: sampler.stop(), rssStart };
  } finally {
    sampler.stop();
  }
}
