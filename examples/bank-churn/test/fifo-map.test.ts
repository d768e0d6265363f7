import { describe, expect, it } from 'vitest';
import { FifoMap } from '../src/monitoring/fifo-map.js';

describe('FifoMap (the join window’s insertion-ordered store)', () => {
  it('gives the oldest live entry, whatever was deleted before it', () => {
    const m = new FifoMap<{ n: number }>();
    const v = [0, 1, 2, 3, 4].map((n) => ({ n }));
    for (const x of v) m.set(`k${x.n}`, x);
    m.delete('k0');
    m.delete('k2');
    expect(m.oldest()).toEqual(['k1', v[1]]);
    expect(m.shift()).toEqual(['k1', v[1]]);
    expect(m.oldest()).toEqual(['k3', v[3]]);
    expect(m.values()).toEqual([v[3], v[4]]);
    expect(m.size).toBe(2);
  });

  it('puts a key set again (with a new value, or after a delete) at the back', () => {
    const m = new FifoMap<{ s: string }>();
    const [a1, b1, a2, a3] = ['a1', 'b1', 'a2', 'a3'].map((s) => ({ s }));
    m.set('a', a1!);
    m.set('b', b1!);
    m.set('a', a2!);
    expect(m.oldest()).toEqual(['b', b1]);
    m.delete('a');
    m.set('a', a3!);
    expect(m.values()).toEqual([b1, a3]);
    expect(m.shift()).toEqual(['b', b1]);
    expect(m.shift()).toEqual(['a', a3]);
    expect(m.shift()).toBeUndefined();
    expect(m.size).toBe(0);
  });

  it('keeps order through many turnovers (compaction) like a window of predictions', () => {
    const m = new FifoMap<{ i: number }>();
    const window = 2000;
    for (let i = 0; i < 50_000; i++) {
      m.set(String(i), { i });
      if (i % 7 === 3) m.delete(String(i - 1)); // joined by feedback, out of order
      while (m.size > window) m.shift();
    }
    const values = m.values().map((v) => v.i);
    expect(values.length).toBe(window);
    expect([...values].sort((a, b) => a - b)).toEqual(values);
    expect(m.oldest()![1].i).toBe(values[0]);
    expect(values.at(-1)).toBe(49_999);
  });
});
