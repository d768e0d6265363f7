import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { contract } from '../src/model/contract.js';

const app = await buildApp();
afterAll(() => app.close());

describe('service', () => {
  it('is live', async () => {
    const res = await app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('describes the model it serves', async () => {
    const res = await app.inject({ method: 'GET', url: '/model' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ name: contract.name, version: contract.version, task: contract.task });
    expect(res.json().features.map((f: { name: string }) => f.name)).toEqual(contract.features.map((f) => f.name));
  });
});
