/**
 * Where a non-finite loss came from: after fit sees a NaN or infinite loss it re-runs that
 * batch's forward pass eagerly (evaluation mode, no gradients) and names the first place a
 * non-finite value appears: the input batch, a parameter, or the first layer whose output
 * holds one. Runs once, on the failure path only.
 */
import { noGrad } from '../autograd/engine.js';
import type { Module } from '../nn/module.js';
import { observeForwards } from '../nn/observe.js';
import { shapeToString } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';

function firstNonFinite(data: ArrayLike<number>): number {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return i;
  return -1;
}

/** A sentence naming where the first non-finite value of module(x) appears. */
export function locateNonFinite(module: Module, x: Tensor): string {
  if (x.dtype === 'float32') {
    const i = firstNonFinite(x.data);
    if (i >= 0) {
      const row = Math.floor(i / (x.size / x.shape[0]));
      return `the input batch holds ${x.data[i]} (batch row ${row}, element ${i - row * (x.size / x.shape[0])})`;
    }
  }
  for (const [name, p] of module.namedParameters()) {
    const i = firstNonFinite(p.data);
    if (i >= 0) return `parameter '${name}' holds ${p.data[i]} at element ${i}`;
  }
  const names = new Map<Module, string>();
  for (const [name, m] of module.namedModules()) names.set(m, name || 'model');
  let found: string | null = null;
  const check = (m: Module, y: unknown): void => {
    if (found !== null || !(y instanceof Tensor) || y.dtype !== 'float32') return;
    const i = firstNonFinite(y.data);
    if (i >= 0)
      found = `layer '${names.get(m)}' (${m.constructor.name}) output ${shapeToString(y.shape)} holds ${y.data[i]} at element ${i}`;
  };
  const wasTraining = module.training;
  module.eval();
  try {
    observeForwards(module, { exit: check }, () => noGrad(() => module.forward(x)));
  } catch (e) {
    return `the forward pass failed when re-run: ${(e as Error).message}`;
  } finally {
    module.train(wasTraining);
  }
  return (
    found ??
    'every layer output is finite in evaluation mode: the loss itself went non-finite (e.g. log(0) in a probability loss, a non-finite target, or a training-mode layer such as dropout or batch statistics)'
  );
}
