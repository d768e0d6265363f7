/**
 * Configuration: defaults, the worker count from the container's CPU quota, and a refusal that
 * names the variable for every bad value.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { contract } from '../src/model/contract.js';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  cgroupCpuLimit,
  defaultWorkers,
  loadConfig,
  variableNames,
} from '../src/config.js';
import { projectRoot } from './helpers/build.js';

const files = (map: Record<string, string>) => (path: string) => {
  if (path in map) return map[path]!;
  throw new Error(`ENOENT ${path}`);
};

describe('the worker count', () => {
  it('reads the cgroup v2 quota, else v1, else none', () => {
    expect(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu.max': '200000 100000\n' }))).toBe(2);
    expect(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu.max': 'max 100000\n' }))).toBeUndefined();
    expect(
      cgroupCpuLimit(
        files({
          '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '150000',
          '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000',
        }),
      ),
    ).toBe(1.5);
    expect(
      cgroupCpuLimit(
        files({
          '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1',
          '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000',
        }),
      ),
    ).toBeUndefined();
    expect(cgroupCpuLimit(files({}))).toBeUndefined();
  });

  it('is the quota rounded down, at least 1, never more than the CPUs present', () => {
    expect(defaultWorkers(2, 8)).toBe(2);
    expect(defaultWorkers(1.5, 8)).toBe(1);
    expect(defaultWorkers(0.5, 8)).toBe(1);
    expect(defaultWorkers(16, 4)).toBe(4);
    expect(defaultWorkers(undefined, 6)).toBe(6);
  });
});

describe('loadConfig', () => {
  it('has a documented default for everything', () => {
    const c = loadConfig({ WORKERS: '2' }, '/srv');
    expect(c).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      modelPath: '/srv/model/model.onnx',
      workers: 2,
      maxBatchSize: 128,
      maxBatchDelayMs: 0,
      maxQueue: 256,
      queueTimeoutMs: 1000,
      requestTimeoutMs: 5000,
      maxBatchRows: 1000,
      // Tensor models take images as JSON numbers: a larger default.
      bodyLimitBytes: contract.kind === 'tensors' ? 64 * 1024 * 1024 : 1048576,
      maxConnections: 1024,
      maxDynamicDim: 262144,
      maxTensorElements: 8388608,
      predictionLogPath: '/tmp/predictions.jsonl',
      predictionLogBufferBytes: 16777216,
      feedbackLogPath: '/tmp/feedback.jsonl',
      qualityWindow: 20000,
      qualityTtlHours: 720,
      // model/challenger/ beside the model; the verdict's minimum sample is the sidecar's.
      challengerDir: '/srv/model/challenger',
      challengerSampleRate: 1,
      challengerLogPath: '/tmp/challenger.jsonl',
      challengerQueue: 256,
      challengerWindow: 5000,
      challengerAlpha: 0.05,
      challengerResamples: 1000,
      challengerMinSamples: null,
      shutdownTimeoutMs: 20000,
      poolRestoreAttempts: 5,
      poolRestoreBackoffMs: 1000,
      explainMaxWork: 500000,
      explainMaxHeapMb: 256,
      logLevel: 'info',
      auth: { methods: [], apiKeysFile: null, jwt: null },
      metricsPort: null,
      rateLimitPerMinute: 0,
      corsOrigins: [],
    });
    expect(loadConfig({ WORKERS: '4' }).maxQueue).toBe(512);
    expect(loadConfig({ PREDICTION_LOG_PATH: '' }).predictionLogPath).toBeNull();
    expect(loadConfig({ FEEDBACK_LOG_PATH: '' }).feedbackLogPath).toBeNull();
    expect(loadConfig({ CHALLENGER_DIR: '' }).challengerDir).toBeNull();
    expect(loadConfig({ CHALLENGER_LOG_PATH: '' }).challengerLogPath).toBeNull();
    expect(loadConfig({ MODEL_PATH: 'm/v2/model.onnx' }, '/srv').challengerDir).toBe(
      '/srv/m/v2/challenger',
    );
    expect(() => loadConfig({ CHALLENGER_SAMPLE_RATE: '1.5' })).toThrow(
      /^CHALLENGER_SAMPLE_RATE: must be at most 1/,
    );
  });

  it.each(
    // Free text: a host, paths, a JWT issuer and audience (checked for emptiness only).
    variableNames.filter(
      (v) =>
        ![
          'HOST',
          'MODEL_PATH',
          'PREDICTION_LOG_PATH',
          'FEEDBACK_LOG_PATH',
          'CHALLENGER_DIR',
          'CHALLENGER_LOG_PATH',
          'API_KEYS_FILE',
          'JWT_ISSUER',
          'JWT_AUDIENCE',
        ].includes(v),
    ),
  )('refuses a bad %s, naming it', (variable) => {
    let error: unknown;
    try {
      loadConfig({ [variable]: 'not-a-valid-value!' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(variable);
    expect((error as Error).message).toMatch(new RegExp(`^${variable}: .*not-a-valid-value`));
  });

  it('refuses an empty MODEL_PATH and HOST', () => {
    expect(() => loadConfig({ MODEL_PATH: '  ' })).toThrow(/^MODEL_PATH: must not be empty/);
    expect(() => loadConfig({ HOST: '' })).toThrow(/^HOST: must not be empty/);
  });
});

describe('the README', () => {
  it('documents every variable config.ts reads, in its Configuration section (the challenger settings in their own)', () => {
    const readme = readFileSync(join(projectRoot, 'README.md'), 'utf8');
    const sectionOf = (title: string) => {
      const start = readme.indexOf(`### ${title}`);
      expect(start, `README section "${title}"`).toBeGreaterThanOrEqual(0);
      return readme.slice(start, readme.indexOf('\n##', start + 1));
    };
    const section = `${sectionOf('Configuration')}\n${sectionOf('A challenger in shadow')}`;
    const documented = new Set(section.match(/`[A-Z][A-Z0-9_]+`/g)?.map((v) => v.slice(1, -1)));
    expect(variableNames.filter((v) => !documented.has(v))).toEqual([]);
  });
});
