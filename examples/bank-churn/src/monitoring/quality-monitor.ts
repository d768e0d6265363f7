/**
 * Live model quality: every logged prediction enters a bounded join window (QUALITY_WINDOW
 * predictions, kept QUALITY_TTL_HOURS), ground truth from POST /feedback joins it, and
 * GET /monitoring/performance reports the task's metrics overall and per slice over the joined
 * pairs, with the floors from the model's metrics.json. `npm run monitor` computes the same report
 * offline from the shipped logs with the same window and the same metrics.
 */
import type { ModelContract } from '../model/contract-types.js';
import {
  type FeedbackRecord,
  type JoinOutcome,
  JoinWindow,
  type LoggedPrediction,
} from './join-window.js';
import {
  type PerformanceReport,
  type QualitySettings,
  performanceReport,
  settingsFor,
} from './performance.js';

export interface QualityMonitorOptions {
  readonly maxPredictions: number;
  readonly ttlMs: number;
}

export class QualityMonitor {
  private readonly window: JoinWindow;
  private readonly outcomes: Record<JoinOutcome, number> = { joined: 0, unknown: 0, duplicate: 0 };
  /** The last report, reused while no truth joined and for at most a minute (scrapes read it). */
  private cached: {
    joined: number;
    at: number;
    report: ReturnType<QualityMonitor['compute']>;
  } | null = null;

  constructor(
    readonly settings: QualitySettings,
    options: QualityMonitorOptions,
  ) {
    // Joined pairs are few next to predictions (truth arrives for some); the same bound holds them.
    this.window = new JoinWindow({
      maxPredictions: options.maxPredictions,
      maxJoined: options.maxPredictions,
      ttlMs: options.ttlMs,
    });
  }

  /** The monitor of a model with labels or values to compare, or null (tensor models). */
  static of(
    contract: ModelContract,
    trained: Readonly<Record<string, unknown>> | null,
    options: QualityMonitorOptions,
  ): QualityMonitor | null {
    const settings = settingsFor(contract, trained ?? undefined);
    return settings ? new QualityMonitor(settings, options) : null;
  }

  addPrediction(p: LoggedPrediction): void {
    this.window.addPrediction(p);
  }

  /** Called with every joined truth (the challenger in shadow pairs it with its own outputs). */
  onJoined: ((predictionId: string, actual: string | number) => void) | undefined;

  addFeedback(f: FeedbackRecord, now: number): JoinOutcome {
    const { outcome, predictionId, actual } = this.window.join(f, now);
    this.outcomes[outcome] += 1;
    if (outcome === 'joined') this.onJoined?.(predictionId!, actual!);
    return outcome;
  }

  report(now = Date.now()): ReturnType<QualityMonitor['compute']> {
    const c = this.cached;
    if (c && c.joined === this.outcomes.joined && now - c.at < 60_000) return c.report;
    const report = this.compute();
    this.cached = { joined: this.outcomes.joined, at: now, report };
    return report;
  }

  private compute(): PerformanceReport & {
    window: { pending: number; joined: number };
    feedback: Readonly<Record<JoinOutcome, number>>;
  } {
    return {
      ...performanceReport(this.window.joined(), this.settings),
      window: this.window.size,
      feedback: { ...this.outcomes },
    };
  }
}
