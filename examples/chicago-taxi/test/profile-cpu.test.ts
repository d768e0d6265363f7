/**
 * bench:profile's arithmetic: the profiler's samples say where the main thread was, the kernel
 * says how much CPU it used; the stages are the first scaled to the second, and the other threads
 * are what the kernel counted (a worker waiting for work is sampled, but uses no CPU).
 */
import { describe, expect, it } from 'vitest';
import { perRequest } from '../bench/thread-cpu.mjs';

describe('bench:profile per request', () => {
  it('scales the sampled stages to the CPU /proc counted and adds the other threads', () => {
    // 40 ms of samples (idle aside) for 20 ms of CPU: the thread was descheduled half the time.
    const us = perRequest({ HTTP: 30, record: 10, idle: 100 }, { main: 0.02, others: 0.011 }, 1000);
    expect(us).toEqual({ HTTP: 15, record: 5, 'other threads': 11 });
  });

  it('without /proc, reports the samples as they are', () => {
    expect(perRequest({ HTTP: 30, idle: 5 }, undefined, 1000)).toEqual({ HTTP: 30 });
  });
});
