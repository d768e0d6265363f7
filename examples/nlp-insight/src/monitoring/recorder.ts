/**
 * Post-response work of the prediction routes (prediction log, drift, prediction metrics), done in
 * one go per event-loop turn after the answers are sent.
 */
import type { RecordEntry, TensorEntry } from '../context.js';
import { summarize } from '../inference/tensor-request.js';
import type { Metrics } from '../metrics.js';
import type { ModelContract } from '../model/contract-types.js';
import type { DriftMonitor } from './drift.js';
import type { PredictionLog } from './prediction-log.js';

export class Recorder {
  private pending: Array<RecordEntry | TensorEntry> = [];
  private scheduled = false;

  constructor(
    private readonly contract: ModelContract,
    private readonly log: PredictionLog,
    private readonly drift: DriftMonitor | null,
    private readonly metrics: Metrics,
  ) {}

  add(entry: RecordEntry | TensorEntry): void {
    this.pending.push(entry);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    const entries = this.pending;
    this.pending = [];
    const { name, version } = this.contract;
    const { task } = this.contract;
    for (const entry of entries) {
      if (!('rows' in entry)) {
        this.writeTensors(entry);
        continue;
      }
      const batch = entry.rows.length > 1;
      for (let i = 0; i < entry.rows.length; i++) {
        const inputs = entry.rows[i]!;
        const outputs = entry.predictions[i]!;
        if ('prediction' in outputs) this.metrics.predictionValue.observe(outputs.prediction);
        else if ('label' in outputs) this.metrics.countClass(outputs.label);
        else if (task !== 'tensor') throw new Error(`no prediction for task ${task}`);
        this.drift?.observe(inputs);
        this.log.write({
          requestId: entry.requestId,
          ...(batch ? { row: i } : {}),
          endpoint: entry.endpoint,
          model: name,
          modelVersion: version,
          inputs,
          outputs: outputs as unknown as Record<string, unknown>,
          latencyMs: Math.round(entry.latencyMs * 1000) / 1000,
        });
      }
    }
  }

  private writeTensors(entry: TensorEntry): void {
    const { name, version } = this.contract;
    this.log.write({
      requestId: entry.requestId,
      endpoint: entry.endpoint,
      model: name,
      modelVersion: version,
      inputs: Object.fromEntries(entry.inputs.map((t) => [t.name, summarize(t)])),
      outputs: Object.fromEntries(Object.entries(entry.outputs).map(([n, t]) => [n, summarize(t)])),
      latencyMs: Math.round(entry.latencyMs * 1000) / 1000,
    });
  }
}
