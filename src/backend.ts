/** Backend facts and settings: SIMD level, threads, build. */
import { native, type BackendInfo } from './native/binding.js';

export type { BackendInfo };

/** ISA in use (and why), thread count, CPUs available, compiler and build flags. */
export function backendInfo(): BackendInfo {
  return native.backendInfo();
}

/** Sets the size of the kernel thread pool (1..1024); default: CPUs this process may use. */
export function setNumThreads(n: number): void {
  native.setNumThreads(n);
}

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
 */
export type ConvAlgorithm = 'auto' | 'gemm' | 'winograd';
const CONV_ALGORITHMS: readonly ConvAlgorithm[] = ['auto', 'gemm', 'winograd'];

export function setConvAlgorithm(algorithm: ConvAlgorithm): void {
  const code = CONV_ALGORITHMS.indexOf(algorithm);
  if (code < 0)
    throw new Error(`setConvAlgorithm: expected one of ${CONV_ALGORITHMS.join(', ')}, got ${String(algorithm)}`);
  native.setConvAlgorithm(code);
}

export function getConvAlgorithm(): ConvAlgorithm {
  return CONV_ALGORITHMS[native.getConvAlgorithm()] ?? 'auto';
}
