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
