#!/usr/bin/env node
/**
 * The golden path, in a kind cluster (.github/workflows/golden-path.yml): the dev overlay that
 * `npm run synth:k8s` wrote, applied with the image just built, by digest; the admission policies
 * installed first; rollout awaited; then the closed-loop smoke test from inside the cluster
 * (scripts/ci/cluster-smoke.mjs).
 *
 *   node scripts/ci/golden-path.mjs --env gcp-dev --image kind-registry:5000/<svc>@sha256:<digest>
 *
 * Needs kubectl (context: the kind cluster), docker, and the registry the image was pushed to
 * (helm/kind-action `registry: true`). What differs from a cloud, and only here:
 * - the model: in a cloud the init container fetches it from the bucket with the workload
 *   identity; kind has neither. A "golden model" image (the service image plus this repository's
 *   model/ folder) is built and pushed by digest, and a kustomize overlay in
 *   deploy/k8s/dist/.golden/<env>/ replaces the init containers with one that copies the model
 *   from that image and checks its sha256 against the plan, as the real fetch does. The other
 *   init containers need the bucket too (the prediction-log shipper sidecar uploads to it) and
 *   are left out: the service writes its log locally either way;
 * - the drift CronJob is suspended (it would fetch yesterday's prediction log from the bucket);
 * - the kind nodes get the labels the Deployment's nodeSelector asks for (the cloud stack gives
 *   them to its ML node pool);
 * - the admission policies (the policy catalogue's, as the environment's overlay binds them, plus
 *   prod's "images by digest" rule) are applied before the overlay with every binding set to Deny:
 *   a dev warning fails the golden path, and the Deployment is admitted only because it is pinned.
 *   The smoke pods and the golden-model init container comply with the same policies.
 * Nothing else of the dev overlay changes: same namespace, Pod Security level, NetworkPolicies,
 * probes, resources.
 */
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, posix, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { clusterSmoke, kubectl, restrictedContainer } from './cluster-smoke.mjs';
import { describeEnvironment, loadPlan, rolloutStatusArgs } from './plan.mjs';

const distDir = 'deploy/k8s/dist';
const admissionKinds = new Set(['ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']);

function yamlModule() {
  try {
    return createRequire(resolve('package.json'))('yaml');
  } catch {
    throw new Error(
      'the `yaml` package is not installed in this project (it comes with @fastify/swagger and cdk8s): run `npm ci` first',
    );
  }
}

export function parseDocuments(text) {
  const YAML = yamlModule();
  return YAML.parseAllDocuments(text)
    .map((d) => d.toJS())
    .filter((o) => o && typeof o === 'object');
}

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, ...options });
  if (r.error) throw r.error;
  if (r.status !== 0)
    throw new Error(
      `${cmd} ${args.join(' ')} failed (${r.status}): ${(r.stderr || r.stdout).trim()}`,
    );
  return r.stdout;
}

/**
 * The admission policies to install before the overlay: the environment's own (the policy
 * catalogue's ValidatingAdmissionPolicies and their bindings, as the overlay declares them), plus,
 * from the other environments of `overlays`, every policy that requires images by digest (prod's),
 * so the golden path proves the Deployment would be admitted there too (those bindings are pointed
 * at `namespace`: stages have namespaces of their own). Every binding is made `Deny`: a policy
 * that only warns in dev fails the golden path.
 */
export function admissionPolicies(envId, overlays, namespace) {
  const own = overlays.get(envId) ?? [];
  const found = new Map();
  const add = (doc, from, retarget) => {
    const key = `${doc.kind}/${doc.metadata?.name}`;
    if (found.has(key)) return;
    let object = doc;
    if (doc.kind === 'ValidatingAdmissionPolicyBinding') {
      const spec = { ...doc.spec, validationActions: ['Deny'] };
      // Another stage's binding names that stage's namespace: point it at this one.
      if (retarget) {
        spec.matchResources = {
          ...spec.matchResources,
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
        };
      }
      object = { ...doc, spec };
    }
    found.set(key, { doc: object, from });
  };
  for (const doc of own) if (admissionKinds.has(doc.kind)) add(doc, envId, false);
  for (const [id, docs] of overlays) {
    if (id === envId) continue;
    const digestPolicies = new Set(
      docs
        .filter(
          (d) =>
            d.kind === 'ValidatingAdmissionPolicy' &&
            JSON.stringify(d.spec ?? {}).includes('@sha256:'),
        )
        .map((d) => d.metadata.name),
    );
    for (const doc of docs) {
      if (doc.kind === 'ValidatingAdmissionPolicy' && digestPolicies.has(doc.metadata.name))
        add(doc, id, true);
      if (
        doc.kind === 'ValidatingAdmissionPolicyBinding' &&
        digestPolicies.has(doc.spec?.policyName)
      )
        add(doc, id, true);
    }
  }
  return [...found.values()];
}

/** Every synthesized environment of `cloud`: id -> its objects. */
function overlaysOf(cloud) {
  const overlays = new Map();
  for (const entry of readdirSync(distDir, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('.') || !entry.name.startsWith(`${cloud}-`))
      continue;
    // The deploy identity's part and the cluster admin's (`cluster/`), where the policies are.
    const docs = [];
    for (const dir of [join(distDir, entry.name), join(distDir, entry.name, 'cluster')]) {
      if (!existsSync(dir)) continue;
      for (const file of readdirSync(dir).filter(
        (f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml',
      )) {
        docs.push(...parseDocuments(readFileSync(join(dir, file), 'utf8')));
      }
    }
    overlays.set(entry.name, docs);
  }
  return overlays;
}

/** Does one of `policies` bind a policy that requires images by digest? */
export function requiresDigest(policies) {
  const digestPolicies = new Set(
    policies
      .filter(
        (p) =>
          p.doc.kind === 'ValidatingAdmissionPolicy' &&
          JSON.stringify(p.doc.spec ?? {}).includes('@sha256:'),
      )
      .map((p) => p.doc.metadata.name),
  );
  return policies.some(
    (p) =>
      p.doc.kind === 'ValidatingAdmissionPolicyBinding' &&
      digestPolicies.has(p.doc.spec?.policyName),
  );
}

/**
 * The kind overlay: the environment's overlay with the init container replaced, the CronJobs
 * suspended, its admission bindings set to Deny, and the image pinned.
 */
export function goldenOverlay({
  envId,
  deployment,
  cronJobs,
  bindings = [],
  modelImage,
  modelSha256,
  image,
  imageName,
}) {
  const pod = deployment.spec.template.spec;
  const main = pod.containers[0];
  const modelPath = main.env?.find((e) => e.name === 'MODEL_PATH')?.value;
  if (!modelPath)
    throw new Error(`deployment ${deployment.metadata.name}: no MODEL_PATH in its container`);
  const modelDir = posix.dirname(modelPath);
  const mount = main.volumeMounts?.find((m) => m.mountPath === modelDir);
  if (!mount)
    throw new Error(`deployment ${deployment.metadata.name}: no volume mounted at ${modelDir}`);
  const replaced = (pod.initContainers ?? []).map((c) => c.name);
  const copy = [
    "const fs = require('node:fs'), crypto = require('node:crypto');",
    `fs.cpSync('/golden-model', ${JSON.stringify(modelDir)}, { recursive: true });`,
    `const sum = crypto.createHash('sha256').update(fs.readFileSync(${JSON.stringify(modelPath)})).digest('hex');`,
    "if (sum !== process.env.MODEL_SHA256) { console.error('model sha256 ' + sum + ' is not ' + process.env.MODEL_SHA256); process.exit(1); }",
    "console.log('golden model copied, sha256 ' + sum);",
  ].join('\n');
  const init = {
    name: 'golden-model',
    image: modelImage,
    imagePullPolicy: 'IfNotPresent',
    command: ['node', '-e', copy],
    env: [{ name: 'MODEL_SHA256', value: modelSha256 }],
    resources: {
      requests: { cpu: '500m', memory: '256Mi' },
      limits: { cpu: '500m', memory: '512Mi' },
    },
    securityContext: main.securityContext ?? restrictedContainer,
    volumeMounts: [{ name: mount.name, mountPath: modelDir }],
  };
  const patches = [
    {
      // The Deployment, or with canary delivery the Rollout (the same pod template).
      target:
        deployment.kind === 'Rollout'
          ? {
              group: 'argoproj.io',
              version: 'v1alpha1',
              kind: 'Rollout',
              name: deployment.metadata.name,
            }
          : { group: 'apps', version: 'v1', kind: 'Deployment', name: deployment.metadata.name },
      patch: JSON.stringify([
        { op: 'replace', path: '/spec/template/spec/initContainers', value: [init] },
      ]),
    },
    ...cronJobs.map((c) => ({
      target: { group: 'batch', version: 'v1', kind: 'CronJob', name: c.metadata.name },
      patch: JSON.stringify([{ op: 'add', path: '/spec/suspend', value: true }]),
    })),
    ...bindings.map((b) => ({
      target: {
        group: 'admissionregistration.k8s.io',
        version: 'v1',
        kind: 'ValidatingAdmissionPolicyBinding',
        name: b.metadata.name,
      },
      patch: JSON.stringify([{ op: 'add', path: '/spec/validationActions', value: ['Deny'] }]),
    })),
  ];
  const [newName, digest] = image.split('@');
  return {
    /** The init containers the overlay takes out (printed; not a kustomization field). */
    replaced,
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    resources: [`../../${envId}`],
    patches,
    images: [{ name: imageName, newName, digest }],
  };
}

function pushedDigest(ref) {
  run('docker', ['push', ref], { stdio: ['ignore', 'inherit', 'inherit'] });
  const digests = JSON.parse(run('docker', ['inspect', '--format', '{{json .RepoDigests}}', ref]));
  const repo = ref.replace(/:[^/:]+$/, '');
  const found = digests.find((d) => d.startsWith(`${repo}@`));
  if (!found) throw new Error(`no digest for ${ref} after docker push (${digests.join(', ')})`);
  return found;
}

/** The service image plus model/: what the init container copies in kind. */
function buildModelImage(image, modelDir, tag) {
  const context = mkdtempSync(join(tmpdir(), 'golden-model-'));
  try {
    cpSync(modelDir, join(context, 'model'), { recursive: true });
    writeFileSync(join(context, 'Dockerfile'), `FROM ${image}\nCOPY model/ /golden-model/\n`);
    run('docker', ['build', '--pull=false', '-t', tag, context], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    return pushedDigest(tag);
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until the API server refuses a pod that is compliant in every way but its image's digest
 * (policies take a moment to propagate), proving admission is live.
 */
async function awaitAdmission(namespace, timeoutSeconds = 90) {
  const probe = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'golden-admission-probe', namespace },
    spec: {
      automountServiceAccountToken: false,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 10001,
        runAsGroup: 10001,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      containers: [
        {
          name: 'probe',
          image: 'registry.invalid/unpinned:latest',
          resources: {
            requests: { cpu: '100m', memory: '64Mi' },
            limits: { cpu: '100m', memory: '64Mi' },
          },
          securityContext: restrictedContainer,
        },
      ],
    },
  };
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    const r = kubectl(['create', '--dry-run=server', '-f', '-'], {
      input: JSON.stringify(probe),
      allowFail: true,
      quiet: true,
    });
    if (r.status !== 0 && /digest|sha256/i.test(r.stderr)) {
      console.log(
        `ok   admission refuses an image without a digest: ${r.stderr.trim().split('\n')[0]}`,
      );
      return;
    }
    if (Date.now() > deadline)
      throw new Error(
        `admission does not refuse an image without a digest in ${namespace}: ${r.stderr.trim() || 'created'}`,
      );
    await sleep(3000);
  }
}

function diagnostics(namespace) {
  console.log('::group::diagnostics');
  for (const args of [
    [
      'get',
      'all,networkpolicy,validatingadmissionpolicy,validatingadmissionpolicybinding',
      '-n',
      namespace,
      '-o',
      'wide',
    ],
    ['describe', 'pods', '-n', namespace],
    ['get', 'events', '-n', namespace, '--sort-by=.lastTimestamp'],
    [
      'logs',
      '-n',
      namespace,
      '-l',
      'app.kubernetes.io/component=inference',
      '--all-containers',
      '--prefix',
      '--tail=200',
    ],
  ]) {
    const r = kubectl(args, { allowFail: true, quiet: true });
    console.log(`$ kubectl ${args.join(' ')}\n${r.stdout}${r.stderr}`);
  }
  console.log('::endgroup::');
}

/**
 * The namespace first (Kubernetes gives it its `default` ServiceAccount, which a Deny binding
 * created earlier could refuse), then every admission policy of the environment. Returns them.
 */
export function applyNamespaceThenPolicies({ envId, namespace, namespaceDoc, overlays }, apply) {
  if (namespaceDoc) apply(namespaceDoc);
  const policies = admissionPolicies(envId, overlays, namespace);
  if (!requiresDigest(policies)) {
    throw new Error(
      `no admission policy of the environments of ${envId} requires images by digest: nothing proves the pin`,
    );
  }
  console.log(
    `admission policies: ${policies.map((p) => `${p.doc.kind}/${p.doc.metadata.name} (${p.from})`).join(', ')}`,
  );
  apply({ apiVersion: 'v1', kind: 'List', items: policies.map((p) => p.doc) });
  return policies;
}

/** The golden path for `envId`: cluster part, node labels, overlay, rollout, smoke test. */
export async function goldenPath({ envId, image }) {
  if (!/@sha256:[a-f0-9]{64}$/.test(image))
    throw new Error(`--image must be pinned by digest, got ${image}`);
  const plan = await loadPlan();
  const env = describeEnvironment(plan, envId);
  const { docs, deployment, clusterDocs, namespaceDoc } = synthesized(envId, env);

  // 1. The namespace, then the admission policies; wait until an unpinned pod is refused. Then the
  //    rest of the admin's part (the deploy identity's Role, objects in other namespaces that exist).
  await installClusterPart({ envId, env, clusterDocs, namespaceDoc });

  // 2. Nodes labelled like the ML node pool the cloud stack creates.
  labelNodes(deployment);

  // 3. The model image, then the overlay, pinned by digest with `kustomize edit set image`.
  const overlayDir = writeGoldenOverlay({ envId, plan, env, docs, deployment, image });

  try {
    // 4. Apply, and wait for the rollout.
    rollOut({ overlayDir, env, deployment, image });

    // 5. The closed-loop smoke test, from inside the cluster, and the NetworkPolicy check.
    const ok = await clusterSmoke({
      envId,
      image,
      mode: 'golden',
      golden: join(plan.runtime.modelDir, 'golden.json'),
      denyCheck: true,
    });
    if (!ok) throw new Error('the smoke test failed');
  } catch (error) {
    diagnostics(env.namespace);
    throw error;
  }
  console.log(`golden path passed for ${envId} (${relative('.', overlayDir)})`);
}

/**
 * What `npm run synth:k8s` wrote for the environment: its objects, its Deployment (or Rollout),
 * and the cluster admin's part (dist/<env>/cluster) with the namespace in it.
 */
function synthesized(envId, env) {
  const envDir = join(distDir, envId);
  if (!existsSync(join(envDir, 'kustomization.yaml')))
    throw new Error(`${envDir}/kustomization.yaml is missing: run \`npm run synth:k8s\``);

  const docs = parseDocuments(run('kubectl', ['kustomize', envDir]));
  const deployment = docs.find(
    (d) => (d.kind === 'Deployment' || d.kind === 'Rollout') && d.metadata?.name === env.service,
  );
  if (!deployment) throw new Error(`no Deployment or Rollout ${env.service} in ${envDir}`);
  // The cluster admin's part (dist/<env>/cluster): kind's admin applies it, as one would in the cloud.
  const clusterDocs = parseDocuments(run('kubectl', ['kustomize', join(envDir, 'cluster')]));
  const namespaceDoc = clusterDocs.find(
    (d) => d.kind === 'Namespace' && d.metadata?.name === env.namespace,
  );
  return { docs, deployment, clusterDocs, namespaceDoc };
}

/**
 * Applies the cluster admin's part: the namespace and the admission policies, awaited until they
 * refuse an unpinned pod, then the rest (objects in a namespace kind does not have are skipped).
 */
async function installClusterPart({ envId, env, clusterDocs, namespaceDoc }) {
  const apply = (doc) => kubectl(['apply', '-f', '-'], { input: JSON.stringify(doc) });
  applyNamespaceThenPolicies(
    { envId, namespace: env.namespace, namespaceDoc, overlays: overlaysOf(env.cloud) },
    apply,
  );
  await awaitAdmission(env.namespace);
  for (const doc of clusterDocs) {
    if (doc.kind === 'Namespace' || admissionKinds.has(doc.kind)) continue;
    const ns = doc.metadata?.namespace;
    if (
      ns &&
      ns !== env.namespace &&
      kubectl(['get', 'namespace', ns], { allowFail: true, quiet: true }).status !== 0
    ) {
      console.log(
        `skipped ${doc.kind}/${doc.metadata.name}: namespace ${ns} does not exist in kind`,
      );
      continue;
    }
    apply(doc);
  }
}

/** Labels every kind node with what the Deployment's nodeSelector asks for. */
function labelNodes(deployment) {
  const selector = deployment.spec.template.spec.nodeSelector ?? {};
  const labels = Object.entries(selector).map(([k, v]) => `${k}=${v}`);
  if (labels.length > 0) kubectl(['label', 'nodes', '--all', '--overwrite', ...labels]);
}

/** Builds the golden-model image and writes the kind overlay (printed); returns its directory. */
function writeGoldenOverlay({ envId, plan, env, docs, deployment, image }) {
  const [repository] = image.split('@');
  const modelImage = buildModelImage(
    image,
    plan.runtime.modelDir,
    `${repository}-golden-model:${Date.now().toString(36)}`,
  );
  const overlayDir = join(distDir, '.golden', envId);
  mkdirSync(overlayDir, { recursive: true });
  const imageName = deployment.spec.template.spec.containers[0].image
    .split('@')[0]
    .replace(/:[^/:]+$/, '');
  const overlay = goldenOverlay({
    envId,
    deployment,
    cronJobs: docs.filter((d) => d.kind === 'CronJob'),
    modelImage,
    modelSha256: env.modelSha256,
    image,
    imageName,
  });
  const { images, replaced, ...withoutImages } = overlay;
  console.log(`init containers ${replaced.join(', ')} replaced by golden-model (${modelImage})`);
  writeKustomization(overlayDir, withoutImages, images, `${imageName}=${image}`);
  console.log(
    `overlay ${overlayDir}:\n${readFileSync(join(overlayDir, 'kustomization.yaml'), 'utf8')}`,
  );
  return overlayDir;
}

/**
 * Writes the overlay's kustomization.yaml, then pins the image with `kustomize edit set image`;
 * without kustomize, writes the `images` entry it would have written.
 */
function writeKustomization(overlayDir, withoutImages, images, setImage) {
  writeFileSync(join(overlayDir, 'kustomization.yaml'), yamlModule().stringify(withoutImages));
  const kustomize = spawnSync('kustomize', ['version'], { encoding: 'utf8' });
  if (kustomize.status === 0) {
    run('kustomize', ['edit', 'set', 'image', setImage], { cwd: overlayDir });
  } else {
    console.log('kustomize is not installed: writing the images entry it would write');
    writeFileSync(
      join(overlayDir, 'kustomization.yaml'),
      yamlModule().stringify({ ...withoutImages, images }),
    );
  }
}

/** Applies the overlay, waits for the rollout and checks the workload runs `image`. */
function rollOut({ overlayDir, env, deployment, image }) {
  const rollout = deployment.kind === 'Rollout';
  kubectl(['apply', '-k', overlayDir]);
  const timeout = `${Math.max(300, deployment.spec.progressDeadlineSeconds ?? 600)}s`;
  run('kubectl', rolloutStatusArgs(rollout ? 'rollout' : 'deployment', env, timeout), {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const running = kubectl([
    'get',
    rollout ? 'rollout' : 'deployment',
    env.service,
    '-n',
    env.namespace,
    '-o',
    'jsonpath={.spec.template.spec.containers[0].image}',
  ]).stdout.trim();
  if (running !== image) throw new Error(`the ${deployment.kind} runs ${running}, not ${image}`);
  console.log(`ok   rolled out ${running}`);
}

function parseArgs(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--env') args.envId = argv[++i];
    else if (argv[i] === '--image') args.image = argv[++i];
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  if (!args.envId || !args.image)
    throw new Error('usage: golden-path.mjs --env <id> --image <repo@sha256:...>');
  return args;
}

const isMain = process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  try {
    await goldenPath(parseArgs(process.argv.slice(2)));
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  }
}
