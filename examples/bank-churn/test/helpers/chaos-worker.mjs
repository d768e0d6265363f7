// A test double of the inference worker: the real worker (same session, same warm-up), plus a
// shared gate the tests use to hold model runs (overload) or kill the worker mid-run (crash).
// gate[0]: 0 run normally, 1 hold every run until the mode changes, 2 the next run kills the worker.
// gate[1]: runs currently held.
import { workerData } from 'node:worker_threads';
import handle from '../../src/inference/worker.js';

const gate = new Int32Array(workerData.chaos);

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
