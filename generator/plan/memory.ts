/**
 * The pod's memory, sized from the model. Every thread that loads the model holds a session of it
 * (the prediction pool and the explanation worker), so a model of a few hundred MB needs more than
 * the 1Gi a small tabular model runs in. The generated `deploy/k8s/config.ts` budgets the same
 * parts (`memoryBudgetMiB`) with the numbers below, which it reads from `deploy/plan.ts`
 * (`runtime.serverMemoryMiB`), and refuses an environment whose budget does not fit (ADR 0020).
 */

/** Nominal MiB of the server's parts besides the model; `explainHeap` is a share of the pod. */
export const serverMemoryMiB = {
  /** The main thread with Fastify and its buffers. */
  process: 128,
  /** One worker thread: a V8 isolate and an onnxruntime session without its weights. */
  worker: 64,
  /** The prediction log's buffer in memory before it is written. */
  predictionLogBuffer: 16,
  /** The explanation worker's heap: a quarter of the pod, within these bounds. */
  explainHeapMin: 16,
  explainHeapMax: 256,
} as const;

/** Memory of a pod when the answers do not say: the smallest that fits a small model. */
export const minimumDefaultMiB = 1024;

/**
 * How many times its file size a session of the model takes, for the default only: onnxruntime
 * keeps repacked copies of some weights (measured: a 77.5 MiB model's first session added about
 * 175 MiB, a second one about 135 MiB). The environment check counts the file size once, a floor.
 */
export const sessionHeadroom = 2;

/** MiB of a Kubernetes memory quantity in Mi or Gi (the answers allow only those). */
export function quantityMiB(quantity: string): number {
  const m = /^(\d+)(Mi|Gi)$/.exec(quantity);
  if (!m) throw new Error(`memory "${quantity}" is not a quantity in Mi or Gi`);
  return Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1);
}

/** `2048` -> `2Gi`, `1536` -> `1536Mi`. */
export function quantityOf(mib: number): string {
  return mib % 1024 === 0 ? `${mib / 1024}Gi` : `${mib}Mi`;
}

/** The explanation heap the generated environments default to for a pod of `podMiB`. */
export function explainHeapMiB(podMiB: number): number {
  const { explainHeapMin, explainHeapMax } = serverMemoryMiB;
  return Math.max(explainHeapMin, Math.min(explainHeapMax, Math.floor(podMiB / 4)));
}

/** The model file as one session holds it, MiB: at least its size. */
export const modelFileMiB = (modelBytes: number) => Math.ceil(modelBytes / 2 ** 20);

/**
 * What the server needs in a pod of `podMiB`, by the generated environment check's own sum: the
 * process, `threads` worker threads each holding the model (`perSession` times its file), the
 * explanation heap and the log buffer.
 */
export function serverNeedsMiB(
  podMiB: number,
  modelBytes: number,
  threads: number,
  perSession = 1,
): number {
  const m = serverMemoryMiB;
  return (
    m.process +
    threads * (m.worker + perSession * modelFileMiB(modelBytes)) +
    explainHeapMiB(podMiB) +
    m.predictionLogBuffer
  );
}

/** Threads that load the model in a new project: the prediction pool and the explanation worker. */
export const modelThreads = (poolSize: number) => poolSize + 1;

/**
 * The memory of a pod when the answers do not give one: at least 1Gi, in steps of 512Mi, enough
 * for every model-loading thread to hold the model `sessionHeadroom` times over.
 */
export function defaultMemory(modelBytes: number, poolSize: number): string {
  const threads = modelThreads(poolSize);
  let pod = minimumDefaultMiB;
  while (serverNeedsMiB(pod, modelBytes, threads, sessionHeadroom) > pod) pod += 512;
  return quantityOf(pod);
}

/**
 * Why a pod of `memory` cannot hold the server and this model by the generated environment
 * check's own floor, or undefined when it can: `create` refuses such an answer before writing a
 * project whose deploy tests would refuse it.
 */
export function memoryTooSmall(
  memory: string,
  modelBytes: number,
  poolSize: number,
): string | undefined {
  const pod = quantityMiB(memory);
  const threads = modelThreads(poolSize);
  const needs = serverNeedsMiB(pod, modelBytes, threads);
  if (needs <= pod) return undefined;
  return `--memory ${memory} cannot hold this model: the server needs at least ${needs} MiB (${threads} threads each holding the ${modelFileMiB(modelBytes)} MiB model, the process, the explanation heap and the log buffer); pass --memory ${defaultMemory(modelBytes, poolSize)} or more, or leave --memory out to size the pod from the model`;
}
