/**
 * Starts the service in-process (no listening socket: requests go through Fastify's inject).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import pino from 'pino';
import { type Config, loadConfig } from '../../src/config.js';
import { type Service, type ServiceOptions, createService } from '../../src/service.js';
import { projectRoot } from './build.js';

export interface TestService {
  readonly service: Service;
  readonly config: Config;
  /** Where this service writes its prediction log. */
  readonly logPath: string;
  post(
    url: string,
    body: unknown,
    headers?: Record<string, string>,
  ): Promise<LightMyRequestResponse>;
  get(url: string): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export async function startService(
  env: Record<string, string> = {},
  options: Omit<ServiceOptions, 'config' | 'logger'> = {},
  { start = true, logger }: { start?: boolean; logger?: ServiceOptions['logger'] } = {},
): Promise<TestService> {
  const dir = mkdtempSync(join(tmpdir(), 'mlservice-test-'));
  const logPath = join(dir, 'predictions.jsonl');
  const config = loadConfig(
    {
      PORT: '0',
      GRPC_PORT: '0',
      HOST: '127.0.0.1',
      WORKERS: '1',
      LOG_LEVEL: 'silent',
      PREDICTION_LOG_PATH: logPath,
      ...env,
    },
    projectRoot,
  );
  const service = await createService({
    config,
    logger: logger ?? pino({ level: 'silent' }),
    ...options,
  });
  if (start) await service.start();
  return {
    service,
    config,
    logPath,
    post: (url, body, headers = {}) =>
      service.app.inject({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/json', ...headers },
        payload: typeof body === 'string' ? body : JSON.stringify(body),
      }),
    get: (url) => service.app.inject({ method: 'GET', url }),
    async close() {
      await service.shutdown();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A response body must never carry a stack trace or a source path. */
export function expectNoStack(body: string): void {
  if (/\n\s+at |\.ts:\d+|\.js:\d+|node_modules/.test(body)) {
    throw new Error(`response leaks internals: ${body.slice(0, 300)}`);
  }
}
