/**
 * Parity: every environment, on every cloud, provides the same capabilities (registry, versioned
 * encrypted bucket, workload identity to one bucket path, bounded node pool, remote state, ...),
 * read back from the synthesized stacks.
 */
import { describe, expect, it } from 'vitest';
import { environments } from '../../plan.js';
import { type Capabilities, expectedCapabilities } from './support/capabilities.js';
import { gcpCapabilities } from './support/gcp-capabilities.js';
import { synthStack } from './support/synth.js';

type Env = (typeof environments)[number];

function capabilitiesOf(env: Env): Capabilities {
  const tf = synthStack(env.id).tf;
  switch (env.cloud as string) {
    case 'gcp':
      return gcpCapabilities(tf, synthStack('gcp-bootstrap').tf);
  }
  throw new Error(`no capability reader for ${env.cloud}`);
}

function namesOf(env: Env): { namespace: string; state: { bucket: string; key: string } } {
  const names = env as unknown as {
    gcp?: { namespace: string; stateBucket: string; statePrefix: string };
    aws?: { namespace: string; stateBucket: string; stateKey: string };
  };
  if (names.gcp)
    return {
      namespace: names.gcp.namespace,
      state: { bucket: names.gcp.stateBucket, key: names.gcp.statePrefix },
    };
  if (names.aws)
    return {
      namespace: names.aws.namespace,
      state: { bucket: names.aws.stateBucket, key: names.aws.stateKey },
    };
  throw new Error(`${env.id}: no cloud names`);
}

describe.each(environments.map((env) => [env.id, env] as const))('%s', (_id, env) => {
  it('provides every capability', () => {
    expect(capabilitiesOf(env)).toEqual(expectedCapabilities({ ...env, ...namesOf(env) }));
  });
});
