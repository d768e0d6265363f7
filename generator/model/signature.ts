/**
 * onnxruntime-node's view of a graph: its inputs and outputs as the runtime will serve them, and
 * model runs at generation time (rewrite proofs, smoke runs). Load failures become one-line
 * UserErrors that name the problem and the fix, never a raw C++ message alone.
 */
import { UserError } from '../errors.js';
import type { TensorInfo } from './contract.js';

type Ort = typeof import('onnxruntime-node');
export type Session = Awaited<ReturnType<Ort['InferenceSession']['create']>>;
export type OrtTensor = InstanceType<Ort['Tensor']>;

let ortModule: Promise<Ort> | undefined;
/** Imported lazily: loading the native binding is the slowest step of a run. */
export function ort(): Promise<Ort> {
  ortModule ??= import('onnxruntime-node');
  return ortModule;
}

/** Translates onnxruntime's load errors into what the user can do about them. */
export function explainLoadError(path: string, err: unknown): UserError {
  const raw = withoutSourceLocation(
    String((err as Error)?.message ?? err)
      .replace(/^Load model from .*? failed:/, '')
      .trim(),
  );
  const firstLine = raw.split('\n')[0]!.slice(0, 300);
  const opset =
    /Opset (\d+) is under development[\s\S]*?support for domain (\S+) is till opset (\d+)/.exec(
      raw,
    );
  if (opset) {
    return new UserError(
      `${path}: the graph uses opset ${opset[1]} of ${opset[2]}, newer than onnxruntime-node supports (up to ${opset[3]}): re-export with opset ${opset[3]} or lower (torch.onnx.export(..., opset_version=${opset[3]}), skl2onnx target_opset=${opset[3]}, tf2onnx --opset ${opset[3]})`,
    );
  }
  const ir = /Unsupported model IR version: (\d+), max supported IR version: (\d+)/.exec(raw);
  if (ir) {
    return new UserError(
      `${path}: the file is ONNX IR version ${ir[1]}, newer than onnxruntime-node reads (up to ${ir[2]}): re-export with an onnx package that writes IR version ${ir[2]} or lower`,
    );
  }
  const missingOp =
    /Could not find an implementation for (\w+)\((\d+)\) node with name '([^']*)'/.exec(raw);
  if (missingOp) {
    return new UserError(
      `${path}: onnxruntime-node has no kernel for ${missingOp[1]} (opset ${missingOp[2]}, node "${missingOp[3]}"): re-export with a supported opset/element type, or replace the operator`,
    );
  }
  const unknownOp = /No Op registered for (\w+) with domain_version of (\d+)/.exec(raw);
  if (unknownOp) {
    return new UserError(
      `${path}: operator ${unknownOp[1]} (domain version ${unknownOp[2]}) is unknown to onnxruntime-node: re-export with standard ONNX operators`,
    );
  }
  if (/locale::facet|_S_create_c_locale|locale/i.test(raw)) {
    return new UserError(
      `${path}: a StringNormalizer names a locale this machine does not have (${firstLine}): give it locale "C.UTF-8" or install the locale`,
    );
  }
  return new UserError(`${path} is not a loadable ONNX model: ${firstLine}`);
}

const sessionOptions = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  // As the service runs it: a probe that passes here passes there.
  graphOptimizationLevel: 'all',
  // Fatal only: the probes below try shapes that are expected to fail.
  logSeverityLevel: 4,
} as const;

/** onnxruntime's messages start with its source file and a C++ signature: the sentence follows. */
function withoutSourceLocation(message: string): string {
  const location = /^\/?onnxruntime_src\/\S+:\d+ /.exec(message);
  if (!location) return message;
  const rest = message.slice(location[0].length);
  const sentence = rest.search(/\) [A-Z]/);
  return sentence >= 0 ? rest.slice(sentence + 2) : rest;
}

export async function openSession(bytes: Uint8Array, path: string): Promise<Session> {
  const { InferenceSession } = await ort();
  try {
    return await InferenceSession.create(bytes, sessionOptions);
  } catch (err) {
    throw explainLoadError(path, err);
  }
}

/** The file as onnxruntime opens it by path: external data is read from beside it. */
export async function openSessionAt(path: string): Promise<Session> {
  const { InferenceSession } = await ort();
  try {
    return await InferenceSession.create(path, sessionOptions);
  } catch (err) {
    throw explainLoadError(path, err);
  }
}

export interface Signature {
  readonly inputs: TensorInfo[];
  readonly outputs: TensorInfo[];
}

export function signatureOf(session: Session): Signature {
  const toInfo = (m: (typeof session.inputMetadata)[number]): TensorInfo => {
    if (!m.isTensor) return { name: m.name, type: 'non-tensor', shape: [] };
    return { name: m.name, type: m.type, shape: m.shape.map((d) => (d === -1 ? '' : d)) };
  };
  return {
    inputs: session.inputMetadata.map(toInfo),
    outputs: session.outputMetadata.map(toInfo),
  };
}

/** Reads the graph's signature. Any failure is a UserError that names the file. */
export async function readSignature(bytes: Uint8Array, path: string): Promise<Signature> {
  const session = await openSession(bytes, path);
  try {
    return signatureOf(session);
  } finally {
    await session.release();
  }
}
