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
import { native, type ProfileRecord } from './native/binding.js';

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
  constructor(
    /** Every recorded kernel call, in the order the calls finished. */
    readonly records: readonly ProfileRecord[],
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
    return lines.join('\n');
  }
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
    return fn(() => native.profilerTake());
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
  return new ProfileReport(native.profilerTake());
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
