/**
 * The HTTP application, built without listening so tests can call it in-process.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { contract } from './model/contract.js';

export async function buildApp(): Promise<FastifyInstance> {
  const app = Fastify({ logger: process.env.NODE_ENV !== 'test' });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/model', async () => ({
    name: contract.name,
    version: contract.version,
    task: contract.task,
    sha256: contract.sha256,
    features: contract.features,
    labels: contract.labels,
    threshold: contract.threshold ?? null,
  }));
  return app;
}
