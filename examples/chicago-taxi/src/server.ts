/**
 * The service's entry point (`npm start`): exactly one Fastify server process per pod, never a
 * cluster or a process manager (the pod is the unit of scale; inference runs in worker threads).
 *
 * Start: configuration (exit 1 naming a bad variable) -> model and artifacts (exit 1 if missing or
 * corrupt) -> listen (/healthz 200, /readyz 503) -> warm every worker (exit 1 naming the model file
 * and the cause if one cannot load it, whatever WORKERS is) -> ready.
 * SIGTERM/SIGINT: readiness fails, open connections drain, the prediction log is flushed, exit 0;
 * past SHUTDOWN_TIMEOUT_MS what is still open is destroyed and the exit code is 1. SIGTERM during
 * the warm-up waits for the workers to finish loading (bounded by the same deadline), then exits.
 */
import pino from 'pino';
import { ConfigError, loadConfig } from './config.js';
import { ModelLoadError } from './model/artifacts.js';
import { createService } from './service.js';

/** Past the shutdown deadline, a step that still hangs gets this long before the process exits anyway. */
const lastResortMs = 1000;

function fail(message: string, logger?: pino.Logger): never {
  logger?.fatal(message);
  process.stderr.write(`mlservice: ${message}\n`);
  process.exit(1);
}

let config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) fail(`invalid configuration: ${error.message}`);
  throw error;
}
const logger = pino({ level: config.logLevel, base: { service: 'mlservice' } });

process.on('unhandledRejection', (reason) =>
  logger.error({ err: reason }, 'unhandled promise rejection'),
);
process.on('uncaughtException', (error) =>
  fail(`uncaught exception: ${error.stack ?? error.message}`, logger),
);

let service;
try {
  service = await createService({ config, logger });
} catch (error) {
  if (error instanceof ModelLoadError) fail(error.message, logger);
  if (error instanceof ConfigError) fail(`invalid configuration: ${error.message}`, logger);
  throw error;
}

let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  setTimeout(() => {
    fail(`the shutdown did not finish within SHUTDOWN_TIMEOUT_MS (${config.shutdownTimeoutMs} ms)`);
  }, config.shutdownTimeoutMs + lastResortMs).unref();
  void service.shutdown().then((code) => process.exit(code));
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));

try {
  const address = await service.listen();
  const metricsAddress = service.metricsAddress();
  const grpcAddress = service.grpcAddress();
  logger.info(
    {
      address,
      ...(metricsAddress ? { metricsAddress } : {}),
      ...(grpcAddress ? { grpcAddress } : {}),
    },
    `listening on ${address}${metricsAddress ? ` (metrics on ${metricsAddress})` : ''}${grpcAddress ? ` (gRPC on ${grpcAddress})` : ''}`,
  );
} catch (error) {
  fail(
    `cannot listen on ${config.host}:${config.port}${config.metricsPort === null ? '' : ` and METRICS_PORT ${config.metricsPort}`}${config.grpcPort === null ? '' : ` and GRPC_PORT ${config.grpcPort}`}: ${(error as Error).message}`,
    logger,
  );
}
try {
  await service.start();
} catch (error) {
  // A signal during the warm-up: the shutdown owns the exit.
  if (!stopping) {
    fail(
      error instanceof ModelLoadError ? error.message : `cannot start: ${(error as Error).message}`,
      logger,
    );
  }
}
