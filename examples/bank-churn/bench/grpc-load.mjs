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
  const clients = await connectedClients(options);
  const metadata = new grpc.Metadata();
  for (const [k, v] of Object.entries(options.metadata ?? {})) metadata.set(k, v);
  const tally = new Tally();
  const began = performance.now();
  const call = callOnce(options, metadata, tally);
  const endAt = began + options.durationSeconds * 1000;
  /** One caller: a call, then the next as soon as it settles, until the time is up. */
  const caller = (/** @type {number} */ k) =>
    new Promise((resolve) => {
      const client = clients[k % clients.length];
      const next = () => (performance.now() >= endAt ? resolve(undefined) : call(client, next));
      next();
    });
  await Promise.all(Array.from({ length: options.connections }, (_, k) => caller(k)));
  for (const c of clients) c.close();
  return tally.result(options, (performance.now() - began) / 1000);
}

/**
 * The clients, each on its own HTTP/2 connection, connected before the measured window starts
 * (so it holds calls, not handshakes).
 * @param {GrpcLoadOptions} options
 * @returns {Promise<any[]>}
 */
async function connectedClients(options) {
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
  await Promise.all(
    clients.map(
      (c) =>
        new Promise((resolve, reject) =>
          c.waitForReady(Date.now() + 10_000, (/** @type {Error | undefined} */ e) =>
            e ? reject(e) : resolve(undefined),
          ),
        ),
    ),
  );
  return clients;
}

/**
 * One ModelInfer call, its outcome counted in `tally`; `then` runs once it settles.
 * @param {GrpcLoadOptions} options @param {grpc.Metadata} metadata @param {Tally} tally
 */
function callOnce(options, metadata, tally) {
  const timeoutMs = (options.timeoutSeconds ?? 10) * 1000;
  return (/** @type {any} */ client, /** @type {() => void} */ then) => {
    const sent = performance.now();
    client.ModelInfer(
      options.request,
      metadata,
      { deadline: Date.now() + timeoutMs },
      (/** @type {grpc.ServiceError | null} */ error) => {
        tally.add(error, performance.now() - sent);
        then();
      },
    );
  };
}

/** Latencies and outcomes of the calls: answered (OK or another status), timed out, failed. */
class Tally {
  /** @type {number[]} */
  all = [];
  /** @type {number[]} */
  ok = [];
  /** @type {Record<string, number>} */
  statusCodes = {};
  errors = 0;
  timeouts = 0;

  /** @param {grpc.ServiceError | null} error @param {number} ms */
  add(error, ms) {
    if (!error) {
      this.all.push(ms);
      this.ok.push(ms);
      this.statusCodes.OK = (this.statusCodes.OK ?? 0) + 1;
    } else if (error.code === grpc.status.DEADLINE_EXCEEDED) {
      this.timeouts += 1;
    } else if (error.metadata?.get('content-type').length > 0) {
      // The server answered with this status.
      this.all.push(ms);
      const name = codeNames[error.code] ?? String(error.code);
      this.statusCodes[name] = (this.statusCodes[name] ?? 0) + 1;
    } else {
      this.errors += 1;
    }
  }

  /**
   * @param {GrpcLoadOptions} options @param {number} seconds the load's wall time
   * @returns {LoadResult}
   */
  result(options, seconds) {
    const requests = this.all.length;
    return {
      connections: options.connections,
      durationSeconds: options.durationSeconds,
      requests,
      requestsPerSecond: Math.round(requests / Math.max(seconds, options.durationSeconds)),
      ok: this.ok.length,
      non2xx: requests - this.ok.length,
      shed: this.statusCodes.UNAVAILABLE ?? 0,
      errors: this.errors,
      timeouts: this.timeouts,
      statusCodes: this.statusCodes,
      latencyMs: summary(this.all),
      okLatencyMs: this.ok.length > 0 ? summary(this.ok) : null,
    };
  }
}
