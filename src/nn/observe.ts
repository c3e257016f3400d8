/**
 * Watching a module's forward pass from outside, for inspection (model summaries, locating
 * the first non-finite output), never for training: each submodule's forward is wrapped for
 * the duration of one call and restored afterwards, whatever happens.
 */
import type { Tensor } from '../tensor/tensor.js';
import type { Module } from './module.js';

export interface ForwardObserver {
  /** A module's forward is about to run. */
  enter?(m: Module): void;
  /** It returned `output` (inner modules report before the modules that contain them). */
  exit?(m: Module, output: unknown): void;
  /** It ended, returned or threw. */
  leave?(m: Module): void;
}

/** Runs fn with every module under (and including) root reporting its forwards to observer. */
export function observeForwards<T>(root: Module, observer: ForwardObserver, fn: () => T): T {
  // Each module's own 'forward' property, if it had one (a forward assigned per instance).
  const wrapped: [Module, PropertyDescriptor | undefined][] = [];
  try {
    for (const m of root.modules()) {
      const original = m.forward;
      wrapped.push([m, Object.getOwnPropertyDescriptor(m, 'forward')]);
      Object.defineProperty(m, 'forward', {
        configurable: true,
        writable: true,
        enumerable: false,
        value: (...inputs: Tensor[]): Tensor => {
          observer.enter?.(m);
          try {
            const y = original.apply(m, inputs);
            observer.exit?.(m, y);
            return y;
          } finally {
            observer.leave?.(m);
          }
        },
      });
    }
    return fn();
  } finally {
    for (const [m, own] of wrapped) {
      delete (m as unknown as { forward?: unknown }).forward;
      if (own) Object.defineProperty(m, 'forward', own);
    }
  }
}
