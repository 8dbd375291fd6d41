// mulberry32: the one small seeded PRNG of the tests and benchmarks, so that a failing random case
// (a kill schedule, generated rows) reproduces from its seed.

/** A generator of floats in [0, 1) that depends only on `seed`. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
