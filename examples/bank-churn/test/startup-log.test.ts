import { describe, expect, it } from 'vitest';
import { readyMessage, StartupLog } from '../src/lifecycle/startup-log.js';

describe("reading the service's start from its stdout", () => {
  it('knows where it listens and when it is ready, across chunks split anywhere', () => {
    const lines =
      [
        'npm notice: not a log line',
        JSON.stringify({
          level: 30,
          address: 'http://127.0.0.1:4001',
          grpcAddress: '127.0.0.1:4002',
          msg: 'listening',
        }),
        JSON.stringify({ level: 30, msg: readyMessage, workers: 2 }),
      ].join('\n') + '\n';
    const startup = new StartupLog();
    const states = [];
    for (let i = 0; i < lines.length; i += 7)
      states.push(startup.read(Buffer.from(lines.slice(i, i + 7))));
    const last = states.at(-1)!;
    expect(last).toEqual({
      ready: true,
      address: 'http://127.0.0.1:4001',
      grpcAddress: '127.0.0.1:4002',
    });
    // Listening came before ready: a reader waiting for `listening` only is answered first.
    const listening = states.findIndex((s) => s.address !== undefined);
    expect(listening).toBeGreaterThanOrEqual(0);
    expect(states[listening]!.ready).toBe(false);
  });

  it('is not ready on a line that only mentions readiness, nor on a half-written line', () => {
    const startup = new StartupLog();
    expect(startup.read(`${JSON.stringify({ msg: 'ready soon?' })}\n`).ready).toBe(false);
    expect(startup.read(JSON.stringify({ msg: readyMessage })).ready).toBe(false);
    expect(startup.read('\n').ready).toBe(true);
  });
});
