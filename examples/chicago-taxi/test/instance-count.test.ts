/**
 * The byte count of a batch's records that runs before JSON.parse: it agrees with JSON.parse on
 * every shape a client can send (strings holding brackets and commas, escapes, nesting, duplicate
 * keys, an escaped key), and stops counting past the limit.
 */
import { describe, expect, it } from 'vitest';
import { countInstances } from '../src/http/instance-count.js';

const count = (text: string, limit = 1000) => countInstances(Buffer.from(text), limit);
const parsed = (text: string) => (JSON.parse(text) as { instances: unknown[] }).instances.length;

describe('countInstances', () => {
  it.each([
    '{"instances": []}',
    '{"instances": [{}]}',
    '{"instances":[{},{},{}]}',
    ' { "instances" : [ 1 , 2 ] } ',
    '{"a": {"instances": [1, 2, 3]}, "instances": [{"x": "],[,{"}, {"y": "\\"]"}]}',
    '{"instances": [[1, 2], [3, [4, 5]], {"k": [6, 7]}]}',
    '{"instances": [{"t": "a,b,c"}, {"t": "\\\\"}], "parameters": {"instances": [1, 2]}}',
    '{"instances": [1, 2, 3, 4], "instances": [5]}',
    '{"instanc\\u0065s": [1, 2, 3]}',
  ])('agrees with JSON.parse: %s', (text) => {
    expect(count(text)).toBe(parsed(text));
  });

  it('stops past the limit, whatever follows', () => {
    const big = `{"instances": [${Array.from({ length: 340_000 }, () => '{}').join(',')}]}`;
    expect(count(big, 1000)).toBe(1001);
    expect(count('{"instances": [1, 2, 3], "instances": [1, 2, 3, 4, 5]}', 4)).toBe(5);
    // Truncated: whatever was seen is counted; the parser reports the broken JSON.
    expect(count('{"instances": [1, 2, 3', 2)).toBe(3);
  });

  it('says nothing when there is no top-level instances array', () => {
    for (const text of [
      '[1, 2]',
      '{"rows": [1]}',
      '{"instances": 5}',
      'not json',
      '',
      '{"a": {"instances": [1]}}',
    ])
      expect(count(text), text).toBeUndefined();
  });
});
