// The ceiling of the machine: a bare Fastify route answering constant JSON. Started by
// compare.mjs with the Fastify of the generated service (FASTIFY = path to its fastify package).
const { default: Fastify } = await import(process.env.FASTIFY);
const app = Fastify({ logger: false });
app.get('/', async () => ({ hello: 'world' }));
const address = await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`${JSON.stringify({ address })}\n`);
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
