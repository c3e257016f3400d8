#!/usr/bin/env node
// Checks (or with --fix, applies) clang-format on the C++ sources under native/. Files that
// tools/gen-ops.mjs writes are skipped: the table is their source (gen-ops --check guards them).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const fix = process.argv.includes('--fix');
const generated = new Set([join('native', 'generated'), join('native', 'include', 'axon', 'ops.h')]);
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (generated.has(p)) continue;
    if (statSync(p).isDirectory()) walk(p);
    else if (/\.(cpp|h|cu|cuh)$/.test(name)) files.push(p);
  }
})('native');
const probe = spawnSync('clang-format', ['--version'], { encoding: 'utf8' });
if (probe.status !== 0) {
  console.error('clang-format is not installed (Debian: apt-get install clang-format); CI installs it.');
  process.exit(1);
}
const args = fix ? ['-i', ...files] : ['--dry-run', '--Werror', ...files];
const r = spawnSync('clang-format', args, { stdio: 'inherit' });
if (r.status !== 0) {
  console.error('C++ formatting differs from .clang-format; run `npm run format`.');
  process.exit(1);
}
console.log(`clang-format: ${files.length} files ${fix ? 'formatted' : 'ok'}`);
