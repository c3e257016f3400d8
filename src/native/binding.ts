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
  /** What the CPU says it is (CPUID on x86; on other architectures only `arch` and a generic name). */
  cpu: CpuInfo;
  /**
   * Whether prepareInference's reduced precisions run on their own instructions here
   * (AVX512-BF16 vdpbf16ps, AVX512-VNNI vpdpbusd, with the AVX-512 level active); false means
   * the float32 fallback computes the same rounding, without the speed.
   */
  lowpNative: {
    /** vdpbf16ps products for 'bf16'. */
    bf16: boolean;
    /** vpdpbusd products for 'int8'. */
    int8: boolean;
  };
}

/**
 * The CPU as {@link BackendInfo.cpu} reports it: architecture, vendor and brand strings, the
 * family/model/stepping numbers /proc/cpuinfo shows, and the microarchitecture they name.
 *
 * @example
 * ```ts
 * import { backendInfo, type CpuInfo } from 'axon-nn';
 * const cpu: CpuInfo = backendInfo().cpu;
 * console.log(`${cpu.brand} (${cpu.microarchitecture}, family ${cpu.family} model ${cpu.model})`);
 * ```
 */
export interface CpuInfo {
  /** 'x86_64', 'aarch64', ... */
  arch: string;
  /** CPUID vendor: 'AuthenticAMD', 'GenuineIntel', ... ('' off x86). */
  vendor: string;
  /** The marketing name, e.g. 'AMD EPYC 9R14 96-Core Processor' ('' off x86). */
  brand: string;
  /** Display family (AMD Zen 3/4: 25, Zen 5: 26; Intel: 6). */
  family: number;
  /** Display model. */
  model: number;
  /** Stepping. */
  stepping: number;
  /** 'zen4', 'zen5', 'sapphire-rapids', 'alder-lake', ..., 'aarch64', or 'unknown ...' with the numbers. */
  microarchitecture: string;
  /** The per-CPU tuning in use: the table's row for this microarchitecture ('generic' when it has none). */
  config: CpuConfigInfo;
}

/**
 * The per-CPU configuration row the kernels use ({@link CpuInfo.config}): chosen at load from
 * the microarchitecture, forced with `AXON_CPU_CONFIG=<name>`, its GEMM blocking overridden
 * with `AXON_GEMM_BLOCKING=kc,mc,nc` (docs/KERNEL-LAB.md). An unknown name or invalid blocking
 * makes the addon refuse to load with the reason.
 *
 * @example
 * ```ts
 * import { backendInfo, type CpuConfigInfo } from 'axon-nn';
 * const config: CpuConfigInfo = backendInfo().cpu.config;
 * console.log(`${config.name} (${config.reason}): GEMM kc ${config.gemm.kc}, mc ${config.gemm.mc}, nc ${config.gemm.nc}`);
 * ```
 */
export interface CpuConfigInfo {
  /** The row: 'generic', 'zen4', 'zen5', ... */
  name: string;
  /** Why this row: 'auto: zen4', 'AXON_CPU_CONFIG=zen5', plus any AXON_GEMM_BLOCKING override. */
  reason: string;
  /** Where the row's values were measured. */
  measured: string;
  /** The GEMM cache blocking of the active SIMD level: the kc x nc B block, the mc x kc A block. */
  gemm: {
    /** Depth of a packed block (the reduction's step). */
    kc: number;
    /** Rows of C per A block (a multiple of the microkernel's mr). */
    mc: number;
    /** Columns of C per B block (a multiple of the microkernel's nr). */
    nc: number;
  };
  /** When convolutions use Winograd instead of the implicit GEMM (both channel counts at least these). */
  winograd: {
    /** Least input channels for a 3x3 kernel. */
    minIn3x3: number;
    /** Least input channels for a 5x5 kernel. */
    minIn5x5: number;
    /** Least output channels. */
    minOut: number;
  };
  /** Every row's name (the values AXON_CPU_CONFIG accepts). */
  known: string[];
}

/** The raw figures of the machine probe (src/backend.ts: machineInfo). */
export interface MachineMeasure {
  lanes: number;
  threads: number;
  fmaGflopsOne: number;
  fmaGflopsAll: number;
  l2GbpsOne: number;
  l2GbpsAll: number;
  dramGbpsAll: number;
  seconds: number;
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
  /** The call's number, 1, 2, ... in order of start; {@link ProfileSpan.record} refers to it. */
  id: number;
  /** Start time in nanoseconds since the profiler's epoch (a steady clock, first use of the profiler). */
  startNs: number;
  /** The calling thread, numbered 0, 1, ... by the profiler (the main thread, libuv's, workers'). */
  thread: number;
}

/**
 * One thread's share of a recorded call's parallel region ({@link ProfileReport.spans}): the
 * calling thread's (worker 0) and each pool worker's that joined it, for a trace with one track
 * per thread.
 *
 * @example
 * ```ts
 * import { profile, matmul, randn, type ProfileSpan } from 'axon-nn';
 * const a = randn([512, 512]);
 * const spans: readonly ProfileSpan[] = profile(() => matmul(a, a)).spans;
 * for (const s of spans) console.log(`worker ${s.worker}: ${s.tasks} tasks in ${(s.endNs - s.startNs) / 1e3} us`);
 * ```
 */
export interface ProfileSpan {
  /** The {@link ProfileRecord.id} of the call whose region this is (0: a region outside a recorded call). */
  record: number;
  /** The pool participant: 0 the calling thread, 1 .. threads-1 the pool's workers. */
  worker: number;
  /** The thread, numbered as {@link ProfileRecord.thread}. */
  thread: number;
  /** Start in nanoseconds since the profiler's epoch. */
  startNs: number;
  /** End in nanoseconds since the profiler's epoch. */
  endNs: number;
  /** Tasks of the region this thread ran. */
  tasks: number;
}

/** What the native profiler kept since the last take. */
export interface ProfileTaken {
  records: ProfileRecord[];
  spans: ProfileSpan[];
  /** Records and spans not kept (past about a million of each, storage is full). */
  dropped: number;
}


/**
 * A peer library the bench CLI loaded at run time (native/binding/peers.cpp: peerLoad).
 * `supported` is false for a library that loaded but that the bench cannot drive (a oneDNN
 * version whose C API was not verified); `reason` then says why.
 */
export interface PeerLibrary {
  name: 'openblas' | 'onednn';
  /** The path or library name that loaded, as passed to peerLoad. */
  path: string;
  /** The file it was loaded from (dladdr / GetModuleFileName), '' when unknown. */
  file: string;
  /** '0.3.21', '2.6.3'; 'unknown' when the library does not say. */
  version: string;
  supported: boolean;
  reason?: string;
  /** 'pthreads' | 'openmp' | 'sequential' | 'tbb' | 'threadpool' | 'unknown'. */
  threading: string;
  /** Its thread count now; null when it cannot be read. */
  threads: number | null;
  /** OpenBLAS only: openblas_get_config() and openblas_get_corename(). */
  config?: string;
  corename?: string;
  /** OpenBLAS only: a 64-bit-integer (ILP64) build. */
  ilp64?: boolean;
}

/** A convolution geometry for the peers: NCHW input, OIHW weights, symmetric padding. */
export interface PeerConvGeometry {
  n: number;
  cin: number;
  cout: number;
  h: number;
  w: number;
  kh: number;
  kw: number;
  stride: number;
  pad: number;
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
  profilerTake(): ProfileTaken;
  /** Measures the FMA peak and read bandwidths (about a second; blocks the calling thread). */
  machineMeasure(): MachineMeasure;
  /** [workspace floats, scratch floats] of an rnn call with these dims. */
  rnnSizes(dims: RnnDims): [number, number];
  /** [sync] Sum of squares of x, accumulated in double. */
  sumSquares(x: Float32Array): number;
  Program: new (regs: Float64Array) => NativeProgram;
  /**
   * Loads a peer library for the bench CLI: tries `paths` in order (dlopen / LoadLibrary) and
   * returns the first that loads (for oneDNN, the first supported one), or null when none does;
   * `errors` receives one "path: reason" per failure. Once loaded, later calls return it.
   */
  peerLoad(name: 'openblas' | 'onednn', paths: readonly string[], errors?: string[]): PeerLibrary | null;
  /** Sets the loaded peers' thread counts; returns them (null: not loaded or not settable). */
  peerSetThreads(n: number): { openblas: number | null; onednn: number | null };
  /** OpenBLAS cblas_sgemm, row-major: c (m x n) = op(a) op(b); a is m x k (k x m when transA). */
  peerSgemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    a: Float32Array,
    b: Float32Array,
    c: Float32Array,
  ): void;
  /** Convolution as im2col (one thread, one image at a time) plus OpenBLAS sgemm. */
  peerConv2dIm2col(geometry: PeerConvGeometry, x: Float32Array, w: Float32Array, b: Float32Array | null, y: Float32Array): void;
  /**
   * oneDNN forward convolution on its own layouts: reorders x and w in, runs `reps` times,
   * reorders the output into y. `seconds` is one convolution's mean time, `reorderSeconds` the
   * three reorders', `impl` oneDNN's implementation name.
   */
  peerDnnlConv2d(
    geometry: PeerConvGeometry,
    x: Float32Array,
    w: Float32Array,
    b: Float32Array | null,
    y: Float32Array,
    reps: number,
  ): { seconds: number; reorderSeconds: number; impl: string };
  /** oneDNN eltwise (relu, exp, sigmoid) or binary add on plain buffers; x2 only for 'add'. */
  peerDnnlEltwise(op: 'relu' | 'exp' | 'sigmoid' | 'add', x: Float32Array, x2: Float32Array | null, y: Float32Array): void;
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
