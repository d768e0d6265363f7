/**
 * Model introspection: the graph as the user's tool exported it is read (graph/), rewritten where
 * that is provably safe (prepare.ts), opened with onnxruntime-node for its signature, run on
 * generated inputs, and merged with the optional sidecar and tokenizer into the `ModelContract`.
 */
import { createHash } from 'node:crypto';
import { access, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ExitCode, UsageError, UserError } from '../errors.js';
import type { Feature, ModelContract, ModelOrigin, TaskKind } from './contract.js';
import { checkTensorTypes, batchingOf, isRecordsModel } from './batching.js';
import { type GraphHints, columnFeatures, columnsOf, matrixFeatures } from './features.js';
import {
  classLabels,
  classScoresOf,
  describeOutputs,
  inferRecordsTask,
  outputRoles,
  rawClassScores,
} from './outputs.js';
import { detectNotAModel } from './graph/decode.js';
import { monitoringOf } from './monitoring.js';
import { type PreparedGraph, prepareGraph, withRecomputedLabel } from './prepare.js';
import {
  exampleShapes,
  labelDisagreement,
  proveSameOutputs,
  proveZipMapRemoval,
  sampleRows,
  smokeRecords,
} from './probe.js';
import { type Sidecar, readSidecar } from './sidecar.js';
import {
  type Session,
  type Signature,
  openSession,
  openSessionAt,
  signatureOf,
} from './signature.js';
import { type TokenizerReading, readTokenizer } from './tokenizer.js';

export { readSignature } from './signature.js';
export const sidecarFileName = 'model.schema.json';

export interface IntrospectOptions {
  /** The task the user asked for; wins over the sidecar and over inference. */
  readonly task?: TaskKind;
  /**
   * The name when no sidecar gives one (otherwise it comes from the file name). `upgrade` passes
   * the recorded name: the project's copy of the model is always `model/model.onnx`.
   */
  readonly name?: string;
  /** `upgrade`: the lineage recorded when the project's model was rewritten from the user's. */
  readonly origin?: ModelOrigin;
}

export interface ReadModel {
  readonly contract: ModelContract;
  /** The bytes the project ships: the user's file, or its rewrite (`contract.origin`). */
  readonly served: Uint8Array;
  /** `served` differs from the file read (the generator rewrote the graph). */
  readonly rewritten: boolean;
}

export async function introspectModel(
  modelPath: string,
  options: IntrospectOptions = {},
): Promise<ModelContract> {
  return (await readModel(modelPath, options)).contract;
}

/**
 * Reads, checks and (where provably safe) rewrites the model. A model that cannot be served is
 * bad input: a UsageError (exit 2) whose one line names the problem and the fix.
 */
export async function readModel(
  modelPath: string,
  options: IntrospectOptions = {},
): Promise<ReadModel> {
  try {
    return await readServable(modelPath, options);
  } catch (err) {
    if (err instanceof UserError && err.exitCode !== ExitCode.usage)
      throw new UsageError(err.message, err.details);
    throw err;
  }
}

async function readServable(modelPath: string, options: IntrospectOptions): Promise<ReadModel> {
  const bytes = await readModelFile(modelPath);
  const sidecarPath = join(dirname(modelPath), sidecarFileName);
  const sidecar = (await exists(sidecarPath)) ? await readSidecar(sidecarPath) : undefined;
  let graph = await prepareGraph(bytes, modelPath);
  let session = await openSession(graph.served, modelPath);
  try {
    const signature = signatureOf(session);
    const tokenizer = await readTokenizer(modelPath, signature.inputs, signature.outputs);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const contractOf = (served: PreparedGraph) =>
      buildContract({
        modelPath,
        sha256: served.rewrites.length > 0 ? sha(served.served) : sha256,
        bytes: served.served.byteLength,
        signature,
        sidecar,
        hints: served.hints,
        tokenizer,
        task: options.task,
        name: options.name,
      });
    let contract = await probe(modelPath, session, contractOf(graph));
    const relabelled = await withConsistentLabel(graph, session, contract);
    if (relabelled) {
      const next = await openSession(relabelled.served, modelPath);
      await session.release();
      session = next;
      graph = relabelled;
      contract = await probe(modelPath, session, contractOf(graph));
    }
    if (graph.rewrites.length > 0) {
      const proofs = [
        graph.inlined ? await proveInlining(modelPath, graph, session, contract) : undefined,
        graph.beforeZipMapRemoval
          ? await proveRemoval(modelPath, graph, session, contract)
          : undefined,
      ].filter((p) => p !== undefined);
      const verification =
        proofs.length > 0
          ? proofs.join('; ')
          : `the rewritten graph loads and runs on generated rows`;
      contract = {
        ...contract,
        origin: { sha256, bytes: bytes.byteLength, rewrites: graph.rewrites, verification },
      };
    } else if (options.origin) {
      contract = { ...contract, origin: options.origin };
    }
    return { contract, served: graph.served, rewritten: graph.rewrites.length > 0 };
  } finally {
    await session.release();
  }
}

async function probe(
  path: string,
  session: Session,
  contract: ModelContract,
): Promise<ModelContract> {
  if (contract.kind === 'records') {
    await smokeRecords(path, session, contract);
    return contract;
  }
  if (contract.kind === 'tensors') {
    return { ...contract, exampleShapes: await exampleShapes(path, session, contract.inputs) };
  }
  return contract;
}

/** Generated rows the rewrites are proven on. */
const proofRows = 64;

async function proveRemoval(
  path: string,
  graph: PreparedGraph,
  served: Session,
  contract: ModelContract,
): Promise<string> {
  const before = await openSession(graph.beforeZipMapRemoval!, path);
  try {
    return await proveZipMapRemoval(
      path,
      before,
      served,
      contract,
      sampleRows(contract.features, proofRows),
      graph.labelRecomputed === true,
    );
  } finally {
    await before.release();
  }
}

/**
 * A binary classifier's label output must be the class its own probabilities make most probable,
 * which is what /predict answers. Where onnxruntime's label is known to be wrong for the graph (a
 * tree ensemble labelled by class index) or disagrees with the probabilities on the generated
 * rows, the graph is served with the label recomputed from the probabilities (so V2 and /predict
 * agree), and the lineage says why. Undefined when the label stands as exported.
 */
async function withConsistentLabel(
  graph: PreparedGraph,
  session: Session,
  contract: ModelContract,
): Promise<PreparedGraph | undefined> {
  const { relabel } = graph;
  const roles = contract.outputNames;
  if (
    !relabel ||
    contract.task !== 'binary' ||
    roles.label !== relabel.source.label ||
    roles.probabilities !== relabel.source.probabilities
  )
    return undefined;
  const why =
    relabel.knownWrong ??
    (await labelDisagreement(session, contract, sampleRows(contract.features, proofRows)));
  return why ? withRecomputedLabel(graph, why) : undefined;
}

/**
 * The weights read into the graph change nothing: onnxruntime reading the data files itself
 * agrees. `served` is reused when the inlining was the only rewrite (one less copy of the model).
 */
async function proveInlining(
  path: string,
  graph: PreparedGraph,
  served: Session,
  contract: ModelContract,
): Promise<string> {
  const inlined = graph.inlined!.served;
  const original = await openSessionAt(path);
  const rewritten = inlined === graph.served ? served : await openSession(inlined, path);
  try {
    return await proveSameOutputs(
      path,
      original,
      rewritten,
      contract,
      'reading the weights into the graph',
    );
  } finally {
    if (rewritten !== served) await rewritten.release();
    await original.release();
  }
}

interface ContractInput {
  modelPath: string;
  sha256: string;
  bytes: number;
  signature: Signature;
  sidecar: Sidecar | undefined;
  hints: GraphHints;
  tokenizer?: TokenizerReading | undefined;
  task: TaskKind | undefined;
  name?: string | undefined;
}

/** Pure: signature + graph hints + sidecar -> contract, refusing anything unservable. */
export function buildContract(c: ContractInput): ModelContract {
  const { modelPath, sidecar } = c;
  const { inputs, outputs } = c.signature;
  if (inputs.length === 0) throw new UserError(`${modelPath}: the model has no inputs`);
  const nonTensor = outputs.find((o) => o.type === 'non-tensor');
  if (nonTensor) {
    throw new UserError(
      `${modelPath}: output "${nonTensor.name}" is not a tensor, which onnxruntime-node cannot return: re-export so that every output is a tensor`,
    );
  }
  const name = sidecar?.name ?? c.name ?? toModelName(basename(modelPath, '.onnx'));
  const common = {
    name,
    version: sidecar?.version ?? `sha-${c.sha256.slice(0, 12)}`,
    sha256: c.sha256,
    bytes: c.bytes,
    inputs,
    outputs,
    unknownCategories: sidecar?.unknownCategories ?? 'reject',
    artifacts: sidecar?.artifacts ?? {},
    described: sidecar !== undefined,
  } as const;
  const body = c.tokenizer
    ? textBody(c, c.tokenizer)
    : isRecordsModel(inputs)
      ? recordsBody(c)
      : tensorsBody(c);
  const monitoring = monitoringOf(modelPath, sidecar, body.task, body.features);
  return {
    ...common,
    description: sidecar?.description ?? `The ${name} model.`,
    ...body,
    ...(monitoring ? { monitoring } : {}),
  };
}

type ContractBody = Omit<
  ModelContract,
  | 'name'
  | 'version'
  | 'sha256'
  | 'bytes'
  | 'inputs'
  | 'outputs'
  | 'unknownCategories'
  | 'artifacts'
  | 'described'
  | 'description'
  | 'monitoring'
>;

function recordsBody(c: ContractInput): ContractBody {
  const { modelPath, sidecar, hints } = c;
  const { inputs, outputs } = c.signature;
  const matrix =
    inputs.length === 1 && (columnsOf(inputs[0]!) > 1 || typeof inputs[0]!.shape[1] === 'string');
  const features = matrix
    ? matrixFeatures(modelPath, inputs[0]!, sidecar, hints)
    : columnFeatures(modelPath, inputs, sidecar, hints);
  const onlyText = features.length === 1 && features[0]!.type === 'text';
  const task = c.task ?? sidecar?.task ?? inferRecordsTask(modelPath, outputs, hints, onlyText);
  if (task === 'text-classification' && !onlyText) {
    throw new UserError(
      `${modelPath}: task "text-classification" needs one text input; the model takes ${features.length} features`,
    );
  }
  const outputNames = outputRoles(modelPath, outputs, task, sidecar);
  const rawScores = task === 'tensor' ? rawClassScores(outputs, hints) : undefined;
  return {
    kind: 'records',
    task,
    layout: matrix ? 'matrix' : 'columns',
    batching: batchingOf(modelPath, inputs, true),
    features,
    outputNames,
    extraOutputs: extras(outputs, outputNames),
    ...classification(c, task, outputNames),
    ...(rawScores ? { rawScores } : {}),
  };
}

function tensorsBody(c: ContractInput): ContractBody {
  const { modelPath } = c;
  const { inputs, outputs } = c.signature;
  checkTensorTypes(modelPath, inputs);
  const task = c.task ?? c.sidecar?.task ?? 'tensor';
  if (task !== 'tensor') {
    throw new UserError(
      `${modelPath}: task "${task}" needs named features (inputs [N] or [N, K]); this model takes tensors (${describeOutputs(inputs)}), served as task "tensor" (every output by name)`,
    );
  }
  return {
    kind: 'tensors',
    task,
    layout: 'columns',
    batching: batchingOf(modelPath, inputs, false),
    features: [],
    outputNames: {},
    extraOutputs: outputs.map((o) => o.name),
    labels: [],
  };
}

function textBody(c: ContractInput, t: TokenizerReading): ContractBody {
  const { modelPath, sidecar } = c;
  const task = c.task ?? sidecar?.task ?? 'text-classification';
  if (task !== 'text-classification') {
    throw new UserError(
      `${modelPath}: a model with a tokenizer.json is served as "text-classification", not "${task}": remove --task or the tokenizer`,
    );
  }
  const ids = c.signature.inputs.find((i) => i.name === t.spec.inputIds)!;
  const feature: Feature = {
    name: 'text',
    description: sidecar?.features?.[0]?.description ?? 'The text to classify.',
    input: 'text',
    column: 0,
    tensorType: 'string',
    type: 'text',
    minLength: 1,
    maxLength: 20_000,
  };
  const outputNames = { probabilities: t.spec.logits };
  const logits = c.signature.outputs.find((o) => o.name === t.spec.logits)!;
  const classes = Number(logits.shape[1]);
  const labels = classLabels(modelPath, classes, sidecar, {
    ...c.hints,
    ...(t.labels ? { labels: t.labels } : {}),
  });
  return {
    kind: 'text',
    task,
    layout: 'columns',
    batching:
      typeof ids.shape[0] === 'number' ? { mode: 'fixed', size: ids.shape[0] } : { mode: 'merge' },
    features: [feature],
    outputNames,
    extraOutputs: extras(c.signature.outputs, outputNames),
    labels,
    scores: 'logits',
    tokenizer: t.spec,
  };
}

function classification(
  c: ContractInput,
  task: TaskKind,
  outputNames: ModelContract['outputNames'],
): Pick<ModelContract, 'labels' | 'scores' | 'positiveLabel' | 'threshold' | 'thresholdRationale'> {
  if (task === 'regression' || task === 'tensor') return { labels: [] };
  const { modelPath, sidecar } = c;
  const p = c.signature.outputs.find((o) => o.name === outputNames.probabilities)!;
  const width = p.shape.length === 2 ? p.shape[1] : 1;
  // One column is a binary model's positive class (a sigmoid): two labels.
  const classes =
    width === 1 ? 2 : typeof width === 'number' ? width : (c.hints.labels?.length ?? 0);
  const labels = classLabels(modelPath, classes, sidecar, c.hints);
  if (task === 'binary' && labels.length !== 2) {
    throw new UserError(
      `${modelPath}: task "binary" needs exactly 2 classes; the model has ${labels.length}`,
    );
  }
  const scores = classScoresOf(modelPath, p, labels.length, c.hints, sidecar);
  if (task !== 'binary') return { labels, scores };
  return {
    labels,
    scores,
    positiveLabel: sidecar?.positiveLabel ?? labels[1]!,
    threshold: sidecar?.threshold ?? 0.5,
    thresholdRationale:
      sidecar?.thresholdRationale ?? 'Default 0.5: no sidecar states a cost-based threshold.',
  };
}

function extras(outputs: Signature['outputs'], roles: ModelContract['outputNames']): string[] {
  const used = new Set(Object.values(roles));
  return outputs.map((o) => o.name).filter((n) => !used.has(n));
}

/** The model's bytes; a file that is plainly no model (a Git LFS pointer...) is refused with the fix. */
async function readModelFile(modelPath: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
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
  // Before the sidecar or anything else reads beside it: a clone without git-lfs is the problem.
  detectNotAModel(bytes, modelPath);
  return bytes;
}

function sha(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
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
