// A test double of the inference worker: the real worker (same session, same warm-up), plus a
// shared gate the tests use to hold model runs (overload), kill the worker mid-run (crash) or make
// new workers fail to load the model (a replacement that cannot start).
// gate[0]: 0 run normally, 1 hold every run until the mode changes, 2 the next run kills the worker.
// gate[1]: runs currently held.
// gate[2]: 1 a worker starting now fails to load the model.
import { parentPort, threadId, workerData } from 'node:worker_threads';

const gate = new Int32Array(workerData.chaos);

if (Atomics.load(gate, 2) === 1) {
  const message = `cannot load the model ${workerData.modelPath}: chaos: the file is gone`;
  parentPort?.postMessage({ type: 'mlservice:fatal', message, threadId });
  throw new Error(message);
}
const { default: handle } = await import('../../src/inference/worker.js');

export default function chaos(task) {
  if (task.op === 'run' || task.op === 'tensors') {
    if (Atomics.load(gate, 0) === 1) {
      Atomics.add(gate, 1, 1);
      Atomics.notify(gate, 1);
      while (Atomics.load(gate, 0) === 1) Atomics.wait(gate, 0, 1);
      Atomics.sub(gate, 1, 1);
      Atomics.notify(gate, 1);
    }
    if (Atomics.compareExchange(gate, 0, 2, 0) === 2) process.exit(3);
  }
  return handle(task);
}
