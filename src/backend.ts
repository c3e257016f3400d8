/** Backend facts and settings: SIMD level, threads, build. */
import { native, type BackendInfo, type CpuConfigInfo, type CpuInfo } from './native/binding.js';

export type { BackendInfo, CpuConfigInfo, CpuInfo };

/**
 * What the native backend runs on: the SIMD level in use (and why), the kernel thread count,
 * the CPUs this process may use, and the compiler and flags the addon was built with. Useful in
 * bug reports and to check that `AXON_SIMD` or `AXON_NUM_THREADS` took effect.
 *
 * @example
 * ```ts
 * import { backendInfo } from 'axon-nn';
 * const info = backendInfo();
 * console.log(`${info.backend} ${info.isa} (${info.isaReason}), ${info.threads} threads`);
 * console.log(info.compiler, info.buildFlags);
 * ```
 */
export function backendInfo(): BackendInfo {
  return native.backendInfo();
}

/**
 * Sets the size of the process-wide kernel thread pool, like `torch.set_num_threads`. The
 * default is `AXON_NUM_THREADS` when set, else the CPUs this process may use (affinity and
 * cgroup quota). `distributed.init()` sets it per rank.
 * @throws RangeError when n is outside 1..1024; TypeError when n is not an integer.
 *
 * @example
 * ```ts
 * import { setNumThreads, getNumThreads } from 'axon-nn';
 * setNumThreads(1); // e.g. one process per core, or reproducible timings
 * console.log(getNumThreads()); // 1
 * ```
 */
export function setNumThreads(n: number): void {
  native.setNumThreads(n);
}

/**
 * The size of the kernel thread pool (see {@link setNumThreads}), like `torch.get_num_threads`.
 *
 * @example
 * ```ts
 * import { getNumThreads, backendInfo } from 'axon-nn';
 * console.log(getNumThreads() === backendInfo().threads); // true
 * ```
 */
export function getNumThreads(): number {
  return native.getNumThreads();
}

/**
 * How convolutions are computed. `'auto'` (the default) picks per shape: a direct kernel for
 * layers with at most 32 taps per output, Winograd F(4x4,3x3) / F(2x2,5x5) for stride-1 3x3 and
 * 5x5 layers with at least 8 output and 8 (3x3) or 16 (5x5) input channels (forward, input and
 * weight gradients), the implicit GEMM otherwise. `'gemm'` and `'winograd'` force one wherever it
 * applies, e.g. to compare them; the environment variable AXON_CONV_ALGO sets the start value.
 * Process-wide. Winograd rounds differently (results agree to ~1e-6 relative) and spreads a
 * NaN or infinity in its input to the whole 4x4 (2x2) output tile.
 *
 * @example
 * ```ts
 * import { setConvAlgorithm, type ConvAlgorithm } from 'axon-nn';
 * const algorithm: ConvAlgorithm = 'gemm';
 * setConvAlgorithm(algorithm);
 * ```
 */
export type ConvAlgorithm = 'auto' | 'gemm' | 'winograd';
const CONV_ALGORITHMS: readonly ConvAlgorithm[] = ['auto', 'gemm', 'winograd'];

/**
 * Chooses how convolutions are computed, process-wide (see {@link ConvAlgorithm}): `'auto'`
 * (default) picks per layer shape; `'gemm'` or `'winograd'` force one wherever it applies.
 * @throws Error when algorithm is not one of the three names.
 *
 * @example
 * ```ts
 * import { setConvAlgorithm, conv2d, randn } from 'axon-nn';
 * const x = randn([1, 16, 32, 32]);
 * const w = randn([16, 16, 3, 3]);
 * setConvAlgorithm('gemm');
 * const viaGemm = conv2d(x, w, null, { padding: 1 });
 * setConvAlgorithm('auto'); // back to the default
 * console.log(viaGemm.shape); // [1, 16, 32, 32]
 * ```
 */
export function setConvAlgorithm(algorithm: ConvAlgorithm): void {
  const code = CONV_ALGORITHMS.indexOf(algorithm);
  if (code < 0)
    throw new Error(`setConvAlgorithm: expected one of ${CONV_ALGORITHMS.join(', ')}, got ${String(algorithm)}`);
  native.setConvAlgorithm(code);
}

/**
 * The convolution algorithm setting now in force: `'auto'` unless {@link setConvAlgorithm} or
 * the `AXON_CONV_ALGO` environment variable chose another.
 *
 * @example
 * ```ts
 * import { getConvAlgorithm } from 'axon-nn';
 * console.log(getConvAlgorithm()); // 'auto'
 * ```
 */
export function getConvAlgorithm(): ConvAlgorithm {
  return CONV_ALGORITHMS[native.getConvAlgorithm()] ?? 'auto';
}

/**
 * What this machine can do at the active SIMD level, measured: the fp32 FMA peak of one core
 * and of the kernel thread pool, and the bandwidth of streaming reads from a core's L2 and from
 * DRAM; with the CPU's identity. The roofs of {@link ProfileReport.roofline}.
 *
 * @example
 * ```ts
 * import { machineInfo, type MachineInfo } from 'axon-nn';
 * const m: MachineInfo = machineInfo();
 * console.log(`${m.cpu.microarchitecture}: ${m.peakGflops.toFixed(0)} GFLOP/s, DRAM ${m.dramGbps.toFixed(0)} GB/s`);
 * ```
 */
export interface MachineInfo {
  /** The CPU (as {@link BackendInfo.cpu}). */
  cpu: BackendInfo['cpu'];
  /** The SIMD level measured (the active one). */
  isa: string;
  /** Pool threads the whole-pool figures used. */
  threads: number;
  /** fp32 lanes per vector at that level. */
  lanes: number;
  /** GFLOP/s of one thread running independent FMA chains. */
  peakGflopsPerCore: number;
  /** GFLOP/s of every pool thread doing so at once. */
  peakGflops: number;
  /** GB/s of one thread re-reading 192 KiB (its L2). */
  l2GbpsPerCore: number;
  /** GB/s of every pool thread re-reading its own 192 KiB. */
  l2Gbps: number;
  /** GB/s of every pool thread streaming its share of 256 MiB from DRAM. */
  dramGbps: number;
  /** How long the measurement took, in seconds. */
  measuredSeconds: number;
}

let measured: MachineInfo | null = null;

/**
 * Measures {@link MachineInfo} once (about a second, blocking the calling thread: call it from a
 * script or at start-up, not while serving) and returns the cached figures afterwards, until the
 * thread count or SIMD level changes or `refresh` is passed. Figures are the best of three runs;
 * other load on the machine lowers them.
 * @throws TypeError for an options value that is not `{ refresh?: boolean }`.
 *
 * @example
 * ```ts
 * import { machineInfo } from 'axon-nn';
 * const m = machineInfo();
 * console.log(`${m.cpu.brand}: ${m.peakGflopsPerCore.toFixed(0)} GFLOP/s per core, ${m.threads} threads`);
 * console.log(`L2 ${m.l2GbpsPerCore.toFixed(0)} GB/s per core, DRAM ${m.dramGbps.toFixed(0)} GB/s`);
 * ```
 */
export function machineInfo(options: { refresh?: boolean } = {}): MachineInfo {
  if (typeof options !== 'object' || options === null || Object.keys(options).some((k) => k !== 'refresh'))
    throw new TypeError(`machineInfo: options must be { refresh?: boolean }, got ${JSON.stringify(options)}`);
  const info = native.backendInfo();
  if (measured && !options.refresh && measured.isa === info.isa && measured.threads === info.threads) return measured;
  const m = native.machineMeasure();
  measured = {
    cpu: info.cpu,
    isa: info.isa,
    threads: m.threads,
    lanes: m.lanes,
    peakGflopsPerCore: m.fmaGflopsOne,
    peakGflops: m.fmaGflopsAll,
    l2GbpsPerCore: m.l2GbpsOne,
    l2Gbps: m.l2GbpsAll,
    dramGbps: m.dramGbpsAll,
    measuredSeconds: m.seconds,
  };
  return measured;
}
