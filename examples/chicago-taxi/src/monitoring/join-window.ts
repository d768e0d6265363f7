/**
 * Predictions waiting for their ground truth: a bounded window that joins feedback to the
 * prediction it is about, by `predictionId`, or by `entityId` (the latest prediction for that
 * entity made at or before `observedAt`). Memory is bounded by `maxPredictions` (the oldest go
 * first) and entries expire after `ttlMs`; a joined pair is kept (bounded by `maxJoined`) until it
 * too expires. The live monitor feeds it as predictions and feedback arrive; the offline CLI feeds
 * it the shipped logs in time order, so both measure the same pairs.
 */
import { FifoMap } from './fifo-map.js';
import type { JoinedPrediction } from './performance.js';

/** A prediction as the prediction log records it (one row). */
export interface LoggedPrediction {
  readonly predictionId: string;
  readonly entityId?: string;
  /** Epoch milliseconds. */
  readonly time: number;
  readonly inputs: Readonly<Record<string, unknown>>;
  readonly outputs: Readonly<Record<string, unknown>>;
}

/** Ground truth as POST /feedback receives it (and the feedback log records it). */
export interface FeedbackRecord {
  readonly predictionId?: string;
  readonly entityId?: string;
  /** Epoch milliseconds: when the truth was observed (entity joins only). */
  readonly observedAt?: number;
  readonly label?: string;
  readonly value?: number;
}

export type JoinOutcome = 'joined' | 'unknown' | 'duplicate';

export interface JoinWindowOptions {
  readonly maxPredictions: number;
  readonly maxJoined: number;
  readonly ttlMs: number;
}

export class JoinWindow {
  private readonly pending = new FifoMap<LoggedPrediction>();
  private readonly byEntity = new Map<string, string[]>();
  private readonly joinedPairs = new FifoMap<{ at: number; pair: JoinedPrediction }>();

  constructor(private readonly options: JoinWindowOptions) {}

  addPrediction(p: LoggedPrediction): void {
    this.expire(p.time);
    this.pending.set(p.predictionId, p);
    if (p.entityId !== undefined) {
      const ids = this.byEntity.get(p.entityId) ?? [];
      ids.push(p.predictionId);
      this.byEntity.set(p.entityId, ids);
    }
    while (this.pending.size > this.options.maxPredictions) this.forget(this.pending.oldest()![0]);
  }

  /** Joins one piece of feedback; `now` is the time it arrived (epoch ms). */
  addFeedback(f: FeedbackRecord, now: number): JoinOutcome {
    return this.join(f, now).outcome;
  }

  /** Joins one piece of feedback, and says which prediction it joined. */
  join(
    f: FeedbackRecord,
    now: number,
  ): { outcome: JoinOutcome; predictionId?: string; actual?: string | number } {
    this.expire(now);
    const id = f.predictionId ?? this.entityMatch(f);
    if (id !== undefined && this.joinedPairs.has(id)) return { outcome: 'duplicate' };
    const prediction = id === undefined ? undefined : this.pending.get(id);
    if (!prediction) return { outcome: 'unknown' };
    const actual = f.label ?? f.value;
    if (actual === undefined) return { outcome: 'unknown' };
    this.forget(prediction.predictionId);
    this.joinedPairs.set(prediction.predictionId, { at: now, pair: toJoined(prediction, actual) });
    while (this.joinedPairs.size > this.options.maxJoined) this.joinedPairs.shift();
    return { outcome: 'joined', predictionId: prediction.predictionId, actual };
  }

  /** The joined pairs still in the window, oldest first. */
  joined(): JoinedPrediction[] {
    return this.joinedPairs.values().map((j) => j.pair);
  }

  get size(): { pending: number; joined: number } {
    return { pending: this.pending.size, joined: this.joinedPairs.size };
  }

  private entityMatch(f: FeedbackRecord): string | undefined {
    if (f.entityId === undefined) return undefined;
    const ids = this.byEntity.get(f.entityId) ?? [];
    const before = ids
      .map((id) => this.pending.get(id)!)
      .filter((p) => f.observedAt === undefined || p.time <= f.observedAt);
    return before.at(-1)?.predictionId;
  }

  private forget(id: string): void {
    const p = this.pending.get(id);
    this.pending.delete(id);
    if (p?.entityId === undefined) return;
    const ids = (this.byEntity.get(p.entityId) ?? []).filter((x) => x !== id);
    if (ids.length > 0) this.byEntity.set(p.entityId, ids);
    else this.byEntity.delete(p.entityId);
  }

  private expire(now: number): void {
    const horizon = now - this.options.ttlMs;
    for (let p = this.pending.oldest(); p && p[1].time < horizon; p = this.pending.oldest()) {
      this.forget(p[0]);
    }
    for (let j = this.joinedPairs.oldest(); j && j[1].at < horizon; j = this.joinedPairs.oldest()) {
      this.joinedPairs.shift();
    }
  }
}

/** The id a client gets for a prediction: the request's id, and the row's index in a batch. */
export function predictionIdOf(requestId: string, row?: number): string {
  return row === undefined ? requestId : `${requestId}:${row}`;
}

/** A log line's time: epoch milliseconds, or the ISO 8601 string the service's logs write. */
export function epochMs(time: unknown): number | undefined {
  if (typeof time === 'number') return Number.isFinite(time) ? time : undefined;
  if (typeof time !== 'string') return undefined;
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? undefined : ms;
}

/** A prediction log line (JSON) as a logged prediction, or undefined when it is not one. */
export function parsePredictionLine(line: Record<string, unknown>): LoggedPrediction | undefined {
  const { requestId, row, inputs, outputs, entityId } = line;
  const time = epochMs(line.time);
  const id =
    typeof line.predictionId === 'string'
      ? line.predictionId
      : typeof requestId === 'string'
        ? predictionIdOf(requestId, typeof row === 'number' ? row : undefined)
        : undefined;
  if (id === undefined || time === undefined) return undefined;
  if (!inputs || typeof inputs !== 'object' || !outputs || typeof outputs !== 'object')
    return undefined;
  return {
    predictionId: id,
    time,
    inputs: inputs as Record<string, unknown>,
    outputs: outputs as Record<string, unknown>,
    ...(typeof entityId === 'string' ? { entityId } : {}),
  };
}

/** A logged prediction and its truth, in the shape the performance report reads. */
export function toJoined(p: LoggedPrediction, actual: string | number): JoinedPrediction {
  const o = p.outputs;
  return {
    inputs: p.inputs,
    ...(typeof o.label === 'string' ? { label: o.label } : {}),
    ...(o.probabilities && typeof o.probabilities === 'object'
      ? { probabilities: o.probabilities as Record<string, number> }
      : {}),
    ...(typeof o.prediction === 'number' ? { value: o.prediction } : {}),
    actual,
  };
}

/** A feedback log line (JSON): the record POST /feedback accepted, with the time it arrived. */
export function parseFeedbackLine(
  line: Record<string, unknown>,
): (FeedbackRecord & { time: number }) | undefined {
  const { predictionId, entityId, label, value } = line;
  const time = epochMs(line.time);
  const observedAt = epochMs(line.observedAt);
  if (time === undefined) return undefined;
  return {
    time,
    ...(typeof predictionId === 'string' ? { predictionId } : {}),
    ...(typeof entityId === 'string' ? { entityId } : {}),
    ...(typeof observedAt === 'number' ? { observedAt } : {}),
    ...(typeof label === 'string' ? { label } : {}),
    ...(typeof value === 'number' ? { value } : {}),
  };
}

/**
 * Logged predictions and feedback replayed in time order through one window, as the service saw
 * them arrive (a prediction before feedback of the same millisecond).
 */
export function replay(
  predictions: readonly LoggedPrediction[],
  feedback: ReadonlyArray<FeedbackRecord & { time: number }>,
  ttlMs: number,
): { window: JoinWindow; unmatched: number } {
  const window = new JoinWindow({
    maxPredictions: Number.MAX_SAFE_INTEGER,
    maxJoined: Number.MAX_SAFE_INTEGER,
    ttlMs,
  });
  const events = [
    ...predictions.map((p) => ({ time: p.time, order: 0, p })),
    ...feedback.map((f) => ({ time: f.time, order: 1, f })),
  ].sort((a, b) => a.time - b.time || a.order - b.order);
  let unmatched = 0;
  for (const e of events) {
    if ('p' in e) window.addPrediction(e.p);
    else if (window.addFeedback(e.f, e.time) !== 'joined') unmatched++;
  }
  return { window, unmatched };
}
