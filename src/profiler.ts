/**
 * Kernel profiler for researchers: records every native kernel call (op, shapes, time, FLOPs)
 * while on, and summarises them as a table sorted by total time with GFLOP/s and GB/s.
 * Near-zero cost when off (one atomic flag check per call).
 *
 * @example
 * const report = profile(() => model.forward(x));
 * console.log(report.table());
 */
import { native, type ProfileRecord } from './native/binding.js';

export interface ProfileRow {
  op: string;
  shapes: string;
  calls: number;
  totalMs: number;
  meanUs: number;
  gflops: number;
  /** GFLOP/s over the summed time of these calls. */
  gflopPerSec: number;
  /** Estimated GB/s of memory traffic (for bandwidth-bound ops). */
  gbPerSec: number;
}

export class ProfileReport {
  constructor(readonly records: readonly ProfileRecord[]) {}

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

  /** A fixed-width text table of rows(). */
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

/** Whether startProfiling (or profile) is recording now. */
export function isProfiling(): boolean {
  return active;
}

/** Starts recording kernel calls (clears anything recorded before). */
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

/** Stops recording and returns the report. */
export function stopProfiling(): ProfileReport {
  native.profilerEnable(false);
  active = false;
  return new ProfileReport(native.profilerTake());
}

/**
 * Runs fn with the profiler on and returns the report (a Promise of it when fn is async).
 * @throws Error when a profile is already running.
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
