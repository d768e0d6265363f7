/**
 * Before the tests: compile src/ (transpile only, a second or two) to node_modules/.cache/mlservice-test
 * so the tests that run the server as a real child process (SIGTERM, start-up failures, the drift
 * CLI) run exactly the JavaScript that `npm run build` produces, without waiting for a full type
 * check (`npm run typecheck` does that).
 */
import { buildForTests } from './helpers/build.js';

export default async function setup(): Promise<void> {
  await buildForTests();
}
