/**
 * The kernel lab's profiler outputs: String(report), the Chrome trace (one track per thread,
 * the pool workers' shares of each call inside the call's time), the roofline (machineInfo's
 * roofs, each group's bound and share) and its SVG, and ProfileSteps profiling chosen batches
 * of a fit.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  Linear,
  Model,
  ProfileSteps,
  Sequential,
  backendInfo,
  getNumThreads,
  isProfiling,
  machineInfo,
  matmul,
  profile,
  randn,
  setNumThreads,
  stopProfiling,
  type MachineInfo,
  type ProfileReport,
} from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'axon-profiler-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Fixed roofs, so the roofline arithmetic is checked without depending on this machine.
const machine: MachineInfo = {
  cpu: backendInfo().cpu,
  isa: 'avx512',
  threads: 2,
  lanes: 16,
  peakGflopsPerCore: 100,
  peakGflops: 200,
  l2GbpsPerCore: 100,
  l2Gbps: 200,
  dramGbps: 20,
  measuredSeconds: 1,
};

describe('ProfileReport', () => {
  it('String(report) is the table', () => {
    const a = randn([64, 64]);
    const report = profile(() => matmul(a, a));
    expect(String(report)).toBe(report.table());
    expect(`${report}`).toMatch(/^op\s+shapes\s+calls/);
  });

  it('a trace has each call on its thread and the pool workers’ shares inside the call', async () => {
    const before = getNumThreads();
    setNumThreads(2);
    try {
      const a = randn([512, 512]);
      const report = profile(() => {
        for (let i = 0; i < 3; i++) matmul(a, a);
      });
      expect(report.records.length).toBe(3);
      const ids = report.records.map((r) => r.id);
      expect(new Set(ids).size).toBe(3);
      // Every span belongs to a recorded call and lies within it.
      expect(report.spans.length).toBeGreaterThan(0);
      for (const s of report.spans) {
        const call = report.records.find((r) => r.id === s.record);
        expect(call, `span of call ${s.record}`).toBeDefined();
        expect(s.startNs).toBeGreaterThanOrEqual(call!.startNs);
        expect(s.endNs).toBeLessThanOrEqual(call!.startNs + call!.ns);
        expect(s.tasks).toBeGreaterThan(0);
      }
      // With 2 threads a 512^3 GEMM splits: the caller's share (worker 0) is there.
      expect(report.spans.some((s) => s.worker === 0)).toBe(true);

      const trace = report.traceEvents();
      const calls = trace.traceEvents.filter((e) => e.ph === 'X' && e.cat === 'kernel');
      expect(calls.map((e) => e.name)).toEqual(['gemm', 'gemm', 'gemm']);
      expect(calls[0].args.shapes).toBe(report.records[0].shapes);
      expect(calls[0].dur).toBeCloseTo(report.records[0].ns / 1e3, 6);
      const names = trace.traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name');
      expect(names.map((e) => e.args.name)).toContain(`thread ${report.records[0].thread} (caller)`);
      for (const s of report.spans.filter((x) => x.worker > 0))
        expect(names.some((e) => e.tid === s.thread && e.args.name === `pool worker ${s.worker}`)).toBe(true);

      const path = join(dir, 'trace.json');
      await report.saveTrace(path);
      const saved = JSON.parse(readFileSync(path, 'utf8')) as ReturnType<ProfileReport['traceEvents']>;
      expect(saved.traceEvents.length).toBe(trace.traceEvents.length);
      await expect(report.saveTrace('')).rejects.toThrow('ProfileReport.saveTrace: path must be a non-empty string');
    } finally {
      setNumThreads(before);
    }
  });

  it('roofline: intensity from FLOPs and bytes, the applicable roof and the share of it', () => {
    const a = randn([256, 256]);
    const report = profile(() => {
      matmul(a, a);
      a.relu();
    });
    const rows = report.roofline(machine);
    const gemm = rows.find((r) => r.op === 'gemm')!;
    expect(gemm.intensity).toBeCloseTo(gemm.gflopPerSec / gemm.gbPerSec, 9);
    // 256^3 GEMM: ~40 FLOP per byte; 20 GB/s DRAM x 40 > 200: compute-bound at this peak.
    expect(gemm.bound).toBe('compute');
    expect(gemm.attainableGflopPerSec).toBe(200);
    expect(gemm.share).toBeCloseTo(gemm.gflopPerSec / 200, 9);
    const relu = rows.find((r) => r.op !== 'gemm')!;
    // 256 KiB of traffic fits the pool's L2 here (2 x 256 KiB): L2-bound.
    expect(relu.bound).toBe('l2');
    expect(relu.attainableGflopPerSec).toBeCloseTo(relu.intensity * 200, 6);
    const table = report.rooflineTable(machine);
    expect(table).toMatch(/roofs: 200 GFLOP\/s FMA peak \(2 threads, avx512\), L2 200 GB\/s, DRAM 20 GB\/s/);
    expect(table).toMatch(/gemm .* compute /);
  });

  it('rooflineSvg draws the roofs and a point per group', async () => {
    const a = randn([128, 128]);
    const report = profile(() => matmul(a, a));
    const path = join(dir, 'roofline.svg');
    await report.rooflineSvg(path, machine);
    const svg = readFileSync(path, 'utf8');
    expect(svg).toMatch(/^<svg/);
    expect(svg).toContain('DRAM 20 GB/s');
    expect(svg).toContain('L2 200 GB/s');
    expect(svg).toContain('FMA peak 200 GFLOP/s');
    expect(svg.match(/<circle /g)?.length).toBe(1);
  });
});

describe('machineInfo', () => {
  it('measures positive roofs once and caches them', () => {
    const m = machineInfo();
    expect(m.threads).toBe(getNumThreads());
    expect(m.lanes).toBeGreaterThanOrEqual(1);
    for (const v of [m.peakGflopsPerCore, m.peakGflops, m.l2GbpsPerCore, m.l2Gbps, m.dramGbps])
      expect(v).toBeGreaterThan(0);
    // The per-core FMA peak at this level: at least a vector FMA per cycle at 1 GHz.
    expect(m.peakGflopsPerCore).toBeGreaterThan(2 * m.lanes);
    expect(m.cpu.microarchitecture.length).toBeGreaterThan(0);
    expect(machineInfo()).toBe(m);
    expect(() => machineInfo({ again: true } as never)).toThrow('machineInfo: options must be { refresh?: boolean }');
  });
});

describe('ProfileSteps', () => {
  const train = async (steps: ProfileSteps, epochs = 1): Promise<void> => {
    const model = new Model(new Sequential(new Linear(16, 32, { activation: 'relu' }), new Linear(32, 1)));
    model.compile({ optimizer: 'adam', loss: 'mse' });
    await model.fit(randn([160, 16], { seed: 1 }), randn([160, 1], { seed: 2 }), {
      epochs,
      batchSize: 16,
      verbose: 0,
      callbacks: [steps],
    });
  };

  it('profiles exactly the chosen batches, then hands the report on and writes the trace', async () => {
    let handed: ProfileReport | null = null;
    const trace = join(dir, 'steps.json');
    const steps = new ProfileSteps({ epoch: 1, batches: [3, 5], onReport: (r) => void (handed = r), trace });
    await train(steps, 2);
    expect(isProfiling()).toBe(false);
    expect(handed).toBe(steps.report);
    // A step of this MLP: forward, loss, backward and the Adam update, the same kernels each
    // step. Profile one step alone to count them, then expect exactly two steps' worth.
    const one = new ProfileSteps({ batches: [0, 1] });
    await train(one);
    const perStep = one.report!.records.length;
    expect(perStep).toBeGreaterThan(4);
    expect(steps.report!.records.length).toBe(2 * perStep);
    expect(JSON.parse(readFileSync(trace, 'utf8')).traceEvents.length).toBeGreaterThan(2 * perStep);
  });

  it('stops at the end of an epoch with fewer batches than asked, and refuses bad options', async () => {
    const steps = new ProfileSteps({ batches: [8, 100] });
    await train(steps);
    expect(isProfiling()).toBe(false);
    expect(steps.report!.records.length).toBeGreaterThan(0);
    expect(() => new ProfileSteps({ batches: [5, 5] })).toThrow('ProfileSteps: batches must be [first, end)');
    expect(() => new ProfileSteps({ epoch: -1 })).toThrow('ProfileSteps: epoch must be an integer');
    expect(() => new ProfileSteps({ every: 2 } as never)).toThrow("ProfileSteps: unknown option 'every'");
  });

  it('refuses to start inside another profile', async () => {
    const steps = new ProfileSteps({ batches: [0, 1] });
    const running = profile(async () => {
      await expect(train(steps)).rejects.toThrow('ProfileSteps: another profile is running');
    });
    await running;
    expect(isProfiling()).toBe(false);
    stopProfiling();
  });
});
