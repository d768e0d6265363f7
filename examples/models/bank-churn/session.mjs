// @ts-check
/**
 * A real session with the bank-churn example's closed loop, recorded for its README: the built
 * service (examples/bank-churn, `npm run build`) is started on 127.0.0.1, scores 1,500 customers
 * the model never saw (session/customers.jsonl: generate_data.py --seed 7 --rows 1500, a held-out
 * draw of the training data's distribution), receives whether each customer really left, keyed by
 * customer id as a CRM would send it, and reports live quality overall and by slice; the offline
 * CLI (`npm run monitor`) then reads the two logs the service wrote and must agree.
 *
 *   node examples/models/bank-churn/session.mjs           # rewrites session/session.md
 *   node examples/models/bank-churn/session.mjs --check   # exit 1 if session.md is not what a run gives
 *
 * Deterministic: request ids are given, the model and the data are fixed, and the report holds no
 * time. The examples sync puts session.md into the example's README (generator/examples/sync.ts).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const service = resolve(here, '../../bank-churn');
const sessionFile = join(here, 'session', 'session.md');
const batch = 100;

/** @param {string} message @returns {never} */
function fail(message) {
  process.stderr.write(`session: ${message}\n`);
  process.exit(2);
}

/** Starts the built service; resolves with its address once it logs "ready". */
function start(/** @type {string} */ work) {
  const child = spawn(process.execPath, ['dist/src/server.js'], {
    cwd: service,
    env: {
      ...process.env,
      PORT: '0',
      GRPC_PORT: 'off',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      PREDICTION_LOG_PATH: join(work, 'predictions.jsonl'),
      FEEDBACK_LOG_PATH: join(work, 'feedback.jsonl'),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((ok, no) => {
    let address = '';
    let buffered = '';
    child.on('exit', (code) => no(new Error(`the service exited (${code}) before it was ready`)));
    child.stdout.on('data', (data) => {
      buffered += data;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        try {
          const entry = JSON.parse(line);
          if (entry.address) address = entry.address;
          if (typeof entry.msg === 'string' && entry.msg.startsWith('ready') && address)
            ok({ child, address });
        } catch {
          // not a log line
        }
      }
    });
  });
}

/** @param {string} url @param {unknown} [body] @param {Record<string, string>} [headers] */
async function call(url, body, headers = {}) {
  const res = await fetch(url, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = await res.json();
  if (!res.ok) fail(`${url}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

const customers = readFileSync(join(here, 'session', 'customers.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l));

/** Runs the session; returns what the markdown shows. */
async function run() {
  const work = mkdtempSync(join(tmpdir(), 'bank-churn-session-'));
  const { child, address } = /** @type {{ child: import('node:child_process').ChildProcess, address: string }} */ (
    await start(work)
  );
  try {
    /** @type {any[]} */
    const answers = [];
    for (let i = 0; i < customers.length; i += batch) {
      const instances = customers.slice(i, i + batch).map((c) => c.instance);
      answers.push(
        await call(`${address}/predict/batch`, { instances }, { 'x-request-id': `crm-${i / batch + 1}` }),
      );
    }
    // Truth arrives later, keyed by customer: the latest prediction for each customer joins it.
    /** @type {any[]} */
    const receipts = [];
    for (let i = 0; i < customers.length; i += batch) {
      const feedback = customers.slice(i, i + batch).map((c) => ({
        entityId: c.instance.customerId,
        label: c.exited ? 'exited' : 'stayed',
      }));
      receipts.push(await call(`${address}/feedback`, { feedback }));
    }
    const live = await call(`${address}/monitoring/performance`);
    child.kill('SIGTERM');
    await new Promise((ok) => child.once('exit', ok));
    const offline = spawnSync(
      process.execPath,
      [
        'dist/src/cli/monitor.js',
        '--predictions',
        join(work, 'predictions.jsonl'),
        '--feedback',
        join(work, 'feedback.jsonl'),
        '--json',
      ],
      { cwd: service, encoding: 'utf8' },
    );
    if (offline.status !== 0 && offline.status !== 1)
      fail(`npm run monitor failed (${offline.status}): ${offline.stderr}`);
    return { answers, receipts, live, offline: JSON.parse(offline.stdout) };
  } finally {
    child.kill('SIGKILL');
    rmSync(work, { recursive: true, force: true });
  }
}

const fmt = (/** @type {unknown} */ v) => (typeof v === 'number' ? v.toFixed(3) : '—');

/** A table row per group: samples and the binary metrics. */
function rows(/** @type {string} */ name, /** @type {any} */ group) {
  const m = typeof group.metrics === 'object' ? group.metrics : {};
  const insufficient = typeof group.metrics === 'string' ? ` (${group.metrics})` : '';
  return `| ${name} | ${group.samples}${insufficient} | ${fmt(m.roc_auc)} | ${fmt(m.pr_auc)} | ${fmt(m.brier)} | ${fmt(m.precision)} | ${fmt(m.recall)} | ${fmt(m.f1)} |`;
}

function markdown(/** @type {Awaited<ReturnType<typeof run>>} */ s) {
  const first = s.answers[0];
  const totals = s.receipts.reduce(
    (t, r) => ({ accepted: t.accepted + r.accepted, unknown: t.unknown + r.unknown }),
    { accepted: 0, unknown: 0 },
  );
  const { live } = s;
  const table = [
    '| slice | samples | ROC-AUC | PR-AUC | Brier | precision | recall | F1 |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    rows('overall', live.overall),
    ...live.slices.flatMap((/** @type {any} */ slice) =>
      slice.groups.map((/** @type {any} */ g) => rows(`${slice.feature} = ${g.value}`, g)),
    ),
  ];
  const floors = live.floors
    .map(
      (/** @type {any} */ f) =>
        `\`${f.metric}\` ${fmt(f.value)} against its floor ${fmt(f.floor)}${f.breached ? ' (breached)' : ''}`,
    )
    .join(', ');
  const agree =
    JSON.stringify(s.live.overall) === JSON.stringify(s.offline.overall) &&
    JSON.stringify(s.live.slices) === JSON.stringify(s.offline.slices);
  if (!agree) fail('the offline report (npm run monitor) disagrees with the live one');
  return [
    '## A session with the closed loop',
    '',
    '<!-- Recorded by examples/models/bank-churn/session.mjs against this service; its test reruns it. -->',
    '',
    `1,500 customers the model never saw are scored in batches of ${batch}, each with its \`customerId\``,
    '(the sidecar\'s `monitoring.entityId`, logged with the prediction, never given to the model):',
    '',
    '```console',
    `$ curl -s localhost:8000/predict/batch -H 'x-request-id: crm-1' -d '{"instances": [{"customerId": "${customers[0].instance.customerId}", "CreditScore": ${customers[0].instance.CreditScore}, "Geography": "${customers[0].instance.Geography}", ...}, ...]}'`,
    JSON.stringify({ ...first, predictions: [first.predictions[0], '...'] }),
    '```',
    '',
    'Weeks later the CRM knows who left, and sends it keyed by customer, not by prediction id: each',
    'label joins the latest prediction for that customer made before it.',
    '',
    '```console',
    `$ curl -s localhost:8000/feedback -d '{"feedback": [{"entityId": "${customers[0].instance.customerId}", "label": "${customers[0].exited ? 'exited' : 'stayed'}"}, ...]}'`,
    JSON.stringify({ ...s.receipts[0], requestId: '...' }),
    '```',
    '',
    `${totals.accepted} labels joined, ${totals.unknown} unknown. \`GET /monitoring/performance\` then reports`,
    `live quality overall and by slice (a group below ${live.minSamples} samples is reported as insufficient):`,
    '',
    ...table,
    '',
    `Floors (headline of \`model/metrics.json\` minus the tolerance): ${floors}.`,
    ...(live.floors.some((/** @type {any} */ f) => f.breached)
      ? [
          'A breach with enough samples sets `mlservice_quality_floor_breached` to 1, which fires the',
          'InferenceQualityBelowFloor alert (`.windsurf/workflows/quality-alert.md` is the routine).',
        ]
      : []),
    '',
    `\`npm run monitor -- --predictions <prediction log> --feedback <feedback log>\` over the two logs the`,
    'service wrote gives the same numbers, overall and per slice.',
    '',
  ].join('\n');
}

const check = process.argv.includes('--check');
const text = markdown(await run());
if (check) {
  const committed = readFileSync(sessionFile, 'utf8');
  if (committed !== text) {
    process.stderr.write(
      `session: ${sessionFile} is not what a run gives; run node examples/models/bank-churn/session.mjs\n--- run gives:\n${text}`,
    );
    process.exit(1);
  }
  process.stdout.write('session.md is what a run gives\n');
} else {
  writeFileSync(sessionFile, text);
  process.stdout.write(`wrote ${sessionFile}\n`);
}
