/**
 * Runtime configuration: every setting is an environment variable with a documented default
 * (docs in README "Configuration"). Parsed once at start with zod; a bad value throws a
 * ConfigError that names the variable, and the server exits 1 with that message.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { contract } from './model/contract.js';

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export interface Config {
  readonly port: number;
  readonly host: string;
  /** Absolute path of the ONNX model; its artifacts sit beside it. */
  readonly modelPath: string;
  readonly workers: number;
  readonly maxBatchSize: number;
  readonly maxBatchDelayMs: number;
  readonly maxQueue: number;
  readonly queueTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly maxBatchRows: number;
  readonly bodyLimitBytes: number;
  /** Open connections accepted at once; more are closed as they arrive. */
  readonly maxConnections: number;
  /** Tensor models: the largest value of a dynamic dimension, and of an input's element count. */
  readonly maxDynamicDim: number;
  readonly maxTensorElements: number;
  /** null: the prediction log is off. */
  readonly predictionLogPath: string | null;
  /** Rotate the prediction log past this size (0: never) and keep this many rotated files. */
  readonly predictionLogMaxBytes: number;
  readonly predictionLogKeep: number;
  /** Bytes of log lines held in memory while the disk catches up; past it lines are dropped and counted. */
  readonly predictionLogBufferBytes: number;
  /** null: the feedback log is off (POST /feedback still joins truth to the window). */
  readonly feedbackLogPath: string | null;
  /** Predictions waiting for their truth (the oldest go first), and for how long. */
  readonly qualityWindow: number;
  readonly qualityTtlHours: number;
  /**
   * The challenger's folder (`model.onnx`, optional sidecar): a challenger runs in shadow iff
   * `model.onnx` is there; null: off. Default `challenger/` beside MODEL_PATH's file.
   */
  readonly challengerDir: string | null;
  /** Share of predictions (0..1, chosen by a hash of the predictionId) the challenger also runs. */
  readonly challengerSampleRate: number;
  /** null: the challenger log is off (its outputs are still paired in memory). */
  readonly challengerLogPath: string | null;
  /** Rows waiting for the challenger; a sample that does not fit is skipped and counted. */
  readonly challengerQueue: number;
  /** Challenger outputs kept paired with the champion's (the oldest go first). */
  readonly challengerWindow: number;
  /** The verdict: significance level, bootstrap resamples, and the truth needed (null: the sidecar's minSamples). */
  readonly challengerAlpha: number;
  readonly challengerResamples: number;
  readonly challengerMinSamples: number | null;
  readonly shutdownTimeoutMs: number;
  /** Launches of a fresh set of workers when a replacement worker cannot load the model. */
  readonly poolRestoreAttempts: number;
  /** Wait before the first launch; it doubles after each failed one (at most 30 s). */
  readonly poolRestoreBackoffMs: number;
  readonly logLevel: (typeof logLevels)[number];
  readonly driftWindow: number;
  readonly explainSamples: number;
  /** samples x (features + 1) x tokens one explanation may cost. */
  readonly explainMaxWork: number;
  /** V8 heap of the explanation worker, in MiB. */
  readonly explainMaxHeapMb: number;
  /** Who may call the protected routes (README "Authentication and exposure"). */
  readonly auth: AuthConfig;
  /** A second listener that serves only `/metrics` (null: `/metrics` is on PORT, behind auth). */
  readonly metricsPort: number | null;
  /** The Open Inference Protocol over gRPC (0: an ephemeral port; null: off, GRPC_PORT=off). */
  readonly grpcPort: number | null;
  /** Requests per minute per client (the authenticated name, else the address); 0: no limit. */
  readonly rateLimitPerMinute: number;
  /** Origins allowed by CORS, exactly as browsers send them; empty: no CORS headers at all. */
  readonly corsOrigins: readonly string[];
}

export const authMethods = ['api-key', 'jwt'] as const;
export type AuthMethod = (typeof authMethods)[number];

export interface AuthConfig {
  /** Accepted credentials, either one suffices; empty: AUTH_MODE=none, every route is open. */
  readonly methods: readonly AuthMethod[];
  /** File of sha256 hashes of the API keys (`[name:]<hex>` per line), when api-key is on. */
  readonly apiKeysFile: string | null;
  /** Where the JWT signing keys are published, and what a token must say, when jwt is on. */
  readonly jwt: {
    readonly jwksUrl: string;
    readonly issuer: string;
    readonly audience: string;
  } | null;
}

/** CPUs the container may use, from the cgroup quota (v2 `cpu.max`, else v1), or undefined when unlimited. */
export function cgroupCpuLimit(
  read: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): number | undefined {
  try {
    const [quota, period] = read('/sys/fs/cgroup/cpu.max').trim().split(/\s+/);
    if (quota === 'max') return undefined;
    const q = Number(quota);
    const p = Number(period);
    if (q > 0 && p > 0) return q / p;
  } catch {
    // not cgroup v2
  }
  try {
    const q = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us').trim());
    const p = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_period_us').trim());
    if (q > 0 && p > 0) return q / p;
  } catch {
    // no cgroup v1 either
  }
  return undefined;
}

/** Inference threads: the CPU quota rounded down (at least 1), never more than the CPUs present. */
export function defaultWorkers(limit = cgroupCpuLimit(), cpus = availableParallelism()): number {
  const fromQuota = limit === undefined ? cpus : Math.floor(limit);
  return Math.max(1, Math.min(fromQuota, cpus));
}

const int = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, `must be a whole number between ${min} and ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

const decimal = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+(\.\d+)?$/, `must be a number between ${min} and ${max}`)
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

const authModes = ['none', ...authMethods] as const;

/** `none`, or a comma list of `api-key` and `jwt` (either credential is accepted). */
const authMode = z
  .string()
  .trim()
  .transform((v) => v.split(',').map((m) => m.trim()))
  .refine((modes) => modes.every((m) => (authModes as readonly string[]).includes(m)), {
    error: `must be none, api-key, jwt or api-key,jwt`,
  })
  .refine((modes) => !(modes.includes('none') && modes.length > 1), {
    error: 'none cannot be combined with another mode',
  })
  .transform((modes) => [...new Set(modes.filter((m): m is AuthMethod => m !== 'none'))]);

const httpUrl = z
  .string()
  .trim()
  .refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol), {
    error: 'must be an http(s) URL',
  });

/** Exact origins (`https://app.example.com`): scheme, host and port, no path. */
const origins = z
  .string()
  .trim()
  .transform((v) => (v === '' ? [] : v.split(',').map((o) => o.trim())))
  .refine(
    (list) => list.every((o) => URL.canParse(o) && new URL(o).origin === o && o.startsWith('http')),
    { error: 'must be a comma list of origins such as https://app.example.com (no path, no *)' },
  );

/** Each variable: its parser and its default (a string, parsed like a value from the environment). */
const variables = {
  PORT: { schema: int(0, 65535), default: '8080' },
  HOST: { schema: z.string().trim().min(1, 'must not be empty'), default: '0.0.0.0' },
  MODEL_PATH: {
    schema: z.string().trim().min(1, 'must not be empty'),
    default: 'model/model.onnx',
  },
  WORKERS: { schema: int(1, 256), default: undefined },
  MAX_BATCH_SIZE: { schema: int(1, 4096), default: '128' },
  MAX_BATCH_DELAY_MS: { schema: decimal(0, 1000), default: '0' },
  MAX_QUEUE: { schema: int(1, 1_000_000), default: undefined },
  QUEUE_TIMEOUT_MS: { schema: int(1, 600_000), default: '1000' },
  REQUEST_TIMEOUT_MS: { schema: int(1, 600_000), default: '5000' },
  MAX_BATCH_ROWS: { schema: int(1, 100_000), default: '1000' },
  // Default: 1 MiB for records, 64 MiB for tensor models (an image batch as JSON numbers).
  BODY_LIMIT_BYTES: { schema: int(1024, 1024 * 1024 * 1024), default: undefined },
  MAX_CONNECTIONS: { schema: int(1, 1_000_000), default: '1024' },
  MAX_DYNAMIC_DIM: { schema: int(1, 1_000_000_000), default: '262144' },
  MAX_TENSOR_ELEMENTS: { schema: int(1, 1_000_000_000), default: '8388608' },
  PREDICTION_LOG_PATH: { schema: z.string().trim(), default: '/tmp/predictions.jsonl' },
  PREDICTION_LOG_MAX_BYTES: { schema: int(0, 1024 * 1024 * 1024 * 1024), default: '67108864' },
  PREDICTION_LOG_KEEP: { schema: int(0, 1000), default: '5' },
  PREDICTION_LOG_BUFFER_BYTES: { schema: int(65_536, 1024 * 1024 * 1024), default: '16777216' },
  FEEDBACK_LOG_PATH: { schema: z.string().trim(), default: '/tmp/feedback.jsonl' },
  QUALITY_WINDOW: { schema: int(1, 10_000_000), default: '20000' },
  QUALITY_TTL_HOURS: { schema: int(1, 8760), default: '720' },
  // Default: `challenger/` in MODEL_PATH's folder (model/challenger/); empty: no challenger.
  CHALLENGER_DIR: { schema: z.string().trim(), default: undefined },
  CHALLENGER_SAMPLE_RATE: { schema: decimal(0, 1), default: '1' },
  CHALLENGER_LOG_PATH: { schema: z.string().trim(), default: '/tmp/challenger.jsonl' },
  CHALLENGER_QUEUE: { schema: int(1, 1_000_000), default: '256' },
  CHALLENGER_WINDOW: { schema: int(1, 10_000_000), default: '5000' },
  CHALLENGER_ALPHA: { schema: decimal(0.000001, 0.5), default: '0.05' },
  CHALLENGER_RESAMPLES: { schema: int(100, 100_000), default: '1000' },
  CHALLENGER_MIN_SAMPLES: { schema: int(1, 10_000_000), default: undefined },
  SHUTDOWN_TIMEOUT_MS: { schema: int(0, 3_600_000), default: '20000' },
  POOL_RESTORE_ATTEMPTS: { schema: int(0, 100), default: '5' },
  POOL_RESTORE_BACKOFF_MS: { schema: int(1, 600_000), default: '1000' },
  LOG_LEVEL: {
    schema: z.enum(logLevels, { error: `must be one of ${logLevels.join(', ')}` }),
    default: 'info',
  },
  DRIFT_WINDOW: { schema: int(10, 10_000_000), default: '10000' },
  EXPLAIN_SAMPLES: { schema: int(1, 10_000), default: '64' },
  EXPLAIN_MAX_WORK: { schema: int(1, 1_000_000_000), default: '500000' },
  EXPLAIN_MAX_HEAP_MB: { schema: int(16, 65_536), default: '256' },
  AUTH_MODE: { schema: authMode, default: 'none' },
  API_KEYS_FILE: { schema: z.string().trim().min(1, 'must not be empty'), default: undefined },
  JWT_JWKS_URL: { schema: httpUrl, default: undefined },
  JWT_ISSUER: { schema: z.string().trim().min(1, 'must not be empty'), default: undefined },
  JWT_AUDIENCE: { schema: z.string().trim().min(1, 'must not be empty'), default: undefined },
  METRICS_PORT: { schema: int(0, 65535), default: undefined },
  // `off`: no gRPC listener.
  GRPC_PORT: {
    schema: z.union([z.literal('off').transform(() => null), int(0, 65535)], {
      error: 'must be a whole number from 0 to 65535, or off',
    }),
    default: '8081',
  },
  RATE_LIMIT_PER_MINUTE: { schema: int(0, 1_000_000), default: '0' },
  CORS_ORIGINS: { schema: origins, default: '' },
} as const;

export type VariableName = keyof typeof variables;
export const variableNames = Object.keys(variables) as VariableName[];

function read<K extends VariableName>(
  env: NodeJS.ProcessEnv,
  name: K,
): z.output<(typeof variables)[K]['schema']> | undefined {
  const spec = variables[name];
  const raw = env[name] ?? spec.default;
  if (raw === undefined) return undefined;
  const result = spec.schema.safeParse(raw);
  if (!result.success) {
    const shown = raw.length > 60 ? `${raw.slice(0, 60)}...` : raw;
    throw new ConfigError(
      name,
      `${result.error.issues[0]?.message ?? 'invalid'} (got ${JSON.stringify(shown)})`,
    );
  }
  return result.data as z.output<(typeof variables)[K]['schema']>;
}

export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): Config {
  const workers = read(env, 'WORKERS') ?? defaultWorkers();
  const logPath = read(env, 'PREDICTION_LOG_PATH')!;
  const feedbackPath = read(env, 'FEEDBACK_LOG_PATH')!;
  const modelPath = resolve(cwd, read(env, 'MODEL_PATH')!);
  const challengerDir = read(env, 'CHALLENGER_DIR') ?? resolve(dirname(modelPath), 'challenger');
  const challengerLog = read(env, 'CHALLENGER_LOG_PATH')!;
  return {
    port: read(env, 'PORT')!,
    host: read(env, 'HOST')!,
    modelPath,
    workers,
    maxBatchSize: read(env, 'MAX_BATCH_SIZE')!,
    maxBatchDelayMs: read(env, 'MAX_BATCH_DELAY_MS')!,
    maxQueue: read(env, 'MAX_QUEUE') ?? Math.max(256, workers * 128),
    queueTimeoutMs: read(env, 'QUEUE_TIMEOUT_MS')!,
    requestTimeoutMs: read(env, 'REQUEST_TIMEOUT_MS')!,
    maxBatchRows: read(env, 'MAX_BATCH_ROWS')!,
    bodyLimitBytes:
      read(env, 'BODY_LIMIT_BYTES') ??
      (contract.kind === 'tensors' ? 64 * 1024 * 1024 : 1024 * 1024),
    maxConnections: read(env, 'MAX_CONNECTIONS')!,
    maxDynamicDim: read(env, 'MAX_DYNAMIC_DIM')!,
    maxTensorElements: read(env, 'MAX_TENSOR_ELEMENTS')!,
    predictionLogPath: logPath === '' ? null : resolve(cwd, logPath),
    predictionLogMaxBytes: read(env, 'PREDICTION_LOG_MAX_BYTES')!,
    predictionLogKeep: read(env, 'PREDICTION_LOG_KEEP')!,
    predictionLogBufferBytes: read(env, 'PREDICTION_LOG_BUFFER_BYTES')!,
    feedbackLogPath: feedbackPath === '' ? null : resolve(cwd, feedbackPath),
    qualityWindow: read(env, 'QUALITY_WINDOW')!,
    qualityTtlHours: read(env, 'QUALITY_TTL_HOURS')!,
    challengerDir: challengerDir === '' ? null : resolve(cwd, challengerDir),
    challengerSampleRate: read(env, 'CHALLENGER_SAMPLE_RATE')!,
    challengerLogPath: challengerLog === '' ? null : resolve(cwd, challengerLog),
    challengerQueue: read(env, 'CHALLENGER_QUEUE')!,
    challengerWindow: read(env, 'CHALLENGER_WINDOW')!,
    challengerAlpha: read(env, 'CHALLENGER_ALPHA')!,
    challengerResamples: read(env, 'CHALLENGER_RESAMPLES')!,
    challengerMinSamples: read(env, 'CHALLENGER_MIN_SAMPLES') ?? null,
    shutdownTimeoutMs: read(env, 'SHUTDOWN_TIMEOUT_MS')!,
    poolRestoreAttempts: read(env, 'POOL_RESTORE_ATTEMPTS')!,
    poolRestoreBackoffMs: read(env, 'POOL_RESTORE_BACKOFF_MS')!,
    logLevel: read(env, 'LOG_LEVEL')!,
    driftWindow: read(env, 'DRIFT_WINDOW')!,
    explainSamples: read(env, 'EXPLAIN_SAMPLES')!,
    explainMaxWork: read(env, 'EXPLAIN_MAX_WORK')!,
    explainMaxHeapMb: read(env, 'EXPLAIN_MAX_HEAP_MB')!,
    auth: readAuth(env, cwd),
    metricsPort: readMetricsPort(env),
    grpcPort: readGrpcPort(env),
    rateLimitPerMinute: read(env, 'RATE_LIMIT_PER_MINUTE')!,
    corsOrigins: read(env, 'CORS_ORIGINS')!,
  };
}

/** AUTH_MODE and what each mode it names needs (every variable is checked when it is set). */
function readAuth(env: NodeJS.ProcessEnv, cwd: string): AuthConfig {
  const methods = read(env, 'AUTH_MODE')!;
  const given = {
    API_KEYS_FILE: read(env, 'API_KEYS_FILE'),
    JWT_JWKS_URL: read(env, 'JWT_JWKS_URL'),
    JWT_ISSUER: read(env, 'JWT_ISSUER'),
    JWT_AUDIENCE: read(env, 'JWT_AUDIENCE'),
  };
  const needs = (name: keyof typeof given, mode: AuthMethod): string => {
    const value = given[name];
    if (value === undefined)
      throw new ConfigError(name, `must be set when AUTH_MODE includes ${mode}`);
    return value;
  };
  return {
    methods,
    apiKeysFile: methods.includes('api-key')
      ? resolve(cwd, needs('API_KEYS_FILE', 'api-key'))
      : null,
    jwt: methods.includes('jwt')
      ? {
          jwksUrl: needs('JWT_JWKS_URL', 'jwt'),
          issuer: needs('JWT_ISSUER', 'jwt'),
          audience: needs('JWT_AUDIENCE', 'jwt'),
        }
      : null,
  };
}

function readMetricsPort(env: NodeJS.ProcessEnv): number | null {
  const port = read(env, 'METRICS_PORT');
  if (port === undefined) return null;
  if (port !== 0 && port === read(env, 'PORT'))
    throw new ConfigError('METRICS_PORT', `must differ from PORT (both ${port})`);
  return port;
}

function readGrpcPort(env: NodeJS.ProcessEnv): number | null {
  const port = read(env, 'GRPC_PORT') ?? null;
  if (port !== null && port !== 0) {
    for (const other of ['PORT', 'METRICS_PORT'] as const) {
      if (port === read(env, other))
        throw new ConfigError('GRPC_PORT', `must differ from ${other} (both ${port})`);
    }
  }
  return port;
}
