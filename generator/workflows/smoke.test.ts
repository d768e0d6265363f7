/**
 * The golden-path smoke test (scripts/ci/smoke.mjs of a generated project) against the real
 * service on loopback: the same checks the golden path runs inside kind, minus Kubernetes.
 *
 * It needs an installed project: SMOKE_PROJECT_DIR names one, else each committed example that has
 * its node_modules is used, else a fresh default project is installed (once per machine: the
 * install is cached by test-support/installed-project.ts).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { isAbsolute, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { installedProject } from '../test-support/installed-project.js';
import { packageRoot } from '../version.js';

const explicit = process.env.SMOKE_PROJECT_DIR;
const found = explicit
  ? [isAbsolute(explicit) ? explicit : resolve(packageRoot, explicit)]
  : ['bank-churn', 'nlp-insight', 'chicago-taxi']
      .map((name) => join(packageRoot, 'examples', name))
      .filter(
        (dir) =>
          existsSync(join(dir, 'node_modules/onnxruntime-node')) &&
          existsSync(join(dir, 'scripts/ci/smoke.mjs')),
      );

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolvePort(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

function runSmoke(
  dir: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; out: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['scripts/ci/smoke.mjs', ...args], {
      cwd: dir,
      env: { ...process.env, ...env },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => done({ code, out }));
  });
}

const projects = found.length > 0 ? found : [await installedProject({})];

describe.each(projects)('smoke.mjs against the real service of %s', (dir) => {
  it(
    'passes in golden mode (100 valid, 5 invalid, exact counters, readiness, drift) and in deploy mode',
    { timeout: 180_000 },
    async () => {
      expect(existsSync(join(dir, 'node_modules')), `${dir} is not installed`).toBe(true);
      if (!existsSync(join(dir, 'dist/src/server.js'))) {
        const build = spawnSync(
          process.execPath,
          ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'],
          { cwd: dir, encoding: 'utf8' },
        );
        expect(build.status, build.stdout + build.stderr).toBe(0);
      }
      const [port, grpcPort] = [await freePort(), await freePort()];
      const server = spawn(process.execPath, ['dist/src/server.js'], {
        cwd: dir,
        env: {
          ...process.env,
          PORT: String(port),
          GRPC_PORT: String(grpcPort),
          HOST: '127.0.0.1',
          WORKERS: '1',
          LOG_LEVEL: 'warn',
          PREDICTION_LOG_PATH: '',
        },
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      try {
        const url = `http://127.0.0.1:${port}`;
        const grpc = existsSync(join(dir, 'src/grpc/server.ts'))
          ? ['--grpc', `127.0.0.1:${grpcPort}`]
          : [];
        const golden = await runSmoke(dir, [
          '--url',
          url,
          '--mode',
          'golden',
          '--timeout',
          '120',
          ...grpc,
        ]);
        expect(golden.code, golden.out).toBe(0);
        if (grpc.length > 0) expect(golden.out).toMatch(/ok {3}gRPC ModelInfer .* \(5\/5\)/);
        expect(golden.out).toMatch(/grew by exactly 100 \(100\)/);
        expect(golden.out).toMatch(/mlservice_validation_errors_total grew by exactly 5 \(5\)/);
        expect(golden.out).toContain('smoke passed');
        const deploy = await runSmoke(dir, [
          '--url',
          url,
          '--metrics-url',
          url,
          '--mode',
          'deploy',
        ]);
        expect(deploy.code, deploy.out).toBe(0);
      } finally {
        server.kill('SIGTERM');
      }
    },
  );

  it(
    'against a service that requires an API key (prod) and serves /metrics on its own port: passes with SMOKE_API_KEY, fails without',
    { timeout: 180_000 },
    async () => {
      if (!existsSync(join(dir, 'src/http/api-keys.ts'))) return; // a project from before auth
      const keys = join(mkdtempSync(join(tmpdir(), 'smoke-keys-')), 'api-keys');
      writeFileSync(keys, `smoke:${createHash('sha256').update('smoke-key').digest('hex')}\n`);
      const [port, metricsPort, grpcPort] = [await freePort(), await freePort(), await freePort()];
      const server = spawn(process.execPath, ['dist/src/server.js'], {
        cwd: dir,
        env: {
          ...process.env,
          PORT: String(port),
          GRPC_PORT: String(grpcPort),
          METRICS_PORT: String(metricsPort),
          AUTH_MODE: 'api-key',
          API_KEYS_FILE: keys,
          HOST: '127.0.0.1',
          WORKERS: '1',
          LOG_LEVEL: 'warn',
          PREDICTION_LOG_PATH: '',
        },
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      try {
        const args = [
          '--url',
          `http://127.0.0.1:${port}`,
          '--metrics-url',
          `http://127.0.0.1:${metricsPort}`,
          '--mode',
          'deploy',
          '--timeout',
          '120',
          // ModelInfer needs the key too (the x-api-key/authorization metadata).
          ...(existsSync(join(dir, 'src/grpc/server.ts'))
            ? ['--grpc', `127.0.0.1:${grpcPort}`]
            : []),
        ];
        const keyed = await runSmoke(dir, args, { SMOKE_API_KEY: 'smoke-key' });
        expect(keyed.code, keyed.out).toBe(0);
        const anonymous = await runSmoke(dir, args, { SMOKE_API_KEY: '' });
        expect(anonymous.code).not.toBe(0);
        expect(anonymous.out).toMatch(/401/);
      } finally {
        server.kill('SIGTERM');
      }
    },
  );
});
