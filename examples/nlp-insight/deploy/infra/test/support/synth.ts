/**
 * Synthesizes every stack in-process once per test file (cdktf's Testing helpers, no CLI) and
 * gives typed access to the Terraform JSON.
 */
import { type TerraformStack, Testing } from 'cdktf';
import { buildStacks } from '../../main.js';

export type Block = Record<string, unknown>;

export interface TerraformJson {
  terraform: {
    backend?: Record<string, Block>;
    required_providers?: Record<string, { source: string; version: string }>;
  };
  provider?: Record<string, Block[]>;
  resource?: Record<string, Record<string, Block>>;
  data?: Record<string, Record<string, Block>>;
  output?: Record<string, { value: unknown }>;
}

export interface SynthesizedStack {
  readonly stack: TerraformStack;
  /** What cdktf's matchers take. */
  readonly json: string;
  readonly tf: TerraformJson;
}

let cache: Map<string, SynthesizedStack> | undefined;

export function synthAll(): Map<string, SynthesizedStack> {
  if (cache) return cache;
  const stacks = buildStacks(Testing.app());
  cache = new Map();
  for (const [id, stack] of stacks) {
    const json = Testing.synth(stack);
    cache.set(id, { stack, json, tf: JSON.parse(json) as TerraformJson });
  }
  return cache;
}

export function synthStack(id: string): SynthesizedStack {
  const s = synthAll().get(id);
  if (!s) throw new Error(`no stack "${id}" (have: ${[...synthAll().keys()].join(', ')})`);
  return s;
}

/** All resources of a type, by name. */
export function resources(tf: TerraformJson, type: string): Record<string, Block> {
  return tf.resource?.[type] ?? {};
}

/** The one resource of `type` named `name`; fails when it is missing. */
export function resource(tf: TerraformJson, type: string, name: string): Block {
  const r = tf.resource?.[type]?.[name];
  if (!r) throw new Error(`no ${type}.${name}`);
  return r;
}

export function dataSource(tf: TerraformJson, type: string, name: string): Block {
  const d = tf.data?.[type]?.[name];
  if (!d) throw new Error(`no data.${type}.${name}`);
  return d;
}

/** `${data.aws_iam_policy_document.x.json}` -> the data source block it points at. */
export function referencedPolicyDocument(tf: TerraformJson, reference: unknown): Block {
  const m = /^\$\{data\.aws_iam_policy_document\.([\w-]+)\.json\}$/.exec(String(reference));
  if (!m?.[1]) throw new Error(`${String(reference)} is not a policy document reference`);
  return dataSource(tf, 'aws_iam_policy_document', m[1]);
}
