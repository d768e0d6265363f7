/**
 * The window that joins ground truth to predictions: by prediction id or by entity, bounded in
 * memory (oldest predictions go first) and in time (entries expire).
 */
import { describe, expect, it } from 'vitest';
import { JoinWindow, type LoggedPrediction } from '../src/monitoring/join-window.js';

const prediction = (id: string, time: number, entityId?: string): LoggedPrediction => ({
  predictionId: id,
  time,
  ...(entityId ? { entityId } : {}),
  inputs: { Geography: 'France' },
  outputs: { label: 'exited', probabilities: { exited: 0.8, stayed: 0.2 } },
});
const window = (maxPredictions = 100, ttlMs = 60_000) =>
  new JoinWindow({ maxPredictions, maxJoined: 100, ttlMs });

describe('JoinWindow', () => {
  it('joins feedback to its prediction by id, once; an unknown id is reported, not an error', () => {
    const w = window();
    w.addPrediction(prediction('p1', 1000));
    expect(w.addFeedback({ predictionId: 'p1', label: 'stayed' }, 2000)).toBe('joined');
    expect(w.addFeedback({ predictionId: 'p1', label: 'stayed' }, 2001)).toBe('duplicate');
    expect(w.addFeedback({ predictionId: 'nope', label: 'stayed' }, 2002)).toBe('unknown');
    expect(w.joined()).toEqual([
      {
        inputs: { Geography: 'France' },
        label: 'exited',
        probabilities: { exited: 0.8, stayed: 0.2 },
        actual: 'stayed',
      },
    ]);
  });

  it('joins by entity to the latest prediction made at or before the observation', () => {
    const w = window();
    w.addPrediction(prediction('old', 1000, 'customer-7'));
    w.addPrediction(prediction('new', 5000, 'customer-7'));
    expect(w.addFeedback({ entityId: 'customer-7', observedAt: 4000, label: 'stayed' }, 6000)).toBe(
      'joined',
    );
    // "old" was the one observed; "new" still waits for its own truth.
    expect(w.size).toEqual({ pending: 1, joined: 1 });
    expect(w.addFeedback({ entityId: 'customer-7', label: 'exited' }, 7000)).toBe('joined');
    expect(w.addFeedback({ entityId: 'customer-8', label: 'exited' }, 7000)).toBe('unknown');
  });

  it('keeps at most maxPredictions waiting (the oldest go) and forgets what is older than the ttl', () => {
    const w = window(2, 10_000);
    w.addPrediction(prediction('a', 1000));
    w.addPrediction(prediction('b', 2000));
    w.addPrediction(prediction('c', 3000));
    expect(w.size.pending).toBe(2);
    expect(w.addFeedback({ predictionId: 'a', label: 'x' }, 3000)).toBe('unknown');
    expect(w.addFeedback({ predictionId: 'b', label: 'x' }, 3000)).toBe('joined');
    // 10 s later, "c" has expired, and so has the joined pair.
    expect(w.addFeedback({ predictionId: 'c', label: 'x' }, 14_000)).toBe('unknown');
    expect(w.joined()).toEqual([]);
  });

  it("reads a regressor's prediction as the value to compare", () => {
    const w = window();
    w.addPrediction({ predictionId: 'r', time: 0, inputs: {}, outputs: { prediction: 12.5 } });
    w.addFeedback({ predictionId: 'r', value: 10 }, 1);
    expect(w.joined()).toEqual([{ inputs: {}, value: 12.5, actual: 10 }]);
  });
});
