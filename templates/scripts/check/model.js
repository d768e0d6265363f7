/**
 * The project model the policies read: the synthesized Kubernetes manifests and Terraform JSON (by
 * the project's own `synth:k8s` / `synth:infra` scripts), package.json with its lockfile, the
 * import graph of src/, the Dockerfile, the workflows, and every file's state against
 * `.mlops-service/manifest.json`.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { LineCounter, parseAllDocuments, parse } from 'yaml';
import { location } from './evaluate.js';
import { parseDockerfile, parseImports, parseWorkflow } from './parse.js';

/** @typedef {import('./types.js').ProjectModel} ProjectModel */
/** @typedef {import('./types.js').K8sEnvironment} K8sEnvironment */
/** @typedef {import('./types.js').TerraformStack} TerraformStack */

export const k8sOut = 'deploy/k8s/dist';
export const infraOut = 'deploy/infra/cdktf.out/stacks';

/**
 * The objects of one synthesized file, each remembering where it is (for the report).
 * @param {string} root
 * @param {string} file
 */
function objectsOf(root, file) {
  const text = readFileSync(join(root, file), 'utf8');
  const counter = new LineCounter();
  return parseAllDocuments(text, { lineCounter: counter })
    .filter((d) => d.contents !== null)
    .map((d) => {
      const o = d.toJS();
      const start = d.contents?.range?.[0] ?? 0;
      Object.defineProperty(o, location, {
        value: {
          file,
          line: counter.linePos(start).line,
          object: `${o.kind}/${o.metadata?.name ?? '?'}`,
        },
        enumerable: false,
      });
      return o;
    });
}

/** Directories never walked: dependencies, builds, synthesized output, VCS. */
const skipDirs = new Set([
  'node_modules',
  '.git',
  'dist',
  'cdktf.out',
  'coverage',
  '.turbo',
  'logs',
]);

/**
 * What to do for the synthesized parts: `synth` runs the project's script and reads its output,
 * `read` reads the output of the last synthesis if there is one, `skip` leaves the part out (its
 * policies are reported as not evaluated).
 * @typedef {'synth' | 'read' | 'skip'} SynthMode
 * @typedef {{ k8s?: SynthMode, infra?: SynthMode }} ModelOptions
 */

/**
 * Runs `npm run <script>` in the project; resolves with its output, rejects with it on failure.
 * @param {string} root
 * @param {string} script
 */
function runScript(root, script) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('npm', ['run', '--silent', script], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FORCE_COLOR: '0' },
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolvePromise(out) : reject(new Error(`npm run ${script} failed:\n${out}`)),
    );
  });
}

/** @param {string} root @returns {Record<string, string>} */
function scriptsOf(root) {
  try {
    return JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts ?? {};
  } catch {
    return {};
  }
}

/**
 * Builds the model. By default it runs every synthesis the project has (`synth:k8s`,
 * `synth:infra`), in parallel.
 * @param {string} root
 * @param {ModelOptions} [options]
 * @returns {Promise<ProjectModel>}
 */
export async function buildModel(root, options = {}) {
  const scripts = scriptsOf(root);
  /** @type {string[]} */
  const notes = [];
  const parts = /** @type {const} */ ([
    { key: 'k8s', script: 'synth:k8s', out: k8sOut, what: 'Kubernetes manifests' },
    { key: 'infra', script: 'synth:infra', out: infraOut, what: 'Terraform stacks' },
  ]);
  /** @type {Record<string, boolean>} */
  const use = {};
  await Promise.all(
    parts.map(async (p) => {
      const mode = options[p.key] ?? 'synth';
      if (!(p.script in scripts)) return;
      if (mode === 'synth') await runScript(root, p.script);
      use[p.key] = mode === 'synth' || (mode === 'read' && existsSync(join(root, p.out)));
      if (mode === 'read' && use[p.key])
        notes.push(`${p.what} read from ${p.out} (the last npm run ${p.script})`);
      if (!use[p.key]) notes.push(`${p.what} not synthesized: their policies were not evaluated`);
    }),
  );
  const manifests = use.k8s ? readManifests(root) : null;
  const terraform = use.infra ? readTerraform(root) : null;

  return {
    root,
    manifests,
    terraform,
    source: await readSource(root),
    packageJson: readPackage(root),
    dockerfile: readDockerfile(root),
    workflows: readWorkflows(root),
    files: readFiles(root),
    models: readModels(root),
    notes,
  };
}

/** @param {string} text @param {number} offset */
function lineAt(text, offset) {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/**
 * Every environment under deploy/k8s/dist: its objects (each with its line), and the images of its
 * kustomization applied as CI applies them, so that the service image CI pins counts as pinned.
 * @param {string} root
 * @returns {K8sEnvironment[]}
 */
export function readManifests(root) {
  const dir = join(root, k8sOut);
  const ids = existsSync(dir)
    ? readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
        .map((e) => e.name)
        .sort()
    : [];
  return ids
    .filter((id) => existsSync(join(dir, id, 'manifests.yaml')))
    .map((id) => {
      // The deploy identity's part and the cluster admin's (cluster/): one environment.
      const objects = [`${k8sOut}/${id}/manifests.yaml`, `${k8sOut}/${id}/cluster/manifests.yaml`]
        .filter((file) => existsSync(join(root, file)))
        .flatMap((file) => objectsOf(root, file));
      const kfile = join(dir, id, 'kustomization.yaml');
      const kustomization = existsSync(kfile) ? parse(readFileSync(kfile, 'utf8')) : { images: [] };
      const parts = id.split('-');
      const stage = parts[parts.length - 1] ?? '';
      return {
        id,
        stage,
        cloud: parts.length > 1 ? (parts[0] ?? '') : '',
        file: `${k8sOut}/${id}/manifests.yaml`,
        objects: objects.map((o) => pinImages(o, kustomization?.images ?? [])),
        kustomization,
      };
    });
}

/** A placeholder digest for "CI pins this image": well-formed, and plainly not a real one. */
export const ciPinned = `sha256:${'0'.repeat(64)}`;

/**
 * What `kustomize build` does with the kustomization's `images:` (the entry CI fills in with `edit
 * set image`): an image with neither tag nor digest named there gets the entry's digest, or is
 * treated as pinned by CI when the entry has none yet. A tag stays a tag.
 * @param {any} object
 * @param {Array<{ name: string, newName?: string, newTag?: string, digest?: string }>} images
 */
export function pinImages(object, images) {
  const loc = object[location];
  /** @param {any} node @returns {any} */
  const visit = (node) => {
    if (Array.isArray(node)) return node.map(visit);
    if (node === null || typeof node !== 'object') return node;
    /** @type {Record<string, any>} */
    const out = {};
    for (const [k, v] of Object.entries(node)) out[k] = visit(v);
    if (typeof node.image === 'string' && typeof node.name === 'string') {
      const entry = images.find((e) => e.name === node.image);
      if (entry) {
        const name = entry.newName ?? entry.name;
        out.image = entry.newTag
          ? `${name}:${entry.newTag}`
          : `${name}@${entry.digest ?? ciPinned}`;
      }
    }
    return out;
  };
  const pinned = visit(object);
  if (loc) Object.defineProperty(pinned, location, { value: loc, enumerable: false });
  return pinned;
}

/**
 * Every stack under deploy/infra/cdktf.out: backend and resources (with the addresses they reference).
 * @param {string} root
 * @returns {TerraformStack[]}
 */
export function readTerraform(root) {
  const dir = join(root, infraOut);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, 'cdk.tf.json')))
    .map((e) => e.name)
    .sort()
    .map((name) => {
      const file = `${infraOut}/${name}/cdk.tf.json`;
      const text = readFileSync(join(root, file), 'utf8');
      return terraformStack(name, file, JSON.parse(text), text);
    });
}

/**
 * @param {string} name
 * @param {string} file
 * @param {any} json
 * @param {string} [text] the file's text, for line numbers
 * @returns {TerraformStack}
 */
export function terraformStack(name, file, json, text = '') {
  const backends = Object.entries(json?.terraform?.backend ?? {});
  const [type, config] = backends[0] ?? ['', {}];
  /** @type {TerraformStack['resources']} */
  const resources = [];
  for (const [rtype, byName] of Object.entries(json?.resource ?? {})) {
    for (const [rname, raw] of Object.entries(/** @type {Record<string, any>} */ (byName))) {
      const values = { ...raw };
      delete values['//'];
      const refs = new Set();
      for (const m of JSON.stringify(values).matchAll(/\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)/g)) {
        refs.add(`${m[1]}.${m[2]}`);
      }
      const address = `${rtype}.${rname}`;
      const typeAt = text.indexOf(`"${rtype}"`);
      const at = typeAt >= 0 ? text.indexOf(`"${rname}"`, typeAt) : -1;
      const r = { type: rtype, name: rname, address, values, refs: [...refs] };
      Object.defineProperty(r, location, {
        value: { file, ...(at >= 0 ? { line: lineAt(text, at) } : {}), object: address },
        enumerable: false,
      });
      resources.push(r);
    }
  }
  const parts = name.split('-');
  return { name, stage: parts[parts.length - 1] ?? '', file, backend: { type, config }, resources };
}

/**
 * @param {string} root
 * @param {string} dir project-relative
 * @param {(path: string) => boolean} keep
 * @returns {string[]} project-relative POSIX paths
 */
function walk(root, dir, keep) {
  /** @type {string[]} */
  const out = [];
  const full = join(root, dir);
  if (!existsSync(full)) return out;
  for (const e of readdirSync(full, { withFileTypes: true })) {
    const rel = dir === '' ? e.name : `${dir}/${e.name}`;
    if (e.isDirectory()) {
      if (!skipDirs.has(e.name)) out.push(...walk(root, rel, keep));
    } else if (e.isFile() && keep(rel)) out.push(rel);
  }
  return out.sort();
}

/**
 * The import graph of src/.
 * @param {string} root
 */
export async function readSource(root) {
  const paths = walk(
    root,
    'src',
    (p) => /\.(ts|mts|cts|js|mjs|cjs)$/.test(p) && !p.endsWith('.d.ts'),
  );
  if (paths.length === 0) return { files: [] };
  const ts = /** @type {typeof import('typescript')} */ ((await import('typescript')).default);
  const exists = (/** @type {string} */ p) => existsSync(join(root, p));
  return {
    files: paths.map((p) => parseImports(ts, p, readFileSync(join(root, p), 'utf8'), exists)),
  };
}

/**
 * @param {string} root
 * @returns {import('./types.js').PackageModel | null}
 */
export function readPackage(root) {
  if (!existsSync(join(root, 'package.json'))) return null;
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const lockPath = join(root, 'package-lock.json');
  /** @type {Record<string, string>} */
  const packages = {};
  if (existsSync(lockPath)) {
    const lock = JSON.parse(readFileSync(lockPath, 'utf8'));
    for (const [key, value] of Object.entries(lock.packages ?? {})) {
      const m = /^node_modules\/((?:@[^/]+\/)?[^/]+)$/.exec(key);
      if (m && m[1] && typeof (/** @type {any} */ (value).version) === 'string')
        packages[m[1]] = /** @type {any} */ (value).version;
    }
  }
  return {
    file: 'package.json',
    name: String(pkg.name ?? ''),
    dependencies: pkg.dependencies ?? {},
    devDependencies: pkg.devDependencies ?? {},
    optionalDependencies: pkg.optionalDependencies ?? {},
    scripts: pkg.scripts ?? {},
    lock: { file: 'package-lock.json', exists: existsSync(lockPath), packages },
  };
}

/**
 * @param {string} root
 * @returns {import('./types.js').DockerfileModel | null}
 */
export function readDockerfile(root) {
  const path = join(root, 'Dockerfile');
  if (!existsSync(path)) return null;
  const ignore = join(root, '.dockerignore');
  return parseDockerfile(readFileSync(path, 'utf8'), 'Dockerfile', {
    dockerignore: existsSync(ignore) ? readFileSync(ignore, 'utf8') : null,
  });
}

/** @param {string} root */
export function readWorkflows(root) {
  return walk(root, '.github/workflows', (p) => /\.ya?ml$/.test(p)).map((p) =>
    parseWorkflow(readFileSync(join(root, p), 'utf8'), p),
  );
}

const conflictStart = /^<{7}(?: |$)/;
const conflictEnd = /^>{7}(?: |$)/;

/**
 * Every file of the project (outside dependencies and build output): whether the generator wrote
 * it and whether it still has the content it wrote, and leftover conflict markers.
 * @param {string} root
 * @returns {import('./types.js').FileEntry[]}
 */
export function readFiles(root) {
  /** @type {Record<string, string>} */
  let hashes = {};
  try {
    hashes =
      JSON.parse(readFileSync(join(root, '.mlops-service/manifest.json'), 'utf8')).files ?? {};
  } catch {
    // Not generated, or the record is gone: every file counts as the project's own.
  }
  return walk(root, '', () => true).map((path) => {
    const full = join(root, path);
    const generated = Object.prototype.hasOwnProperty.call(hashes, path);
    /** @type {number[]} */
    const conflictLines = [];
    let edited = false;
    if (statSync(full).size <= 2_000_000) {
      const bytes = readFileSync(full);
      if (generated) edited = createHash('sha256').update(bytes).digest('hex') !== hashes[path];
      if (!bytes.subarray(0, 8000).includes(0)) {
        const lines = bytes.toString('utf8').split(/\r?\n/);
        if (lines.some((l) => conflictEnd.test(l))) {
          lines.forEach((l, i) => {
            if (conflictStart.test(l)) conflictLines.push(i + 1);
          });
        }
      }
    }
    return { path, generated, edited, conflictLines };
  });
}

/** Project-relative POSIX path. @param {string} root @param {string} path */
export function rel(root, path) {
  return relative(root, path).split(sep).join('/');
}

/**
 * The served models' feature contracts: `model/` and, when present, `model/challenger/` (the model
 * the service runs in shadow), each as its sidecar declares it.
 * @param {string} root
 * @returns {import('./types.js').ServedModel[]}
 */
export function readModels(root) {
  /** @type {import('./types.js').ServedModel[]} */
  const models = [];
  for (const [role, dir] of /** @type {const} */ ([
    ['champion', 'model'],
    ['challenger', 'model/challenger'],
  ])) {
    if (!existsSync(join(root, dir, 'model.onnx'))) continue;
    const sidecar = join(root, dir, 'model.schema.json');
    /** @type {any[]} */
    let features = [];
    if (existsSync(sidecar)) {
      try {
        features = JSON.parse(readFileSync(sidecar, 'utf8')).features ?? [];
      } catch {
        features = [];
      }
    }
    models.push({
      role,
      file: `${dir}/model.onnx`,
      described: existsSync(sidecar),
      // Names and types, as the service's start-up check compares them (categories may differ).
      features: features.map((f) => `${f.name}:${f.type}`),
    });
  }
  return models;
}
