/**
 * The `axon-nn` CLI (src/cli/): `info --json` reports the roofs and the peers, `bench <suite>
 * --quick` runs with tiny shapes and reports ours and each peer (or "not found"), usage errors
 * exit 2, and the peer functions of the binding (native/binding/peers.cpp) check their
 * arguments and agree with our kernels. OpenBLAS / oneDNN are optional: the comparisons with
 * them run only where they are installed (Debian: libopenblas0, libdnnl2).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { linear, matmul, randn, type Tensor } from '../src/index.js';
import { native, type PeerConvGeometry } from '../src/native/binding.js';
import { findPeer } from '../src/cli/peers.js';
import { EXAMPLE_NODE_ARGS } from './run-example.js';

const MAIN = new URL('../src/cli/main.ts', import.meta.url).pathname;

function cli(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [...EXAMPLE_NODE_ARGS, MAIN, ...args], {
    encoding: 'utf8',
    timeout: 110_000,
    env: { ...process.env, ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Peer {
  found: boolean;
  summary: string;
  tried: string[];
  version?: string;
}
interface Measured {
  value: number;
  seconds: number;
  samples: number[];
}
interface BenchReport {
  suite: string;
  threads: { axon: number; openblas: number | null; onednn: number | null };
  peers: Record<string, Peer>;
  results: {
    case: string;
    ours: Measured;
    eager?: Measured;
    peers: Record<string, Measured & { ratio: number; maxRelDiff?: number }>;
  }[];
}

const openblas = findPeer('openblas');
const onednn = findPeer('onednn');
const f32 = (t: Tensor): Float32Array => t.data as Float32Array;
const relDiff = (a: Float32Array, b: Float32Array): number => {
  let d = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return d / s;
};

describe('axon-nn info', () => {
  it('--json parses and has the backend, the CPU, the roofs and the peers', () => {
    const r = cli(['info', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout) as {
      isa: string;
      isaAvailable: string[];
      threads: number;
      cpu: { microarchitecture: string; family: number };
      roofs: Record<string, number>;
      peers: Record<string, Peer>;
    };
    expect(info.isaAvailable).toContain(info.isa);
    expect(info.threads).toBeGreaterThan(0);
    expect(typeof info.cpu.microarchitecture).toBe('string');
    for (const k of ['fmaGflopsPerCore', 'fmaGflops', 'l2GbpsPerCore', 'l2Gbps', 'dramGbps'])
      expect(info.roofs[k], k).toBeGreaterThan(0);
    for (const name of ['openblas', 'onednn']) {
      const p = info.peers[name];
      expect(typeof p.found).toBe('boolean');
      if (!p.found && !('version' in p)) expect(p.summary).toMatch(/not found \(tried /);
    }
  });

  it('prints a text report', () => {
    const r = cli(['info']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/fp32 FMA peak\s+\d+ GFLOP\/s per core/);
    expect(r.stdout).toMatch(/tuning:\s+\S+ \(auto: /);
    expect(r.stdout).toMatch(/OpenBLAS/);
    expect(r.stdout).toMatch(/oneDNN/);
  });

  it('AXON_CPU_CONFIG and AXON_GEMM_BLOCKING choose the per-CPU tuning; bad values stop the load with the reason', () => {
    const config = (env: NodeJS.ProcessEnv): { status: number | null; out: string; err: string } => {
      const code =
        "import('axon-nn').then((m) => console.log(JSON.stringify(m.backendInfo().cpu.config)), (e) => { console.error(e.message); process.exit(3); })";
      const r = spawnSync(process.execPath, [...EXAMPLE_NODE_ARGS, '--input-type=module', '-e', code], {
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, ...env },
      });
      return { status: r.status, out: r.stdout, err: r.stderr };
    };
    const auto = config({});
    expect(auto.status, auto.err).toBe(0);
    const info = JSON.parse(auto.out) as { name: string; reason: string; known: string[]; gemm: { mc: number } };
    expect(info.known).toEqual(expect.arrayContaining(['generic', 'zen4', 'zen5']));
    expect(info.reason).toMatch(/^auto: /);
    const forced = config({ AXON_CPU_CONFIG: 'zen5', AXON_GEMM_BLOCKING: '128,96,2048', AXON_SIMD: 'scalar' });
    expect(forced.status, forced.err).toBe(0);
    const f = JSON.parse(forced.out) as { name: string; reason: string; gemm: { kc: number; mc: number; nc: number } };
    expect(f.name).toBe('zen5');
    expect(f.gemm).toEqual({ kc: 128, mc: 96, nc: 2048 });
    expect(f.reason).toBe('AXON_CPU_CONFIG=zen5, AXON_GEMM_BLOCKING=128,96,2048 on scalar');
    const unknown = config({ AXON_CPU_CONFIG: 'zen9' });
    expect(unknown.status).toBe(3);
    expect(unknown.err).toMatch(/AXON_CPU_CONFIG=zen9 names no configuration; known: generic, /);
    const bad = config({ AXON_GEMM_BLOCKING: '256,7,4096', AXON_SIMD: 'scalar' });
    expect(bad.status).toBe(3);
    expect(bad.err).toMatch(/AXON_GEMM_BLOCKING=256,7,4096: mc 7 must be a multiple of the scalar microkernel's mr 4/);
    expect(config({ AXON_GEMM_BLOCKING: '256,96' }).err).toMatch(/expected kc,mc,nc/);
  });
});

describe('axon-nn bench', () => {
  it('gemm --json --rounds 1 --quick reports ours, and OpenBLAS when installed', () => {
    const r = cli(['bench', 'gemm', '--json', '--rounds', '1', '--quick', '--threads', '1']);
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as BenchReport;
    expect(report.suite).toBe('gemm');
    expect(report.threads.axon).toBe(1);
    expect(report.results.length).toBeGreaterThan(0);
    for (const res of report.results) {
      expect(res.ours.value).toBeGreaterThan(0);
      expect(res.ours.samples).toHaveLength(1);
      expect(res.eager?.value).toBeGreaterThan(0);
    }
    const peer = report.peers.openblas;
    if (openblas.found) {
      expect(peer.found).toBe(true);
      expect(report.threads.openblas).toBe(1);
      for (const res of report.results) {
        expect(res.peers.openblas.value).toBeGreaterThan(0);
        expect(res.peers.openblas.ratio).toBeGreaterThan(0);
        expect(res.peers.openblas.maxRelDiff).toBeLessThanOrEqual(1e-4);
      }
    } else {
      expect(peer.found).toBe(false);
      expect(peer.summary).toMatch(/OpenBLAS: not found \(tried /);
      for (const res of report.results) expect(res.peers.openblas).toBeUndefined();
    }
  });

  it('reports a peer it cannot find as not found, with what it tried, and still runs', () => {
    const missing = '/nonexistent/libopenblas.so.0';
    const r = cli(['bench', 'gemm', '--json', '--quick'], { AXON_OPENBLAS: missing });
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as BenchReport;
    expect(report.peers.openblas.found).toBe(false);
    expect(report.peers.openblas.tried).toEqual([missing]);
    expect(report.peers.openblas.summary).toContain(`not found (tried AXON_OPENBLAS=${missing})`);
    expect(report.results[0].ours.value).toBeGreaterThan(0);
    expect(report.results[0].peers).toEqual({});
  });

  it.skipIf(!openblas.found)('does not take a library without the entry points for oneDNN', () => {
    // OpenBLAS has no dnnl_version: the bench says oneDNN was not found, it does not fail.
    const r = cli(['bench', 'elementwise', '--json', '--quick'], { AXON_DNNL: openblas.realFile ?? '' });
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as BenchReport;
    expect(report.peers.onednn.found).toBe(false);
    expect(report.peers.onednn.summary).toMatch(/no dnnl_version symbol/);
  });

  it.skipIf(process.platform !== 'linux')(
    'reports a oneDNN of an unverified version as found but not supported',
    () => {
      // A stand-in library whose dnnl_version() says 3.1.0 (built with the system's C compiler).
      const dir = mkdtempSync(join(tmpdir(), 'axon-fake-dnnl-'));
      try {
        const src = join(dir, 'fake.c');
        const lib = join(dir, 'libdnnl.so.3');
        writeFileSync(
          src,
          'typedef struct { int major, minor, patch; const char *hash; unsigned cpu, gpu; } v_t;\n' +
            'static const v_t v = {3, 1, 0, "fake", 2, 0};\n' +
            'const v_t *dnnl_version(void) { return &v; }\n',
        );
        const cc = spawnSync('cc', ['-shared', '-fPIC', src, '-o', lib], { encoding: 'utf8' });
        if (cc.status !== 0) return; // no C compiler here
        const r = cli(['bench', 'elementwise', '--json', '--quick'], { AXON_DNNL: lib });
        expect(r.status, r.stderr).toBe(0);
        const report = JSON.parse(r.stdout) as BenchReport;
        expect(report.peers.onednn.found).toBe(false);
        expect(report.peers.onednn.version).toBe('3.1.0');
        expect(report.peers.onednn.summary).toMatch(/^oneDNN 3\.1\.0 found but not supported by this bench/);
        expect(report.results[0].peers).toEqual({});
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it('runs every suite with --quick and prints a table', () => {
    for (const suite of ['conv', 'elementwise', 'rnn', 'mlp']) {
      const r = cli(['bench', suite, '--quick']);
      expect(r.status, `${suite}: ${r.stderr}`).toBe(0);
      expect(r.stdout, suite).toMatch(/^\| case \| ours /m);
      expect(r.stdout.split('\n').filter((l) => /^\| (?!case|---)/.test(l)).length, suite).toBeGreaterThan(0);
    }
  });

  it.skipIf(!onednn.found && !openblas.found)('conv and elementwise agree with the peers found', () => {
    for (const suite of ['conv', 'elementwise']) {
      const r = cli(['bench', suite, '--json', '--quick']);
      expect(r.status, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout) as BenchReport;
      for (const res of report.results)
        for (const [name, p] of Object.entries(res.peers))
          expect(p.maxRelDiff, `${res.case} ${name}`).toBeLessThan(1e-4);
    }
  });

  it('exits 2 with the usage on a bad command, suite, flag or value', () => {
    for (const args of [
      [],
      ['bogus'],
      ['bench'],
      ['bench', 'fft'],
      ['bench', 'gemm', 'extra'],
      ['bench', 'gemm', '--nope'],
      ['bench', 'gemm', '--threads', '0'],
      ['bench', 'gemm', '--threads', 'two'],
      ['bench', 'gemm', '--rounds', '1.5'],
      ['bench', 'gemm', '--threads'],
      ['info', '--threads', '2'],
      ['info', 'extra'],
    ]) {
      const r = cli(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(/Usage:\n {2}axon-nn info/);
      expect(r.stdout, args.join(' ')).toBe('');
    }
    const help = cli(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/Usage:/);
  });
});

describe('peer functions of the binding', () => {
  const a = new Float32Array(6);
  const b = new Float32Array(12);
  const c = new Float32Array(8);
  const call = (...args: unknown[]): unknown => (native.peerSgemm as (...x: unknown[]) => unknown)(...args);

  it('peerSgemm names itself and the argument in its errors', () => {
    expect(() => call(false, false, 2, 4, 3, a, b, new Float32Array(7))).toThrow(
      /^peerSgemm: argument 'c' has 7 elements, expected 8 \(m\*n\)$/,
    );
    expect(() => call(false, false, 2, 4, 3, new Float32Array(5), b, c)).toThrow(/^peerSgemm: argument 'a' has 5/);
    expect(() => call(false, false, 2, 4, 3, a, new Float32Array(13), c)).toThrow(/^peerSgemm: argument 'b' has 13/);
    expect(() => call(0, false, 2, 4, 3, a, b, c)).toThrow(/^peerSgemm: argument 'transA' must be a boolean$/);
    expect(() => call(false, false, 0, 4, 3, a, b, c)).toThrow(/^peerSgemm: argument 'm' must be in \[1, /);
    expect(() => call(false, false, 2, 4.5, 3, a, b, c)).toThrow(/^peerSgemm: argument 'n' must be an integer/);
    expect(() => call(false, false, 2, 4, 3, a, b, new Int32Array(8))).toThrow(
      /^peerSgemm: argument 'c' must be a Float32Array$/,
    );
    expect(() => call(false, false, 2, 4, 3, a, b)).toThrow(/^peerSgemm: missing argument 'c'/);
    const shared = new Float32Array(10);
    expect(() => call(false, false, 2, 4, 3, shared.subarray(0, 6), b, shared.subarray(2))).toThrow(
      /^peerSgemm: 'c' and 'a' overlap in memory/,
    );
  });

  it('the other peer functions check their arguments too', () => {
    expect(() => native.peerLoad('mkl' as 'openblas', [])).toThrow(
      /^peerLoad: argument 'name' must be 'openblas' or 'onednn', got 'mkl'$/,
    );
    expect(() => native.peerLoad('openblas', 'libopenblas.so.0' as unknown as string[])).toThrow(
      /^peerLoad: argument 'paths' must be an array$/,
    );
    expect(() => native.peerLoad('openblas', [''])).toThrow(/^peerLoad: argument 'paths' must hold non-empty strings/);
    expect(() => native.peerSetThreads(0)).toThrow(/^peerSetThreads: argument 'n' must be in \[1, 1024\]/);
    const g: PeerConvGeometry = { n: 1, cin: 2, cout: 3, h: 4, w: 4, kh: 3, kw: 3, stride: 1, pad: 1 };
    const x = new Float32Array(32);
    const w = new Float32Array(54);
    const y = new Float32Array(48);
    expect(() => native.peerConv2dIm2col({ ...g, stride: 0 }, x, w, null, y)).toThrow(
      /^peerConv2dIm2col: 'geometry.stride' must be in \[1, 64\]/,
    );
    expect(() => native.peerConv2dIm2col({ ...g, bogus: 1 } as PeerConvGeometry, x, w, null, y)).toThrow(
      /^peerConv2dIm2col: 'geometry' has an unknown field 'bogus'$/,
    );
    expect(() => native.peerConv2dIm2col(g, x, w, new Float32Array(2), y)).toThrow(
      /^peerConv2dIm2col: argument 'b' has 2 elements, expected 3 \(cout\)$/,
    );
    expect(() => native.peerConv2dIm2col({ ...g, kh: 7 }, x, new Float32Array(126), null, y)).toThrow(
      /^peerConv2dIm2col: the kernel \(7x3\) is larger than the padded input/,
    );
    expect(() => native.peerDnnlConv2d(g, x, w, null, new Float32Array(47), 1)).toThrow(
      /^peerDnnlConv2d: argument 'y' has 47 elements, expected 48/,
    );
    expect(() => native.peerDnnlConv2d(g, x, w, null, y, 0)).toThrow(/^peerDnnlConv2d: argument 'reps' must be in/);
    expect(() => native.peerDnnlEltwise('tanh' as 'relu', x, null, x)).toThrow(
      /^peerDnnlEltwise: argument 'op' must be 'relu', 'exp', 'sigmoid' or 'add', got 'tanh'$/,
    );
    expect(() => native.peerDnnlEltwise('add', x, null, x)).toThrow(/^peerDnnlEltwise: argument 'x2' is required/);
    expect(() => native.peerDnnlEltwise('relu', x, new Float32Array(31), y)).toThrow(
      /^peerDnnlEltwise: argument 'x2' must be null for 'relu'$/,
    );
    expect(() => native.peerDnnlEltwise('relu', x, null, y)).toThrow(/^peerDnnlEltwise: argument 'y' has 48/);
  });

  it.skipIf(!openblas.found)('our sgemm equals OpenBLAS to 1e-4 relative', () => {
    for (const [m, n, k] of [
      [1, 1, 1],
      [7, 13, 29],
      [64, 256, 784],
      [130, 70, 300],
    ]) {
      const x = randn([m, k], { seed: m });
      const y = randn([k, n], { seed: n });
      const wt = randn([n, k], { seed: k });
      const ref = new Float32Array(m * n);
      native.peerSgemm(false, false, m, n, k, f32(x), f32(y), ref);
      expect(relDiff(f32(matmul(x, y)), ref), `${m}x${n}x${k} NN`).toBeLessThanOrEqual(1e-4);
      native.peerSgemm(false, true, m, n, k, f32(x), f32(wt), ref);
      expect(relDiff(f32(linear(x, wt)), ref), `${m}x${n}x${k} NT`).toBeLessThanOrEqual(1e-4);
      // TN: x^T y with x stored k x m.
      const xt = randn([k, m], { seed: 3 });
      native.peerSgemm(true, false, m, n, k, f32(xt), f32(y), ref);
      expect(relDiff(f32(matmul(xt.T, y)), ref), `${m}x${n}x${k} TN`).toBeLessThanOrEqual(1e-4);
    }
  });

  it.skipIf(!onednn.found)('oneDNN and im2col convolutions agree with each other', () => {
    const g: PeerConvGeometry = { n: 2, cin: 5, cout: 7, h: 9, w: 11, kh: 3, kw: 3, stride: 2, pad: 1 };
    const [oh, ow] = [5, 6];
    const x = f32(randn([2 * 5 * 9 * 11], { seed: 1 }));
    const w = f32(randn([7 * 5 * 9], { seed: 2 }));
    const bias = f32(randn([7], { seed: 3 }));
    const y1 = new Float32Array(2 * 7 * oh * ow);
    const y2 = new Float32Array(y1.length);
    const t = native.peerDnnlConv2d(g, x, w, bias, y1, 2);
    expect(t.seconds).toBeGreaterThan(0);
    expect(typeof t.impl).toBe('string');
    if (openblas.found) {
      native.peerConv2dIm2col(g, x, w, bias, y2);
      expect(relDiff(y1, y2)).toBeLessThan(1e-5);
    }
  });
});
