#!/usr/bin/env node
// Installs tests/peers (onnxruntime-node, which the ONNX export tests run exported files in)
// when it is missing or its lock file changed. ONNXRUNTIME_NODE_INSTALL=skip: its CPU runtime
// ships inside the package, and its install script would otherwise download GPU add-ons from
// outside the npm registry. Runs before `npm test` (package.json "pretest").
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const dir = 'tests/peers';
const stamp = `${dir}/node_modules/.axon-lock`;
const lock = readFileSync(`${dir}/package-lock.json`, 'utf8');
if (existsSync(stamp) && readFileSync(stamp, 'utf8') === lock) process.exit(0);
const r = spawnSync('npm', ['ci', '--prefix', dir, '--no-audit', '--no-fund'], {
  stdio: 'inherit',
  env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
});
if (r.status !== 0) process.exit(r.status ?? 1);
writeFileSync(stamp, lock);
