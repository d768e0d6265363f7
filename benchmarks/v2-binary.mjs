// V2 JSON tensors against the binary tensor data extension, for an image model (PyTorch-style
// NCHW network, 3x32x32 per image, 8 images a request) and a tabular model (bank-churn, 8 rows a
// request), measured in one run on this machine: both services generated, built and started here,
// loopback only, each load bounded in time. Prints req/s and MB/s per encoding and the ratios.
//
//   npm run bench:v2-binary [-- --seconds 5 --connections 16]
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '16' },
  },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const { create } = await import(join(root, 'dist/generator/commands/create.js'));
const work = mkdtempSync(join(tmpdir(), 'cms-bench-v2-'));
const env = { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', npm_config_loglevel: 'error' };

async function generate(name, model) {
  const dir = join(work, name);
  await create({
    dir,
    yes: true,
    overwrite: false,
    git: false,
    install: false,
    json: true,
    interactive: false,
    flags: { model, name: 'bench-svc', description: 'Benchmark service.' },
  });
  return dir;
}

const models = {
  image: join(root, 'generator/__fixtures__/models/wild/torch-image-nchw.onnx'),
  tabular: join(root, 'examples/models/bank-churn/artifacts/model.onnx'),
};
const dirs = {};
for (const [kind, model] of Object.entries(models)) dirs[kind] = await generate(kind, model);
console.error('installing the generated projects (once)...');
const install = spawnSync('npm', ['install', '--no-audit', '--no-fund'], {
  cwd: dirs.image,
  env,
  encoding: 'utf8',
});
if (install.status !== 0) throw new Error(install.stderr);
symlinkSync(join(dirs.image, 'node_modules'), join(dirs.tabular, 'node_modules'), 'dir');
const autocannon = createRequire(join(dirs.image, 'package.json'))('autocannon');

async function start(dir) {
  const build = spawnSync(
    process.execPath,
    ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'],
    { cwd: dir, encoding: 'utf8' },
  );
  if (build.status !== 0) throw new Error(build.stdout);
  const child = spawn(process.execPath, ['dist/src/server.js'], {
    cwd: dir,
    env: {
      ...env,
      PORT: '0',
      GRPC_PORT: 'off',
      HOST: '127.0.0.1',
      PREDICTION_LOG_PATH: '',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise((resolveUrl, reject) => {
    let address = '';
    child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const msg = JSON.parse(line).msg ?? '';
      const m = /^listening on (\S+)/.exec(msg);
      if (m) address = m[1];
      if (msg.startsWith('ready:')) resolveUrl(address);
    });
  });
  return { child, url };
}

/** One request body per encoding: the same tensors as JSON numbers and as raw little-endian bytes. */
function bodies(inputs) {
  const json = JSON.stringify({ inputs: inputs.map((i) => ({ ...i, data: Array.from(i.data) })) });
  const raw = inputs.map((i) =>
    i.datatype === 'BYTES'
      ? Buffer.concat(
          i.data.map((s) => {
            const b = Buffer.from(s);
            const n = Buffer.alloc(4);
            n.writeUInt32LE(b.length);
            return Buffer.concat([n, b]);
          }),
        )
      : Buffer.from(i.data.buffer, i.data.byteOffset, i.data.byteLength),
  );
  const header = Buffer.from(
    JSON.stringify({
      inputs: inputs.map((i, k) => ({
        name: i.name,
        datatype: i.datatype,
        shape: i.shape,
        parameters: { binary_data_size: raw[k].length },
      })),
      parameters: { binary_data_output: true },
    }),
  );
  return {
    json: { body: json, headers: { 'content-type': 'application/json' } },
    binary: {
      body: Buffer.concat([header, ...raw]),
      headers: {
        'content-type': 'application/octet-stream',
        'inference-header-content-length': String(header.length),
      },
    },
  };
}

function imageInputs() {
  const data = new Float32Array(8 * 3 * 32 * 32).map((_, i) => Math.sin(i) / 2);
  return [{ name: 'input', datatype: 'FP32', shape: [8, 3, 32, 32], data }];
}

async function tabularInputs(dir) {
  const { contract } = await import(join(dir, 'dist/src/model/contract.js'));
  const rows = 8;
  return contract.inputs.map((input) => {
    const feature = contract.features.find((f) => f.input === input.name);
    if (input.type === 'string')
      return {
        name: input.name,
        datatype: 'BYTES',
        shape: [rows, 1],
        data: Array.from({ length: rows }, () => feature.categories[0] ?? 'a'),
      };
    const value = feature.min ?? 1;
    return {
      name: input.name,
      datatype: 'FP32',
      shape: [rows, 1],
      data: new Float32Array(rows).fill(value),
    };
  });
}

async function load(url, request) {
  const result = await autocannon({
    url,
    method: 'POST',
    connections,
    duration: seconds,
    ...request,
  });
  return {
    rps: result.requests.average,
    mbps: result.throughput.average / 1e6,
    non2xx: result.non2xx,
    p99: result.latency.p99,
  };
}

const rows = [];
for (const kind of ['image', 'tabular']) {
  const { child, url } = await start(dirs[kind]);
  try {
    const inputs = kind === 'image' ? imageInputs() : await tabularInputs(dirs[kind]);
    const b = bodies(inputs);
    const { contract } = await import(join(dirs[kind], 'dist/src/model/contract.js'));
    const infer = `${url}/v2/models/${contract.name}/infer`;
    const check = await fetch(infer, { method: 'POST', ...b.json });
    if (check.status !== 200) throw new Error(`${kind}: ${check.status} ${await check.text()}`);
    // Interleaved rounds so that drift in the machine's load touches both encodings alike.
    const sums = { json: [], binary: [] };
    for (let round = 0; round < 2; round++)
      for (const enc of ['json', 'binary']) sums[enc].push(await load(infer, b[enc]));
    const mean = (xs, k) => xs.reduce((a, x) => a + x[k], 0) / xs.length;
    for (const enc of ['json', 'binary'])
      rows.push({
        kind,
        enc,
        bytes: b[enc].body.length,
        rps: mean(sums[enc], 'rps'),
        p99: mean(sums[enc], 'p99'),
        non2xx: sums[enc].reduce((a, x) => a + x.non2xx, 0),
      });
  } finally {
    child.kill('SIGTERM');
  }
}
console.log('| model | encoding | request bytes | req/s | p99 ms | non-2xx |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const r of rows)
  console.log(
    `| ${r.kind} | ${r.enc} | ${r.bytes} | ${Math.round(r.rps)} | ${r.p99.toFixed(1)} | ${r.non2xx} |`,
  );
for (const kind of ['image', 'tabular']) {
  const [j, bin] = ['json', 'binary'].map((e) => rows.find((r) => r.kind === kind && r.enc === e));
  console.log(
    `${kind}: binary/JSON throughput ${(bin.rps / j.rps).toFixed(2)}x, request size ${(bin.bytes / j.bytes).toFixed(2)}x`,
  );
}
mkdirSync(join(root, 'benchmarks/results'), { recursive: true });
writeFileSync(
  join(root, 'benchmarks/results', `v2-binary-${Date.now()}.json`),
  JSON.stringify(rows, null, 2),
);
rmSync(work, { recursive: true, force: true });
