/**
 * Parsers that turn project files into the plain data the policies read: the Dockerfile's
 * instructions, a source file's imports, a workflow's `uses:` lines, .dockerignore matching.
 */
import { posix } from 'node:path';
import { LineCounter, parseDocument, isMap, isSeq, isScalar } from 'yaml';

/** @typedef {import('./types.js').DockerInstruction} DockerInstruction */
/** @typedef {import('./types.js').DockerfileModel} DockerfileModel */
/** @typedef {import('./types.js').SourceFile} SourceFile */
/** @typedef {import('./types.js').WorkflowModel} WorkflowModel */

/**
 * Splits a Dockerfile into instructions: comments and parser directives dropped, `\` continuations
 * joined, heredoc bodies skipped, flags (`--from=build`) separated from the arguments.
 * @param {string} text
 * @param {string} file
 * @param {{ dockerignore: string | null }} context
 * @returns {DockerfileModel}
 */
export function parseDockerfile(text, file, context) {
  const lines = text.split(/\r?\n/);
  /** @type {DockerInstruction[]} */
  const instructions = [];
  /** @type {DockerfileModel['stages']} */
  const stages = [];
  let stage = -1;
  for (let i = 0; i < lines.length; i++) {
    const read = readInstruction(lines, i);
    i = read.end;
    if (!read.keyword) continue;
    const { keyword, line } = read;
    const { flags, args } = splitFlags(read.args);
    if (keyword === 'FROM') {
      stage++;
      const from = /^(\S+)(?:\s+AS\s+(\S+))?/i.exec(args);
      stages.push({
        index: stage,
        name: (from?.[2] ?? '').toLowerCase(),
        from: from?.[1] ?? '',
        line,
        instructions: [],
      });
    }
    const words = wordsOf(args);
    const copies = keyword === 'COPY' || keyword === 'ADD';
    /** @type {DockerInstruction} */
    const instruction = {
      keyword,
      args,
      line,
      stage: Math.max(stage, 0),
      flags,
      sources: copies ? words.slice(0, -1) : [],
      dest: copies ? (words[words.length - 1] ?? '') : '',
    };
    instructions.push(instruction);
    stages[stage]?.instructions.push(instruction);
  }
  return dockerfileModel(file, stages, instructions, context);
}

/**
 * The instruction that starts at `lines[i]`: `\` continuations joined (comment lines inside
 * dropped), a RUN/COPY/ADD heredoc's body skipped. `end` is the index of its last line; a comment,
 * a blank or an unparsable line has no keyword.
 * @param {string[]} lines @param {number} i
 * @returns {{ end: number, line: number, keyword?: string, args: string }}
 */
function readInstruction(lines, i) {
  const first = lines[i] ?? '';
  const line = i + 1;
  if (/^\s*(#|$)/.test(first)) return { end: i, line, args: '' };
  let joined = first;
  while (/\\\s*$/.test(joined) && i + 1 < lines.length) {
    joined = joined.replace(/\\\s*$/, ' ');
    i++;
    const next = lines[i] ?? '';
    if (!/^\s*#/.test(next)) joined += next;
  }
  const m = /^\s*([A-Za-z]+)\s*(.*)$/.exec(joined);
  if (!m) return { end: i, line, args: '' };
  const keyword = (m[1] ?? '').toUpperCase();
  const args = (m[2] ?? '').trim();
  const heredoc = /<<-?\s*["']?([A-Za-z_][A-Za-z0-9_]*)["']?/.exec(args);
  if (heredoc && ['RUN', 'COPY', 'ADD'].includes(keyword)) {
    while (i + 1 < lines.length && (lines[i + 1] ?? '').trim() !== heredoc[1]) i++;
    i++;
  }
  return { end: i, line, keyword, args };
}

/**
 * Leading flags (`--from=build`, `--link`) taken off the arguments.
 * @param {string} text
 * @returns {{ flags: Record<string, string>, args: string }}
 */
function splitFlags(text) {
  let args = text;
  /** @type {Record<string, string>} */
  const flags = {};
  while (/^--[a-z-]+(=\S*)?(\s|$)/.test(args)) {
    const f = /^--([a-z-]+)(?:=(\S*))?\s*/.exec(args);
    if (!f) break;
    flags[f[1] ?? ''] = f[2] ?? 'true';
    args = args.slice(f[0].length);
  }
  return { flags, args };
}

/**
 * The arguments as words: a JSON array (exec form), else split on whitespace.
 * @param {string} args
 * @returns {string[]}
 */
function wordsOf(args) {
  if (args.startsWith('[')) {
    try {
      return JSON.parse(args).map(String);
    } catch {
      return args.split(/\s+/);
    }
  }
  return args.split(/\s+/).filter(Boolean);
}

/**
 * The parsed Dockerfile as the policies read it: stages, the final stage and its user, the build
 * context's .dockerignore.
 * @param {string} file @param {DockerfileModel['stages']} stages
 * @param {DockerInstruction[]} instructions @param {{ dockerignore: string | null }} context
 * @returns {DockerfileModel}
 */
function dockerfileModel(file, stages, instructions, context) {
  const finalStage = stages[stages.length - 1] ?? {
    index: 0,
    name: '',
    from: '',
    line: 0,
    instructions: [],
  };
  const user = effectiveUser(stages, finalStage.index);
  return {
    file,
    stages,
    final: {
      index: finalStage.index,
      from: finalStage.from,
      user: user.user,
      userName: user.user.split(':')[0] ?? '',
      userLine: user.line,
      instructions: finalStage.instructions,
    },
    instructions,
    context: {
      dockerignore: context.dockerignore !== null,
      excludesModel:
        context.dockerignore !== null &&
        ignored(context.dockerignore, 'model/model.onnx') &&
        ignored(context.dockerignore, 'model'),
    },
  };
}

/**
 * The USER a stage runs as: its last USER, else the one of the stage it is built FROM.
 * @param {DockerfileModel['stages']} stages
 * @param {number} index
 * @returns {{ user: string, line: number }}
 */
function effectiveUser(stages, index) {
  const seen = new Set();
  let s = stages[index];
  while (s && !seen.has(s.index)) {
    seen.add(s.index);
    const users = s.instructions.filter((i) => i.keyword === 'USER');
    const last = users[users.length - 1];
    if (last) return { user: last.args.trim(), line: last.line };
    const base = s.from.toLowerCase();
    s = stages.find((x) => x.index < (s?.index ?? 0) && x.name !== '' && x.name === base);
  }
  return { user: '', line: 0 };
}

/**
 * Whether .dockerignore excludes `path` (the last matching pattern wins, `!` re-includes).
 * @param {string} dockerignore
 * @param {string} path
 */
export function ignored(dockerignore, path) {
  let out = false;
  for (const raw of dockerignore.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const negate = line.startsWith('!');
    const pattern = posix.normalize(negate ? line.slice(1) : line).replace(/^\/+|\/+$/g, '');
    const re = new RegExp(`^${globToRegex(pattern)}(/.*)?$`);
    if (re.test(path)) out = !negate;
  }
  return out;
}

/** @param {string} glob */
function globToRegex(glob) {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i] ?? '';
    if (ch === '*' && glob[i + 1] === '*') {
      out += '.*';
      i++;
      if (glob[i + 1] === '/') i++;
    } else if (ch === '*') out += '[^/]*';
    else if (ch === '?') out += '[^/]';
    else out += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return out;
}

/**
 * The imports of one source file, read with the TypeScript parser (comments and strings that only
 * look like imports do not count; `import type` is marked type-only).
 * @param {typeof import('typescript')} ts
 * @param {string} path project-relative POSIX path
 * @param {string} text
 * @param {(candidate: string) => boolean} exists whether a project-relative file exists
 * @returns {SourceFile}
 */
export function parseImports(ts, path, text, exists) {
  const kind =
    path.endsWith('.ts') || path.endsWith('.mts') || path.endsWith('.cts')
      ? ts.ScriptKind.TS
      : ts.ScriptKind.JS;
  const sf = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, kind);
  /** @type {SourceFile['imports']} */
  const imports = [];
  /**
   * @param {import('typescript').Node} node
   * @param {string} specifier
   * @param {boolean} typeOnly
   * @param {SourceFile['imports'][number]['kind']} how
   */
  const add = (node, specifier, typeOnly, how) => {
    const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
    imports.push({
      specifier,
      resolved: resolve(path, specifier, exists),
      line,
      typeOnly,
      kind: how,
    });
  };
  /** @param {import('typescript').Node} node */
  const visit = (node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const named = clause?.namedBindings;
      const allTypes =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined &&
            named !== undefined &&
            ts.isNamedImports(named) &&
            named.elements.length > 0 &&
            named.elements.every((e) => e.isTypeOnly)));
      add(node, node.moduleSpecifier.text, allTypes, 'import');
    } else if (
      ts.isExportDeclaration(node) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      add(node, node.moduleSpecifier.text, node.isTypeOnly, 'export');
    } else if (
      ts.isImportEqualsDeclaration(node) &&
      ts.isExternalModuleReference(node.moduleReference) &&
      ts.isStringLiteral(node.moduleReference.expression)
    ) {
      add(node, node.moduleReference.expression.text, node.isTypeOnly, 'require');
    } else if (ts.isCallExpression(node) && node.arguments.length > 0) {
      const arg = node.arguments[0];
      if (arg && ts.isStringLiteralLike(arg)) {
        if (node.expression.kind === ts.SyntaxKind.ImportKeyword)
          add(node, arg.text, false, 'dynamic');
        else if (ts.isIdentifier(node.expression) && node.expression.text === 'require')
          add(node, arg.text, false, 'require');
      }
    } else if (ts.isImportTypeNode(node)) {
      return; // `import('x').T` in a type position loads nothing
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return { path, imports };
}

/**
 * The project file a relative specifier points at ('' for packages and unresolved paths). A `.js`
 * specifier may name the `.ts` file it compiles from.
 * @param {string} from
 * @param {string} specifier
 * @param {(candidate: string) => boolean} exists
 */
function resolve(from, specifier, exists) {
  if (!specifier.startsWith('.')) return '';
  const base = posix.normalize(posix.join(posix.dirname(from), specifier));
  const candidates = [base];
  if (/\.[cm]?js$/.test(base)) candidates.push(base.replace(/\.([cm]?)js$/, '.$1ts'));
  candidates.push(`${base}.ts`, `${base}.js`, `${base}/index.ts`, `${base}/index.js`);
  return candidates.find(exists) ?? base;
}

/**
 * A workflow file: its permissions, its jobs' permissions and every `uses:` with its line.
 * @param {string} text
 * @param {string} file
 * @returns {WorkflowModel}
 */
export function parseWorkflow(text, file) {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter });
  if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]?.message ?? 'bad YAML'}`);
  const root = doc.contents;
  /** @param {unknown} node @param {string} key */
  const get = (node, key) => (isMap(node) ? node.get(key, true) : undefined);
  /** @param {unknown} node */
  const permissionsOf = (node) => {
    if (node === undefined || node === null) return '';
    if (isScalar(node)) return String(node.value);
    return 'custom';
  };
  /** @param {unknown} node */
  const lineOf = (node) => {
    const range = /** @type {{ range?: [number, number, number] }} */ (node).range;
    return range ? counter.linePos(range[0]).line : 0;
  };
  const top = get(root, 'permissions');
  /** @type {WorkflowModel['jobs']} */
  const jobs = [];
  /** @type {WorkflowModel['uses']} */
  const uses = [];
  const jobsNode = get(root, 'jobs');
  if (isMap(jobsNode)) {
    for (const pair of jobsNode.items) {
      const id = String(isScalar(pair.key) ? pair.key.value : pair.key);
      const job = pair.value;
      const perms = get(job, 'permissions');
      jobs.push({ id, permissions: permissionsOf(perms), hasPermissions: perms !== undefined });
      const reusable = get(job, 'uses');
      if (isScalar(reusable))
        uses.push({ uses: String(reusable.value), line: lineOf(reusable), job: id });
      const steps = get(job, 'steps');
      if (isSeq(steps)) {
        for (const step of steps.items) {
          const u = get(step, 'uses');
          if (isScalar(u)) uses.push({ uses: String(u.value), line: lineOf(u), job: id });
        }
      }
    }
  }
  const name = get(root, 'name');
  return {
    file,
    name: isScalar(name) ? String(name.value) : file,
    permissions: permissionsOf(top),
    hasPermissions: top !== undefined,
    jobs,
    uses,
  };
}
