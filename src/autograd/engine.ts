/**
 * Reverse-mode autograd. Each op that takes a tensor requiring gradients records a GradNode on
 * its output: the inputs and a closure that maps the output's gradient to the inputs'
 * gradients (computed by the native backward kernels). `backward()` walks the graph once in
 * reverse topological order; leaf gradients accumulate into `.grad` (in place once it exists,
 * so a training step reuses the buffer). The graph is freed after a backward unless
 * `retainGraph` is set. No higher-order gradients: backward closures run with recording off.
 */
import { BinaryCode } from '../native/binding.js';
import { kernels } from '../native/executor.js';
import { shapeToString, shapesEqual } from '../tensor/shape.js';
import { Tensor, setFreshTensorSet } from '../tensor/tensor.js';
import { checkOptionKeys, optionKeys } from '../options.js';

/**
 * The one backward fusion the engine makes: a relu's gradient folded into the max pool that
 * consumes the relu's output. The pool knows its own output (the window maxima), so dropping
 * the gradient where they are not > 0 is exactly the relu's gradient, and the relu's backward
 * (a full pass over the activation) is skipped. The engine fuses only where that is exact:
 * the relu output (an op recorded with `reluOutput`) feeds nothing but the pool (recorded with
 * `masksRelu`), is not the root, and does not retain its gradient.
 */
export interface BackwardFusion {
  /** For a `masksRelu` op: apply the relu's gradient of input 0 here. */
  maskRelu: boolean;
  /** For a `reluOutput` op: the incoming gradient already carries the relu's gradient. */
  reluApplied: boolean;
}
const NO_FUSION: BackwardFusion = { maskRelu: false, reluApplied: false };

export type BackwardFn = (grad: Tensor, fusion: BackwardFusion) => readonly (Tensor | null)[];

/** What an op tells the engine about itself for the fusion above. */
export interface RecordOptions {
  /** Its output is relu(...) and its backward applies the relu's gradient (unless told not to). */
  reluOutput?: boolean;
  /** It is a max pool that can apply the relu's gradient of its input 0. */
  masksRelu?: boolean;
}

/**
 * A node of the autograd graph: the op that made a tensor (`tensor.gradFn`) and the inputs
 * its backward returns gradients for. Ops create them; users read them to walk the graph.
 *
 * @example
 * ```ts
 * import { randn } from 'axon-nn';
 * const x = randn([2, 3]).setRequiresGrad();
 * const y = x.relu().sum();
 * console.log(y.gradFn?.name, y.gradFn?.inputs.length); // the op's name, 1 input
 * ```
 */
export class GradNode {
  /** Set after a backward without retainGraph: the saved tensors are gone. */
  released = false;
  /** @internal */
  constructor(
    /** The op's name, for error messages. */
    readonly name: string,
    /** Inputs in the order `backward` returns their gradients; null for ones not needing grad. */
    readonly inputs: readonly (Tensor | null)[],
    private backwardFn: BackwardFn | null,
    /** @internal */
    readonly options: RecordOptions = {},
  ) {}

  /** Runs the op's backward for `grad`. @internal */
  apply(grad: Tensor, fusion: BackwardFusion = NO_FUSION): readonly (Tensor | null)[] {
    if (!this.backwardFn || this.released)
      throw new Error(
        `backward: trying to backward through '${this.name}' a second time, after its saved ` +
          'tensors were freed; pass { retainGraph: true } to the first backward() if you need to',
      );
    return this.backwardFn(grad, fusion);
  }

  /** Frees the saved tensors. @internal */
  release(): void {
    this.released = true;
    this.backwardFn = null;
  }
}

let gradEnabled = true;

/**
 * Whether ops currently record the autograd graph (false inside `noGrad` or after
 * `setGradEnabled(false)`).
 *
 * @example
 * ```ts
 * import { isGradEnabled, noGrad } from 'axon-nn';
 * const outside = isGradEnabled(); // true
 * const inside = noGrad(() => isGradEnabled()); // false
 * ```
 */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/**
 * Runs `fn` with gradient recording off (inference, weight updates) and returns its value;
 * the previous setting is restored even if fn throws. Synchronous functions only: for async
 * code, call setGradEnabled around the awaited work yourself.
 *
 * @example
 * ```ts
 * import { Linear, noGrad, randn } from 'axon-nn';
 * const model = new Linear(4, 2);
 * const x = randn([3, 4]);
 * const y = noGrad(() => model.forward(x)); // y.requiresGrad === false
 * ```
 */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/**
 * Turns gradient recording on or off globally; returns the previous setting, so it can be
 * restored (the async-friendly form of `noGrad`).
 *
 * @example
 * ```ts
 * import { Linear, randn, setGradEnabled } from 'axon-nn';
 * const model = new Linear(4, 2);
 * const prev = setGradEnabled(false);
 * try {
 *   const y = model.forward(randn([3, 4])); // not recorded
 * } finally {
 *   setGradEnabled(prev);
 * }
 * ```
 */
export function setGradEnabled(on: boolean): boolean {
  const prev = gradEnabled;
  gradEnabled = on;
  return prev;
}

/** True when an op on these inputs must record a node. */
export function needsGrad(...inputs: readonly (Tensor | null | undefined | number)[]): boolean {
  if (!gradEnabled) return false;
  for (const t of inputs) if (t && typeof t === 'object' && t.requiresGrad) return true;
  return false;
}

/** Attaches a node to `out` if any input requires grad; returns `out`. */
export function record(
  out: Tensor,
  name: string,
  inputs: readonly (Tensor | null)[],
  backward: BackwardFn,
  options?: RecordOptions,
): Tensor {
  if (!needsGrad(...inputs)) return out;
  out.requiresGrad = true;
  out.gradFn = new GradNode(
    name,
    inputs.map((t) => (t && t.requiresGrad ? t : null)),
    backward,
    options,
  );
  return out;
}

/** The (pool, relu output) pairs of the graph where the fusion of BackwardFusion is exact. */
function reluFusions(order: readonly Tensor[], root: Tensor): { pools: Set<Tensor>; relus: Set<Tensor> } {
  const uses = new Map<Tensor, number>();
  for (const t of order)
    for (const input of t.gradFn?.inputs ?? []) if (input?.gradFn) uses.set(input, (uses.get(input) ?? 0) + 1);
  const pools = new Set<Tensor>();
  const relus = new Set<Tensor>();
  for (const t of order) {
    const x = t.gradFn?.options.masksRelu ? t.gradFn.inputs[0] : null;
    if (x?.gradFn?.options.reluOutput && uses.get(x) === 1 && x !== root && !x.retainsGrad) {
      pools.add(t);
      relus.add(x);
    }
  }
  return { pools, relus };
}

/**
 * Adds `g` into `target.grad`. When the tensor has no gradient yet and `g` is `owned` (made
 * fresh by the backward function and handed to no one else), g becomes the gradient itself:
 * no zero-filled buffer, no add. A training step with zeroGrad() (which clears gradients)
 * thus receives each weight gradient straight from the GEMM that computed it.
 */
function accumulateInto(target: Tensor, g: Tensor, op: string, owned = false): void {
  if (!shapesEqual(target.shape, g.shape))
    throw new Error(
      `backward: '${op}' produced a gradient of shape ${shapeToString(g.shape)} for a tensor of shape ${shapeToString(target.shape)}`,
    );
  if (target.grad === null && owned) {
    target.grad = g;
    return;
  }
  // Otherwise a native add into .grad (allocated zeroed on first use), never a JS copy: `g` may
  // be shared with other inputs (add passes it through), and a recorded training step must
  // see every data movement as a kernel call.
  if (target.grad === null) target.grad = Tensor.empty(target.shape);
  const gd = target.grad.data as Float32Array;
  kernels.binary(BinaryCode.Add, gd, target.shape, g.data as Float32Array, g.shape, gd, target.shape);
}

/**
 * Watches leaf gradients as backward produces them. Data-parallel training (src/distributed)
 * starts reducing a bucket of parameter gradients across processes as soon as each of its
 * parameters is complete, while backward goes on with earlier layers. Unset (the default),
 * backward does no extra work.
 */
export interface BackwardObserver {
  /** `leaf` received its last gradient contribution of this backward (its .grad is final;
   * null when every contribution was null). */
  leafReady(leaf: Tensor): void;
  /** The backward pass finished; every leafReady of it has been called. */
  backwardDone(): void;
}

let observer: BackwardObserver | null = null;

/** Installs (or with null removes) the backward observer; returns the previous one. */
export function setBackwardObserver(o: BackwardObserver | null): BackwardObserver | null {
  const prev = observer;
  observer = o;
  return prev;
}

/**
 * The options of `tensor.backward(grad, options)`.
 *
 * @example
 * ```ts
 * import { randn, type BackwardOptions } from 'axon-nn';
 * const x = randn([3]).setRequiresGrad();
 * const y = x.square().sum();
 * const options: BackwardOptions = { retainGraph: true };
 * y.backward(undefined, options);
 * y.backward(); // a second pass: x.grad now holds twice 2x
 * ```
 */
export interface BackwardOptions {
  /** Keep the graph so backward can run through it again (costs memory). */
  retainGraph?: boolean;
}
const BACKWARD_KEYS = optionKeys<BackwardOptions>({ retainGraph: true });

/** The engine behind `tensor.backward()`. */
export function runBackward(
  root: Tensor,
  grad: Tensor | undefined,
  options: BackwardOptions,
  ones: (t: Tensor) => Tensor,
): void {
  checkOptionKeys('backward', options, BACKWARD_KEYS);
  if (!root.requiresGrad)
    throw new Error('backward: this tensor does not require grad (no input of the ops that made it has requiresGrad)');
  if (grad === undefined) {
    if (root.size !== 1)
      throw new Error(
        `backward: a gradient can be created implicitly only for a single-element output; this one has shape ${shapeToString(root.shape)}. Pass the upstream gradient: y.backward(grad)`,
      );
    grad = ones(root);
  } else if (!shapesEqual(grad.shape, root.shape)) {
    throw new Error(
      `backward: the given gradient has shape ${shapeToString(grad.shape)}, the tensor ${shapeToString(root.shape)}`,
    );
  }
  if (!root.gradFn) {
    // backward() on a leaf: its gradient is the upstream one (PyTorch sets x.grad = 1).
    accumulateInto(root, grad, 'backward');
    if (observer) {
      observer.leafReady(root);
      observer.backwardDone();
    }
    return;
  }
  // Reverse topological order by an iterative DFS (graphs of long RNN unrolls are deep).
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  const stack: [Tensor, number][] = [[root, 0]];
  visited.add(root);
  while (stack.length) {
    const top = stack[stack.length - 1];
    const node = top[0].gradFn;
    const inputs = node ? node.inputs : [];
    if (top[1] < inputs.length) {
      const next = inputs[top[1]++];
      if (next && next.gradFn && !visited.has(next)) {
        visited.add(next);
        stack.push([next, 0]);
      } else if (next && !next.gradFn && !visited.has(next)) {
        visited.add(next);
      }
    } else {
      stack.pop();
      order.push(top[0]);
    }
  }
  // With an observer: contributions each leaf still awaits (one per input slot of each node).
  const watch = observer;
  const pendingLeaves = watch ? new Map<Tensor, number>() : null;
  if (pendingLeaves)
    for (const t of order)
      for (const input of t.gradFn?.inputs ?? [])
        if (input && !input.gradFn) pendingLeaves.set(input, (pendingLeaves.get(input) ?? 0) + 1);
  const settle = (leaf: Tensor): void => {
    const left = (pendingLeaves?.get(leaf) ?? 1) - 1;
    pendingLeaves?.set(leaf, left);
    if (left === 0) watch?.leafReady(leaf);
  };
  const fusions = reluFusions(order, root);
  const grads = new Map<Tensor, Tensor>();
  grads.set(root, grad);
  const prev = setGradEnabled(false);
  try {
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i];
      const g = grads.get(t);
      const node = t.gradFn;
      if (!node || !g) {
        if (pendingLeaves && node) for (const input of node.inputs) if (input && !input.gradFn) settle(input);
        continue;
      }
      grads.delete(t);
      if (t.retainsGrad) accumulateInto(t, g, node.name);
      const fresh = new Set<Tensor>();
      setFreshTensorSet(fresh);
      let inputGrads: readonly (Tensor | null)[];
      try {
        inputGrads = node.apply(g, { maskRelu: fusions.pools.has(t), reluApplied: fusions.relus.has(t) });
      } finally {
        setFreshTensorSet(null);
      }
      for (let j = 0; j < node.inputs.length; j++) {
        const input = node.inputs[j];
        const ig = inputGrads[j];
        if (!input || !ig) {
          if (pendingLeaves && input && !input.gradFn) settle(input);
          continue;
        }
        if (!input.gradFn) {
          const owned = fresh.has(ig) && ig !== g && inputGrads.indexOf(ig) === inputGrads.lastIndexOf(ig);
          accumulateInto(input, ig, node.name, owned);
          if (pendingLeaves) settle(input);
        } else {
          const have = grads.get(input);
          if (!have) {
            grads.set(input, ig);
          } else {
            const sum = Tensor.empty(have.shape);
            kernels.binary(
              BinaryCode.Add,
              have.data as Float32Array,
              have.shape,
              ig.data as Float32Array,
              ig.shape,
              sum.data as Float32Array,
              sum.shape,
            );
            grads.set(input, sum);
          }
        }
      }
      if (!options.retainGraph) node.release();
    }
  } finally {
    setGradEnabled(prev);
  }
  watch?.backwardDone();
}
