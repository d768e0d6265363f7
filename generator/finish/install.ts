import { spawn } from 'node:child_process';

/** `npm install` in the new project; resolves with the exit code and the tail of its output. */
export function npmInstall(dir: string): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.platform === 'win32' ? 'npm.cmd' : 'npm',
      ['install', '--no-audit', '--no-fund'],
      {
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe'],
        // npm < 11.16 ignores package.json allowScripts: the variable keeps onnxruntime-node's
        // install script from downloading CUDA binaries the CPU service never uses.
        env: {
          ...process.env,
          ONNXRUNTIME_NODE_INSTALL: process.env.ONNXRUNTIME_NODE_INSTALL ?? 'skip',
          npm_config_loglevel: 'error',
        },
      },
    );
    let output = '';
    const keep = (d: Buffer) => {
      output = (output + d.toString()).slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (err) => resolve({ ok: false, output: err.message }));
    child.on('close', (code) => resolve({ ok: code === 0, output }));
  });
}
