/**
 * The server as a real child process (`node dist/src/server.js`, from the test build), for what
 * in-process tests cannot show: signals, exit codes, real sockets.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { StartupLog } from '../../src/lifecycle/startup-log.js';
import { builtServer, projectRoot } from './build.js';

export interface RunningServer {
  readonly process: ChildProcess;
  /** http://127.0.0.1:port */
  readonly address: string;
  /** host:port of the gRPC listener (GRPC_PORT, 0 here: an ephemeral port); undefined when off. */
  readonly grpcAddress: string | undefined;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

function launch(
  script: string,
  env: Record<string, string>,
): { child: ChildProcess; output: () => string; exited: RunningServer['exited'] } {
  const child = spawn(process.execPath, [script], {
    cwd: projectRoot,
    env: {
      ...process.env,
      PORT: '0',
      GRPC_PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => text, exited };
}

/**
 * Starts the server and resolves once it logs that every worker is warm (bounded by `timeoutMs`),
 * or, with `until: 'listening'`, once it listens (the workers are still loading the model).
 */
export async function startServer(
  env: Record<string, string> = {},
  timeoutMs = 30_000,
  until: 'ready' | 'listening' = 'ready',
): Promise<RunningServer> {
  const { child, output, exited } = launch(builtServer, env);
  const startup = new StartupLog();
  let grpcAddress: string | undefined;
  const address = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the server did not become ready in ${timeoutMs} ms:\n${output()}`));
    }, timeoutMs);
    child.stdout!.on('data', (d: Buffer) => {
      const state = startup.read(d);
      grpcAddress = state.grpcAddress;
      if (state.address && (until === 'listening' || state.ready)) {
        clearTimeout(timer);
        resolve(state.address);
      }
    });
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code}) before it was ready:\n${output()}`));
    });
  });
  return { process: child, address, grpcAddress, exited, output };
}

/** Runs a script to its end (bounded) and returns its exit code and output. */
export async function runToExit(
  script: string,
  env: Record<string, string> = {},
  args: string[] = [],
  timeoutMs = 30_000,
): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [script, ...args], {
    cwd: projectRoot,
    env: { ...process.env, PORT: '0', GRPC_PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, output };
}
