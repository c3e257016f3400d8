/**
 * The only importer of the compiled addon (a local build in build/Release, else the prebuilt
 * binary for this platform in prebuilds/, found by node-gyp-build) and its typed interface,
 * most of it generated from the op table (./ops.gen.ts). Every op runs synchronously on the
 * calling thread as `name`; the few the table marks async also have `nameAsync`, which runs
 * on libuv's thread pool and resolves when done (concurrent calls share the cores: the policy
 * is in native/include/axon/thread_pool.h). Buffers are JS-owned typed arrays that native
 * code borrows for the call; during an async call the caller must not touch them.
 *
 * All arguments are re-checked natively: a wrong type, length, shape or overlap throws a
 * TypeError/RangeError naming the op and argument; nothing reaches a kernel unchecked. Checks
 * on buffer contents (class labels, gather indices, tokens, lengths, pooling indices,
 * optimizer hyperparameters, random-stream state) run every time the op runs, so a replayed
 * Program re-checks each step's new data: the first failing op stops the replay with a
 * RangeError.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { GeneratedKernels, RnnDims, Words } from './ops.gen.js';

// Enums, struct types, named cells and the op table as data, all generated from native/optable.
export * from './ops.gen.js';

/**
 * What {@link backendInfo} reports about the native backend and its build.
 *
 * @example
 * ```ts
 * import { backendInfo, type BackendInfo } from 'axon-nn';
 * const info: BackendInfo = backendInfo();
 * if (info.isa === 'scalar') console.warn(`no SIMD kernels: ${info.isaReason}`);
 * ```
 */
export interface BackendInfo {
  /** Where ops run: 'cpu' (the only backend so far; native/binding/backend.h). */
  backend: string;
  /** SIMD level in use: 'scalar' | 'avx2' | 'avx512' | 'neon'. */
  isa: string;
  /** Why: 'auto', or the AXON_SIMD setting that forced it. */
  isaReason: string;
  /** Levels this build and CPU can run. */
  isaAvailable: string[];
  /** Kernel threads in the pool now (setNumThreads). */
  threads: number;
  /** CPUs this process may use: its affinity mask, capped by a cgroup CPU quota. */
  availableCpus: number;
  /** Compiler that built the addon, e.g. 'g++ 12.2.0'. */
  compiler: string;
  /** Compile flags of the addon and its per-ISA kernels; ends with '(assertions on)' in a debug build. */
  buildFlags: string;
}

/**
 * One native kernel call recorded by the profiler ({@link ProfileReport.records}).
 *
 * @example
 * ```ts
 * import { profile, matmul, randn, type ProfileRecord } from 'axon-nn';
 * const a = randn([64, 64]);
 * const records: readonly ProfileRecord[] = profile(() => matmul(a, a)).records;
 * for (const r of records) console.log(r.op, r.shapes, `${(r.flops / r.ns).toFixed(1)} GFLOP/s`);
 * ```
 */
export interface ProfileRecord {
  /** Kernel name, e.g. 'gemm'. */
  op: string;
  /** The kernel's description of its operand shapes, e.g. 'NN m=64 n=64 k=64'. */
  shapes: string;
  /** Wall time of the call in nanoseconds. */
  ns: number;
  /** Floating-point operations the call performs (the kernel's own count). */
  flops: number;
  /** Estimated memory traffic of the call in bytes (reads plus writes). */
  bytes: number;
}


/**
 * A recorded op sequence replayed natively. regs = [start row, step index, rows per step,
 * abort flag]: after each replayed step regs[0] += regs[2] and regs[1] += 1; setting regs[3]
 * stops a replay before its next step.
 */
export interface NativeProgram {
  /** Parses and checks args as the direct export does, keeps the op, and runs it when execute. */
  record(op: string, args: unknown[], execute: boolean): void;
  /** Replays `times` steps (default 1) on this thread; returns the steps run. */
  run(times?: number): number;
  /** Replays on libuv's pool; resolves to the steps run (fewer when aborted). */
  runAsync(times?: number): Promise<number>;
  /**
   * The program owns `buffer` (a buffer allocated while recording): before the first recorded
   * use that does not write all of it, every replay zeroes it.
   */
  own(buffer: Words): void;
  /** Whether a recorded op has used this owned buffer yet (false when it is not owned). */
  used(buffer: Words): boolean;
  /**
   * Liveness: owned buffers whose uses in the recorded sequence do not overlap share one arena
   * from now on (first fit, largest first); `keep` (what JS reads after a replay, such as the
   * outputs) and unused buffers stay put. Returns the bytes saved. Records nothing more after.
   */
  compact(keep: readonly Words[]): number;
  /** Drops every recorded op and its buffer references now (the registers stay). */
  clear(): void;
  readonly length: number;
  readonly ops: string[];
  /** Estimated floating-point operations of one replayed step (the recorded ops' sum). */
  readonly flops: number;
  /** Estimated bytes one replayed step moves (the recorded ops' sum). */
  readonly bytes: number;
}

export type NativeBinding = GeneratedKernels & {
  backendInfo(): BackendInfo;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  /** 0 auto, 1 implicit GEMM, 2 Winograd (src/backend.ts: setConvAlgorithm). */
  setConvAlgorithm(algorithm: number): void;
  getConvAlgorithm(): number;
  profilerEnable(on: boolean): void;
  profilerTake(): ProfileRecord[];
  /** [workspace floats, scratch floats] of an rnn call with these dims. */
  rnnSizes(dims: RnnDims): [number, number];
  /** [sync] Sum of squares of x, accumulated in double. */
  sumSquares(x: Float32Array): number;
  Program: new (regs: Float64Array) => NativeProgram;
};

const require = createRequire(import.meta.url);

function locateAddon(): string {
  const override = process.env.AXON_NATIVE_PATH;
  if (override) return override;
  // src/native/binding.ts and dist/native/binding.js both sit two levels below the root.
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  // A local build first (build/Release, build/Debug), then prebuilds/<platform>-<arch>/.
  const nodeGypBuild = require('node-gyp-build') as { path(dir: string): string };
  try {
    return nodeGypBuild.path(root);
  } catch {
    throw new Error(
      `axon-nn: no native addon for ${process.platform}-${process.arch} in ${root}: neither a local build ` +
        '(build/Release) nor a prebuilt binary (prebuilds/) matches. Run `npm rebuild axon-nn` ' +
        '(it needs python3, make and a C++ compiler), or `npm run build:native` in a checkout.',
    );
  }
}

/** The loaded addon. */
export const native = require(locateAddon()) as NativeBinding;
