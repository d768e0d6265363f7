/**
 * What `create` is about to make, in words: the answers that shape the project and how the
 * generator understood the model. Shown before anything is written (interactive runs only), so a
 * wrong inference (task, features, batching, a rewrite of the graph) is caught before the files
 * exist. Pure: the lines depend on the Plan alone.
 */
import type { Batching, ModelContract, TensorInfo } from '../model/contract.js';
import type { Plan } from '../plan/plan.js';

/** Features, labels and inputs listed by name before "+N more". */
export const listedItems = 12;

const labelWidth = 10;
/** Characters per line: a summary fits an 80-column terminal inside @clack's note box. */
export const lineWidth = 72;
const indent = ' '.repeat(labelWidth + 1);

/** Breaks `text` at spaces into lines of at most `width` (a longer word stays whole). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  return [...lines, line];
}

/**
 * One entry: the first line carries the label, the others are indented under its value. Each
 * value is wrapped to the line width; a wrapped "- " item keeps its text aligned.
 */
function entry(label: string, first: string, ...more: string[]): string[] {
  const width = lineWidth - indent.length;
  const lines = [first, ...more].flatMap((value) => {
    const hang = value.startsWith('- ') ? '  ' : '';
    const [head = '', ...tail] = wrap(value, width - hang.length);
    return [head, ...tail.map((t) => `${hang}${t}`)];
  });
  const [head = '', ...tail] = lines;
  return [`${label.padEnd(labelWidth)} ${head}`, ...tail.map((m) => `${indent}${m}`)];
}

function listed(items: readonly string[]): string {
  const shown = items.slice(0, listedItems).join(', ');
  const rest = items.length - listedItems;
  return rest > 0 ? `${shown}, +${rest} more` : shown;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

const shapeText = (shape: TensorInfo['shape']) =>
  `[${shape.map((d) => (d === '' ? '?' : String(d))).join(', ')}]`;

const tensorText = (t: TensorInfo) => `${t.name} (${t.type} ${shapeText(t.shape)})`;

/** How requests reach the graph, in words. */
export function batchingText(batching: Batching): string {
  switch (batching.mode) {
    case 'merge':
      return batching.size
        ? `requests merged into batches of up to ${batching.size} rows`
        : 'requests merged into batches of up to MAX_BATCH_SIZE rows (an environment variable)';
    case 'fixed': {
      const n = batching.size ?? 1;
      return n === 1
        ? 'fixed batch of 1: rows run one by one'
        : `fixed batch of ${n}: rows run in chunks of ${n} (the last chunk padded), never merged beyond it`;
    }
    case 'none':
      return 'each request runs alone (the inputs share no batch dimension)';
  }
}

function taskText(m: ModelContract): string {
  switch (m.task) {
    case 'binary':
      return 'binary classification';
    case 'multiclass':
      return `multiclass classification (${plural(m.labels.length, 'class', 'classes')})`;
    case 'regression':
      return 'regression';
    case 'text-classification':
      return `text classification (${plural(m.labels.length, 'class', 'classes')})`;
    case 'tensor':
      return m.rawScores
        ? `tensors: "${m.rawScores.output}" holds ${m.rawScores.holds}, not class probabilities, so every output is returned by name`
        : 'tensors: no class or value semantics, every output returned by name';
  }
}

function inputText(m: ModelContract): string[] {
  if (m.kind === 'text') {
    const t = m.tokenizer;
    return entry(
      'Input',
      t
        ? `one text, tokenized by the service with ${t.file} (at most ${plural(t.maxLength, 'token')}${t.padToMax ? ', padded to that length' : ''})`
        : 'one text, tokenized by the service',
      ...m.inputs.map((i) => `graph input ${tensorText(i)}`),
    );
  }
  if (m.kind === 'tensors') {
    return entry(
      'Input',
      `named tensors (${plural(m.inputs.length, 'graph input')}), as the V2 protocol sends them`,
      listed(m.inputs.map(tensorText)),
    );
  }
  const features = plural(m.features.length, 'feature');
  const matrix = m.layout === 'matrix' ? m.inputs[0] : undefined;
  return entry(
    'Input',
    matrix
      ? `records: ${features} in one ${matrix.type} matrix ${matrix.name} ${shapeText(matrix.shape)}`
      : `records: ${features}, one graph input each`,
  );
}

function featureText(m: ModelContract): string[] {
  if (m.features.length === 0) return [];
  return entry(
    'Features',
    listed(
      m.features.map((f) => {
        if (f.type === 'category' && f.categories.length > 0)
          return `${f.name} (category of ${f.categories.length})`;
        return `${f.name} (${f.type})`;
      }),
    ),
    ...(m.described ? [] : ['no model.schema.json beside the model: names and ranges inferred']),
  );
}

function labelText(m: ModelContract): string[] {
  if (m.labels.length === 0) return [];
  const decision =
    m.threshold !== undefined
      ? `; "${m.positiveLabel ?? m.labels[m.labels.length - 1]}" when its probability is at least ${m.threshold}`
      : '';
  return entry('Labels', `${listed(m.labels)}${decision}`);
}

/** Every graph output and what the service does with it. */
function outputText(m: ModelContract): string[] {
  const role = (name: string): string => {
    if (m.outputNames.label === name) return 'the label';
    if (m.outputNames.probabilities === name) return scoresText(m);
    if (m.outputNames.prediction === name) return 'the prediction';
    if (m.extraOutputs.includes(name)) return `returned as "${name}"`;
    return 'not served';
  };
  const lines = m.outputs.map((o) => `${tensorText(o)} -> ${role(o.name)}`);
  const [first = 'none', ...rest] = lines;
  return entry('Outputs', first, ...rest);
}

/** What the class-probability output holds, as the service reads it. */
function scoresText(m: ModelContract): string {
  const [negative, positive] = m.labels;
  switch (m.scores) {
    case 'logits':
      return 'logits: the class probabilities are their softmax';
    case 'positive-probability':
      return `the probability of "${positive}" ("${negative}": 1 minus it)`;
    case 'positive-logit':
      return `the logit of "${positive}": its probability is the sigmoid ("${negative}": 1 minus it)`;
    default:
      return 'the class probabilities';
  }
}

function graphText(m: ModelContract): string[] {
  const origin = m.origin;
  if (!origin) return entry('Graph', 'served as given');
  return entry(
    'Graph',
    `rewritten by the generator from your file (sha256 ${origin.sha256.slice(0, 12)}, ${size(origin.bytes)}):`,
    ...origin.rewrites.map((r) => `- ${r}`),
    `checked: ${origin.verification}`,
  );
}

function cloudText(plan: Plan): string[] {
  if (plan.clouds.list.length === 0) {
    return entry('Cloud', 'none: the service and its Dockerfile, no manifests or cloud stacks');
  }
  const a = plan.answers;
  const targets = plan.clouds.list.map((c) =>
    c === 'gcp'
      ? `gcp (project ${a.gcpProject ?? '?'}, ${a.gcpRegion})`
      : `aws (account ${a.awsAccountId ?? '?'}, ${a.awsRegion})`,
  );
  const prod = plan.environments.find((e) => e.stage === 'prod');
  return [
    ...entry(
      'Cloud',
      targets.join(', '),
      `environments ${plan.environments.map((e) => e.id).join(', ')}`,
      `registry repository ${plan.names.registryRepository}`,
    ),
    ...entry(
      'Capacity',
      `${prod ? `prod ${prod.minReplicas}-${prod.maxReplicas} replicas, ` : ''}${plan.runtime.cpu} CPU and ${plan.runtime.memory} per pod${a.memory ? '' : ` (sized from the ${size(plan.model.bytes)} model)`}, ${plural(plan.runtime.poolSize, 'inference worker')}`,
    ),
  ];
}

/**
 * The summary shown before writing: one string per line, labels aligned. `target` is the
 * directory as the user should read it (relative to where they are).
 */
export function summarize(plan: Plan, options: { target?: string } = {}): string[] {
  const m = plan.model;
  return [
    ...entry(
      'Service',
      `${plan.service.name}${options.target ? ` -> ${options.target}` : ''}`,
      plan.service.description,
      `owner ${plan.service.owner}, cost centre ${plan.service.costCenter}`,
    ),
    ...cloudText(plan),
    ...entry('Model', `${m.name} ${m.version} (${size(m.bytes)}, sha256 ${m.sha256.slice(0, 12)})`),
    ...entry('Task', taskText(m)),
    ...inputText(m),
    ...featureText(m),
    ...labelText(m),
    ...entry('Batching', batchingText(m.batching)),
    ...outputText(m),
    ...graphText(m),
  ];
}
