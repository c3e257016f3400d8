/**
 * Budgets for recorded forward passes: a forward is recorded (not run) under a cap on the
 * activation bytes its tensors allocate and on the FLOPs its kernels declare, so an untrusted
 * model file or a careless input shape is refused before it allocates gigabytes or blocks for
 * minutes. Also the time estimate that decides which predicts run synchronously.
 */
import { noGrad } from '../autograd/engine.js';
import type { Module } from '../nn/module.js';
import { Tensor, reserveActivation, withActivationBudget } from '../tensor/tensor.js';
import { trace, type Traced } from './trace.js';

/**
 * Budgets for one sample's forward pass, checked when a forward is recorded (before any of
 * it runs or its activations are allocated): a model file whose layers would need gigabytes
 * of activations or minutes of compute for a small input is refused instead of run. A
 * recorded training step may use three times the budget (activations, their gradients and
 * the backward's work). A forward beyond them throws a RangeError; each Model has its own in
 * `model.limits`.
 *
 * @example
 * ```ts
 * import { Model, Sequential, Linear, type ForwardLimits } from 'axon-nn';
 * const model = new Model(new Sequential(new Linear(1024, 1024)));
 * const limits: ForwardLimits = { maxActivationBytes: 64 * 2 ** 20, maxFlops: 1e8 };
 * Object.assign(model.limits, limits); // tighter budgets for every later forward of this model
 * ```
 */
export interface ForwardLimits {
  /** Activation bytes one sample's forward may allocate (default 1 GiB). */
  maxActivationBytes: number;
  /** FLOPs one sample's forward may take (default 1e11: about a second on one core). */
  maxFlops: number;
}

export const DEFAULT_LIMITS: Readonly<ForwardLimits> = { maxActivationBytes: 2 ** 30, maxFlops: 1e11 };

/**
 * A deliberately cautious estimate of a recorded forward's time: FLOPs at 60 GFLOP/s plus
 * bytes moved at 10 GB/s. Measured on Zen 4 (2 threads) the real times are 0.4-0.9x of it:
 * MLP 784-256-128-10 at 64 rows 30 MFLOP / 1.4 MB, 0.27 ms; LSTM 16->32 over 64x200 steps
 * 157 MFLOP / 16 MB, 6.0 ms (its steps are serial: FLOPs alone would call it 1 ms); conv
 * 3->16 3x3 on 64x3x96x96 519 MFLOP / 83 MB, 8.6 ms.
 */
export function estimateSeconds(flops: number, bytes: number): number {
  return flops / 60e9 + bytes / 10e9;
}

/** A recording and the activation bytes its tensors allocated. */
export type BudgetedTrace<T> = Traced<T> & { activationBytes: number };

/**
 * Records fn (a trace) under the per-sample budgets, scaled by the rows recorded (and by 3
 * for a training step): beyond them it throws before allocating or running anything more.
 */
export function traceWithinBudget<T>(
  limits: ForwardLimits,
  what: string,
  rows: number,
  trainingStep: boolean,
  fn: () => Traced<T>,
): BudgetedTrace<T> {
  const scale = Math.max(rows, 1) * (trainingStep ? 3 : 1);
  const { value: traced, bytes } = withActivationBudget(limits.maxActivationBytes * scale, what, fn);
  const flops = traced.program.flops;
  if (flops > limits.maxFlops * scale) {
    traced.program.clear();
    throw new RangeError(
      `${what}: the ${trainingStep ? 'training step' : 'forward pass'} needs ${(flops / Math.max(rows, 1)).toExponential(2)} FLOPs per sample, more than model.limits.maxFlops = ${limits.maxFlops.toExponential(2)}${trainingStep ? ' (x3 for a training step)' : ''}; raise it if this model is trusted`,
    );
  }
  return { ...traced, activationBytes: bytes };
}

/** Runs fn with the module in evaluation mode, restoring its mode afterwards. */
export function inEvalMode<T>(module: Module, fn: () => T): T {
  const wasTraining = module.training;
  module.eval();
  try {
    return fn();
  } finally {
    module.train(wasTraining);
  }
}

/**
 * Records module's evaluation-mode forward of `input()` (made inside the budget) without
 * running it, under the budgets for `rows` samples.
 */
export function recordForward(
  module: Module,
  limits: ForwardLimits,
  what: string,
  rows: number,
  input: () => Tensor,
): BudgetedTrace<Tensor> {
  return inEvalMode(module, () =>
    traceWithinBudget(limits, what, rows, false, () => {
      const x = input();
      return trace(() => noGrad(() => module.forward(x)), { execute: false });
    }),
  );
}

/**
 * The module's output for one zero sample of `sample` shape, recorded but not run (its shape
 * is what callers need), under the budgets; the sample itself counts (a declared input shape
 * may come from an untrusted file).
 */
export function probeOutput(
  module: Module,
  limits: ForwardLimits,
  what: string,
  sample: readonly number[],
  dtype: 'float32' | 'int32',
): Tensor {
  const size = sample.reduce((a, b) => a * b, 1);
  const traced = recordForward(module, limits, what, 1, () => {
    reserveActivation(size);
    return new Tensor(dtype === 'int32' ? new Int32Array(size) : new Float32Array(size), [1, ...sample]);
  });
  traced.program.clear();
  return traced.value;
}
