/**
 * The features of a records model (one input per column, or one float matrix [N, K]): names,
 * types, ranges, categories and nullability. The sidecar wins; without one, what the graph states
 * (encoder categories, imputers) is taken, and where both speak they must agree.
 */
import { UserError } from '../errors.js';
import type { Feature, TensorInfo, TensorType } from './contract.js';
import type { Sidecar, SidecarFeature } from './sidecar.js';

/** What the graph itself says about its inputs (see graph/facts.ts). */
export interface GraphHints {
  /** Categories an encoder applies to an input's column, when one does. */
  categories(input: string, column: number): readonly string[] | undefined;
  /** An imputer (or NaN test) reads this input's column: a missing value is handled by the graph. */
  nullable(input: string, column: number): boolean;
  /** Class labels stated by a ZipMap or a classifier node, in probability column order. */
  readonly labels?: readonly string[];
  /** The graph holds a classifier operator or a ZipMap. */
  readonly classifier: boolean;
  /** The operator that computes a graph output (through Identity and Cast), when one does. */
  producer(output: string): string | undefined;
  /** What a classifier-shaped output holds when it is not probabilities (decision scores, distances). */
  rawScores(output: string): string | undefined;
}

export const noHints: GraphHints = {
  categories: () => undefined,
  nullable: () => false,
  classifier: false,
  producer: () => undefined,
  rawScores: () => undefined,
};

/** Columns of a records input: 1 for `[N]` and `[N, 1]`, K for `[N, K]`. */
export function columnsOf(t: TensorInfo): number {
  const last = t.shape.length === 2 ? t.shape[1] : 1;
  return typeof last === 'number' ? last : 1;
}

export function columnFeatures(
  path: string,
  inputs: readonly TensorInfo[],
  sidecar: Sidecar | undefined,
  hints: GraphHints,
): Feature[] {
  if (sidecar?.features) {
    const graphNames = inputs.map((i) => i.name).sort();
    const described = sidecar.features.map((f) => f.name).sort();
    if (graphNames.join('\0') !== described.join('\0')) {
      throw new UserError(`${path}: the sidecar's features do not match the model's inputs`, [
        `model inputs:     ${graphNames.join(', ')}`,
        `sidecar features: ${described.join(', ')}`,
      ]);
    }
    return sidecar.features.map((f) =>
      fromSidecar(
        path,
        f,
        inputs.find((i) => i.name === f.name)!,
        0,
        hints,
      ),
    );
  }
  const onlyString = inputs.length === 1 && inputs[0]!.type === 'string';
  return inputs.map((i) => inferred(i, 0, i.name, onlyString, hints));
}

export function matrixFeatures(
  path: string,
  input: TensorInfo,
  sidecar: Sidecar | undefined,
  hints: GraphHints,
): Feature[] {
  const width = input.shape[1];
  if (sidecar?.features) {
    if (typeof width === 'number' && sidecar.features.length !== width) {
      throw new UserError(
        `${path}: input "${input.name}" has ${width} columns but the sidecar describes ${sidecar.features.length} features`,
      );
    }
    return sidecar.features.map((f, column) => fromSidecar(path, f, input, column, hints));
  }
  if (typeof width !== 'number') {
    throw new UserError(
      `${path}: input "${input.name}" has a symbolic width "${width || '?'}", so the number of features is unknown: add a model.schema.json listing the features beside the model, or re-export with a fixed width (skl2onnx: initial_types=[("${input.name}", FloatTensorType([None, K]))])`,
    );
  }
  return Array.from({ length: width }, (_, column) =>
    inferred(input, column, `x${column}`, false, hints),
  );
}

function fromSidecar(
  path: string,
  f: SidecarFeature,
  input: TensorInfo,
  column: number,
  hints: GraphHints,
): Feature {
  const tensorType = input.type as TensorType;
  const base = {
    name: f.name,
    description: f.description ?? '',
    input: input.name,
    column,
    tensorType,
  };
  const isString = tensorType === 'string';
  if ((f.type === 'category' || f.type === 'text') !== isString) {
    throw new UserError(
      `${path}: feature "${f.name}" is described as ${f.type} but its input has element type ${tensorType}`,
    );
  }
  switch (f.type) {
    case 'number':
    case 'integer':
      return {
        ...base,
        type: f.type,
        nullable: f.nullable,
        ...(f.min !== undefined ? { min: f.min } : {}),
        ...(f.max !== undefined ? { max: f.max } : {}),
      };
    case 'category': {
      const graph = hints.categories(input.name, column);
      if (graph && !sameSet(graph, f.categories)) {
        throw new UserError(
          `${path}: feature "${f.name}": the sidecar lists categories ${listed(f.categories)} but the graph's encoder knows ${listed(graph)}; make model.schema.json list the categories the model was trained on`,
        );
      }
      return { ...base, type: 'category', categories: f.categories, nullable: f.nullable };
    }
    case 'text':
      return { ...base, type: 'text', minLength: f.minLength, maxLength: f.maxLength };
  }
}

function inferred(
  input: TensorInfo,
  column: number,
  name: string,
  onlyString: boolean,
  hints: GraphHints,
): Feature {
  const tensorType = input.type as TensorType;
  const base = { name, description: '', input: input.name, column, tensorType };
  const nullable = hints.nullable(input.name, column);
  if (tensorType === 'string') {
    const categories = hints.categories(input.name, column);
    if (onlyString && !categories) return { ...base, type: 'text', minLength: 1, maxLength: 5000 };
    return { ...base, type: 'category', categories: categories ? [...categories] : [], nullable };
  }
  const integer = tensorType === 'int64' || tensorType === 'int32';
  return { ...base, type: integer ? 'integer' : 'number', nullable };
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const sa = new Set(a);
  return sa.size === new Set(b).size && b.every((x) => sa.has(x));
}

export function listed(values: readonly string[]): string {
  const shown = values.slice(0, 8).map((v) => JSON.stringify(v));
  return `[${shown.join(', ')}${values.length > 8 ? `, ... (${values.length})` : ''}]`;
}
