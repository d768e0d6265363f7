import { describe, expect, it } from 'vitest';
import { validateAnswers } from '../answers/resolve.js';
import type { Feature, ModelContract } from '../model/contract.js';
import { buildPlan } from '../plan/plan.js';
import { batchingText, lineWidth, summarize } from './summary.js';

const numeric = (name: string, column: number): Feature => ({
  name,
  description: name,
  input: name,
  column,
  tensorType: 'float32',
  type: 'number',
  nullable: false,
});

/** A scikit-learn-style binary classifier: 14 per-column features, one of them a category. */
const records: ModelContract = {
  name: 'bank-churn',
  version: '1.2.0',
  task: 'binary',
  description: 'churn',
  sha256: 'ab'.repeat(32),
  bytes: 3 * 1024 * 1024,
  kind: 'records',
  layout: 'columns',
  batching: { mode: 'merge' },
  inputs: [],
  outputs: [
    { name: 'label', type: 'string', shape: ['N'] },
    { name: 'probabilities', type: 'float32', shape: ['N', 2] },
  ],
  features: [
    {
      name: 'Geography',
      description: 'country',
      input: 'Geography',
      column: 0,
      tensorType: 'string',
      type: 'category',
      categories: ['France', 'Germany', 'Spain'],
      nullable: false,
    },
    ...Array.from({ length: 13 }, (_, i) => numeric(`f${i + 1}`, 0)),
  ],
  outputNames: { label: 'label', probabilities: 'probabilities' },
  extraOutputs: [],
  labels: ['stayed', 'exited'],
  positiveLabel: 'exited',
  threshold: 0.35,
  unknownCategories: 'reject',
  artifacts: {},
  described: true,
};

/** A deep-learning export: named tensors, a fixed batch of 1, a graph the generator rewrote. */
const tensors: ModelContract = {
  ...records,
  name: 'detector',
  version: '0.1.0',
  task: 'tensor',
  kind: 'tensors',
  batching: { mode: 'fixed', size: 1 },
  inputs: [
    { name: 'images', type: 'float32', shape: [1, 3, 224, 224] },
    { name: 'scale', type: 'float32', shape: [1, ''] },
  ],
  outputs: [
    { name: 'boxes', type: 'float32', shape: [1, 'n', 4] },
    { name: 'scores', type: 'float32', shape: [1, 'n'] },
  ],
  features: [],
  outputNames: {},
  extraOutputs: ['boxes', 'scores'],
  labels: [],
  positiveLabel: undefined,
  threshold: undefined,
  described: false,
  origin: {
    sha256: 'cd'.repeat(32),
    bytes: 2048,
    rewrites: ['removed the ZipMap after "probabilities": onnxruntime-node cannot return maps'],
    verification: '16 probe rows give the same outputs before and after',
  },
};

/** A transformer text classifier with its tokenizer; requests never share a run. */
const text: ModelContract = {
  ...records,
  name: 'sentiment',
  task: 'text-classification',
  kind: 'text',
  batching: { mode: 'none' },
  inputs: [
    { name: 'input_ids', type: 'int64', shape: ['batch', 128] },
    { name: 'attention_mask', type: 'int64', shape: ['batch', 128] },
  ],
  outputs: [{ name: 'logits', type: 'float32', shape: ['batch', 3] }],
  features: [
    {
      name: 'text',
      description: 'text',
      input: 'input_ids',
      column: 0,
      tensorType: 'string',
      type: 'text',
      minLength: 1,
      maxLength: 5000,
    },
  ],
  outputNames: { probabilities: 'logits' },
  extraOutputs: [],
  labels: ['negative', 'neutral', 'positive'],
  scores: 'logits',
  positiveLabel: undefined,
  threshold: undefined,
  tokenizer: {
    file: 'tokenizer.json',
    maxLength: 128,
    padToMax: true,
    padId: 0,
    inputIds: 'input_ids',
    attentionMask: 'attention_mask',
    logits: 'logits',
  },
};

const planOf = (model: ModelContract, answers: Record<string, unknown> = {}) =>
  buildPlan(validateAnswers({ name: 'svc', model: 'model/model.onnx', ...answers }), model);

/**
 * The text of the entry labelled `label`: its first line and the lines indented under it, joined
 * by spaces (values are wrapped at spaces, so this reads back as the values one after another).
 */
function section(lines: readonly string[], label: string): string {
  const start = lines.findIndex((l) => l.startsWith(`${label.padEnd(10)} `));
  if (start < 0) return '';
  const out = [lines[start]!.slice(11)];
  for (const l of lines.slice(start + 1)) {
    if (!l.startsWith(' ')) break;
    out.push(l.trim());
  }
  return out.join(' ');
}

describe('summarize', () => {
  it('a records model without a cloud: service, target, task, features, labels, batching, outputs', () => {
    const lines = summarize(planOf(records, { description: 'Churn scores' }), { target: 'svc' });
    expect(section(lines, 'Service')).toBe('svc -> svc Churn scores owner ml-team, cost centre ml');
    expect(section(lines, 'Cloud')).toBe(
      'none: the service and its Dockerfile, no manifests or cloud stacks',
    );
    // Without a cloud, nothing about replicas or pods is claimed.
    expect(section(lines, 'Capacity')).toBe('');
    expect(section(lines, 'Model')).toBe('bank-churn 1.2.0 (3.0 MB, sha256 abababababab)');
    expect(section(lines, 'Task')).toBe('binary classification');
    expect(section(lines, 'Input')).toBe('records: 14 features, one graph input each');
    expect(section(lines, 'Features')).toBe(
      'Geography (category of 3), f1 (number), f2 (number), f3 (number), f4 (number), f5 (number), f6 (number), f7 (number), f8 (number), f9 (number), f10 (number), f11 (number), +2 more',
    );
    expect(section(lines, 'Labels')).toBe(
      'stayed, exited; "exited" when its probability is at least 0.35',
    );
    expect(section(lines, 'Batching')).toBe(
      'requests merged into batches of up to MAX_BATCH_SIZE rows (an environment variable)',
    );
    expect(section(lines, 'Outputs')).toBe(
      'label (string [N]) -> the label probabilities (float32 [N, 2]) -> the class probabilities',
    );
    expect(section(lines, 'Graph')).toBe('served as given');
  });

  it('fits a terminal: every line at most lineWidth, continuations indented under the value', () => {
    const lines = summarize(planOf(records), { target: 'svc' });
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(lineWidth);
    const features = lines.findIndex((l) => l.startsWith('Features   '));
    expect(lines[features]).toBe(
      'Features   Geography (category of 3), f1 (number), f2 (number), f3',
    );
    expect(lines[features + 1]).toBe(
      '           (number), f4 (number), f5 (number), f6 (number), f7 (number),',
    );
  });

  it('with clouds: targets, environments, registry and capacity', () => {
    const lines = summarize(
      planOf(records, {
        cloud: 'both',
        gcpProject: 'acme-ml-prod',
        awsAccountId: '123456789012',
        githubRepo: 'acme/churn-api',
        registry: 'models',
        minReplicas: 3,
        maxReplicas: 12,
        cpu: 1.5,
        memory: '2Gi',
      }),
    );
    expect(section(lines, 'Service')).toMatch(/^svc Inference service/);
    expect(section(lines, 'Cloud')).toBe(
      [
        'gcp (project acme-ml-prod, us-central1), aws (account 123456789012, us-east-1)',
        'environments gcp-dev, gcp-staging, gcp-prod, aws-dev, aws-staging, aws-prod',
        'registry repository models',
      ].join(' '),
    );
    expect(section(lines, 'Capacity')).toBe(
      'prod 3-12 replicas, 1.5 CPU and 2Gi per pod, 1 inference worker',
    );
  });

  it('says when the pod memory was sized from the model', () => {
    const lines = summarize(
      planOf(records, { cloud: 'gcp', gcpProject: 'acme-ml-prod', githubRepo: 'acme/churn-api' }),
    );
    expect(section(lines, 'Capacity')).toBe(
      'prod 2-10 replicas, 2 CPU and 1Gi per pod (sized from the 3.0 MB model), 2 inference workers',
    );
  });

  it('a tensor model: inputs by name, fixed batch of 1, extra outputs, the rewrites made', () => {
    const lines = summarize(planOf(tensors));
    expect(section(lines, 'Task')).toBe(
      'tensors: no class or value semantics, every output returned by name',
    );
    expect(section(lines, 'Input')).toBe(
      'named tensors (2 graph inputs), as the V2 protocol sends them images (float32 [1, 3, 224, 224]), scale (float32 [1, ?])',
    );
    expect(section(lines, 'Features')).toBe('');
    expect(section(lines, 'Labels')).toBe('');
    expect(section(lines, 'Batching')).toBe('fixed batch of 1: rows run one by one');
    expect(section(lines, 'Outputs')).toBe(
      'boxes (float32 [1, n, 4]) -> returned as "boxes" scores (float32 [1, n]) -> returned as "scores"',
    );
    const graph = lines.slice(lines.findIndex((l) => l.startsWith('Graph ')));
    expect(graph).toEqual([
      'Graph      rewritten by the generator from your file (sha256',
      '           cdcdcdcdcdcd, 2.0 KB):',
      '           - removed the ZipMap after "probabilities":',
      '             onnxruntime-node cannot return maps',
      '           checked: 16 probe rows give the same outputs before and after',
    ]);
  });

  it('a classifier without probabilities: the task line says what its scores hold', () => {
    const lines = summarize(
      planOf({
        ...records,
        task: 'tensor',
        outputNames: {},
        extraOutputs: ['label', 'probabilities'],
        labels: [],
        positiveLabel: undefined,
        threshold: undefined,
        rawScores: { output: 'probabilities', holds: 'decision-function scores (an SVC)' },
      }),
    );
    expect(section(lines, 'Task')).toBe(
      'tensors: "probabilities" holds decision-function scores (an SVC), not class probabilities, so every output is returned by name',
    );
    expect(section(lines, 'Labels')).toBe('');
  });

  it('a transformer: the tokenizer, requests run alone, logits as the probabilities', () => {
    const lines = summarize(planOf(text));
    expect(section(lines, 'Task')).toBe('text classification (3 classes)');
    expect(section(lines, 'Input')).toBe(
      [
        'one text, tokenized by the service with tokenizer.json (at most 128 tokens, padded to that length)',
        'graph input input_ids (int64 [batch, 128])',
        'graph input attention_mask (int64 [batch, 128])',
      ].join(' '),
    );
    expect(section(lines, 'Labels')).toBe('negative, neutral, positive');
    expect(section(lines, 'Batching')).toBe(
      'each request runs alone (the inputs share no batch dimension)',
    );
    expect(section(lines, 'Outputs')).toBe(
      'logits (float32 [batch, 3]) -> logits: the class probabilities are their softmax',
    );
  });

  it('says when the features were inferred, and names an output nothing serves', () => {
    const lines = summarize(
      planOf({
        ...records,
        described: false,
        outputs: [...records.outputs, { name: 'debug', type: 'float32', shape: ['N'] }],
      }),
    );
    expect(section(lines, 'Features')).toContain(
      'no model.schema.json beside the model: names and ranges inferred',
    );
    expect(section(lines, 'Outputs')).toContain('debug (float32 [N]) -> not served');
  });

  it('puts batching in words for every mode', () => {
    expect(batchingText({ mode: 'merge', size: 64 })).toBe(
      'requests merged into batches of up to 64 rows',
    );
    expect(batchingText({ mode: 'fixed', size: 8 })).toBe(
      'fixed batch of 8: rows run in chunks of 8 (the last chunk padded), never merged beyond it',
    );
  });
});
