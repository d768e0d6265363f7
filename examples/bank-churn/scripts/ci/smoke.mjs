#!/usr/bin/env node
/**
 * Closed-loop smoke test of a running service: the golden path (in kind) and every deploy run it
 * from a pod inside the cluster, against the Service, so the NetworkPolicies apply. Plain Node (20+),
 * no dependencies: it runs in the service's own image.
 *
 *   node scripts/ci/smoke.mjs --url http://svc.ns.svc.cluster.local [--metrics-url http://10.0.0.7:8080]...
 *        [--golden model/golden.json] [--mode golden|deploy] [--expect-sha256 <hex>] [--timeout 180]
 *        [--grpc svc.ns.svc.cluster.local:8081]
 *
 * The valid requests are the model's golden cases (model/golden.json, recorded at training time);
 * the invalid ones are built from the contract the service serves at `GET /model` (its features,
 * types, ranges and categories). Counters are read from every `--metrics-url` (one per pod: a
 * Service spreads requests over the pods) and compared before and after.
 *
 * - golden: 100 valid predictions and 5 invalid requests; exactly 100 predictions and 5 validation
 *   errors counted, readiness true, a drift status served.
 * - deploy: a few golden predictions and one invalid request against a live environment: the
 *   counters grow by at least that much (other traffic may add to them).
 *
 * - with --grpc: a few golden cases also go through ModelInfer over gRPC (GRPC_PORT), as typed
 *   contents, and the outputs must equal what REST's POST /v2/models/{name}/infer answers for the
 *   same tensors. @grpc/grpc-js is the service's own dependency: it is loaded from the working
 *   directory (the image's /app) with the service's .proto files (dist/src/grpc or src/grpc).
 *
 * The metric names are the service's (src/metrics.ts, docs/service-contract.md); a test of
 * create-mlops-service fails if they drift apart.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const metrics = {
  /** Classification: one increment per predicted row, labelled by class. */
  predictions: 'mlservice_predictions_total',
  /** Regression: the histogram of predicted values counts the predicted rows. */
  predictionValueCount: 'mlservice_prediction_value_count',
  validationErrors: 'mlservice_validation_errors_total',
};

export const endpoints = {
  ready: '/readyz',
  live: '/healthz',
  model: '/model',
  predict: '/predict',
  metrics: '/metrics',
  drift: '/monitoring/drift',
};

export const plans = {
  golden: { valid: 100, invalid: 5, exact: true },
  deploy: { valid: 10, invalid: 1, exact: false },
};

const driftStatuses = new Set(['ok', 'warn', 'alert', 'insufficient_data']);

/** Sum of every series of `name` (all label sets) in a Prometheus text exposition. */
export function sumMetric(text, name) {
  let total = 0;
  let seen = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== '{' && rest[0] !== ' ') continue;
    const value = Number(
      rest
        .slice(rest[0] === '{' ? rest.lastIndexOf('}') + 1 : 0)
        .trim()
        .split(/\s+/)[0],
    );
    if (Number.isFinite(value)) {
      total += value;
      seen = true;
    }
  }
  return { total, seen };
}

/** The counter that counts predictions for this task. */
export function predictionMetric(task) {
  return task === 'regression' ? metrics.predictionValueCount : metrics.predictions;
}

/**
 * Invalid requests built from the contract's features, each one a distinct kind of mistake the
 * service must refuse with a 400 (and count): an unknown field, a missing feature, a wrong type, a
 * value out of range, and a body that is not JSON.
 */
export function invalidRequests(features, valid, count = 5) {
  const json = (body) => JSON.stringify(body);
  const first = features[0];
  const required = features.find((f) => f.type === 'text' || !f.nullable);
  const out = [];
  out.push({ name: 'unknown field', body: json({ ...valid, __smoke_unknown_field__: 1 }) });
  if (required) {
    const { [required.name]: _dropped, ...rest } = valid;
    out.push({ name: `missing ${required.name}`, body: json(rest) });
  } else {
    out.push({ name: 'array instead of an object', body: json([valid]) });
  }
  if (first) {
    const wrong = first.type === 'number' || first.type === 'integer' ? 'not-a-number' : 12345;
    out.push({
      name: `wrong type for ${first.name}`,
      body: json({ ...valid, [first.name]: wrong }),
    });
  } else {
    out.push({ name: 'string body', body: json('not an object') });
  }
  out.push(outOfRange(features, valid, json));
  out.push({ name: 'malformed JSON', body: '{"' });
  return out.slice(0, count);
}

function outOfRange(features, valid, json) {
  const typeMax = { float32: 1e39, int32: 2147483648, int64: 2 ** 63 };
  for (const f of features) {
    if (f.type === 'number' || f.type === 'integer') {
      if (typeof f.max === 'number')
        return {
          name: `${f.name} above its maximum`,
          body: json({
            ...valid,
            [f.name]:
              f.type === 'integer' ? Math.floor(f.max) + 1 : f.max + Math.max(1, Math.abs(f.max)),
          }),
        };
      if (typeof f.min === 'number')
        return {
          name: `${f.name} below its minimum`,
          body: json({
            ...valid,
            [f.name]:
              f.type === 'integer' ? Math.ceil(f.min) - 1 : f.min - Math.max(1, Math.abs(f.min)),
          }),
        };
      if (typeMax[f.tensorType] !== undefined)
        return {
          name: `${f.name} beyond ${f.tensorType}`,
          body: json({ ...valid, [f.name]: typeMax[f.tensorType] }),
        };
    }
    if (f.type === 'text' && typeof f.maxLength === 'number') {
      return {
        name: `${f.name} longer than ${f.maxLength}`,
        body: json({ ...valid, [f.name]: 'x'.repeat(f.maxLength + 1) }),
      };
    }
  }
  const category = features.find((f) => f.type === 'category' && f.categories?.length > 0);
  if (category)
    return { name: `${category.name} empty`, body: json({ ...valid, [category.name]: '' }) };
  const required = features.find((f) => f.type !== 'text' && !f.nullable);
  if (required)
    return { name: `${required.name} null`, body: json({ ...valid, [required.name]: null }) };
  return { name: 'empty body', body: '' };
}

/** Does a prediction agree with its golden case? (label for classifiers, value for regressors) */
export function agrees(golden, answer) {
  if ('label' in golden && golden.label !== undefined) return answer.label === golden.label;
  if (typeof golden.prediction === 'number' && typeof answer.prediction === 'number') {
    return (
      Math.abs(answer.prediction - golden.prediction) <=
      1e-3 * Math.max(1, Math.abs(golden.prediction))
    );
  }
  return false;
}

function parseArgs(argv) {
  const args = { metricsUrls: [], mode: 'golden', golden: 'model/golden.json', timeout: 180 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--url') args.url = next().replace(/\/+$/, '');
    else if (a === '--metrics-url') args.metricsUrls.push(next().replace(/\/+$/, ''));
    else if (a === '--golden') args.golden = next();
    else if (a === '--mode') args.mode = next();
    else if (a === '--expect-sha256') args.expectSha256 = next();
    else if (a === '--timeout') args.timeout = Number(next());
    else if (a === '--grpc') args.grpc = next();
    else throw new Error(`unknown argument ${a}`);
  }
  if (!args.url) throw new Error('--url is required');
  if (!(args.mode in plans))
    throw new Error(`--mode must be one of ${Object.keys(plans).join(', ')}`);
  if (args.metricsUrls.length === 0) args.metricsUrls.push(args.url);
  return args;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The environment's credential, when it requires one (cluster-smoke.mjs passes SMOKE_API_KEY). */
const token = process.env.SMOKE_API_KEY;

async function request(url, init = {}) {
  const headers = { ...init.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) };
  const res = await fetch(url, { ...init, headers, signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  return { status: res.status, text };
}

async function scrape(urls, name) {
  let total = 0;
  for (const u of urls) {
    const r = await request(`${u}${endpoints.metrics}`);
    if (r.status !== 200) throw new Error(`GET ${u}${endpoints.metrics}: ${r.status}`);
    total += sumMetric(r.text, name).total;
  }
  return total;
}

/** Runs the smoke test; resolves with a summary, rejects with the first failed check. */
export async function smoke(options, log = console.log) {
  const plan = plans[options.mode];
  const { check, checks } = checklist(log);

  await checkReadyBeforeTraffic(options, check);
  const model = await servedModel(options, check);
  const cases = goldenCases(options.golden, check);

  const predictionName = predictionMetric(model.task);
  const before = await scrapeCounters(options.metricsUrls, predictionName);
  await checkValidPredictions(options.url, cases, plan.valid, check, log);
  const invalid = invalidRequests(model.features ?? [], cases[0].input, plan.invalid);
  await checkInvalidRequests(options.url, invalid, check);
  const want = { predictions: plan.valid, errors: invalid.length };
  const delta = await checkCounters(options.metricsUrls, predictionName, before, want, plan, check);

  if (options.grpc) await checkGrpcParity(options, model, cases, plan.valid, check);
  await checkReadyAfterTraffic(options.url, check);
  await checkDrift(options.url, check);

  return {
    mode: options.mode,
    task: model.task,
    model: `${model.name}@${model.version}`,
    delta,
    checks: checks.length,
  };
}

/** A checklist: `check(ok, what)` logs ok or FAIL, throws on a failure; `checks` holds all run. */
function checklist(log) {
  const checks = [];
  const check = (ok, what) => {
    checks.push({ ok, what });
    log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
    if (!ok) throw new Error(what);
  };
  return { check, checks };
}

/** Polls readiness every 2 s until it answers 200 or `--timeout` seconds pass, then checks it. */
async function checkReadyBeforeTraffic(options, check) {
  const deadline = Date.now() + options.timeout * 1000;
  let ready;
  for (;;) {
    ready = await request(`${options.url}${endpoints.ready}`).catch((e) => ({
      status: 0,
      text: String(e),
    }));
    if (ready.status === 200 || Date.now() > deadline) break;
    await sleep(2000);
  }
  check(
    ready.status === 200,
    `readiness before traffic: GET ${endpoints.ready} -> ${ready.status}`,
  );
}

/** The contract the service serves at `GET /model`, checked against `--expect-sha256` if given. */
async function servedModel(options, check) {
  const modelRes = await request(`${options.url}${endpoints.model}`);
  check(modelRes.status === 200, `contract served: GET ${endpoints.model} -> ${modelRes.status}`);
  const model = JSON.parse(modelRes.text);
  if (options.expectSha256) {
    check(
      model.sha256 === options.expectSha256,
      `the model served is ${options.expectSha256.slice(0, 12)}... (got ${String(model.sha256).slice(0, 12)}...)`,
    );
  }
  return model;
}

/** The golden cases of the `--golden` file; there must be at least one. */
function goldenCases(path, check) {
  const cases = JSON.parse(readFileSync(path, 'utf8')).cases ?? [];
  check(cases.length > 0, `golden cases to send (${cases.length} in ${path})`);
  return cases;
}

/** The prediction and validation-error counters, each summed over every `--metrics-url`. */
async function scrapeCounters(urls, predictionName) {
  return {
    predictions: await scrape(urls, predictionName),
    errors: await scrape(urls, metrics.validationErrors),
  };
}

/** The headers of a request with a JSON body. */
const jsonHeaders = { 'content-type': 'application/json' };

/** Sends `count` golden cases (cycling) to `POST /predict`: each must answer 200 and agree. */
async function checkValidPredictions(url, cases, count, check, log) {
  let okCount = 0;
  let agreeing = 0;
  for (let i = 0; i < count; i++) {
    const c = cases[i % cases.length];
    const r = await request(`${url}${endpoints.predict}`, {
      method: 'POST',
      headers: jsonHeaders,
      body: JSON.stringify(c.input),
    });
    if (r.status === 200) {
      okCount++;
      if (agrees(c, JSON.parse(r.text))) agreeing++;
      else if (i - agreeing < 5)
        log(`     golden case ${i % cases.length} disagrees: ${r.text.slice(0, 300)}`);
    } else if (i - okCount < 5) {
      log(`     valid request ${i} -> ${r.status}: ${r.text.slice(0, 300)}`);
    }
  }
  check(okCount === count, `${count} valid predictions answered 200 (${okCount})`);
  check(agreeing === count, `the predictions agree with the golden cases (${agreeing}/${count})`);
}

/** Sends each invalid request to `POST /predict`: each must answer 400. */
async function checkInvalidRequests(url, invalid, check) {
  for (const bad of invalid) {
    const r = await request(`${url}${endpoints.predict}`, {
      method: 'POST',
      headers: jsonHeaders,
      body: bad.body,
    });
    check(r.status === 400, `invalid request (${bad.name}) answered 400 (${r.status})`);
  }
}

/** Checks the counters grew by `want` (exactly or at least, as `plan` says); returns the growth. */
async function checkCounters(urls, predictionName, before, want, plan, check) {
  const delta = await awaitGrowth(urls, predictionName, before, want);
  const cmp = (got, n) => (plan.exact ? got === n : got >= n);
  const rel = plan.exact ? 'exactly' : 'at least';
  check(
    cmp(delta.predictions, want.predictions),
    `${predictionName} grew by ${rel} ${want.predictions} (${delta.predictions})`,
  );
  check(
    cmp(delta.errors, want.errors),
    `${metrics.validationErrors} grew by ${rel} ${want.errors} (${delta.errors})`,
  );
  return delta;
}

/** How much the counters grew since `before`: re-read up to 10 times, 1 s apart, until `want`. */
async function awaitGrowth(urls, predictionName, before, want) {
  // Counters are updated right after each answer; give the pods a moment.
  let delta = { predictions: 0, errors: 0 };
  for (let attempt = 0; attempt < 10; attempt++) {
    const now = await scrapeCounters(urls, predictionName);
    delta = {
      predictions: now.predictions - before.predictions,
      errors: now.errors - before.errors,
    };
    if (delta.predictions >= want.predictions && delta.errors >= want.errors) break;
    await sleep(1000);
  }
  return delta;
}

/** With `--grpc`: a few golden cases through gRPC ModelInfer answer what REST V2 answers. */
async function checkGrpcParity(options, model, cases, valid, check) {
  // A missing value (null) has no typed-tensor form: such cases stay on REST.
  const complete = cases.filter((c) => !Object.values(c.input).some((v) => v === null));
  const parity = await grpcParity(options, model, complete.slice(0, Math.min(5, valid)));
  check(
    parity.same === parity.sent,
    `gRPC ModelInfer on ${options.grpc} answers what REST V2 answers (${parity.same}/${parity.sent}${parity.problem ? `: ${parity.problem}` : ''})`,
  );
}

/** The service is still ready once the traffic has been served. */
async function checkReadyAfterTraffic(url, check) {
  const after = await request(`${url}${endpoints.ready}`);
  check(after.status === 200, `readiness after traffic: GET ${endpoints.ready} -> ${after.status}`);
}

/** `GET /monitoring/drift` answers 200 with a known drift status. */
async function checkDrift(url, check) {
  const drift = await request(`${url}${endpoints.drift}`);
  let status;
  try {
    status = JSON.parse(drift.text).status;
  } catch {
    status = undefined;
  }
  check(
    drift.status === 200 && driftStatuses.has(status),
    `drift status served: GET ${endpoints.drift} -> ${drift.status} (${status})`,
  );
}

/** The datatype's field of InferTensorContents (FP16 has none). */
const contentsField = {
  BOOL: 'bool_contents',
  INT8: 'int_contents',
  INT16: 'int_contents',
  INT32: 'int_contents',
  INT64: 'int64_contents',
  UINT8: 'uint_contents',
  UINT16: 'uint_contents',
  UINT32: 'uint_contents',
  UINT64: 'uint64_contents',
  FP32: 'fp32_contents',
  FP64: 'fp64_contents',
  BYTES: 'bytes_contents',
};

/** A golden case's input as V2 tensors: a record's features by graph input, or named tensors. */
export function v2Tensors(model, input, metadata) {
  const features = model.features ?? [];
  if (features.length === 0) {
    return Object.entries(input).map(([name, nested]) => {
      const shape = [];
      for (let level = nested; Array.isArray(level); level = level[0]) shape.push(level.length);
      const datatype = metadata.inputs.find((t) => t.name === name)?.datatype ?? 'FP32';
      return { name, datatype, shape, data: [nested].flat(Infinity) };
    });
  }
  const byInput = new Map();
  for (const f of features) byInput.set(f.input, [...(byInput.get(f.input) ?? []), f]);
  return [...byInput].map(([name, fs]) => {
    fs.sort((a, b) => a.column - b.column);
    const text = fs.some((f) => f.tensorType === 'string');
    return {
      name,
      // Any numeric datatype is accepted for a numeric input: FP64 carries the JSON numbers as sent.
      datatype: text ? 'BYTES' : 'FP64',
      shape: fs.length === 1 ? [1] : [1, fs.length],
      data: fs.map((f) => input[f.name]),
    };
  });
}

/** The gRPC client of the service's own package and .proto files, from the working directory. */
function grpcClient(address) {
  const require = createRequire(join(process.cwd(), 'package.json'));
  const grpc = require('@grpc/grpc-js');
  const loader = require('@grpc/proto-loader');
  const dir = ['dist/src/grpc', 'src/grpc']
    .map((d) => join(process.cwd(), d))
    .find((d) => existsSync(join(d, 'grpc_predict_v2.proto')));
  if (!dir) throw new Error(`no grpc_predict_v2.proto under ${process.cwd()}/(dist/)src/grpc`);
  const definition = loader.loadSync(join(dir, 'grpc_predict_v2.proto'), {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const Service = grpc.loadPackageDefinition(definition).inference.GRPCInferenceService;
  const client = new Service(address, grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  if (token) metadata.set('authorization', `Bearer ${token}`);
  const infer = (message) =>
    new Promise((resolve, reject) =>
      client.ModelInfer(message, metadata, { deadline: Date.now() + 10_000 }, (e, r) =>
        e ? reject(e) : resolve(r),
      ),
    );
  return { infer, close: () => client.close() };
}

/** Sends each case to REST V2 and to gRPC ModelInfer; counts the cases whose outputs are equal. */
async function grpcParity(options, model, cases) {
  const meta = await request(`${options.url}/v2/models/${model.name}`);
  if (meta.status !== 200)
    return { sent: cases.length, same: 0, problem: `GET /v2/models -> ${meta.status}` };
  const metadata = JSON.parse(meta.text);
  const client = grpcClient(options.grpc);
  let same = 0;
  let problem;
  try {
    for (const c of cases) {
      const inputs = v2Tensors(model, c.input, metadata);
      if (inputs.some((t) => !contentsField[t.datatype]))
        return { sent: 0, same: 0, problem: 'FP16 inputs: skipped' };
      const rest = await request(`${options.url}/v2/models/${model.name}/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs }),
      });
      const answer = await client.infer({
        model_name: model.name,
        inputs: inputs.map((t) => ({
          name: t.name,
          datatype: t.datatype,
          shape: t.shape,
          contents: {
            [contentsField[t.datatype]]:
              t.datatype === 'BYTES' ? t.data.map((v) => Buffer.from(String(v))) : t.data,
          },
        })),
      });
      const outputs = answer.outputs.map((o) => {
        const values = o.contents?.[contentsField[o.datatype]] ?? [];
        return {
          name: o.name,
          datatype: o.datatype,
          shape: o.shape.map(Number),
          data: values.map((v) =>
            Buffer.isBuffer(v) ? v.toString('utf8') : typeof v === 'string' ? Number(v) : v,
          ),
        };
      });
      const expected = rest.status === 200 ? JSON.parse(rest.text).outputs : undefined;
      if (JSON.stringify(outputs) === JSON.stringify(expected)) same++;
      else
        problem ??= `REST ${rest.status} ${rest.text.slice(0, 200)} vs gRPC ${JSON.stringify(outputs).slice(0, 200)}`;
    }
  } catch (error) {
    problem ??= error instanceof Error ? error.message : String(error);
  } finally {
    client.close();
  }
  return { sent: cases.length, same, problem };
}

const isMain = process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  try {
    const summary = await smoke(parseArgs(process.argv.slice(2)));
    console.log(`smoke passed: ${JSON.stringify(summary)}`);
  } catch (error) {
    console.error(`smoke failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
