// @ts-check
/**
 * The load generator of `npm run bench` (and of the repository's side-by-side benchmark):
 * autocannon against a real server on 127.0.0.1, bounded in time, with latencies recorded per
 * response so accepted requests and shed ones (503) are measured apart.
 */
import autocannon from 'autocannon';

/**
 * @typedef {{ url: string, connections: number, durationSeconds: number, method?: string,
 *   body?: string | Buffer, headers?: Record<string, string>, timeoutSeconds?: number,
 *   onHeaders?: (statusCode: number, headers: Record<string, string>) => void }} LoadOptions
 *   `onHeaders` sees each response's status and headers (names in lower case).
 * @typedef {{ connections: number, durationSeconds: number, requests: number, requestsPerSecond: number,
 *   ok: number, non2xx: number, shed: number, errors: number, timeouts: number, statusCodes: Record<string, number>,
 *   latencyMs: { p50: number, p90: number, p99: number, max: number },
 *   okLatencyMs: { p50: number, p90: number, p99: number, max: number } | null }} LoadResult
 */

/** @param {number[]} sorted @param {number} q */
function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return /** @type {number} */ (sorted[i]);
}

/** @param {number[]} values p50, p90, p99 and max of latencies (ms) */
export function summary(values) {
  const sorted = Float64Array.from(values).sort();
  const arr = Array.from(sorted);
  const r = (/** @type {number} */ x) => Math.round(x * 1000) / 1000;
  return {
    p50: r(quantile(arr, 0.5)),
    p90: r(quantile(arr, 0.9)),
    p99: r(quantile(arr, 0.99)),
    max: r(arr[arr.length - 1] ?? NaN),
  };
}

/**
 * Runs one load test and resolves with its numbers.
 * @param {LoadOptions} options
 * @returns {Promise<LoadResult>}
 */
export function load(options) {
  /** @type {number[]} */
  const all = [];
  /** @type {number[]} */
  const ok = [];
  /** @type {Record<string, number>} */
  const statusCodes = {};
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        duration: options.durationSeconds,
        method: /** @type {any} */ (options.method ?? 'GET'),
        ...(options.body !== undefined ? { body: options.body } : {}),
        headers: options.headers ?? {},
        timeout: options.timeoutSeconds ?? 10,
        ...(options.onHeaders ? { setupClient: headersOf(options.onHeaders) } : {}),
      },
      (error, result) => {
        if (error) return reject(error);
        const requests = all.length;
        const shed = statusCodes['503'] ?? 0;
        resolve({
          connections: options.connections,
          durationSeconds: options.durationSeconds,
          requests,
          requestsPerSecond: Math.round(requests / options.durationSeconds),
          ok: ok.length,
          non2xx: requests - ok.length,
          shed,
          errors: result.errors,
          timeouts: result.timeouts,
          statusCodes,
          latencyMs: summary(all),
          okLatencyMs: ok.length > 0 ? summary(ok) : null,
        });
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      all.push(responseTime);
      statusCodes[statusCode] = (statusCodes[statusCode] ?? 0) + 1;
      if (statusCode >= 200 && statusCode < 300) ok.push(responseTime);
    });
  });
}

/**
 * An autocannon `setupClient` that reports each response's headers (the client's `headers` event
 * carries the parser's raw list: name, value, name, value...).
 * @param {(statusCode: number, headers: Record<string, string>) => void} onHeaders
 */
function headersOf(onHeaders) {
  return (/** @type {import('node:events').EventEmitter} */ client) => {
    client.on('headers', (/** @type {{ statusCode: number, headers: string[] }} */ info) => {
      /** @type {Record<string, string>} */
      const headers = {};
      for (let i = 0; i + 1 < info.headers.length; i += 2)
        headers[String(info.headers[i]).toLowerCase()] = String(info.headers[i + 1]);
      onHeaders(info.statusCode, headers);
    });
  };
}

/** @param {LoadResult} r */
export function describe(r) {
  const okLatency = r.okLatencyMs
    ? `, accepted p50 ${r.okLatencyMs.p50} ms p99 ${r.okLatencyMs.p99} ms`
    : '';
  return `${r.connections} connections: ${r.requestsPerSecond} req/s, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, non-2xx ${r.non2xx} (503: ${r.shed}), errors ${r.errors}${okLatency}`;
}
