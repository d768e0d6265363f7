#!/usr/bin/env node
/**
 * The deploy steps of one environment (deploy-environment.yml), as commands a person can also run
 * with the same credentials:
 *
 *   node scripts/ci/deploy.mjs verify-image <env> --source <repo> --digest <sha256:...>
 *   node scripts/ci/deploy.mjs publish-model <env>       # model + artifacts to the environment's path
 *   node scripts/ci/deploy.mjs copy-image <env> --source <repo> --digest <sha256:...>
 *   node scripts/ci/deploy.mjs preflight <env>           # may this identity apply the namespace's objects?
 *   node scripts/ci/deploy.mjs previous-revision <env>   # the Deployment's revision before the apply
 *   node scripts/ci/deploy.mjs rollout <env>             # wait; on failure, say why (events, logs)
 *   node scripts/ci/deploy.mjs rollback <env> --previous <revision|none>
 *
 * It reads what the manifests say (deploy/k8s/dist/<env>/manifests.yaml, from `npm run synth:k8s`)
 * and the plan (deploy/plan.ts), so the model it publishes is exactly the one the init container
 * fetches and checks. Cloud and cluster tools (`gcloud`, `aws`, `kubectl`, `cosign`, `docker`) are
 * called as the workflow's earlier steps left them authenticated.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { describeEnvironment, loadPlan, option, rolloutStatusArgs } from './plan.mjs';

/** A failure the workflow reports as one `::error::` line. */
export class DeployError extends Error {}

/** Runs a tool; returns its status and output (never throws on a non-zero exit). */
export function tool(command, args, options = {}) {
  const r = spawnSync(command, args, { encoding: 'utf8', ...options });
  if (r.error)
    throw new DeployError(`${command}: ${r.error.message} (is it installed and on PATH?)`);
  return { status: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Runs a tool that must succeed; its output goes to the log. */
function must(command, args) {
  const r = tool(command, args, { stdio: ['ignore', 'inherit', 'pipe'] });
  if (r.status !== 0) {
    throw new DeployError(`${command} ${args.join(' ')} failed (${r.status}): ${r.stderr.trim()}`);
  }
}

const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** The init container's model fetch as the synthesized Deployment of `envId` states it. */
export function modelFetchOf(envId, root = process.cwd()) {
  const file = join(root, 'deploy/k8s/dist', envId, 'manifests.yaml');
  if (!existsSync(file))
    throw new DeployError(`${file} is missing: run \`npm run synth:k8s\` first`);
  const docs = parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJSON());
  // The Deployment, or with canary delivery the Rollout (the same pod template).
  const deployment = docs.find((d) => d?.kind === 'Deployment' || d?.kind === 'Rollout');
  const init = (deployment?.spec?.template?.spec?.initContainers ?? []).find((c) =>
    (c.env ?? []).some((e) => e.name === 'MODEL_URI'),
  );
  if (!init) throw new DeployError(`${file}: no init container fetches a MODEL_URI`);
  const env = Object.fromEntries(init.env.map((e) => [e.name, e.value ?? '']));
  const list = (v) => (v ?? '').split(/\s+/).filter(Boolean);
  return {
    uri: env.MODEL_URI,
    sha256: env.MODEL_SHA256,
    artifacts: list(env.MODEL_ARTIFACTS),
    // model/challenger/, when the project has one (deploy/k8s/challenger.ts)
    ...(env.CHALLENGER_URI
      ? {
          challenger: {
            uri: env.CHALLENGER_URI,
            sha256: env.CHALLENGER_SHA256,
            artifacts: list(env.CHALLENGER_ARTIFACTS),
          },
        }
      : {}),
  };
}

/** The objects of the deploy identity's part of `envId` (deploy/k8s/dist/<env>/manifests.yaml). */
export function manifestsOf(envId, root = process.cwd()) {
  const file = join(root, 'deploy/k8s/dist', envId, 'manifests.yaml');
  if (!existsSync(file))
    throw new DeployError(`${file} is missing: run \`npm run synth:k8s\` first`);
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJSON())
    .filter(Boolean);
}

/** `apps/v1` + `Deployment` -> `deployments.apps`, as `kubectl auth can-i` names a resource. */
export function resourceOf({ apiVersion, kind }) {
  const lower = kind.toLowerCase();
  const plural = lower.endsWith('y') ? `${lower.slice(0, -1)}ies` : `${lower}s`;
  const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
  return group ? `${plural}.${group}` : plural;
}

/**
 * Before anything is applied: may the identity the workflow authenticated as create and patch
 * every kind of the environment's namespaced part? It may not when the cluster part
 * (dist/<env>/cluster: the namespace, the admission policies, the deploy Role) was never applied
 * by a cluster admin, or is older than the chart; say so instead of failing halfway through an apply.
 */
export function preflight(envId, env, { root = process.cwd(), log = console.log } = {}) {
  const resources = [...new Set(manifestsOf(envId, root).map(resourceOf))].sort();
  const missing = [];
  for (const resource of resources) {
    for (const verb of ['create', 'patch']) {
      const r = tool('kubectl', ['auth', 'can-i', verb, resource, '-n', env.namespace]);
      if (r.stdout.trim() !== 'yes') missing.push(`${verb} ${resource}`);
    }
  }
  if (missing.length > 0) {
    throw new DeployError(
      `the deploy identity may not ${missing.join(', ')} in namespace ${env.namespace}. ` +
        `A cluster admin applies the environment's cluster part once (and after an upgrade changes it): ` +
        `npm run synth:k8s && kubectl apply -k deploy/k8s/dist/${envId}/cluster`,
    );
  }
  log(`${env.namespace}: the deploy identity may apply ${resources.join(', ')}`);
  return resources;
}

/** Object-store operations of one cloud, with the CLI the runner has. */
export function objectStore(uri) {
  const m = /^(gs|s3):\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!m) throw new DeployError(`${uri} is not a gs:// or s3:// object URI`);
  const [, scheme, bucket, key] = m;
  if (scheme === 'gs') {
    return {
      exists: () =>
        probe(tool('gcloud', ['storage', 'objects', 'describe', uri, '--format=value(name)'])),
      download: (to) => must('gcloud', ['storage', 'cp', uri, to]),
      // --no-clobber: a path that appeared meanwhile is never overwritten.
      upload: (from) => must('gcloud', ['storage', 'cp', '--no-clobber', from, uri]),
    };
  }
  return {
    exists: () => probe(tool('aws', ['s3api', 'head-object', '--bucket', bucket, '--key', key])),
    download: (to) => must('aws', ['s3', 'cp', '--only-show-errors', uri, to]),
    // If-None-Match: the write fails rather than replace an object that appeared meanwhile.
    upload: (from) =>
      must('aws', [
        's3api',
        'put-object',
        '--bucket',
        bucket,
        '--key',
        key,
        '--body',
        from,
        '--if-none-match',
        '*',
      ]),
  };
}

/** true when the object exists, false when it does not; anything else (no access...) is an error. */
function probe(r) {
  if (r.status === 0) return true;
  if (/not ?found|404|No URLs matched|does not exist/i.test(r.stderr)) return false;
  throw new DeployError(`cannot tell whether the object exists: ${r.stderr.trim()}`);
}

/** A Git LFS pointer checked out in place of a model (.gitattributes): the checkout did not fetch it. */
function lfsPointerProblem(file, shown) {
  if (!readFileSync(file).subarray(0, 64).toString('latin1').startsWith('version https://git-lfs.'))
    return undefined;
  return `${shown} is a Git LFS pointer, not the model: the checkout did not fetch the models from Git LFS (actions/checkout with \`lfs: true\`; the runner needs git-lfs), or run \`git lfs pull\``;
}

/**
 * Publishes `model/model.onnx` and its artifacts (and `model/challenger/`'s, when the manifests
 * fetch a challenger) to the paths the environment's init container reads,
 * once: an object already there is checked (the model by the plan's sha256, an artifact against the
 * local file), never replaced, because a version's path is immutable. Returns what it did per file.
 */
export function publishModel(
  envId,
  { root = process.cwd(), modelDir = 'model', log = console.log } = {},
) {
  const fetch = modelFetchOf(envId, root);
  const local = (f) => join(root, modelDir, f);
  if (sha256(local('model.onnx')) !== fetch.sha256) {
    throw new DeployError(
      lfsPointerProblem(local('model.onnx'), `${modelDir}/model.onnx`) ??
        `${modelDir}/model.onnx is not the model the manifests expect (sha256 ${fetch.sha256}): run \`npx create-mlops-service upgrade\` after changing the model, then \`npm run synth:k8s\``,
    );
  }
  const files = (of, folder) => {
    const dir = of.uri.slice(0, of.uri.lastIndexOf('/'));
    const here = (f) => local(folder ? `${folder}/${f}` : f);
    return [
      [`${dir}/model.onnx`, here('model.onnx'), of.sha256],
      ...of.artifacts
        .filter((f) => existsSync(here(f)))
        .map((f) => [`${dir}/${f}`, here(f), sha256(here(f))]),
    ];
  };
  const { challenger } = fetch;
  if (challenger && sha256(local('challenger/model.onnx')) !== challenger.sha256) {
    throw new DeployError(
      lfsPointerProblem(local('challenger/model.onnx'), `${modelDir}/challenger/model.onnx`) ??
        `${modelDir}/challenger/model.onnx is not the challenger the manifests expect (sha256 ${challenger.sha256}): run \`npm run synth:k8s\``,
    );
  }
  const work = mkdtempSync(join(tmpdir(), 'publish-model-'));
  const done = [];
  try {
    for (const [uri, file, expected] of [
      ...files(fetch, ''),
      ...(challenger ? files(challenger, 'challenger') : []),
    ]) {
      const store = objectStore(uri);
      const present = store.exists();
      if (!present) store.upload(file);
      const copy = join(work, `${done.length}-${basename(file)}`);
      store.download(copy);
      const actual = sha256(copy);
      if (actual !== expected) {
        throw new DeployError(
          `${uri} holds sha256 ${actual}, not ${expected}: a published version is never overwritten; bump the model version (model.schema.json) and upgrade`,
        );
      }
      log(`${uri}: ${present ? 'already published' : 'uploaded'}, sha256 verified`);
      done.push({ uri, uploaded: !present });
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return done;
}

/** With canary delivery the workload is an Argo Rollouts `Rollout` (deploy/k8s/rollout.ts). */
export function workloadOf(envId, root = process.cwd()) {
  const rollout = manifestsOf(envId, root).some((d) => d?.kind === 'Rollout');
  return rollout
    ? { kind: 'rollout', revisionAnnotation: 'rollout\\.argoproj\\.io/revision' }
    : { kind: 'deployment', revisionAnnotation: 'deployment\\.kubernetes\\.io/revision' };
}

/** The workload's current revision, or 'none' on a first rollout. */
export function previousRevision(env, workload = workloadOf(env.id)) {
  const r = tool('kubectl', [
    'get',
    `${workload.kind}/${env.service}`,
    '-n',
    env.namespace,
    '-o',
    `jsonpath={.metadata.annotations.${workload.revisionAnnotation}}`,
  ]);
  if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  if (r.status === 0 || /NotFound|not found/i.test(r.stderr)) return 'none';
  throw new DeployError(
    `cannot read deployment/${env.service} in ${env.namespace}: ${r.stderr.trim()}`,
  );
}

/** What a failed rollout looks like from the cluster: events, pods, the model fetch's log. */
export function diagnose(env, log = console.log) {
  const ns = ['-n', env.namespace];
  const selector = Object.entries(env.selectorLabels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  for (const args of [
    ['get', 'pods', ...ns, '-l', selector, '-o', 'wide'],
    ['get', 'events', ...ns, '--sort-by=.lastTimestamp'],
    ['logs', ...ns, '-l', selector, '--all-containers', '--prefix', '--tail=50'],
  ]) {
    const r = tool('kubectl', args);
    log(`$ kubectl ${args.join(' ')}\n${(r.stdout + r.stderr).trim()}`);
  }
}

export function rollout(
  env,
  { timeout = '15m', log = console.log, workload = workloadOf(env.id) } = {},
) {
  const r = tool('kubectl', rolloutStatusArgs(workload.kind, env, timeout), {
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  if (r.status === 0) return;
  diagnose(env, log);
  throw new DeployError(
    `deployment/${env.service} in ${env.namespace} did not become ready: ${r.stderr.trim()}`,
  );
}

/** Rolls back to `previous`; a first rollout has nothing to go back to, and says so. */
export function rollback(env, previous, { log = console.log } = {}) {
  if (previous === 'none' || !previous) {
    diagnose(env, log);
    throw new DeployError(
      `the first rollout of ${env.id} failed and there is no earlier revision to roll back to: fix the cause above and deploy again`,
    );
  }
  const workload = workloadOf(env.id);
  must(
    'kubectl',
    workload.kind === 'rollout'
      ? ['argo', 'rollouts', 'undo', env.service, '-n', env.namespace, `--to-revision=${previous}`]
      : [
          'rollout',
          'undo',
          `deployment/${env.service}`,
          '-n',
          env.namespace,
          `--to-revision=${previous}`,
        ],
  );
  rollout(env, { log });
  log(`${env.id} rolled back to revision ${previous}`);
}

/**
 * The certificate identity of an image CI signed on main or on a release tag of this repository:
 * a tag promotes the digest main built and signed, so both identities are this CI's.
 */
export function ciIdentityRegexp(repository) {
  const repo = repository.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return `^https://github\\.com/${repo}/\\.github/workflows/ci\\.yml@refs/(heads/main|tags/v.+)$`;
}

const issuer = 'https://token.actions.githubusercontent.com';

/** cosign's verification of an image (or its SBOM attestation) as signed by this repository's CI. */
function verifyArgs(ref, repository) {
  return [
    ref,
    '--certificate-identity-regexp',
    ciIdentityRegexp(repository),
    '--certificate-oidc-issuer',
    issuer,
  ];
}

/** The image to deploy must be the one CI built and signed, with its SBOM attested. */
export function verifyImage({ source, digest, repository, log = console.log }) {
  if (!/^sha256:[a-f0-9]{64}$/.test(digest ?? ''))
    throw new DeployError(`digest must be sha256:<64 hex>, got '${digest}'`);
  const ref = `${source}@${digest}`;
  must('cosign', ['verify', ...verifyArgs(ref, repository)]);
  must('cosign', ['verify-attestation', '--type', 'spdxjson', ...verifyArgs(ref, repository)]);
  log(`verified: ${ref} signed by ${repository}'s CI, SBOM attested`);
}

/**
 * Puts `source@digest` into the environment's registry: nothing when the digest is already there
 * and signed (an earlier stage or an earlier deploy copied it: immutable tags make a second push
 * fail); else `cosign copy` with a tag derived from the digest, signatures and attestations
 * included. Never signs: the signature is CI's, made once where the digest was built.
 */
export function copyImage(env, { source, digest, repository, log = console.log }) {
  if (!/^sha256:[a-f0-9]{64}$/.test(digest))
    throw new DeployError(`digest must be sha256:<64 hex>, got '${digest}'`);
  const verify = (ref) => tool('cosign', ['verify', ...verifyArgs(ref, repository)]);
  const target = `${env.image}@${digest}`;
  if (verify(target).status === 0) {
    log(`${target}: already in the registry, signed by CI`);
    return { copied: false };
  }
  if (tool('docker', ['manifest', 'inspect', target]).status === 0) {
    throw new DeployError(
      `${target} is in the registry but carries no signature of this repository's CI: refusing to deploy it`,
    );
  }
  must('cosign', ['copy', `${source}@${digest}`, `${env.image}:sha256-${digest.slice(7, 19)}`]);
  const after = verify(target);
  if (after.status !== 0)
    throw new DeployError(
      `${target}: copied, but its signature does not verify: ${after.stderr.trim()}`,
    );
  log(`${target}: copied from ${source}, signature verified`);
  return { copied: true };
}

function output(key, value) {
  if (process.env.GITHUB_OUTPUT) appendFileSync(process.env.GITHUB_OUTPUT, `${key}=${value}\n`);
  console.log(`${key}=${value}`);
}

async function main(argv) {
  const [command, envId, ...rest] = argv;
  const usage =
    'usage: deploy.mjs verify-image|publish-model|copy-image|preflight|previous-revision|rollout|rollback <env> [options]';
  if (!command || !envId) throw new DeployError(usage);
  const plan = await loadPlan(option(rest, '--plan'));
  const env = describeEnvironment(plan, envId);
  switch (command) {
    case 'publish-model':
      return void publishModel(envId, { modelDir: plan.runtime.modelDir ?? 'model' });
    case 'verify-image':
      return verifyImage({
        source: option(rest, '--source'),
        digest: option(rest, '--digest'),
        repository: option(rest, '--repository') ?? process.env.GITHUB_REPOSITORY,
      });
    case 'copy-image':
      return void copyImage(env, {
        source: option(rest, '--source'),
        digest: option(rest, '--digest'),
        repository: option(rest, '--repository') ?? process.env.GITHUB_REPOSITORY,
      });
    case 'preflight':
      return void preflight(envId, env);
    case 'previous-revision':
      return output('previous', previousRevision(env));
    case 'rollout':
      return rollout(env, { timeout: option(rest, '--timeout') ?? '15m' });
    case 'rollback':
      return rollback(env, option(rest, '--previous'));
    default:
      throw new DeployError(usage);
  }
}

const isMain = process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  try {
    await main(process.argv.slice(2));
  } catch (error) {
    console.log(`::error::${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
