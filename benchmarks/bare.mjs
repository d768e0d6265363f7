// The ceilings of the machine, started by compare.mjs with the Fastify of the generated service
// (FASTIFY = path to its fastify package): GET / answers constant JSON; POST / lets Fastify parse
// the JSON body it is sent (the service's own body limit is larger than any bench body), then
// answers the same constant.
const { default: Fastify } = await import(process.env.FASTIFY);
const app = Fastify({ logger: false, bodyLimit: 64 * 1024 * 1024 });
app.get('/', async () => ({ hello: 'world' }));
app.post('/', async () => ({ hello: 'world' }));
const address = await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`${JSON.stringify({ address })}\n`);
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
