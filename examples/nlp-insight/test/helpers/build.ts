import { copyFile, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const builtDir = join(projectRoot, 'node_modules', '.cache', 'mlservice-test');
/** The built server entry point, as `npm start` runs it. */
export const builtServer = join(builtDir, 'src', 'server.js');
export const builtDriftCli = join(builtDir, 'src', 'cli', 'drift.js');
export const builtMonitorCli = join(builtDir, 'src', 'cli', 'monitor.js');
export const builtModelCheckCli = join(builtDir, 'src', 'cli', 'model-check.js');

export async function buildForTests(): Promise<void> {
  const configFile = ts.readConfigFile(join(projectRoot, 'tsconfig.json'), (p) =>
    ts.sys.readFile(p),
  );
  const { options } = ts.convertCompilerOptionsFromJson(
    configFile.config.compilerOptions,
    projectRoot,
  );
  // Transpiling file by file cannot look up package.json "type": say ESM outright.
  options.module = ts.ModuleKind.ESNext;
  await rm(builtDir, { recursive: true, force: true });
  const src = join(projectRoot, 'src');
  const entries = await readdir(src, { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const file = join(entry.parentPath, entry.name);
    const target = join(builtDir, relative(projectRoot, file));
    await mkdir(dirname(target), { recursive: true });
    if (file.endsWith('.ts') && !file.endsWith('.d.ts')) {
      const out = ts.transpileModule(await readFile(file, 'utf8'), {
        compilerOptions: options,
        fileName: file,
      });
      await writeFile(target.replace(/\.ts$/, '.js'), out.outputText);
    } else if (file.endsWith('.js') || file.endsWith('.proto')) {
      await copyFile(file, target);
    }
  }
  const pkg = JSON.parse(await readFile(join(projectRoot, 'package.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  await writeFile(
    join(builtDir, 'package.json'),
    JSON.stringify({
      name: pkg.name,
      version: pkg.version,
      description: pkg.description,
      type: 'module',
    }),
  );
}
