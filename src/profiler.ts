/**
 * Kernel profiler for researchers: records every native kernel call (op, shapes, time, FLOPs)
 * while on, and summarises them as a table sorted by total time with GFLOP/s and GB/s.
 * Near-zero cost when off (one atomic flag check per call).
 *
 * @example
 * ```ts
 * import { profile, Linear, randn } from 'axon-nn';
 * const model = new Linear(784, 10);
 * const report = profile(() => model.forward(randn([64, 784])));
 * console.log(report.table());
 * ```
 */
import { machineInfo, type MachineInfo } from './backend.js';
import { writeFileAtomic } from './io/atomic.js';
import { native, type ProfileRecord, type ProfileSpan } from './native/binding.js';

export type { ProfileRecord, ProfileSpan };

/**
 * One row of {@link ProfileReport.rows}: every recorded call of one kernel with the same shapes,
 * summed. Rates are computed over the summed kernel time (0 when no time was measured).
 *
 * @example
 * ```ts
 * import { profile, Linear, randn, type ProfileRow } from 'axon-nn';
 * const layer = new Linear(256, 64);
 * const x = randn([32, 256]);
 * const rows: ProfileRow[] = profile(() => layer.forward(x)).rows();
 * for (const r of rows) console.log(`${r.op} ${r.shapes}: ${r.calls} calls, ${r.gflopPerSec.toFixed(1)} GFLOP/s`);
 * ```
 */
export interface ProfileRow {
  /** Kernel name as the native binding records it, e.g. `'gemm'`. */
  op: string;
  /** The kernel's description of its operand shapes, e.g. `'NT m=32 n=64 k=256'`. */
  shapes: string;
  /** Number of calls in this group. */
  calls: number;
  /** Summed wall time of these calls, in milliseconds. */
  totalMs: number;
  /** Mean wall time per call, in microseconds. */
  meanUs: number;
  /** Total work of these calls in GFLOP (10^9 floating-point operations; an amount, not a rate). */
  gflops: number;
  /** GFLOP/s over the summed time of these calls. */
  gflopPerSec: number;
  /** Estimated GB/s of memory traffic (for bandwidth-bound ops). */
  gbPerSec: number;
  /** Estimated memory traffic of these calls in bytes (summed). */
  bytes: number;
}

/**
 * The native kernel calls recorded by {@link profile} or {@link stopProfiling}: the raw records,
 * grouped rows sorted by time, and a printable table. Only kernels are timed (not JS overhead
 * between them), and the recording is process-wide, so unrelated work running meanwhile (other
 * awaited predicts, for example) is included.
 *
 * @example
 * ```ts
 * import { profile, Linear, randn } from 'axon-nn';
 * const layer = new Linear(784, 128, { activation: 'relu' });
 * const x = randn([64, 784]);
 * const report = profile(() => layer.forward(x));
 * console.log(report.table()); // op, shapes, calls, total ms, %, mean us, GFLOP/s, GB/s
 * console.log(`${report.records.length} kernel calls, ${report.totalMs().toFixed(3)} ms`);
 * ```
 */
export class ProfileReport {
  /** @internal */
  constructor(
    /** Every recorded kernel call, in the order the calls finished. */
    readonly records: readonly ProfileRecord[],
    /** Each thread's share of the calls' parallel regions (the calling thread's and the pool workers'). */
    readonly spans: readonly ProfileSpan[] = [],
    /** Records and spans the profiler could not keep (its storage holds about a million of each). */
    readonly dropped = 0,
  ) {}

  /** Calls grouped by op and shapes, sorted by total time (largest first). */
  rows(): ProfileRow[] {
    const groups = new Map<
      string,
      { op: string; shapes: string; calls: number; ns: number; flops: number; bytes: number }
    >();
    for (const r of this.records) {
      const key = `${r.op}\u0000${r.shapes}`;
      const g = groups.get(key) ?? { op: r.op, shapes: r.shapes, calls: 0, ns: 0, flops: 0, bytes: 0 };
      g.calls++;
      g.ns += r.ns;
      g.flops += r.flops;
      g.bytes += r.bytes;
      groups.set(key, g);
    }
    return [...groups.values()]
      .map((g) => ({
        op: g.op,
        shapes: g.shapes,
        calls: g.calls,
        totalMs: g.ns / 1e6,
        meanUs: g.ns / g.calls / 1e3,
        gflops: g.flops / 1e9,
        gflopPerSec: g.ns > 0 ? g.flops / g.ns : 0,
        gbPerSec: g.ns > 0 ? g.bytes / g.ns : 0,
        bytes: g.bytes,
      }))
      .sort((a, b) => b.totalMs - a.totalMs);
  }

  /** Total kernel time in milliseconds. */
  totalMs(): number {
    return this.records.reduce((s, r) => s + r.ns, 0) / 1e6;
  }

  /** A fixed-width text table of rows(): the `limit` slowest groups (default 30), then the total kernel time. */
  table(limit = 30): string {
    const rows = this.rows();
    const total = this.totalMs();
    const head = ['op', 'shapes', 'calls', 'total ms', '%', 'mean us', 'GFLOP/s', 'GB/s'];
    const body = rows
      .slice(0, limit)
      .map((r) => [
        r.op,
        r.shapes,
        String(r.calls),
        r.totalMs.toFixed(3),
        total > 0 ? ((100 * r.totalMs) / total).toFixed(1) : '0.0',
        r.meanUs.toFixed(1),
        r.gflopPerSec.toFixed(1),
        r.gbPerSec.toFixed(1),
      ]);
    const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
    const fmt = (row: string[]): string =>
      row.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
    const lines = [fmt(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(fmt)];
    if (rows.length > limit) lines.push(`... ${rows.length - limit} more rows`);
    lines.push(`total kernel time ${total.toFixed(3)} ms in ${this.records.length} calls`);
    if (this.dropped > 0) lines.push(`(${this.dropped} records or spans dropped: the profiler's storage was full)`);
    return lines.join('\n');
  }

  /**
   * Where each group of calls (as in {@link rows}) sits on this machine's roofline: its
   * arithmetic intensity (FLOPs per byte of the kernel's own traffic estimate), the roof that
   * applies (the FMA peak, or the bandwidth of L2 when the call's bytes fit the pool's L2s,
   * else DRAM, times the intensity) and the share of it the calls reached. The roofs come from
   * {@link machineInfo} (measured once, about a second) unless `machine` is given. The figures
   * are whole-pool roofs: a call that ran on fewer threads than the pool (small, or beside other
   * callers) shows a lower share.
   */
  roofline(machine: MachineInfo = machineInfo()): RooflineRow[] {
    const l2Bytes = L2_BYTES_PER_CORE * machine.threads;
    return this.rows().map((r) => {
      const bytesPerCall = r.bytes / Math.max(r.calls, 1);
      const intensity = r.bytes > 0 ? (r.gflops * 1e9) / r.bytes : Infinity;
      const memory: 'l2' | 'dram' = bytesPerCall <= l2Bytes ? 'l2' : 'dram';
      const bandwidth = memory === 'l2' ? machine.l2Gbps : machine.dramGbps;
      const memoryRoof = Number.isFinite(intensity) ? intensity * bandwidth : Infinity;
      const bound: 'compute' | 'l2' | 'dram' = memoryRoof < machine.peakGflops ? memory : 'compute';
      const attainable = Math.min(machine.peakGflops, memoryRoof);
      // A kernel without FLOPs (a copy, a gather) is judged by bandwidth alone.
      const share = r.gflops > 0 ? r.gflopPerSec / attainable : r.gbPerSec / bandwidth;
      return { ...r, intensity, bound, attainableGflopPerSec: attainable, share };
    });
  }

  /** {@link roofline} as a text table (the `limit` slowest groups, default 30). */
  rooflineTable(machine: MachineInfo = machineInfo(), limit = 30): string {
    const rows = this.roofline(machine);
    const head = ['op', 'shapes', 'total ms', 'FLOP/B', 'GFLOP/s', 'GB/s', 'bound', 'roof', '% of roof'];
    const body = rows
      .slice(0, limit)
      .map((r) => [
        r.op,
        r.shapes,
        r.totalMs.toFixed(3),
        Number.isFinite(r.intensity) ? r.intensity.toFixed(2) : 'inf',
        r.gflopPerSec.toFixed(1),
        r.gbPerSec.toFixed(1),
        r.bound,
        r.gflops > 0
          ? `${r.attainableGflopPerSec.toFixed(0)} GFLOP/s`
          : `${(r.bound === 'l2' ? machine.l2Gbps : machine.dramGbps).toFixed(0)} GB/s`,
        (100 * r.share).toFixed(0),
      ]);
    const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
    const fmt = (row: string[]): string =>
      row.map((c, i) => (i < 2 || i === 6 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
    const lines = [
      `roofs: ${machine.peakGflops.toFixed(0)} GFLOP/s FMA peak (${machine.threads} threads, ${machine.isa}), ` +
        `L2 ${machine.l2Gbps.toFixed(0)} GB/s, DRAM ${machine.dramGbps.toFixed(0)} GB/s (${machine.cpu.microarchitecture})`,
      fmt(head),
      widths.map((w) => '-'.repeat(w)).join('  '),
      ...body.map(fmt),
    ];
    if (rows.length > limit) lines.push(`... ${rows.length - limit} more rows`);
    return lines.join('\n');
  }

  /**
   * Draws {@link roofline} as an SVG (log-log: arithmetic intensity against GFLOP/s): the FMA
   * peak, the L2 and DRAM roofs, and one point per group of calls (the `limit` slowest, default
   * 20), its area proportional to its share of the kernel time. Written atomically to `path`.
   */
  async rooflineSvg(path: string, machine: MachineInfo = machineInfo(), limit = 20): Promise<void> {
    if (typeof path !== 'string' || path === '')
      throw new TypeError(`ProfileReport.rooflineSvg: path must be a non-empty string, got ${JSON.stringify(path)}`);
    await writeFileAtomic(path, new TextEncoder().encode(rooflineSvgText(this, machine, limit)));
  }

  /** The table, so `String(report)` and template strings print it. */
  toString(): string {
    return this.table();
  }

  /**
   * The calls as a Chrome trace (the Trace Event Format that chrome://tracing, Perfetto and
   * speedscope open): one track per thread, the calling threads' tracks holding each kernel call
   * (args: shapes, FLOPs, bytes, GFLOP/s, GB/s) and the pool workers' tracks the share of each
   * call's parallel region they ran (args: the call's id, tasks). Times in microseconds.
   */
  traceEvents(): ChromeTrace {
    const us = (ns: number): number => ns / 1e3;
    const byId = new Map(this.records.map((r) => [r.id, r]));
    const events: TraceEvent[] = [];
    const names = new Map<number, string>();
    for (const r of this.records) {
      if (!names.has(r.thread)) names.set(r.thread, `thread ${r.thread} (caller)`);
      events.push({
        name: r.op,
        cat: 'kernel',
        ph: 'X',
        ts: us(r.startNs),
        dur: us(r.ns),
        pid: 1,
        tid: r.thread,
        args: {
          shapes: r.shapes,
          flops: r.flops,
          bytes: r.bytes,
          'GFLOP/s': r.ns > 0 ? Number((r.flops / r.ns).toFixed(2)) : 0,
          'GB/s': r.ns > 0 ? Number((r.bytes / r.ns).toFixed(2)) : 0,
          id: r.id,
        },
      });
    }
    for (const s of this.spans) {
      const call = byId.get(s.record);
      if (s.worker > 0) names.set(s.thread, `pool worker ${s.worker}`);
      events.push({
        name: call ? `${call.op} (${s.worker === 0 ? 'caller' : 'worker'} share)` : 'parallel region',
        cat: 'pool',
        ph: 'X',
        ts: us(s.startNs),
        dur: us(s.endNs - s.startNs),
        pid: 1,
        tid: s.thread,
        args: { id: s.record, tasks: s.tasks, ...(call ? { shapes: call.shapes } : {}) },
      });
    }
    events.sort((a, b) => a.ts - b.ts || b.dur - a.dur);
    const meta: TraceEvent[] = [
      { name: 'process_name', ph: 'M', pid: 1, tid: 0, ts: 0, dur: 0, args: { name: 'axon-nn kernels' } },
      ...[...names].map(([tid, name]) => ({
        name: 'thread_name',
        ph: 'M' as const,
        pid: 1,
        tid,
        ts: 0,
        dur: 0,
        args: { name },
      })),
    ];
    return {
      traceEvents: [...meta, ...events],
      displayTimeUnit: 'ms',
      otherData: { producer: 'axon-nn profile()', calls: this.records.length, dropped: this.dropped },
    };
  }

  /**
   * Writes {@link traceEvents} as JSON to `path` (atomically: a reader never sees half a file).
   * Open it in Perfetto (ui.perfetto.dev) or chrome://tracing.
   */
  async saveTrace(path: string): Promise<void> {
    if (typeof path !== 'string' || path === '')
      throw new TypeError(`ProfileReport.saveTrace: path must be a non-empty string, got ${JSON.stringify(path)}`);
    await writeFileAtomic(path, new TextEncoder().encode(JSON.stringify(this.traceEvents())));
  }
}

/** The L2 a core is taken to have when deciding which memory roof applies (the smallest of the
 * CPUs we target: 256 KiB; Zen 4 has 1 MiB, recent Intel cores 1.25-2 MiB). */
const L2_BYTES_PER_CORE = 256 * 1024;

/**
 * One group of calls of {@link ProfileReport.roofline}: a {@link ProfileRow} with its position
 * on the roofline.
 *
 * @example
 * ```ts
 * import { profile, matmul, randn, type RooflineRow } from 'axon-nn';
 * const a = randn([512, 512]);
 * const rows: RooflineRow[] = profile(() => matmul(a, a)).roofline();
 * for (const r of rows) console.log(`${r.op}: ${r.bound}-bound, ${(100 * r.share).toFixed(0)}% of its roof`);
 * ```
 */
export interface RooflineRow extends ProfileRow {
  /** FLOPs per byte of the kernel's traffic estimate (Infinity when it reports no bytes). */
  intensity: number;
  /** The roof that applies: the FMA peak ('compute'), or L2 or DRAM bandwidth times the intensity. */
  bound: 'compute' | 'l2' | 'dram';
  /** That roof in GFLOP/s. */
  attainableGflopPerSec: number;
  /** Achieved over attainable (for a kernel without FLOPs: GB/s over the bandwidth). */
  share: number;
}

function rooflineSvgText(report: ProfileReport, machine: MachineInfo, limit: number): string {
  const rows = report.roofline(machine).filter((r) => r.gflops > 0 && Number.isFinite(r.intensity));
  const total = report.totalMs();
  const [w, h, left, bottom, top, right] = [760, 480, 70, 50, 30, 20];
  const xMin = 1 / 64;
  const xMax = 1024;
  const yMax = 2 ** Math.ceil(Math.log2(machine.peakGflops * 1.5));
  const yMin = yMax / 2 ** 14;
  const x = (v: number): number =>
    left +
    ((Math.log2(Math.min(Math.max(v, xMin), xMax)) - Math.log2(xMin)) / Math.log2(xMax / xMin)) * (w - left - right);
  const y = (v: number): number =>
    h -
    bottom -
    ((Math.log2(Math.min(Math.max(v, yMin), yMax)) - Math.log2(yMin)) / Math.log2(yMax / yMin)) * (h - top - bottom);
  const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const roof = (bw: number, color: string, label: string): string => {
    const ridge = machine.peakGflops / bw;
    return (
      `<polyline fill="none" stroke="${color}" stroke-width="2" points="${x(xMin)},${y(xMin * bw)} ${x(ridge)},${y(machine.peakGflops)} ${x(xMax)},${y(machine.peakGflops)}"/>` +
      `<text x="${x(xMin) + 4}" y="${y(xMin * bw) - 6}" fill="${color}" font-size="11">${label} ${bw.toFixed(0)} GB/s</text>`
    );
  };
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif">`,
    `<rect width="${w}" height="${h}" fill="white"/>`,
    `<text x="${left}" y="18" font-size="13">Roofline: ${esc(machine.cpu.brand || machine.cpu.microarchitecture)}, ${machine.isa}, ${machine.threads} threads</text>`,
  ];
  for (let v = xMin; v <= xMax; v *= 4)
    parts.push(
      `<line x1="${x(v)}" x2="${x(v)}" y1="${y(yMin)}" y2="${y(yMax)}" stroke="#eee"/>`,
      `<text x="${x(v)}" y="${h - bottom + 16}" font-size="10" text-anchor="middle">${v >= 1 ? v : `1/${1 / v}`}</text>`,
    );
  for (let v = yMin; v <= yMax; v *= 4)
    parts.push(
      `<line x1="${x(xMin)}" x2="${x(xMax)}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/>`,
      `<text x="${left - 6}" y="${y(v) + 4}" font-size="10" text-anchor="end">${v >= 1 ? v.toFixed(0) : v.toPrecision(2)}</text>`,
    );
  parts.push(
    `<text x="${(left + w - right) / 2}" y="${h - 10}" font-size="12" text-anchor="middle">arithmetic intensity (FLOP/byte)</text>`,
    `<text x="16" y="${(top + h - bottom) / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 16 ${(top + h - bottom) / 2})">GFLOP/s</text>`,
    roof(machine.dramGbps, '#c0392b', 'DRAM'),
    roof(machine.l2Gbps, '#2874a6', 'L2'),
    `<text x="${x(xMax) - 4}" y="${y(machine.peakGflops) - 6}" font-size="11" text-anchor="end">FMA peak ${machine.peakGflops.toFixed(0)} GFLOP/s</text>`,
  );
  for (const r of rows.slice(0, limit)) {
    const radius = 3 + 12 * Math.sqrt(total > 0 ? r.totalMs / total : 0);
    parts.push(
      `<circle cx="${x(r.intensity)}" cy="${y(r.gflopPerSec)}" r="${radius.toFixed(1)}" fill="#27ae60" fill-opacity="0.5" stroke="#1e8449">` +
        `<title>${esc(`${r.op} ${r.shapes}: ${r.gflopPerSec.toFixed(1)} GFLOP/s, ${(100 * r.share).toFixed(0)}% of the ${r.bound} roof, ${r.totalMs.toFixed(2)} ms`)}</title></circle>`,
      `<text x="${x(r.intensity) + radius + 2}" y="${y(r.gflopPerSec) + 4}" font-size="10">${esc(r.op)}</text>`,
    );
  }
  parts.push('</svg>');
  return parts.join('\n');
}

/**
 * A trace as {@link ProfileReport.traceEvents} makes it: Chrome's Trace Event Format (JSON object
 * form), which Perfetto, chrome://tracing and speedscope open.
 *
 * @example
 * ```ts
 * import { profile, matmul, randn, type ChromeTrace } from 'axon-nn';
 * const a = randn([256, 256]);
 * const trace: ChromeTrace = profile(() => matmul(a, a)).traceEvents();
 * console.log(JSON.stringify(trace).length, 'bytes of JSON');
 * ```
 */
export interface ChromeTrace {
  /** The events: track names first, then the calls and the workers' shares by start time. */
  traceEvents: TraceEvent[];
  /** How viewers display times. */
  displayTimeUnit: 'ms';
  /** What made the trace, the number of calls and of records the profiler dropped. */
  otherData: Record<string, string | number>;
}

/**
 * One event of {@link ProfileReport.traceEvents} in the Trace Event Format: a complete event
 * (`ph: 'X'`, a span on track `tid`) or a metadata event (`ph: 'M'`, a track's name).
 *
 * @example
 * ```ts
 * import { profile, matmul, randn, type TraceEvent } from 'axon-nn';
 * const a = randn([256, 256]);
 * const events: TraceEvent[] = profile(() => matmul(a, a)).traceEvents().traceEvents;
 * console.log(events.filter((e) => e.ph === 'X').map((e) => `${e.name} ${e.dur.toFixed(1)} us`));
 * ```
 */
export interface TraceEvent {
  /** The kernel's name (a track's name for metadata events). */
  name: string;
  /** 'kernel' for a call, 'pool' for a thread's share of its parallel region. */
  cat?: string;
  /** 'X' complete event, 'M' metadata. */
  ph: 'X' | 'M';
  /** Start, microseconds since the profiler's epoch. */
  ts: number;
  /** Duration in microseconds. */
  dur: number;
  /** Always 1 (this process). */
  pid: number;
  /** The track: a thread as the profiler numbers them. */
  tid: number;
  /** Shapes, FLOPs, bytes and rates of a call; tasks and the call's id of a share. */
  args: Record<string, string | number>;
}

let active = false;

/**
 * Whether {@link startProfiling} (or {@link profile}) is recording now.
 *
 * @example
 * ```ts
 * import { isProfiling, startProfiling, stopProfiling } from 'axon-nn';
 * startProfiling();
 * console.log(isProfiling()); // true
 * stopProfiling();
 * console.log(isProfiling()); // false
 * ```
 */
export function isProfiling(): boolean {
  return active;
}

/**
 * Starts recording every native kernel call in the process, clearing anything recorded before;
 * {@link stopProfiling} ends it. Use it when the code to measure does not fit in one callback;
 * otherwise prefer {@link profile}, which refuses to start while a profile is running.
 *
 * @example
 * ```ts
 * import { startProfiling, stopProfiling, Linear, randn } from 'axon-nn';
 * const layer = new Linear(128, 10);
 * startProfiling();
 * for (let i = 0; i < 10; i++) layer.forward(randn([32, 128]));
 * console.log(stopProfiling().table(5));
 * ```
 */
export function startProfiling(): void {
  native.profilerTake();
  native.profilerEnable(true);
  active = true;
}

/**
 * Runs fn with kernel calls recorded, outside any report (isProfiling stays false): `take()`
 * returns the records since the start or the last take. Whatever is left is dropped when fn
 * returns or throws. summary counts each layer's FLOPs with it.
 */
export function withKernelRecords<T>(fn: (take: () => ProfileRecord[]) => T): T {
  native.profilerTake();
  native.profilerEnable(true);
  try {
    return fn(() => native.profilerTake().records);
  } finally {
    native.profilerEnable(false);
    native.profilerTake();
  }
}

/**
 * Stops recording and returns a report of the kernel calls since {@link startProfiling}. Called
 * without a profile running, it returns an empty report.
 *
 * @example
 * ```ts
 * import { startProfiling, stopProfiling, matmul, randn } from 'axon-nn';
 * startProfiling();
 * matmul(randn([256, 256]), randn([256, 256]));
 * const report = stopProfiling();
 * console.log(report.rows()[0].op); // 'gemm'
 * ```
 */
export function stopProfiling(): ProfileReport {
  native.profilerEnable(false);
  active = false;
  const taken = native.profilerTake();
  return new ProfileReport(taken.records, taken.spans, taken.dropped);
}

/**
 * Runs fn with the kernel profiler on and returns the report (a Promise of it when fn is
 * async), like `torch.profiler.profile` around a block. The profiler stops even when fn throws.
 * @throws Error when a profile is already running (profile or startProfiling).
 *
 * @example
 * ```ts
 * import { profile, Linear, randn } from 'axon-nn';
 * const layer = new Linear(512, 512);
 * const x = randn([128, 512]);
 * const report = profile(() => layer.forward(x));
 * console.log(report.table());
 * ```
 */
export function profile(fn: () => void): ProfileReport;
export function profile(fn: () => Promise<unknown>): Promise<ProfileReport>;
export function profile(fn: () => unknown): ProfileReport | Promise<ProfileReport> {
  if (active) throw new Error('profile: a profile is already running');
  startProfiling();
  let result: unknown;
  try {
    result = fn();
  } catch (e) {
    stopProfiling();
    throw e;
  }
  if (result instanceof Promise) {
    return result.then(
      () => stopProfiling(),
      (e: unknown) => {
        stopProfiling();
        throw e;
      },
    );
  }
  return stopProfiling();
}
