#!/usr/bin/env node
/**
 * Runs scripts/ci/smoke.mjs from a pod INSIDE the cluster, against the environment's Service, with
 * the current kubectl context (kind in the golden path, GKE/EKS in the deploys).
 *
 *   node scripts/ci/cluster-smoke.mjs --env <id> --image <repo@sha256:...> [--mode golden|deploy]
 *        [--golden model/golden.json] [--deny-check] [--timeout 600]
 *
 * Why it can pass in every environment, prod included (a smoke pod `kubectl run curlimages/curl`
 * would be refused three ways there):
 * - image: the pod runs the service's own image, by the digest just deployed, so the namespace's
 *   digest-only admission policy admits it and nothing new is pulled; `node` is in that image;
 * - Pod Security and the policy catalogue's admission policies: the pod is `restricted` (non-root,
 *   read-only root, no capabilities, seccomp) and its CPU request equals its limit;
 * - NetworkPolicy: the namespace denies all traffic; two policies that live only as long as the
 *   test let pods labelled `app.kubernetes.io/component: smoke-test` reach the inference pods'
 *   port (and DNS). The requests still go through the Service and the real policies.
 * With --deny-check (golden path) a second pod without that label must NOT reach the Service:
 * proof that the NetworkPolicies are enforced, not merely applied.
 *
 * Everything it creates is deleted when it ends, passed or failed.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describeEnvironment, loadPlan } from './plan.mjs';

const here = dirname(fileURLToPath(import.meta.url));

export function kubectl(args, { input, allowFail = false, quiet = false } = {}) {
  const r = spawnSync('kubectl', args, { input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  if (r.status !== 0 && !allowFail) {
    throw new Error(`kubectl ${args.join(' ')} failed (${r.status}): ${r.stderr.trim()}`);
  }
  if (!quiet && r.status !== 0) process.stderr.write(r.stderr);
  return r;
}

/** `a-b-c` cut to a DNS label (63). */
export function label63(s) {
  return s.length <= 63 ? s : s.slice(0, 63).replace(/-+$/, '');
}

export const smokeComponent = 'smoke-test';
export const deniedComponent = 'smoke-denied';
/** Both probes may leave their pod (DNS, the Service); only `smoke-test` may enter the service's. */
const egressLabel = 'create-mlops-service.dev/smoke';

/** A restricted-PSS container security context (the service's own values). */
export const restrictedContainer = {
  runAsNonRoot: true,
  runAsUser: 10001,
  runAsGroup: 10001,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  privileged: false,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

/** The objects of one smoke run, as JSON manifests. */
export function smokeObjects(env, { image, mode, goldenJson, runId, denyCheck }) {
  const base = label63(`${env.service}-smoke`);
  const common = {
    'app.kubernetes.io/name': env.service,
    'app.kubernetes.io/managed-by': 'create-mlops-service',
    [egressLabel]: 'true',
  };
  const smokeLabels = { ...common, 'app.kubernetes.io/component': smokeComponent };
  const deniedLabels = { ...common, 'app.kubernetes.io/component': deniedComponent };
  const meta = (name, labels = smokeLabels) => ({ name, namespace: env.namespace, labels });
  const serviceUrl = `http://${env.service}.${env.namespace}.svc.cluster.local`;
  const pod = (name, labels, command) => smokePod(env, base, image, meta(name, labels), command);

  const objects = {
    // Its own account, declared without cloud access (policy MLOPS-019), created before the pods.
    serviceAccount: {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: {
        ...meta(base),
        labels: { ...smokeLabels, 'policy.mlops-service/cloud-identity': 'none' },
      },
      automountServiceAccountToken: false,
    },
    configMap: {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: meta(base),
      data: {
        'smoke.mjs': readFileSync(join(here, 'smoke.mjs'), 'utf8'),
        'golden.json': goldenJson,
      },
    },
    ...smokeNetworkPolicies(env, base, meta),
    pod: pod(label63(`${base}-${runId}`), smokeLabels, smokeCommand(env, serviceUrl, mode)),
  };
  if (denyCheck) {
    objects.denied = pod(label63(`${base}-denied-${runId}`), deniedLabels, [
      'node',
      '--input-type=module',
      '-e',
      deniedProbe(serviceUrl),
    ]);
  }
  return objects;
}

/**
 * The smoke pods' two NetworkPolicies: egress from the smoke pods to the service (and DNS), and
 * ingress to the service from them, on the service's ports.
 */
function smokeNetworkPolicies(env, base, meta) {
  // The service's port, /metrics's own port where it has one (the counters are read per pod), and
  // the gRPC port (ModelInfer must answer what REST V2 answers).
  const port = [
    env.port,
    ...(env.metricsPort ? [env.metricsPort] : []),
    ...(env.grpcPort ? [env.grpcPort] : []),
  ].map((p) => ({
    protocol: 'TCP',
    port: p,
  }));
  const dns = {
    to: [
      {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
        podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
      },
    ],
    ports: [
      { protocol: 'UDP', port: 53 },
      { protocol: 'TCP', port: 53 },
    ],
  };
  return {
    egress: {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: meta(label63(`${base}-egress`)),
      spec: {
        podSelector: { matchLabels: { [egressLabel]: 'true' } },
        policyTypes: ['Egress'],
        egress: [{ to: [{ podSelector: { matchLabels: env.selectorLabels } }], ports: port }, dns],
      },
    },
    ingress: {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: meta(label63(`${base}-ingress`)),
      spec: {
        podSelector: { matchLabels: env.selectorLabels },
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [
              {
                podSelector: {
                  matchLabels: {
                    'app.kubernetes.io/component': smokeComponent,
                    [egressLabel]: 'true',
                  },
                },
              },
            ],
            ports: port,
          },
        ],
      },
    },
  };
}

/** The smoke script's command line in the pod: the service's URLs, the golden cases, the mode. */
function smokeCommand(env, serviceUrl, mode) {
  return [
    'node',
    '/smoke/smoke.mjs',
    '--url',
    serviceUrl,
    ...env.metricsUrls.flatMap((u) => ['--metrics-url', u]),
    '--golden',
    '/smoke/golden.json',
    '--mode',
    mode,
    '--expect-sha256',
    env.modelSha256,
    ...(env.grpcPort
      ? ['--grpc', `${env.service}.${env.namespace}.svc.cluster.local:${env.grpcPort}`]
      : []),
  ];
}

/**
 * The denied pod's script: succeeds only if the connection is refused or times out; a DNS failure
 * (the egress allow policy not programmed yet) is retried, so it cannot pass for the wrong reason.
 */
function deniedProbe(serviceUrl) {
  return [
    `const u = ${JSON.stringify(`${serviceUrl}/readyz`)};`,
    'const dns = new Set(["ENOTFOUND", "EAI_AGAIN"]);',
    'for (let i = 0; ; i++) {',
    '  try {',
    '    const r = await fetch(u, { signal: AbortSignal.timeout(8000) });',
    "    console.error('reached ' + u + ' (' + r.status + ') without the smoke label: the NetworkPolicies are not enforced');",
    '    process.exit(1);',
    '  } catch (e) {',
    '    const code = e.cause?.code ?? e.name;',
    '    if (dns.has(code) && i < 15) { await new Promise((r) => setTimeout(r, 2000)); continue; }',
    '    if (dns.has(code)) { console.error("cannot resolve " + u + ": " + code); process.exit(1); }',
    "    console.log('refused as expected: ' + code);",
    '    process.exit(0);',
    '  }',
    '}',
  ].join('\n');
}

/** One smoke pod: restricted, short-lived, no cloud identity, the smoke script mounted read-only. */
function smokePod(env, base, image, metadata, command) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata,
    spec: {
      restartPolicy: 'Never',
      activeDeadlineSeconds: 900,
      serviceAccountName: base,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 10001,
        runAsGroup: 10001,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      containers: [
        {
          name: 'smoke',
          image,
          imagePullPolicy: 'IfNotPresent',
          command,
          env: [
            { name: 'NODE_ENV', value: 'production' },
            // The credential of an environment that requires one (AUTH_MODE): the pod lives only
            // as long as the test, and is deleted with it.
            ...(env.token ? [{ name: 'SMOKE_API_KEY', value: env.token }] : []),
          ],
          // CPU request = limit, like every container of the service (policy MLOPS-015).
          resources: {
            requests: { cpu: '250m', memory: '128Mi' },
            limits: { cpu: '250m', memory: '256Mi' },
          },
          securityContext: restrictedContainer,
          volumeMounts: [
            { name: 'smoke', mountPath: '/smoke', readOnly: true },
            { name: 'tmp', mountPath: '/tmp' },
          ],
        },
      ],
      volumes: [
        { name: 'smoke', configMap: { name: base } },
        { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
      ],
    },
  };
}

/** Ready pod endpoints of the Service, as `http://ip:port` (counters live per pod). */
export function podUrls(env) {
  const out = kubectl([
    'get',
    'endpointslices',
    '-n',
    env.namespace,
    '-l',
    `kubernetes.io/service-name=${env.service}`,
    '-o',
    'json',
  ]);
  const urls = [];
  for (const slice of JSON.parse(out.stdout).items ?? []) {
    const ports = slice.ports ?? [];
    // Counters are served on the metrics port where there is one (METRICS_PORT), else on http.
    const port =
      ports.find((p) => p.name === 'metrics')?.port ??
      ports.find((p) => p.name === 'http')?.port ??
      env.port;
    for (const ep of slice.endpoints ?? []) {
      if (ep.conditions?.ready === false) continue;
      for (const address of ep.addresses ?? [])
        urls.push(`http://${address.includes(':') ? `[${address}]` : address}:${port}`);
    }
  }
  return [...new Set(urls)];
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitForPod(namespace, name, timeoutSeconds) {
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    const r = kubectl(['get', 'pod', name, '-n', namespace, '-o', 'jsonpath={.status.phase}'], {
      allowFail: true,
      quiet: true,
    });
    const phase = r.stdout.trim();
    if (phase === 'Succeeded' || phase === 'Failed') return phase;
    if (Date.now() > deadline) return `timed out (${phase || 'unknown'})`;
    await sleep(2000);
  }
}

/**
 * The credential the smoke test sends when the running Deployment requires one (its AUTH_MODE):
 * SMOKE_API_KEY from the job's environment (a GitHub environment secret), a key whose hash is in
 * the environment's API key Secret (or a JWT, sent the same way as a bearer token).
 */
export function credential(env, given = process.env.SMOKE_API_KEY) {
  const r = kubectl(
    [
      'get',
      'deployment',
      env.service,
      '-n',
      env.namespace,
      '-o',
      'jsonpath={.spec.template.spec.containers[0].env[?(@.name=="AUTH_MODE")].value}',
    ],
    { allowFail: true, quiet: true },
  );
  const mode = r.stdout.trim();
  if (!mode || mode === 'none') return undefined;
  if (!given)
    throw new Error(
      `${env.namespace}/${env.service} requires credentials (AUTH_MODE=${mode}): set SMOKE_API_KEY ` +
        `(the GitHub environment secret ${env.id} passes to this step) to a key whose hash is in its API key Secret`,
    );
  return given;
}

/** Creates the smoke objects, runs the pod(s), prints their logs, deletes everything. */
export async function clusterSmoke({
  envId,
  image,
  mode = 'golden',
  golden = 'model/golden.json',
  denyCheck = false,
  timeout = 600,
}) {
  if (!/@sha256:[a-f0-9]{64}$/.test(image))
    throw new Error(`--image must be pinned by digest (repo@sha256:...), got ${image}`);
  const plan = await loadPlan();
  const described = describeEnvironment(plan, envId);
  const metricsUrls = podUrls(described);
  if (metricsUrls.length === 0)
    throw new Error(
      `no ready endpoints behind service ${described.namespace}/${described.service}`,
    );
  const env = { ...described, metricsUrls, token: credential(described) };
  const all = JSON.parse(readFileSync(golden, 'utf8'));
  const goldenJson = JSON.stringify({ cases: (all.cases ?? []).slice(0, 100) });
  const runId = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const objects = smokeObjects(env, { image, mode, goldenJson, runId, denyCheck });
  const list = { apiVersion: 'v1', kind: 'List', items: Object.values(objects) };
  console.log(
    `smoke (${mode}) in ${env.namespace} against service ${env.service}, ${metricsUrls.length} pod(s), image ${image}`,
  );
  let passed;
  try {
    kubectl(['apply', '-f', '-'], { input: JSON.stringify(list) });
    const phase = await waitForPod(env.namespace, objects.pod.metadata.name, timeout);
    process.stdout.write(
      kubectl(['logs', '-n', env.namespace, objects.pod.metadata.name], { allowFail: true }).stdout,
    );
    passed = phase === 'Succeeded';
    if (!passed) console.error(`smoke pod ${objects.pod.metadata.name}: ${phase}`);
    if (objects.denied) {
      const denied = await waitForPod(env.namespace, objects.denied.metadata.name, 120);
      process.stdout.write(
        kubectl(['logs', '-n', env.namespace, objects.denied.metadata.name], { allowFail: true })
          .stdout,
      );
      const ok = denied === 'Succeeded';
      console.log(
        `${ok ? 'ok  ' : 'FAIL'} a pod without the smoke label cannot reach the service (${denied})`,
      );
      passed = passed && ok;
    }
    if (!passed) {
      const describe = [
        'describe',
        'pod',
        '-n',
        env.namespace,
        '-l',
        `app.kubernetes.io/name=${env.service}`,
      ];
      process.stdout.write(kubectl(describe, { allowFail: true }).stdout);
    }
  } finally {
    kubectl(['delete', '--ignore-not-found', '--wait=false', '-f', '-'], {
      input: JSON.stringify(list),
      allowFail: true,
    });
  }
  return passed;
}

function parseArgs(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => argv[++i];
    if (a === '--env') args.envId = value();
    else if (a === '--image') args.image = value();
    else if (a === '--mode') args.mode = value();
    else if (a === '--golden') args.golden = value();
    else if (a === '--timeout') args.timeout = Number(value());
    else if (a === '--deny-check') args.denyCheck = true;
    else throw new Error(`unknown argument ${a}`);
  }
  if (!args.envId || !args.image)
    throw new Error(
      'usage: cluster-smoke.mjs --env <id> --image <repo@sha256:...> [--mode golden|deploy] [--deny-check]',
    );
  return args;
}

const isMain = process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  try {
    const ok = await clusterSmoke(parseArgs(process.argv.slice(2)));
    if (!ok) process.exitCode = 1;
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  }
}
