/**
 * The SIGTERM sequence, bounded by `SHUTDOWN_TIMEOUT_MS` from the signal:
 * 1. readiness fails and the listening socket closes (`net.Server#close`: open keep-alive
 *    connections stay, every answer now carries `Connection: close`);
 * 2. in-flight requests finish, idle clients get a moment to leave (gRPC health says NOT_SERVING
 *    meanwhile); then the gRPC server stops taking calls (GOAWAY) and its calls in flight finish;
 * 3. at the deadline whatever is still open is destroyed (a client trickling its body cannot hold
 *    the process), the pools stop and the prediction log is flushed;
 * 4. exit code 0 when everything drained in time, 1 otherwise.
 * The last part of the budget (a fifth, at most 1 s) is kept for flushing the log.
 */
import { Server as NetServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { ServiceState } from '../context.js';
import { type Connections, within } from './connections.js';
import type { Pools } from './pools.js';

export interface ShutdownParts {
  readonly app: FastifyInstance;
  readonly connections: Connections;
  readonly state: ServiceState;
  readonly logger: FastifyBaseLogger;
  readonly timeoutMs: number;
  /** The pools once `start()` settled (undefined when it failed or never ran). */
  readonly pools: () => Promise<Pools | undefined>;
  /** The gRPC listener (GRPC_PORT), drained after the HTTP side. */
  readonly grpc?: { drain(ms: number): Promise<boolean> };
  /** Writes out what the prediction log holds, within `ms`. */
  readonly flushLog: (ms: number) => Promise<void>;
}

/** Runs the sequence; resolves to the exit code. */
export async function shutdown(parts: ShutdownParts): Promise<number> {
  const { app, connections, state, logger, timeoutMs } = parts;
  const deadline = performance.now() + timeoutMs;
  const flushReserve = Math.min(1000, timeoutMs / 5);
  const left = () => Math.max(0, deadline - flushReserve - performance.now());
  state.draining = true;
  logger.info(
    { inflight: connections.inflight, connections: connections.open },
    'SIGTERM: not ready any more, draining',
  );
  // http.Server#close would also drop idle keep-alive sockets, racing with requests the clients
  // are sending on them: close only the listener.
  if (app.server.listening) NetServer.prototype.close.call(app.server);
  let clean = await connections.whenIdle(left());
  // Idle keep-alive clients get a moment to notice the closed listener before their sockets go.
  await connections.whenClosed(Math.min(1000, left()));
  // gRPC clients had the same moment to see NOT_SERVING; now GOAWAY, and the calls in flight
  // finish (cancelled at the deadline).
  if (parts.grpc) clean = (await parts.grpc.drain(left())) && clean;
  const destroyed = connections.destroyAll();
  if (!clean) {
    logger.warn(
      { destroyed, timeoutMs },
      'SHUTDOWN_TIMEOUT_MS passed with requests still open: their connections were destroyed',
    );
  }
  clean = (await within(app.close(), left())) && clean;
  clean = (await closePools(parts, left)) && clean;
  await parts.flushLog(Math.max(flushReserve, deadline - performance.now()));
  logger.info({ clean }, clean ? 'drained; exiting' : 'shutdown deadline passed; exiting');
  return clean ? 0 : 1;
}

/** Waits for a start in progress (its workers are inside onnxruntime), then stops the pools. */
async function closePools(parts: ShutdownParts, left: () => number): Promise<boolean> {
  let pools: Pools | undefined;
  const settled = await within(
    parts.pools().then((p) => (pools = p)),
    left(),
  );
  if (!settled) {
    parts.logger.warn('the inference workers were still loading the model at the deadline');
    return false;
  }
  if (!pools) return true;
  // Shadow work (explanations, the challenger) is dropped: only predictions are drained.
  const explain = pools.explain?.destroy();
  const challenger = pools.challenger?.destroy();
  const closed = await within(pools.predict.close(), left());
  if (!closed) await pools.predict.destroy().catch(() => undefined);
  await explain?.catch(() => undefined);
  await challenger?.catch(() => undefined);
  return closed;
}
