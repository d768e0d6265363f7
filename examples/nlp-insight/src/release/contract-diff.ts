/**
 * Can a new model replace the served one without changing the API? Its sidecar
 * (`model.schema.json`) must declare the same features with the same types as the service's
 * contract (src/model/contract.ts). Ranges, categories and lengths may move: the service validates
 * with the contract it was generated with, so those differences are listed as notes to take in
 * with `npx create-mlops-service upgrade --model <dir>`.
 */
import { z } from 'zod';
import type { ModelContract } from '../model/contract-types.js';

const sidecarFeature = z.looseObject({
  name: z.string(),
  type: z.string(),
  categories: z.array(z.string()).optional(),
  min: z.number().optional(),
  max: z.number().optional(),
});
export const sidecarSchema = z.looseObject({
  name: z.string().optional(),
  version: z.string().optional(),
  task: z.string().optional(),
  features: z.array(sidecarFeature).min(1),
  labels: z.array(z.string()).optional(),
});
export type Sidecar = z.infer<typeof sidecarSchema>;

export interface ContractDiff {
  /** Same features, same types: the new model fits the served API. */
  readonly compatible: boolean;
  /** What breaks the API: features added, removed, retyped; labels changed. */
  readonly differences: readonly string[];
  /** What the service's validation would need to take in (ranges, categories). */
  readonly notes: readonly string[];
}

/** The sidecar's type of a feature as the contract names it (`int`/`integer`, `float`/`number`). */
function normalType(type: string): string {
  const t = type.toLowerCase();
  if (t === 'int' || t === 'integer') return 'integer';
  if (t === 'float' || t === 'double' || t === 'number') return 'number';
  if (t === 'categorical' || t === 'string' || t === 'category') return 'category';
  return t;
}

function rangeNotes(current: ModelContract['features'][number], next: Sidecar['features'][number]) {
  const notes: string[] = [];
  if (current.type === 'category' && next.categories) {
    const added = next.categories.filter((c) => !current.categories.includes(c));
    const removed = current.categories.filter((c) => !next.categories!.includes(c));
    if (added.length > 0) notes.push(`${current.name}: new categories ${added.join(', ')}`);
    if (removed.length > 0) notes.push(`${current.name}: categories gone ${removed.join(', ')}`);
  }
  if ((current.type === 'number' || current.type === 'integer') && 'min' in current) {
    const c = current as { min?: number; max?: number };
    if (next.min !== undefined && next.min !== c.min)
      notes.push(`${current.name}: min ${c.min} -> ${next.min}`);
    if (next.max !== undefined && next.max !== c.max)
      notes.push(`${current.name}: max ${c.max} -> ${next.max}`);
  }
  return notes;
}

export function contractDiff(current: ModelContract, next: Sidecar): ContractDiff {
  const differences: string[] = [];
  const notes: string[] = [];
  const byName = new Map(next.features.map((f) => [f.name, f]));
  for (const f of current.features) {
    const n = byName.get(f.name);
    if (!n) {
      differences.push(`feature ${f.name} (${f.type}) is gone`);
      continue;
    }
    if (normalType(n.type) !== f.type)
      differences.push(`feature ${f.name}: type ${f.type} -> ${normalType(n.type)}`);
    else notes.push(...rangeNotes(f, n));
  }
  const known = new Set(current.features.map((f) => f.name));
  for (const n of next.features)
    if (!known.has(n.name)) differences.push(`feature ${n.name} (${normalType(n.type)}) is new`);
  if (next.labels && current.labels.length > 0) {
    const same =
      next.labels.length === current.labels.length &&
      next.labels.every((l, i) => l === current.labels[i]);
    if (!same) differences.push(`labels ${current.labels.join(', ')} -> ${next.labels.join(', ')}`);
  }
  return { compatible: differences.length === 0, differences, notes };
}
