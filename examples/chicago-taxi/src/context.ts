/**
 * What the routes see of the service (`ServiceContext`) and the records they hand back. Routes
 * import these types from here, never from `service.ts`, so the module graph has no cycle
 * (service -> app -> routes -> context).
 */
import type { Config } from './config.js';
import type { ShedError } from './errors.js';
import type { JobResult, Outputs } from './inference/batcher.js';
import type { Prediction, Shaper } from './inference/outputs.js';
import type { TensorWork } from './inference/tensor-request.js';
import type { Metrics } from './metrics.js';
import type { LoadedModel } from './model/artifacts.js';
import type { ModelContract } from './model/contract-types.js';
import type { Row } from './model/schemas.js';
import type { DriftMonitor } from './monitoring/drift.js';
import type { FeedbackRecord, JoinOutcome } from './monitoring/join-window.js';
import type { ClientWindows } from './http/client-windows.js';
import type { ChallengerMonitor, NoChallenger } from './monitoring/challenger.js';
import type { QualityMonitor } from './monitoring/quality-monitor.js';

export interface Explanation {
  readonly value: number;
  readonly baseValue: number;
  readonly column: number;
  readonly contributions: readonly number[];
  readonly standardErrors: readonly number[];
  readonly samples: number;
  readonly evaluations: number;
  readonly computeMs: number;
}

export interface RecordEntry {
  readonly requestId: string;
  readonly endpoint: string;
  /** The entity of a one-record request named by the X-Entity-Id header. */
  readonly entityId?: string;
  readonly rows: readonly Row[];
  readonly predictions: readonly Prediction[];
  readonly latencyMs: number;
}

/** A feedback log line: what POST /feedback accepted, and what the window made of it. */
export type FeedbackEntry = FeedbackRecord & {
  readonly requestId: string;
  readonly outcome: JoinOutcome;
};

/** A tensor model's request, for the prediction log: shapes and statistics, not the values. */
export interface TensorEntry {
  readonly requestId: string;
  readonly endpoint: string;
  readonly inputs: TensorWork['tensors'];
  readonly outputs: Outputs;
  readonly latencyMs: number;
}

export interface ServiceState {
  /** Every worker warmed up once: predictions are served. */
  started: boolean;
  /** SIGTERM received: readiness fails, answers carry `Connection: close`. */
  draining: boolean;
}

/** Readiness and liveness as the probes report them. */
export interface ServiceHealth {
  /** Readiness: serving and not draining. */
  readonly ready: boolean;
  /** Predictions are taken: a warm worker (also while draining: open connections are answered). */
  readonly serving: boolean;
  readonly live: boolean;
  /** Why not ready (or not live): for the probe's body and the logs. */
  readonly reason?: string;
  /** Warm prediction workers, and how many there should be. */
  readonly workers: { readonly warm: number; readonly total: number };
}

/** What the routes see. */
export interface ServiceContext {
  readonly config: Config;
  readonly contract: ModelContract;
  readonly model: LoadedModel;
  readonly metrics: Metrics;
  readonly state: ServiceState;
  readonly shape: Shaper;
  readonly drift: DriftMonitor | null;
  /** Live quality (predictions joined to their truth); null for tensor models. */
  readonly quality: QualityMonitor | null;
  /** The challenger in shadow, or why there is none (GET /monitoring/challenger). */
  readonly challenger: ChallengerMonitor | NoChallenger;
  /** RATE_LIMIT_PER_MINUTE's per-client windows, shared by HTTP and gRPC (undefined: no limit). */
  readonly rateLimit: ClientWindows | undefined;
  readonly explainAvailable: boolean;
  readonly exampleRow: Row;
  /** A valid `/predict` body: the example record, or a tensor model's example tensors. */
  readonly exampleBody: Record<string, unknown>;
  /** Runs rows through the batcher; rejects with an HttpError (503, 504, 500). */
  predict(rows: readonly Row[], startedAt: number): Promise<JobResult>;
  /** Runs a tensor model's validated tensors (400 when the model cannot run on them). */
  predictTensors(work: TensorWork, startedAt: number): Promise<JobResult>;
  /** One explanation, evaluated `chunkRows` rows per model run. */
  explain(row: Row, samples: number, chunkRows: number): Promise<Explanation>;
  /** Refuses an explanation before its body is read when the explanation worker is busy or down. */
  explainAdmission(): ShedError | undefined;
  /** Prediction log, drift and prediction metrics, done after the answer is sent. */
  record(entry: RecordEntry): void;
  recordTensors(entry: TensorEntry): void;
  /** One accepted piece of ground truth, for the feedback log. */
  recordFeedback(entry: FeedbackEntry, at: number): void;
  inflight(): number;
  queueDepth(): number;
  health(): ServiceHealth;
  /**
   * Refuses a prediction request before its body is read when it could not be queued anyway
   * (not ready, or the queue is full): under overload the refusals stay cheap. Returns the
   * error to answer with, or undefined to go on.
   */
  admission(): ShedError | undefined;
}
