// @ts-check
/**
 * A closed-loop gRPC load generator (as ghz runs one) for ModelInfer on the service's GRPC_PORT:
 * `connections` unary calls always in flight, spread over a few channels (HTTP/2 connections,
 * each with its own subchannel), for `durationSeconds`. Its result has the shape of `load.mjs`'s
 * `load()`, so the two protocols are compared with the same numbers (and `describe()` prints it):
 * `ok` counts OK answers, `non2xx` every other status the server answered (`statusCodes` by gRPC
 * code name, `shed` the UNAVAILABLE ones), `timeouts` calls past their deadline
 * (`timeoutSeconds`), `errors` calls that failed without an answer (connection refused or reset).
 */
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { summary } from './load.mjs';

const protoDir = fileURLToPath(new URL('../src/grpc/', import.meta.url));

/**
 * @typedef {{ address: string, request: Record<string, unknown>, connections: number,
 *   durationSeconds: number, channels?: number, timeoutSeconds?: number,
 *   metadata?: Record<string, string> }} GrpcLoadOptions
 *   `address` is host:port; `request` a ModelInferRequest (field names as in the .proto file).
 * @typedef {import('./load.mjs').LoadResult} LoadResult
 */

/** The inference service's client constructor, from the service's own .proto file. */
function inferenceClient() {
  const definition = protoLoader.loadSync(`${protoDir}grpc_predict_v2.proto`, {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const root = /** @type {any} */ (grpc.loadPackageDefinition(definition));
  return /** @type {grpc.ServiceClientConstructor} */ (root.inference.GRPCInferenceService);
}

/** gRPC status code -> its name (`OK`, `UNAVAILABLE`, ...). */
const codeNames = /** @type {Record<number, string>} */ (
  Object.fromEntries(Object.entries(grpc.status).map(([name, code]) => [code, name]))
);

/**
 * Runs one closed-loop load test of ModelInfer and resolves with its numbers.
 * @param {GrpcLoadOptions} options
 * @returns {Promise<LoadResult>}
 */
export async function loadGrpc(options) {
  const Client = inferenceClient();
  const channelCount = Math.max(1, Math.min(options.channels ?? 4, options.connections));
  const clients = Array.from(
    { length: channelCount },
    () =>
      new Client(options.address, grpc.credentials.createInsecure(), {
        // One HTTP/2 connection per client: without it grpc-js shares one subchannel among them.
        'grpc.use_local_subchannel_pool': 1,
        'grpc.max_receive_message_length': -1,
        'grpc.max_send_message_length': -1,
      }),
  );
  const metadata = new grpc.Metadata();
  for (const [k, v] of Object.entries(options.metadata ?? {})) metadata.set(k, v);
  const timeoutMs = (options.timeoutSeconds ?? 10) * 1000;
  // Connect first, so the measured window holds calls, not handshakes.
  await Promise.all(
    clients.map(
      (c) =>
        new Promise((resolve, reject) =>
          c.waitForReady(Date.now() + 10_000, (e) => (e ? reject(e) : resolve(undefined))),
        ),
    ),
  );

  /** @type {number[]} */
  const all = [];
  /** @type {number[]} */
  const ok = [];
  /** @type {Record<string, number>} */
  const statusCodes = {};
  let errors = 0;
  let timeouts = 0;
  const began = performance.now();
  const endAt = began + options.durationSeconds * 1000;

  /** One caller: a call, then the next as soon as it settles, until the time is up. */
  const caller = (/** @type {number} */ k) =>
    new Promise((resolve) => {
      const client = /** @type {any} */ (clients[k % clients.length]);
      const next = () => {
        if (performance.now() >= endAt) return resolve(undefined);
        const sent = performance.now();
        client.ModelInfer(
          options.request,
          metadata,
          { deadline: Date.now() + timeoutMs },
          (/** @type {grpc.ServiceError | null} */ error) => {
            const ms = performance.now() - sent;
            if (!error) {
              all.push(ms);
              ok.push(ms);
              statusCodes.OK = (statusCodes.OK ?? 0) + 1;
            } else if (error.code === grpc.status.DEADLINE_EXCEEDED) {
              timeouts += 1;
            } else if (error.metadata?.get('content-type').length > 0) {
              // The server answered with this status.
              all.push(ms);
              const name = codeNames[error.code] ?? String(error.code);
              statusCodes[name] = (statusCodes[name] ?? 0) + 1;
            } else {
              errors += 1;
            }
            next();
          },
        );
      };
      next();
    });
  await Promise.all(Array.from({ length: options.connections }, (_, k) => caller(k)));
  for (const c of clients) c.close();
  const seconds = (performance.now() - began) / 1000;
  const requests = all.length;
  return {
    connections: options.connections,
    durationSeconds: options.durationSeconds,
    requests,
    requestsPerSecond: Math.round(requests / Math.max(seconds, options.durationSeconds)),
    ok: ok.length,
    non2xx: requests - ok.length,
    shed: statusCodes.UNAVAILABLE ?? 0,
    errors,
    timeouts,
    statusCodes,
    latencyMs: summary(all),
    okLatencyMs: ok.length > 0 ? summary(ok) : null,
  };
}
