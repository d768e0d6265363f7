// @ts-check
/**
 * A seeded PRNG (mulberry32): the same seed gives the same sequence. Plain JavaScript, like the
 * worker that imports it (the worker runs without a TypeScript build in the tests' chaos worker):
 * the explanations draw their permutations from it, the challenger's paired bootstrap its
 * resamples.
 * @param {number} seed
 * @returns {() => number} uniform in [0, 1)
 */
export function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
