// @ts-check
/**
 * CPU as the kernel counts it, per thread of a process (Linux /proc), and bench:profile's
 * arithmetic on it. Kept apart from profile.mjs so the tests can import it without the load
 * generator.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ, 100 on Linux). */
function clockTicks() {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const ticks = Number(r.stdout?.trim());
  return Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
}
const ticks = clockTicks();

/**
 * CPU seconds the process has used, all its threads (user + system), or null without /proc.
 * @param {number} pid
 */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After "pid (comm) ", the fields from the 3rd (state): utime is the 14th, stime the 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticks;
  } catch {
    return null;
  }
}

/**
 * CPU seconds so far of a process's main thread and of all its other threads together (workers,
 * onnxruntime, V8's GC helpers, libuv's file writes), from /proc; undefined without /proc.
 * @param {number | undefined} pid
 */
export async function threadCpu(pid) {
  if (pid === undefined) return undefined;
  try {
    let main = 0;
    let others = 0;
    for (const tid of await readdir(`/proc/${pid}/task`)) {
      const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const seconds = (Number(fields[11]) + Number(fields[12])) / ticks;
      if (Number(tid) === pid) main += seconds;
      else others += seconds;
    }
    return { main, others };
  } catch {
    return undefined;
  }
}

/**
 * Microseconds of CPU per request: the main thread's stages, scaled so that they add up to the
 * thread's CPU as /proc counts it, and the other threads' CPU as /proc counts it. The profiler
 * samples on a wall-clock timer: a sample lands where the thread last ran, so time it spent
 * descheduled (right after waking a worker or a client) would count as CPU, and a worker parked
 * in piscina's wait as work; /proc counts only the CPU used.
 * @param {Record<string, number>} mainMs the main thread's stages (ms of samples)
 * @param {{ main: number, others: number } | undefined} cpu CPU seconds used during the load
 * @param {number} requests
 */
export function perRequest(mainMs, cpu, requests) {
  const sampled = Object.entries(mainMs).filter(([stage]) => stage !== 'idle');
  const sampledMs = sampled.reduce((a, [, ms]) => a + ms, 0);
  const scale = cpu && sampledMs > 0 ? (cpu.main * 1000) / sampledMs : 1;
  const us = (/** @type {number} */ ms) => Math.round(((ms * 1000) / requests) * 10) / 10;
  /** @type {Array<[string, number]>} */
  const rows = sampled.map(([stage, ms]) => [stage, us(ms * scale)]);
  rows.sort((a, b) => b[1] - a[1]);
  if (cpu) rows.push(['other threads', us(cpu.others * 1000)]);
  return Object.fromEntries(rows);
}
