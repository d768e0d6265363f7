/**
 * METRICS_PORT: a second listener on the same host that serves `GET /metrics` and nothing else, so
 * Prometheus scrapes without a credential while the main port stays behind authentication (and a
 * NetworkPolicy can let the monitoring namespace reach this port only).
 */
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MetricsListener {
  /** Listens; resolves to `http://host:port`. */
  listen(port: number, host: string): Promise<string>;
  close(): Promise<void>;
}

export function metricsListener(
  render: () => Promise<{ contentType: string; body: string }>,
): MetricsListener {
  let counter = 0;
  const server: Server = createServer((request, response) => {
    counter += 1;
    const requestId = `metrics-${counter}`;
    const path = (request.url ?? '/').split('?')[0];
    const answer = (status: number, type: string, body: string) => {
      response.writeHead(status, {
        'content-type': type,
        'x-content-type-options': 'nosniff',
        'cache-control': 'no-store',
      });
      response.end(body);
    };
    if (path !== '/metrics' || (request.method !== 'GET' && request.method !== 'HEAD')) {
      const error = `no route ${request.method ?? ''} ${path} on the metrics port: only GET /metrics`;
      answer(404, 'application/json; charset=utf-8', JSON.stringify({ error, requestId }));
      return;
    }
    render().then(
      ({ contentType, body }) => answer(200, contentType, body),
      () =>
        answer(
          500,
          'application/json; charset=utf-8',
          JSON.stringify({ error: 'internal error', requestId }),
        ),
    );
  });
  server.keepAliveTimeout = 72_000;
  return {
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          const { address, port: bound } = server.address() as AddressInfo;
          resolve(`http://${address.includes(':') ? `[${address}]` : address}:${bound}`);
        });
      }),
    close: () =>
      new Promise((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
