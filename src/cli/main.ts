#!/usr/bin/env node
/**
 * The `axon-nn` command (package.json "bin"): `axon-nn info [--json]` reports the backend, the
 * CPU, its measured roofs and the peers found (src/cli/info.ts); `axon-nn bench <suite>` times
 * our kernels side by side with OpenBLAS / oneDNN when they are installed (src/cli/bench.ts).
 * Usage errors (an unknown command, suite or flag, a bad value) print the usage and exit 2.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { runBench, SUITES, type Suite } from './bench.js';
import { runInfo } from './info.js';

const USAGE = `Usage:
  axon-nn info [--json]
  axon-nn bench <suite> [--threads N] [--rounds R] [--json]

Commands:
  info     backend, SIMD level, threads, CPU, measured roofs (FMA peak, L2 and DRAM GB/s)
           and the peers found (OpenBLAS, oneDNN)
  bench    our kernels side by side with the peers found; suites:
             gemm         sgemm, square 256..2048 and MLP shapes (vs OpenBLAS)
             conv         3x3 convolutions of ResNet / CNN shapes (vs oneDNN, OpenBLAS im2col)
             elementwise  add, relu, exp, sigmoid on 1M floats, GB/s (vs oneDNN)
             rnn          LSTM / GRU training step (vs OpenBLAS running its GEMMs only)
             mlp          one Model.fit epoch of an MLP (vs OpenBLAS running its GEMMs only)

Options:
  --threads N   threads for our pool and the peers' (default: our pool's current count)
  --rounds R    timed rounds per case, alternating ours and each peer (default 5)
  --json        print a JSON report instead of a table
  -h, --help    print this help

Peers are loaded at run time when found; AXON_OPENBLAS / AXON_DNNL name a library file to use
instead of searching.`;

class UsageError extends Error {}

function packageInfo(): { name: string; version: string } {
  // src/cli/main.ts and dist/cli/main.js both sit two levels below the package root.
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      name: string;
      version: string;
    };
    return { name: pkg.name, version: pkg.version };
  } catch {
    return { name: 'axon-nn', version: 'unknown' };
  }
}

function positiveInt(flag: string, text: string | undefined, max: number): number | null {
  if (text === undefined) return null;
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1 || n > max)
    throw new UsageError(`${flag} must be an integer in [1, ${max}], got '${text}'`);
  return n;
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        json: { type: 'boolean', default: false },
        threads: { type: 'string' },
        rounds: { type: 'string' },
        quick: { type: 'boolean', default: false }, // tiny shapes, for tests (not in the usage)
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    console.error(`axon-nn: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help || positionals[0] === 'help') {
    console.log(USAGE);
    return 0;
  }
  const pkg = packageInfo();
  try {
    const [command, ...rest] = positionals;
    if (command === 'info') {
      if (rest.length) throw new UsageError(`info takes no arguments, got '${rest.join(' ')}'`);
      if (values.threads !== undefined || values.rounds !== undefined || values.quick)
        throw new UsageError('info takes only --json');
      runInfo(pkg, values.json);
      return 0;
    }
    if (command === 'bench') {
      if (rest.length !== 1) throw new UsageError(`bench takes one suite (${SUITES.join('|')})`);
      const suite = rest[0] as Suite;
      if (!SUITES.includes(suite)) throw new UsageError(`unknown suite '${rest[0]}' (${SUITES.join('|')})`);
      const threads = positiveInt('--threads', values.threads, 1024);
      const rounds = positiveInt('--rounds', values.rounds, 1000) ?? (values.quick ? 1 : 5);
      await runBench({ suite, threads, rounds, quick: values.quick, json: values.json }, pkg);
      return 0;
    }
    throw new UsageError(command === undefined ? 'no command given' : `unknown command '${command}'`);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`axon-nn: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    throw e;
  }
}

process.exitCode = await main(process.argv.slice(2));
