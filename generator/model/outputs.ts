/**
 * Output roles and the task: which graph output is the label, the class probabilities or the
 * predicted value, and what the model predicts. Inferred from what the graph states (classifier
 * operators, ZipMap, output names and types); where that is not safe, the user is asked
 * (`TaskUnclearError`), never guessed for.
 */
import { UsageError, UserError } from '../errors.js';
import type { ClassScores, ModelContract, TaskKind, TensorInfo } from './contract.js';
import type { GraphHints } from './features.js';
import type { Sidecar } from './sidecar.js';

export type OutputRoles = ModelContract['outputNames'];

/** The task cannot be told from the graph: exit 2 naming `--task`, or a question in a terminal. */
export class TaskUnclearError extends UsageError {
  constructor(
    readonly path: string,
    readonly reason: string,
    readonly choices: readonly TaskKind[],
  ) {
    super(
      `${path}: cannot tell what the model predicts (${reason}); pass --task ${choices.join('|')} (tensor serves every output by name)`,
    );
    this.name = 'TaskUnclearError';
  }
}

const isFloat = (o: TensorInfo) => o.type === 'float32' || o.type === 'float64';
const width = (o: TensorInfo) => (o.shape.length >= 2 ? o.shape[o.shape.length - 1] : 1);
/** A float [N, C] output with C > 1 known: one score per class, as a classifier's probabilities. */
const perClass = (o: TensorInfo) =>
  isFloat(o) && o.shape.length === 2 && typeof width(o) === 'number' && Number(width(o)) > 1;

export function describeOutputs(outputs: readonly TensorInfo[]): string {
  return outputs
    .map((o) => `${o.name} ${o.type}[${o.shape.map((d) => d || '?').join(',')}]`)
    .join(', ');
}

/** Roles of a records model's outputs, for the given task. */
export function outputRoles(
  path: string,
  outputs: readonly TensorInfo[],
  task: TaskKind,
  sidecar: Sidecar | undefined,
): OutputRoles {
  const byName = (n: string | undefined) => (n ? outputs.find((o) => o.name === n) : undefined);
  const declared = sidecar?.outputs ?? {};
  for (const [role, n] of Object.entries(declared)) {
    if (!byName(n))
      throw new UserError(
        `${path}: the sidecar names output "${n}" (${role}) but the model has no such output`,
      );
  }
  if (task === 'tensor') return {};
  if (task === 'regression') {
    const prediction =
      byName(declared.prediction) ??
      byName('prediction') ??
      byName('variable') ??
      outputs.find((o) => isFloat(o) && width(o) === 1);
    if (!prediction) {
      throw new UserError(
        `${path}: task "regression" needs a float output of width 1; the model has ${describeOutputs(outputs)}`,
      );
    }
    return { prediction: prediction.name };
  }
  const probabilities =
    byName(declared.probabilities) ??
    byName('probabilities') ??
    byName('output_probability') ??
    outputs.find(perClass) ??
    // A binary model may give one column: the positive class's probability or logit.
    (task === 'binary' ? outputs.find((o) => isFloat(o) && width(o) === 1) : undefined);
  if (!probabilities) {
    throw new UserError(
      `${path}: task "${task}" needs a class-probability output [N, C]; the model has ${describeOutputs(outputs)}`,
    );
  }
  const label =
    byName(declared.label) ??
    byName('label') ??
    byName('output_label') ??
    outputs.find(
      (o) =>
        o !== probabilities && (o.type === 'int64' || o.type === 'string') && o.shape.length === 1,
    );
  return { ...(label ? { label: label.name } : {}), probabilities: probabilities.name };
}

/** The task a records model's graph states, or a TaskUnclearError. */
export function inferRecordsTask(
  path: string,
  outputs: readonly TensorInfo[],
  hints: GraphHints,
  onlyText: boolean,
): TaskKind {
  const floats = outputs.filter(isFloat);
  const probabilities = floats.find(perClass);
  // Decision scores or distances beside a label: served as the model computes them, by name.
  if (rawClassScores(outputs, hints)) return 'tensor';
  if (hints.classifier || (probabilities && outputs.some(labelLike))) {
    const classes = hints.labels?.length ?? (probabilities ? Number(width(probabilities)) : 0);
    if (onlyText) return 'text-classification';
    if (classes === 2) return 'binary';
    if (classes > 2) return 'multiclass';
  }
  // One float output that a Softmax or a Sigmoid computes is class probabilities: the graph says so.
  const only = outputs.length === 1 && floats.length === 1 ? floats[0]! : undefined;
  const producer = only ? hints.producer(only.name) : undefined;
  if (only && producer === 'Sigmoid' && width(only) === 1)
    return onlyText ? 'text-classification' : 'binary';
  if (only && producer === 'Softmax' && probabilities === only) {
    const classes = Number(width(only));
    if (onlyText) return 'text-classification';
    return classes === 2 ? 'binary' : 'multiclass';
  }
  if (floats.length === 1 && outputs.length === 1 && width(floats[0]!) === 1) return 'regression';
  throw new TaskUnclearError(
    path,
    `outputs ${describeOutputs(outputs)} and no classifier operator`,
    ['tensor', 'regression', 'binary', 'multiclass'],
  );
}

/** A label output: int64 or string, one per row ([N], or [N, 1] as skl2onnx's outlier detectors). */
const labelLike = (o: TensorInfo) =>
  (o.type === 'int64' || o.type === 'string') &&
  (o.shape.length === 1 || (o.shape.length === 2 && o.shape[1] === 1));

/**
 * The float output of a labelling graph (a classifier operator, a ZipMap, or a label output) that
 * holds no probabilities, and what it holds: the decision function of an estimator without
 * predict_proba or of an outlier detector, or a clustering's distances (see `rawScoresOf` in
 * graph/facts.ts). Such a model is served as task `tensor`.
 */
export function rawClassScores(
  outputs: readonly TensorInfo[],
  hints: GraphHints,
): { output: string; holds: string } | undefined {
  if (!hints.classifier && !outputs.some(labelLike)) return undefined;
  for (const o of outputs.filter(isFloat)) {
    const holds = hints.rawScores(o.name);
    if (holds) return { output: o.name, holds };
  }
  return undefined;
}

/** Operators whose output is unnormalized scores: a classifier ending in one of them gives logits. */
const logitOperators: ReadonlySet<string> = new Set([
  'Gemm',
  'MatMul',
  'Add',
  'Sub',
  'Einsum',
  'LogSoftmax',
  'Conv',
]);

/**
 * How a classifier's probabilities output holds its scores: the sidecar's word, else what computes
 * it. A classifier operator or ZipMap, a Softmax or a Sigmoid give probabilities; a Gemm, MatMul,
 * Add or LogSoftmax gives logits (a softmax of log-probabilities is the probabilities again). One
 * column is the positive class of a binary model.
 */
export function classScoresOf(
  path: string,
  output: TensorInfo,
  classes: number,
  hints: GraphHints,
  sidecar: Sidecar | undefined,
): ClassScores {
  const one = width(output) === 1;
  if (one && classes !== 2) {
    throw new UserError(
      `${path}: output "${output.name}" has one column, which only a binary model's positive class can fill; the model has ${classes} labels`,
    );
  }
  const declared = sidecar?.scores;
  if (declared) {
    if (declared.startsWith('positive-') !== one) {
      throw new UserError(
        `${path}: the sidecar's scores "${declared}" do not fit output "${output.name}" [${output.shape.map((d) => d || '?').join(', ')}]: "positive-probability" and "positive-logit" are for one column, "probabilities" and "logits" for one per class`,
      );
    }
    return declared;
  }
  const raw = hints.rawScores(output.name);
  if (raw) {
    throw new UserError(
      `${path}: output "${output.name}" holds ${raw}, not class probabilities, so the service could neither report nor threshold them: serve the model with --task tensor (every output by name, its default for this graph), or export an estimator that has predict_proba (CalibratedClassifierCV, SVC(probability=True), LogisticRegression); if they are probabilities after all, say so with "scores" in model.schema.json`,
    );
  }
  const producer = hints.classifier ? undefined : hints.producer(output.name);
  const logits = producer !== undefined && logitOperators.has(producer);
  if (one) return logits ? 'positive-logit' : 'positive-probability';
  return logits ? 'logits' : 'probabilities';
}

/** Class labels: the sidecar's, else the graph's, else "0".."C-1"; they must agree. */
export function classLabels(
  path: string,
  classes: number,
  sidecar: Sidecar | undefined,
  hints: GraphHints,
): string[] {
  const graph = hints.labels;
  if (sidecar?.labels && graph && sidecar.labels.join('\0') !== graph.join('\0')) {
    // Names for integer classes are the sidecar's to give; only string labels must match.
    const graphNamesClasses = graph.some((l) => !/^-?\d+$/.test(l));
    if (graphNamesClasses) {
      throw new UserError(
        `${path}: the sidecar's labels [${sidecar.labels.join(', ')}] disagree with the graph's classes [${graph.join(', ')}] (in probability order); fix "labels" in model.schema.json`,
      );
    }
  }
  const labels = sidecar?.labels ?? graph ?? Array.from({ length: classes }, (_, i) => String(i));
  if (classes > 0 && labels.length !== classes) {
    throw new UserError(
      `${path}: ${sidecar?.labels ? 'the sidecar lists' : 'the graph names'} ${labels.length} labels but the model outputs ${classes} class probabilities`,
    );
  }
  return [...labels];
}
