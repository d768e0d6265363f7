/**
 * The live-quality settings of a model (`monitoring` in model.schema.json), checked against the
 * features they name: a slice is a categorical feature (by value) or a numeric one cut at ascending
 * `edges`; text features cannot be sliced. Models without a label or a value to compare (`tensor`)
 * have none.
 */
import { UserError } from '../errors.js';
import type { Feature, MonitoringSpec, TaskKind } from './contract.js';
import type { Sidecar } from './sidecar.js';

export const monitoringDefaults = { minSamples: 200, tolerance: 0.05 } as const;

export function monitoringOf(
  path: string,
  sidecar: Sidecar | undefined,
  task: TaskKind,
  features: readonly Feature[],
): MonitoringSpec | undefined {
  if (task === 'tensor') {
    if (sidecar?.monitoring) {
      throw new UserError(
        `${path}: "monitoring" in model.schema.json needs a model with labels or values to compare; a tensor model has neither: remove it`,
      );
    }
    return undefined;
  }
  const m = sidecar?.monitoring;
  const slices = (m?.slices ?? []).map((s, i) => {
    const where = `${path}: monitoring.slices[${i}] "${s.feature}"`;
    const feature = features.find((f) => f.name === s.feature);
    if (!feature) {
      throw new UserError(
        `${where} is not a feature of the model (${features.map((f) => f.name).join(', ')}): name one of them`,
      );
    }
    if (feature.type === 'text')
      throw new UserError(`${where} is a text feature: slice by a categorical or numeric feature`);
    if (feature.type === 'category' && s.edges) {
      throw new UserError(`${where} is categorical: remove "edges" (its values are the slices)`);
    }
    if (feature.type !== 'category' && !s.edges) {
      throw new UserError(
        `${where} is numeric: give "edges" (ascending numbers) to cut it into bands`,
      );
    }
    return s.edges ? { feature: s.feature, edges: s.edges } : { feature: s.feature };
  });
  return {
    ...(m?.entityId ? { entityId: m.entityId } : {}),
    slices,
    minSamples: m?.minSamples ?? monitoringDefaults.minSamples,
    tolerance: m?.tolerance ?? monitoringDefaults.tolerance,
  };
}
