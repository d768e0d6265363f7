import { fileURLToPath } from 'node:url';

// Node has Atomics.waitAsync; the ES2022 lib typings do not.
const waitAsync = (
  Atomics as unknown as {
    waitAsync(
      a: Int32Array,
      index: number,
      value: number,
      timeout: number,
    ): { async: boolean; value: Promise<string> | string };
  }
).waitAsync;

export const chaosWorkerFile = fileURLToPath(new URL('./chaos-worker.mjs', import.meta.url));

/** Controls the chaos worker from the test. */
export class Chaos {
  readonly buffer = new SharedArrayBuffer(16);
  private readonly gate = new Int32Array(this.buffer);

  get workerData(): Record<string, unknown> {
    return { chaos: this.buffer };
  }

  hold(): void {
    Atomics.store(this.gate, 0, 1);
  }

  release(): void {
    Atomics.store(this.gate, 0, 0);
    Atomics.notify(this.gate, 0);
  }

  /** The run being held (or the next run) kills its worker. */
  crash(): void {
    Atomics.store(this.gate, 0, 2);
    Atomics.notify(this.gate, 0);
  }

  /** Workers starting from now on fail to load the model (until `allowLoads`). */
  failLoads(): void {
    Atomics.store(this.gate, 2, 1);
  }

  allowLoads(): void {
    Atomics.store(this.gate, 2, 0);
  }

  get held(): number {
    return Atomics.load(this.gate, 1);
  }

  /** Resolves once `count` runs are held (bounded: rejects after `timeoutMs`). */
  async waitHeld(count: number, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const current = Atomics.load(this.gate, 1);
      if (current >= count) return;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`only ${current} of ${count} model runs are held`);
      const wait = waitAsync(this.gate, 1, current, left);
      if (wait.async) await wait.value;
    }
  }
}
