/**
 * Post-response work of the prediction routes (prediction log, drift, live quality's join window,
 * prediction metrics, the challenger in shadow), done in one go per event-loop turn after the
 * answers are sent.
 */
import type { RecordEntry, TensorEntry } from '../context.js';
import type { Prediction } from '../inference/outputs.js';
import { summarize } from '../inference/tensor-request.js';
import type { Metrics } from '../metrics.js';
import type { ModelContract } from '../model/contract-types.js';
import type { Row } from '../model/schemas.js';
import type { DriftMonitor } from './drift.js';
import { predictionIdOf } from './join-window.js';
import type { PredictionLog } from './prediction-log.js';
import type { QualityMonitor } from './quality-monitor.js';

export class Recorder {
  private pending: Array<RecordEntry | TensorEntry> = [];
  /** When each pending entry was answered (epoch ms): its log line's time, and the window's. */
  private times: number[] = [];
  private scheduled = false;

  constructor(
    private readonly contract: ModelContract,
    private readonly log: PredictionLog,
    private readonly drift: DriftMonitor | null,
    private readonly metrics: Metrics,
    private readonly quality: QualityMonitor | null = null,
    /** The challenger in shadow: offered every answered row (it takes its sample). */
    private readonly challenger: {
      offer(predictionId: string, row: Row, champion: Prediction, time: number): void;
    } | null = null,
  ) {
    this.entityField = contract.monitoring?.entityId;
  }

  /** The request field that names the entity (the sidecar's monitoring.entityId), if any. */
  private readonly entityField: string | undefined;

  add(entry: RecordEntry | TensorEntry): void {
    this.pending.push(entry);
    this.times.push(Date.now());
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    const entries = this.pending;
    const times = this.times;
    this.pending = [];
    this.times = [];
    const { name, version } = this.contract;
    const { task } = this.contract;
    for (let e = 0; e < entries.length; e++) {
      const entry = entries[e]!;
      const time = times[e]!;
      if (!('rows' in entry)) {
        this.writeTensors(entry, time);
        continue;
      }
      const batch = entry.rows.length > 1;
      for (let i = 0; i < entry.rows.length; i++) {
        const row = entry.rows[i]!;
        const field = this.entityField;
        const own = field === undefined ? undefined : row[field];
        // The entity: the row's own field (taken out of the inputs), else the request header's.
        const inputs = own === undefined ? row : withoutField(row, field!);
        const entityId = own === undefined ? entry.entityId : String(own);
        const outputs = entry.predictions[i]!;
        if ('prediction' in outputs) this.metrics.predictionValue.observe(outputs.prediction);
        else if ('label' in outputs) this.metrics.countClass(outputs.label);
        else if (task !== 'tensor') throw new Error(`no prediction for task ${task}`);
        this.drift?.observe(inputs);
        const predictionId = predictionIdOf(entry.requestId, batch ? i : undefined);
        this.quality?.addPrediction(
          entityId === undefined
            ? { predictionId, time, inputs, outputs: outputs as unknown as Record<string, unknown> }
            : {
                predictionId,
                entityId,
                time,
                inputs,
                outputs: outputs as unknown as Record<string, unknown>,
              },
        );
        this.log.write(
          {
            requestId: entry.requestId,
            ...(batch ? { row: i } : {}),
            predictionId,
            ...(entityId !== undefined ? { entityId } : {}),
            endpoint: entry.endpoint,
            model: name,
            modelVersion: version,
            inputs,
            outputs: outputs as unknown as Record<string, unknown>,
            latencyMs: Math.round(entry.latencyMs * 1000) / 1000,
          },
          time,
        );
        this.challenger?.offer(predictionId, inputs as Row, outputs, time);
      }
    }
  }

  private writeTensors(entry: TensorEntry, time: number): void {
    const { name, version } = this.contract;
    this.log.write(
      {
        requestId: entry.requestId,
        endpoint: entry.endpoint,
        model: name,
        modelVersion: version,
        inputs: Object.fromEntries(entry.inputs.map((t) => [t.name, summarize(t)])),
        outputs: Object.fromEntries(
          Object.entries(entry.outputs).map(([n, t]) => [n, summarize(t)]),
        ),
        latencyMs: Math.round(entry.latencyMs * 1000) / 1000,
      },
      time,
    );
  }
}

function withoutField(
  row: RecordEntry['rows'][number],
  field: string,
): RecordEntry['rows'][number] {
  const { [field]: _entity, ...inputs } = row;
  return inputs;
}
