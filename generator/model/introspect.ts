/**
 * Model introspection: onnxruntime-node reads the graph's inputs and outputs; the optional sidecar
 * adds names, ranges, categories, labels and threshold. The result is the `ModelContract`.
 */
import { createHash } from 'node:crypto';
import { access, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../errors.js';
import type { TaskKind } from '../answers/schema.js';
import type { Feature, ModelContract, TensorInfo, TensorType } from './contract.js';
import { type Sidecar, type SidecarFeature, readSidecar } from './sidecar.js';

export const sidecarFileName = 'model.schema.json';

const servableTypes: ReadonlySet<string> = new Set<TensorType>([
  'float32',
  'float64',
  'int64',
  'int32',
  'string',
]);

export interface IntrospectOptions {
  /** The task the user asked for; wins over the sidecar and over inference. */
  readonly task?: TaskKind;
  /**
   * The name when no sidecar gives one (otherwise it comes from the file name). `upgrade` passes
   * the recorded name: the project's copy of the model is always `model/model.onnx`.
   */
  readonly name?: string;
}

/** Reads the graph's signature. Any failure is a UserError that names the file. */
export async function readSignature(
  bytes: Uint8Array,
  path: string,
): Promise<{ inputs: TensorInfo[]; outputs: TensorInfo[] }> {
  // Imported lazily: loading the native binding is the slowest step of a run.
  const { InferenceSession } = await import('onnxruntime-node');
  let session: Awaited<ReturnType<typeof InferenceSession.create>>;
  try {
    session = await InferenceSession.create(bytes, {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'disabled',
    });
  } catch (err) {
    const reason = String((err as Error).message ?? err)
      .replace(/^Load model from .*? failed:/, '')
      .trim();
    throw new UserError(`${path} is not a loadable ONNX model: ${reason}`);
  }
  try {
    const toInfo = (m: (typeof session.inputMetadata)[number]): TensorInfo => {
      if (!m.isTensor) return { name: m.name, type: 'non-tensor', shape: [] };
      return { name: m.name, type: m.type, shape: [...m.shape] };
    };
    return {
      inputs: session.inputMetadata.map(toInfo),
      outputs: session.outputMetadata.map(toInfo),
    };
  } finally {
    await session.release();
  }
}

export async function introspectModel(
  modelPath: string,
  options: IntrospectOptions = {},
): Promise<ModelContract> {
  let bytes: Buffer;
  try {
    bytes = await readFile(modelPath);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(
      code === 'ENOENT'
        ? `Model not found: ${modelPath}`
        : `Cannot read model ${modelPath}: ${(err as Error).message}`,
    );
  }
  const sidecarPath = join(dirname(modelPath), sidecarFileName);
  const sidecar = (await exists(sidecarPath)) ? await readSidecar(sidecarPath) : undefined;
  const { inputs, outputs } = await readSignature(bytes, modelPath);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return buildContract({
    modelPath,
    sha256,
    bytes: bytes.byteLength,
    inputs,
    outputs,
    sidecar,
    task: options.task,
    name: options.name,
  });
}

interface ContractInput {
  modelPath: string;
  sha256: string;
  bytes: number;
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  sidecar: Sidecar | undefined;
  task: TaskKind | undefined;
  name?: string | undefined;
}

/** Pure: signature + sidecar -> contract, with an error that names the problem for anything unservable. */
export function buildContract(c: ContractInput): ModelContract {
  const { modelPath, inputs, outputs, sidecar } = c;
  if (inputs.length === 0) throw new UserError(`${modelPath}: the model has no inputs`);
  for (const input of inputs) checkServableInput(modelPath, input, inputs.length);
  const layout: ModelContract['layout'] =
    inputs.length === 1 && columnsOf(inputs[0]!) > 1 ? 'matrix' : 'columns';
  const features =
    layout === 'matrix'
      ? matrixFeatures(modelPath, inputs[0]!, sidecar)
      : columnFeatures(modelPath, inputs, sidecar);
  const outputNames = resolveOutputs(modelPath, outputs, sidecar);
  const task = c.task ?? sidecar?.task ?? inferTask(modelPath, outputs, outputNames, features);
  checkTaskFitsOutputs(modelPath, task, outputNames);
  const classes = task === 'regression' ? 0 : classCount(outputs, outputNames);
  const labels =
    task === 'regression'
      ? []
      : (sidecar?.labels ?? Array.from({ length: classes }, (_, i) => String(i)));
  if (task !== 'regression' && classes > 0 && labels.length !== classes) {
    throw new UserError(
      `${modelPath}: the sidecar lists ${labels.length} labels but the model outputs ${classes} class probabilities`,
    );
  }
  if (task === 'binary' && labels.length !== 2) {
    throw new UserError(
      `${modelPath}: task "binary" needs exactly 2 classes; the model has ${labels.length}`,
    );
  }
  const name = sidecar?.name ?? c.name ?? toModelName(basename(modelPath, '.onnx'));
  return {
    name,
    version: sidecar?.version ?? `sha-${c.sha256.slice(0, 12)}`,
    task,
    description: sidecar?.description ?? `The ${name} model.`,
    sha256: c.sha256,
    bytes: c.bytes,
    layout,
    inputs,
    outputs,
    features,
    outputNames,
    labels,
    ...(task === 'binary'
      ? {
          positiveLabel: sidecar?.positiveLabel ?? labels[1]!,
          threshold: sidecar?.threshold ?? 0.5,
          thresholdRationale:
            sidecar?.thresholdRationale ?? 'Default 0.5: no sidecar states a cost-based threshold.',
        }
      : {}),
    unknownCategories: sidecar?.unknownCategories ?? 'reject',
    artifacts: sidecar?.artifacts ?? {},
    described: sidecar !== undefined,
  };
}

function columnsOf(t: TensorInfo): number {
  const last = t.shape.length === 2 ? t.shape[1] : 1;
  return typeof last === 'number' ? last : 1;
}

function checkServableInput(path: string, t: TensorInfo, inputCount: number): void {
  if (!servableTypes.has(t.type)) {
    throw new UserError(
      `${path}: input "${t.name}" has element type ${t.type}; the service feeds float, double, int32, int64 or string tensors from JSON`,
    );
  }
  const rankOk = t.shape.length === 1 || t.shape.length === 2;
  if (!rankOk) {
    throw new UserError(
      `${path}: input "${t.name}" has shape [${t.shape.join(', ')}]; the service serves tabular or text models whose inputs are [N] or [N, K] (images and sequences are not supported)`,
    );
  }
  if (t.shape.length === 2 && typeof t.shape[1] === 'string') {
    throw new UserError(
      `${path}: input "${t.name}" has a symbolic feature dimension "${t.shape[1]}"; its width must be fixed`,
    );
  }
  if (inputCount > 1 && columnsOf(t) !== 1) {
    throw new UserError(
      `${path}: input "${t.name}" has ${columnsOf(t)} columns; with several inputs each must be one column [N, 1]`,
    );
  }
  if (columnsOf(t) > 1 && t.type === 'string') {
    throw new UserError(
      `${path}: input "${t.name}" is a string matrix; string features must be one column each`,
    );
  }
}

function columnFeatures(
  path: string,
  inputs: TensorInfo[],
  sidecar: Sidecar | undefined,
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
      ),
    );
  }
  const onlyString = inputs.length === 1 && inputs[0]!.type === 'string';
  return inputs.map((i) => inferred(i, 0, i.name, onlyString));
}

function matrixFeatures(path: string, input: TensorInfo, sidecar: Sidecar | undefined): Feature[] {
  const k = columnsOf(input);
  if (sidecar?.features) {
    if (sidecar.features.length !== k) {
      throw new UserError(
        `${path}: input "${input.name}" has ${k} columns but the sidecar describes ${sidecar.features.length} features`,
      );
    }
    return sidecar.features.map((f, column) => fromSidecar(path, f, input, column));
  }
  return Array.from({ length: k }, (_, column) => inferred(input, column, `x${column}`, false));
}

function fromSidecar(path: string, f: SidecarFeature, input: TensorInfo, column: number): Feature {
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
    case 'category':
      return { ...base, type: 'category', categories: f.categories, nullable: f.nullable };
    case 'text':
      return { ...base, type: 'text', minLength: f.minLength, maxLength: f.maxLength };
  }
}

function inferred(input: TensorInfo, column: number, name: string, onlyString: boolean): Feature {
  const tensorType = input.type as TensorType;
  const base = { name, description: '', input: input.name, column, tensorType };
  if (tensorType === 'string') {
    return onlyString
      ? { ...base, type: 'text', minLength: 1, maxLength: 5000 }
      : { ...base, type: 'category', categories: [], nullable: false };
  }
  const integer = tensorType === 'int64' || tensorType === 'int32';
  return { ...base, type: integer ? 'integer' : 'number', nullable: false };
}

function resolveOutputs(
  path: string,
  outputs: TensorInfo[],
  sidecar: Sidecar | undefined,
): ModelContract['outputNames'] {
  for (const o of outputs) {
    if (o.type === 'non-tensor') {
      throw new UserError(
        `${path}: output "${o.name}" is not a tensor (a ZipMap?); onnxruntime-node cannot return sequences of maps. Export without ZipMap (skl2onnx: options={'zipmap': False})`,
      );
    }
  }
  const byName = (n: string | undefined) => (n ? outputs.find((o) => o.name === n) : undefined);
  const declared = sidecar?.outputs ?? {};
  for (const [role, n] of Object.entries(declared)) {
    if (!byName(n))
      throw new UserError(
        `${path}: the sidecar names output "${n}" (${role}) but the model has no such output`,
      );
  }
  const probabilities =
    byName(declared.probabilities) ??
    byName('probabilities') ??
    byName('output_probability') ??
    outputs.find(
      (o) =>
        o.type === 'float32' &&
        o.shape.length === 2 &&
        typeof o.shape[1] === 'number' &&
        o.shape[1] > 1,
    );
  const label =
    byName(declared.label) ??
    byName('label') ??
    byName('output_label') ??
    outputs.find(
      (o) =>
        o !== probabilities && (o.type === 'int64' || o.type === 'string') && o.shape.length === 1,
    );
  const prediction =
    byName(declared.prediction) ??
    byName('prediction') ??
    byName('variable') ??
    (probabilities ? undefined : outputs.find((o) => o.type === 'float32' || o.type === 'float64'));
  return {
    ...(label ? { label: label.name } : {}),
    ...(probabilities ? { probabilities: probabilities.name } : {}),
    ...(prediction && !probabilities ? { prediction: prediction.name } : {}),
  };
}

function classCount(outputs: TensorInfo[], names: ModelContract['outputNames']): number {
  const p = outputs.find((o) => o.name === names.probabilities);
  const c = p?.shape[1];
  return typeof c === 'number' ? c : 0;
}

function inferTask(
  path: string,
  outputs: TensorInfo[],
  names: ModelContract['outputNames'],
  features: Feature[],
): TaskKind {
  if (names.probabilities) {
    const classes = classCount(outputs, names);
    if (features.length === 1 && features[0]!.type === 'text') return 'text-classification';
    if (classes === 2) return 'binary';
    if (classes > 2) return 'multiclass';
  }
  if (names.prediction) return 'regression';
  throw new UserError(
    `${path}: cannot infer the task from outputs ${outputs.map((o) => `${o.name} ${o.type}[${o.shape.join(',')}]`).join(', ')}; pass --task or add a model.schema.json`,
  );
}

function checkTaskFitsOutputs(
  path: string,
  task: TaskKind,
  names: ModelContract['outputNames'],
): void {
  if (task === 'regression' && !names.prediction) {
    throw new UserError(
      `${path}: task "regression" needs a float output (e.g. "prediction"); the model has none`,
    );
  }
  if (task !== 'regression' && !names.probabilities) {
    throw new UserError(
      `${path}: task "${task}" needs a class-probability output [N, C] (e.g. "probabilities"); the model has none`,
    );
  }
}

function toModelName(stem: string): string {
  const n = stem
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return /^[a-z]/.test(n)
    ? n.slice(0, 63).replace(/-+$/, '')
    : `model-${n}`.slice(0, 63).replace(/-+$/, '');
}

async function exists(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}
