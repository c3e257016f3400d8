#!/usr/bin/env node
// The API reference and its checks (`npm run docs`; CI runs `npm run docs -- --check`).
//
// 1. TypeDoc converts src/index.ts with the options in typedoc.json; any warning fails (an
//    undocumented export or member, a broken {@link}, a type referenced but not exported).
// 2. Every public export (and every member of the `distributed` namespace) has a description
//    and at least one @example.
// 3. Every @example type-checks as a user would write it: each becomes a module importing from
//    'axon-nn' (names it uses are imported for it when it has no import of its own), compiled
//    strictly against the sources through the package's `axon-source` export condition.
// 4. Relative links in README.md and docs/*.md point at files that exist.
// Without --check, the HTML reference is written to docs/api (not committed).
//
//   node tools/api-docs.mjs [--check] [--only src/nn/,src/optim/] [--out DIR]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Application, Comment, ReflectionKind } from 'typedoc';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);
const { values: args } = parseArgs({
  options: {
    check: { type: 'boolean', default: false },
    only: { type: 'string' },
    out: { type: 'string', default: 'docs/api' },
  },
});

const problems = [];
const scopes = args.only?.split(',') ?? [];
const inScope = (file) => scopes.length === 0 || scopes.some((s) => (file ?? '').startsWith(s));

// --- 1. TypeDoc: conversion and its validation ---------------------------------------------
const app = await Application.bootstrapWithPlugins({ options: join(root, 'typedoc.json') });
// TypeDoc's own warnings, kept to the files in scope with --only ("defined in axon-nn/src/...").
let typedocWarnings = 0;
const log = app.logger.log.bind(app.logger);
app.logger.log = (message, level) => {
  const text = String(message);
  const defined = /defined in axon-nn\/(\S+)/.exec(text)?.[1];
  if (scopes.length > 0 && defined !== undefined && !inScope(defined)) return;
  if (scopes.length > 0 && defined === undefined && level < 3) return;
  if (level >= 2) typedocWarnings++;
  log(message, level);
};
const project = await app.convert();
if (!project) {
  console.error('api-docs: TypeDoc could not convert src/index.ts (see the errors above)');
  process.exit(1);
}
app.validate(project);
if (typedocWarnings > 0) problems.push(`TypeDoc reported ${typedocWarnings} warnings or errors (above)`);

// --- 2. Every export: description and example ----------------------------------------------
const commentOf = (r) => r.comment ?? r.signatures?.find((s) => s.comment)?.comment ?? r.getSignature?.comment;
const exports = [];
const collect = (children, prefix) => {
  for (const r of children ?? []) {
    if (r.kind === ReflectionKind.Namespace) {
      const c = commentOf(r);
      if (!c?.summary.length) problems.push(`${prefix}${r.name} (namespace) has no description`);
      collect(r.children, `${prefix}${r.name}.`);
      continue;
    }
    const target = r.kind === ReflectionKind.Reference ? r.getTargetReflectionDeep() : r;
    exports.push({ name: prefix + r.name, reflection: target, file: target.sources?.[0]?.fileName });
  }
};
collect(project.children, '');

const examples = [];
for (const { name, reflection, file } of exports) {
  if (!inScope(file)) continue;
  const where = `${name} (${ReflectionKind.singularString(reflection.kind)}, ${file ?? '?'})`;
  const comment = commentOf(reflection);
  if (!comment?.summary.length) problems.push(`${where} has no description`);
  const tags = (comment?.blockTags ?? []).filter((t) => t.tag === '@example');
  if (tags.length === 0) problems.push(`${where} has no @example`);
  for (const [i, tag] of tags.entries()) {
    const text = Comment.combineDisplayParts(tag.content);
    const fenced = [...text.matchAll(/```(?:ts|typescript|js|javascript)?\n([\s\S]*?)```/g)].map((m) => m[1]);
    const blocks = fenced.length > 0 ? fenced : [text];
    for (const [j, code] of blocks.entries()) examples.push({ name, where, file, code, id: `${i}.${j}` });
  }
}

// --- 3. Examples type-check against the package -------------------------------------------
const valueNames = new Set();
const typeNames = new Set();
for (const r of project.children ?? []) {
  const target = r.kind === ReflectionKind.Reference ? r.getTargetReflectionDeep() : r;
  const isType =
    target.kindOf(ReflectionKind.Interface | ReflectionKind.TypeAlias) && !target.kindOf(ReflectionKind.Class);
  (isType ? typeNames : valueNames).add(r.name);
}
// Inside the package (so 'axon-nn' resolves to it), one directory per run: runs side by side
// must not delete each other's files.
mkdirSync(join(root, 'build'), { recursive: true });
const dir = mkdtempSync(join(root, 'build', 'api-examples-'));
const fileOf = new Map();
for (const [n, ex] of examples.entries()) {
  const safe = ex.name.replace(/[^A-Za-z0-9_]/g, '_');
  const path = join(dir, `${String(n).padStart(4, '0')}-${safe}.ts`);
  let body = ex.code;
  if (!/from\s+['"]axon-nn['"]/.test(body)) {
    const used = (set) =>
      [...set].filter((s) => new RegExp(`(?<![\\w$.])${s.replace('$', '\\$')}(?![\\w$])`).test(body));
    const names = [...used(valueNames), ...used(typeNames).map((t) => `type ${t}`)];
    if (names.length > 0) body = `import { ${names.join(', ')} } from 'axon-nn';\n${body}`;
  }
  writeFileSync(path, `// ${ex.where}, @example ${ex.id}\n${body}\nexport {};\n`);
  fileOf.set(relative(root, path), ex.where);
}
writeFileSync(
  join(dir, 'tsconfig.json'),
  JSON.stringify(
    {
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        lib: ['ES2022'],
        types: ['node'],
        typeRoots: [join(root, 'node_modules', '@types')],
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        customConditions: ['axon-source'],
        allowImportingTsExtensions: true,
      },
      include: ['./*.ts'],
    },
    null,
    2,
  ),
);
if (examples.length > 0) {
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', dir], {
    encoding: 'utf8',
  });
  const out = `${tsc.stdout}${tsc.stderr}`;
  // Errors in the library itself (reached through the sources) are the type-check's business,
  // not the examples'; report only those inside the example files.
  const prefix = `${relative(root, dir)}/`;
  const lines = out.split('\n').filter((l) => l.startsWith(prefix));
  for (const line of lines) {
    const file = line.slice(0, line.indexOf('('));
    problems.push(`example of ${fileOf.get(file) ?? file} does not compile: ${line}`);
  }
  if (tsc.status !== 0 && lines.length === 0) problems.push(`tsc on the examples failed:\n${out}`);
  // Kept when an example fails, to read the file tsc names.
  if (tsc.status === 0) rmSync(dir, { recursive: true, force: true });
} else rmSync(dir, { recursive: true, force: true });

// --- 4. Relative links in the guides ---------------------------------------------------------
const guides = [
  'README.md',
  'CONTRIBUTING.md',
  'CHANGELOG.md',
  ...readdirSync('docs')
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
for (const guide of guides) {
  const text = readFileSync(guide, 'utf8').replace(/```[\s\S]*?```/g, '');
  for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    const target = m[1];
    if (/^[a-z]+:/i.test(target) || target.startsWith('#')) continue;
    const path = target.split('#')[0];
    if (path.startsWith('api/') || path === 'api' || path.startsWith('docs/api')) continue;
    if (!existsSync(join(dirname(guide), path))) problems.push(`${guide}: link to ${target}, which does not exist`);
  }
}

if (!args.check) {
  await app.generateDocs(project, args.out);
  console.log(`api-docs: reference written to ${args.out}/index.html`);
}
const checked = exports.filter((e) => inScope(e.file)).length;
if (problems.length > 0) {
  for (const p of problems) console.error(`api-docs: ${p}`);
  console.error(`api-docs: ${problems.length} problems in ${checked} exports and ${examples.length} examples`);
  process.exit(1);
}
console.log(`api-docs: ${checked} exports documented, ${examples.length} examples type-check, guides' links resolve`);
