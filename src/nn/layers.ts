/**
 * Core layers: Linear (Dense), Sequential, the activation modules with parameters (the
 * parameter-free ones come from the op table: ./activations.gen.ts), Dropout, Flatten, Identity. Linear's weight is (out, in) as PyTorch's, so state dicts carry over unchanged.
 */
import { relu, leakyRelu, elu, gelu, softplus, softmax, logSoftmax } from '../ops/activation.js';
import { linear, type LinearActivation } from '../ops/linalg.js';
import { flatten } from '../ops/layout.js';
import { RANDOM_OPTION_KEYS, type RandomOptions, seededOnce } from '../tensor/random.js';
import { shapeToString } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { dropout, dropoutState } from './functional.js';
import { getInitializer, pytorchBiasDefault, pytorchDefault, type Initializer, type InitializerLike } from './init.js';
import { Module, Parameter, type NormFold } from './module.js';
import { foldNorm, foldPays } from './functional.js';
import { isGradEnabled } from '../autograd/engine.js';
import type { Regularizer } from './regularizers.js';
import { checkOptionKeys, optionKeys } from '../options.js';

/**
 * {@link Linear}'s options: bias, a fused activation, initialisers, regularizers and the seed
 * of the initial weights. Unknown keys throw.
 *
 * @example
 * ```ts
 * import { Linear, l2, type LinearOptions } from 'axon-nn';
 * // Keras's Dense(64, activation='relu') with L2 on the kernel.
 * const options: LinearOptions = {
 *   activation: 'relu',
 *   weightInit: 'glorotUniform',
 *   biasInit: 'zeros',
 *   weightRegularizer: l2(1e-4),
 * };
 * const dense = new Linear(128, 64, options);
 * ```
 */
export interface LinearOptions {
  /** Add a bias (default true). */
  bias?: boolean;
  /** Activation fused into the layer (default 'none'). */
  activation?: LinearActivation;
  /** leakyRelu's slope, elu's alpha, softplus's beta. */
  activationParam?: number;
  /** Default: PyTorch's (kaiming uniform, a = sqrt(5)). Keras's Dense: 'glorotUniform'. */
  weightInit?: InitializerLike;
  /** Default: PyTorch's U(+-1/sqrt(in)). Keras's Dense: 'zeros'. */
  biasInit?: InitializerLike;
  /** Penalty on the weight, added by regularizationLoss() (default none). */
  weightRegularizer?: Regularizer | null;
  /** Penalty on the bias, added by regularizationLoss() (default none). */
  biasRegularizer?: Regularizer | null;
  /** Penalty on the layer's output, recorded each training forward. */
  activityRegularizer?: Regularizer | null;
  /** Seed or generator for the initial weights (default: the global generator). */
  init?: RandomOptions;
}
const LINEAR_KEYS = optionKeys<LinearOptions>({
  bias: true,
  activation: true,
  activationParam: true,
  weightInit: true,
  biasInit: true,
  weightRegularizer: true,
  biasRegularizer: true,
  activityRegularizer: true,
  init: true,
});

/**
 * Fully connected layer y = act(x W^T + b) with W of shape (out, in): PyTorch's nn.Linear
 * (same parameter layout and default initialisation), Keras's Dense. The input is [..., in]
 * and the output [..., out]; the activation, if any, runs fused in the same kernel. Throws a
 * RangeError for non-positive sizes or an input whose last axis is not `inFeatures`.
 *
 * @example
 * ```ts
 * import { Linear, randn } from 'axon-nn';
 * const fc = new Linear(784, 128, { activation: 'relu' });
 * const y = fc.forward(randn([32, 784])); // [32, 128]
 * ```
 */
export class Linear extends Module {
  /** Size of each input's last axis. */
  readonly inFeatures: number;
  /** Size of each output's last axis. */
  readonly outFeatures: number;
  /** The weight, [outFeatures, inFeatures]. */
  weight: Parameter;
  /** The bias, [outFeatures], or null when built with `bias: false`. */
  bias: Parameter | null;
  /** The activation fused into the layer ('none' for a plain affine map). */
  activation: LinearActivation;
  /** The activation's parameter: leakyRelu's slope (default 0.01), elu's alpha or softplus's beta (default 1). */
  activationParam: number;
  /** Penalty on the layer's output recorded by each training forward, or null. */
  activityRegularizer: Regularizer | null;
  /** The initialisers the parameters were drawn with (kept for getConfig). */
  readonly weightInit: Initializer;
  /** The bias's initialiser, or null without a bias. */
  readonly biasInit: Initializer | null;

  constructor(inFeatures: number, outFeatures: number, options: LinearOptions = {}) {
    super();
    checkOptionKeys('Linear', options, LINEAR_KEYS);
    for (const [v, n] of [
      [inFeatures, 'inFeatures'],
      [outFeatures, 'outFeatures'],
    ] as const)
      if (!Number.isInteger(v) || v <= 0) throw new RangeError(`Linear: ${n} must be a positive integer, got ${v}`);
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.activation = options.activation ?? 'none';
    this.activationParam =
      options.activationParam ??
      (this.activation === 'leakyRelu' ? 0.01 : this.activation === 'elu' || this.activation === 'softplus' ? 1 : 0);
    // One generator for weight and bias: a per-call seed would otherwise restart the stream
    // for the bias, making it a copy of the weight's first values.
    const random = seededOnce(options.init);
    const winit = options.weightInit ? getInitializer(options.weightInit) : pytorchDefault();
    this.weightInit = winit;
    this.weight = new Parameter(winit.create([outFeatures, inFeatures], random));
    this.weight.regularizer = options.weightRegularizer ?? null;
    if (options.bias ?? true) {
      const binit = options.biasInit ? getInitializer(options.biasInit) : pytorchBiasDefault();
      this.biasInit = binit;
      this.bias = new Parameter(
        binit.create([outFeatures], { ...random, fans: { fanIn: inFeatures, fanOut: outFeatures } }),
      );
      this.bias.regularizer = options.biasRegularizer ?? null;
    } else {
      this.bias = null;
      this.biasInit = null;
    }
    this.activityRegularizer = options.activityRegularizer ?? null;
  }

  /** Applies the layer to x [..., inFeatures], giving [..., outFeatures]. */
  forward(x: Tensor): Tensor {
    if (x.shape[x.ndim - 1] !== this.inFeatures)
      throw new RangeError(
        `Linear(${this.inFeatures}, ${this.outFeatures}): input ${shapeToString(x.shape)} must end in ${this.inFeatures} features`,
      );
    const y = linear(x, this.weight, this.bias, this.activation, this.activationParam);
    if (this.activityRegularizer) this.addActivityLoss(this.activityRegularizer.penalty(y));
    return y;
  }

  /** As Conv2d.forwardFolded: a following BatchNorm1d folded in, `activation` fused. @internal */
  forwardFolded(x: Tensor, norm: NormFold, activation?: LinearActivation): Tensor | null {
    if (this.activation !== 'none' || this.activityRegularizer || norm.features !== this.outFeatures) return null;
    if (x.ndim !== 2 || x.shape[1] !== this.inFeatures || !norm.ranks.includes(2)) return null;
    if (!foldPays([x.shape[0], this.outFeatures], this.weight)) return null;
    const f = foldNorm(this.weight, this.bias, norm);
    return linear(x, f.weight, f.bias, activation);
  }

  override getConfig(): Record<string, unknown> {
    const reg = (r: Regularizer | null): { name: string; config: Record<string, number | undefined> } | null =>
      r ? { name: r.name, config: { ...r.config } } : null;
    return {
      inFeatures: this.inFeatures,
      outFeatures: this.outFeatures,
      bias: this.bias !== null,
      activation: this.activation,
      activationParam: this.activationParam,
      weightInit: { name: this.weightInit.name, config: { ...this.weightInit.config } },
      biasInit: this.biasInit ? { name: this.biasInit.name, config: { ...this.biasInit.config } } : null,
      weightRegularizer: reg(this.weight.regularizer),
      biasRegularizer: reg(this.bias?.regularizer ?? null),
      activityRegularizer: reg(this.activityRegularizer),
    };
  }

  override extraRepr(): string {
    const act = this.activation === 'none' ? '' : `, activation=${this.activation}`;
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, bias=${this.bias !== null}${act}`;
  }
}

/** A layer that can run with a following batch norm folded into it (Sequential's inference). */
interface FoldsNorm {
  forwardFolded(x: Tensor, norm: NormFold, activation?: LinearActivation): Tensor | null;
}
/** A batch norm that can run with the ReLU after it fused in. */
interface FusesRelu {
  forwardFused(x: Tensor, fuse: { activation: 'relu' }): Tensor;
}
/** A batch norm that can be folded into the layer before it. */
interface FoldableNorm {
  inferenceFold(): NormFold | null;
}

/**
 * Whether m's forward is the one written beside `method` (in the class that defines it, or in
 * `owner` when given): none assigned on the instance, none overridden by a subclass below.
 */
function ownForward(m: Module, method: string, owner?: object): boolean {
  if (Object.prototype.hasOwnProperty.call(m, 'forward')) return false;
  for (let p: object | null = Object.getPrototypeOf(m); p && p !== Module.prototype; p = Object.getPrototypeOf(p)) {
    const defines = owner ? p === owner : Object.prototype.hasOwnProperty.call(p, method);
    if (defines) return Object.prototype.hasOwnProperty.call(p, 'forward');
    if (Object.prototype.hasOwnProperty.call(p, 'forward')) return false;
  }
  return false;
}

/**
 * Runs modules in order, each on the previous one's output (PyTorch's nn.Sequential, Keras's
 * Sequential). Children are named '0', '1', ... in state dicts. In evaluation mode without
 * gradients, a Linear or convolution followed by a batch norm (and a ReLU) may run as one fused
 * layer, with the same results up to rounding; a batch norm and a ReLU after it run as one
 * fused pass in training too.
 *
 * @example
 * ```ts
 * import { Linear, ReLU, Sequential, randn } from 'axon-nn';
 * const net = new Sequential(new Linear(4, 16), new ReLU(), new Linear(16, 3));
 * const logits = net.forward(randn([8, 4])); // [8, 3]
 * ```
 */
export class Sequential extends Module {
  /** The layers, in order (the array itself: changing it changes the model). */
  layers: Module[];

  constructor(...layers: Module[]) {
    super();
    layers.forEach((l, i) => {
      if (!(l instanceof Module)) throw new TypeError(`Sequential: argument ${i} is not a Module`);
    });
    this.layers = layers;
  }

  /** Appends a layer and returns this, for chaining; throws a TypeError for a non-Module. */
  add(layer: Module): this {
    if (!(layer instanceof Module)) throw new TypeError('Sequential.add: expected a Module');
    this.layers.push(layer);
    return this;
  }

  /** The i-th layer (negative counts from the end). */
  at(i: number): Module {
    const layer = this.layers.at(i);
    if (!layer) throw new RangeError(`Sequential.at: index ${i} out of range for ${this.layers.length} layers`);
    return layer;
  }

  /** The number of layers. */
  get length(): number {
    return this.layers.length;
  }

  /** Runs x through every layer in order. */
  forward(x: Tensor): Tensor {
    // Inference (evaluation mode, no gradients): a Linear or convolution followed by a batch
    // norm on running statistics runs as one layer with the norm folded into its weights, and
    // a ReLU after the norm fused into it: one pass over the activations instead of three.
    if (!this.training && !isGradEnabled()) return this.foldedForward(x);
    const layers = this.layers;
    let y = x;
    for (let i = 0; i < layers.length; i++) {
      const layer = layers[i] as Module & Partial<FusesRelu>;
      // A batch norm and the ReLU after it: one pass forward and one backward (training too).
      const after = layers[i + 1];
      if (
        layer.forwardFused &&
        after instanceof ReLU &&
        ownForward(layer, 'forwardFused') &&
        ownForward(after, 'forward', ReLU.prototype)
      ) {
        y = layer.forwardFused(y, { activation: 'relu' });
        i++;
        continue;
      }
      y = layer.forward(y);
    }
    return y;
  }

  override namedChildren(): [string, Module][] {
    return this.layers.map((l, i) => [String(i), l]);
  }

  private foldedForward(x: Tensor): Tensor {
    const layers = this.layers;
    let y = x;
    for (let i = 0; i < layers.length; i++) {
      const layer = layers[i] as Module & Partial<FoldsNorm>;
      const next = layers[i + 1] as (Module & Partial<FoldableNorm>) | undefined;
      // Only the library's own forwards are folded: not a subclass that overrides forward, not
      // a forward assigned on the instance (a user's, or observeForwards' while a summary or a
      // diagnosis watches each layer run).
      if (
        layer.forwardFolded &&
        next?.inferenceFold &&
        ownForward(layer, 'forwardFolded') &&
        ownForward(next, 'inferenceFold')
      ) {
        const norm = next.inferenceFold();
        const after = layers[i + 2];
        const fuseRelu = after instanceof ReLU && ownForward(after, 'forward', ReLU.prototype);
        const folded = norm && layer.forwardFolded(y, norm, fuseRelu ? 'relu' : undefined);
        if (folded) {
          y = folded;
          i += fuseRelu ? 2 : 1;
          continue;
        }
      }
      y = layer.forward(y);
    }
    return y;
  }

  protected override replaceChild(name: string, module: Module): void {
    this.layers[Number(name)] = module;
  }
}

/**
 * Returns its input unchanged (nn.Identity): a placeholder, e.g. to drop a layer from a model
 * with setSubmodule while keeping the other names.
 *
 * @example
 * ```ts
 * import { Identity, Linear, Sequential } from 'axon-nn';
 * const net = new Sequential(new Linear(4, 8), new Linear(8, 2));
 * net.setSubmodule('1', new Identity()); // the model now ends at 8 features
 * ```
 */
export class Identity extends Module {
  /** Returns x itself (no copy). */
  forward(x: Tensor): Tensor {
    return x;
  }
}

/**
 * max(x, 0) elementwise, as a layer (nn.ReLU; no parameters). In a Sequential, a ReLU after a
 * Linear or convolution and its batch norm is fused into them at inference.
 *
 * @example
 * ```ts
 * import { Linear, ReLU, Sequential, randn } from 'axon-nn';
 * const net = new Sequential(new Linear(4, 8), new ReLU(), new Linear(8, 1));
 * const y = net.forward(randn([2, 4])); // [2, 1]
 * ```
 */
export class ReLU extends Module {
  /** Applies relu elementwise. */
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

/**
 * x for x >= 0, negativeSlope * x otherwise (nn.LeakyReLU). The default slope is PyTorch's,
 * 0.01; Keras's LeakyReLU defaults to 0.3.
 *
 * @example
 * ```ts
 * import { LeakyReLU, tensor } from 'axon-nn';
 * const y = new LeakyReLU(0.2).forward(tensor([-1, 2])); // [-0.2, 2]
 * ```
 */
export class LeakyReLU extends Module {
  /** PyTorch's default slope 0.01 (Keras's LeakyReLU defaults to 0.3). */
  constructor(
    /** The slope for negative inputs. */
    readonly negativeSlope = 0.01,
  ) {
    super();
  }
  /** Applies leakyRelu elementwise. */
  forward(x: Tensor): Tensor {
    return leakyRelu(x, this.negativeSlope);
  }
  override getConfig(): Record<string, unknown> {
    return { negativeSlope: this.negativeSlope };
  }
  override extraRepr(): string {
    return `negativeSlope=${this.negativeSlope}`;
  }
}

/**
 * Exponential linear unit: x for x > 0, alpha * (e^x - 1) otherwise (nn.ELU, default alpha 1).
 *
 * @example
 * ```ts
 * import { ELU, tensor } from 'axon-nn';
 * const y = new ELU().forward(tensor([-1, 2])); // [-0.632, 2]
 * ```
 */
export class ELU extends Module {
  constructor(
    /** The value negative inputs saturate to, as -alpha. */
    readonly alpha = 1,
  ) {
    super();
  }
  /** Applies elu elementwise. */
  forward(x: Tensor): Tensor {
    return elu(x, this.alpha);
  }
  override getConfig(): Record<string, unknown> {
    return { alpha: this.alpha };
  }
  override extraRepr(): string {
    return `alpha=${this.alpha}`;
  }
}

/**
 * Gaussian error linear unit x * Phi(x) (nn.GELU): exact with the default 'none', or the tanh
 * approximation with 'tanh' (PyTorch's approximate='tanh').
 *
 * @example
 * ```ts
 * import { GELU, Linear, Sequential, randn } from 'axon-nn';
 * const mlp = new Sequential(new Linear(16, 64), new GELU(), new Linear(64, 16));
 * const y = mlp.forward(randn([4, 16])); // [4, 16]
 * ```
 */
export class GELU extends Module {
  constructor(
    /** 'none' (exact, with erf) or 'tanh' (the approximation). */
    readonly approximate: 'none' | 'tanh' = 'none',
  ) {
    super();
  }
  /** Applies gelu elementwise. */
  forward(x: Tensor): Tensor {
    return gelu(x, { approximate: this.approximate });
  }
  override getConfig(): Record<string, unknown> {
    return { approximate: this.approximate };
  }
  override extraRepr(): string {
    return `approximate=${this.approximate}`;
  }
}

/**
 * Smooth ReLU log(1 + e^(beta x)) / beta (nn.Softplus, default beta 1).
 *
 * @example
 * ```ts
 * import { Softplus, tensor } from 'axon-nn';
 * const y = new Softplus(2).forward(tensor([0])); // [0.3466] (= ln 2 / 2)
 * ```
 */
export class Softplus extends Module {
  constructor(
    /** Sharpness: larger values follow relu more closely. */
    readonly beta = 1,
  ) {
    super();
  }
  /** Applies softplus elementwise. */
  forward(x: Tensor): Tensor {
    return softplus(x, this.beta);
  }
  override getConfig(): Record<string, unknown> {
    return { beta: this.beta };
  }
  override extraRepr(): string {
    return `beta=${this.beta}`;
  }
}

/**
 * Softmax along one axis (nn.Softmax; default the last): exponentials normalised to sum to 1.
 * For training a classifier, feed the logits to crossEntropy instead, which is fused and stable.
 *
 * @example
 * ```ts
 * import { Softmax, tensor } from 'axon-nn';
 * const p = new Softmax().forward(tensor([[1, 1]])); // [[0.5, 0.5]]
 * ```
 */
export class Softmax extends Module {
  constructor(
    /** The axis that sums to 1 (negative counts from the end). */
    readonly axis = -1,
  ) {
    super();
  }
  /** Applies softmax along `axis`. */
  forward(x: Tensor): Tensor {
    return softmax(x, this.axis);
  }
  override getConfig(): Record<string, unknown> {
    return { axis: this.axis };
  }
  override extraRepr(): string {
    return `axis=${this.axis}`;
  }
}

/**
 * log(softmax(x)) along one axis, computed stably (nn.LogSoftmax; default the last axis). Its
 * output is what nllLoss expects.
 *
 * @example
 * ```ts
 * import { LogSoftmax, tensor } from 'axon-nn';
 * const logp = new LogSoftmax().forward(tensor([[1, 1]])); // [[-0.693, -0.693]]
 * ```
 */
export class LogSoftmax extends Module {
  constructor(
    /** The axis to normalise over (negative counts from the end). */
    readonly axis = -1,
  ) {
    super();
  }
  /** Applies logSoftmax along `axis`. */
  forward(x: Tensor): Tensor {
    return logSoftmax(x, this.axis);
  }
  override getConfig(): Record<string, unknown> {
    return { axis: this.axis };
  }
  override extraRepr(): string {
    return `axis=${this.axis}`;
  }
}

/**
 * Inverted dropout (nn.Dropout): in training mode zeroes each element with probability p
 * (default 0.5) and scales the rest by 1 / (1 - p); in evaluation mode it is the identity.
 * Throws a RangeError for p outside [0, 1]. `random` seeds the layer's own mask stream.
 *
 * @example
 * ```ts
 * import { Dropout, ones } from 'axon-nn';
 * const drop = new Dropout(0.5, { seed: 1 });
 * const y = drop.forward(ones([1, 8])); // each element 0 or 2
 * drop.eval(); // now forward returns its input
 * ```
 */
export class Dropout extends Module {
  /** The mask stream [seedHigh, seedLow, counter]: seeded once (from `random` or the global
   * generator), advanced by each training forward, so masks differ call to call but the
   * sequence is reproducible and a recorded training step replays it. */
  readonly rngState: Float64Array;
  constructor(
    /** The probability of zeroing each element. */
    readonly p = 0.5,
    random?: RandomOptions,
  ) {
    super();
    if (!(p >= 0 && p <= 1)) throw new RangeError(`Dropout: p must be in [0, 1], got ${p}`);
    checkOptionKeys('Dropout', random, RANDOM_OPTION_KEYS);
    this.rngState = dropoutState(random);
  }
  /** Drops elements of x in training mode; returns x itself in evaluation mode. */
  forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training, { state: this.rngState });
  }
  override getConfig(): Record<string, unknown> {
    return { p: this.p };
  }
  override extraRepr(): string {
    return `p=${this.p}`;
  }
}

/**
 * Flattens axes startDim..endDim into one (nn.Flatten; default all but the batch axis, so
 * [N, C, H, W] becomes [N, C*H*W]). Typically between the convolutional and the dense part.
 *
 * @example
 * ```ts
 * import { Flatten, randn } from 'axon-nn';
 * const y = new Flatten().forward(randn([2, 3, 4, 5])); // [2, 60]
 * ```
 */
export class Flatten extends Module {
  constructor(
    /** First axis to flatten (default 1). */
    readonly startDim = 1,
    /** Last axis to flatten, inclusive (default -1, the last). */
    readonly endDim = -1,
  ) {
    super();
  }
  /** Reshapes x with axes startDim..endDim merged. */
  forward(x: Tensor): Tensor {
    return flatten(x, this.startDim, this.endDim);
  }
  override getConfig(): Record<string, unknown> {
    return { startDim: this.startDim, endDim: this.endDim };
  }
}
