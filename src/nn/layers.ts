/**
 * Core layers: Linear (Dense), Sequential, the activation modules with parameters (the
 * parameter-free ones come from the op table: ./activations.gen.ts), Dropout, Flatten, Identity. Linear's weight is (out, in) as PyTorch's, so state dicts carry over unchanged.
 */
import { relu, leakyRelu, elu, gelu, softplus, softmax, logSoftmax } from '../ops/activation.js';
import { linear, type LinearActivation } from '../ops/linalg.js';
import { flatten } from '../ops/layout.js';
import { Generator, RANDOM_OPTION_KEYS, type RandomOptions } from '../tensor/random.js';
import { shapeToString } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { dropout, dropoutState } from './functional.js';
import { getInitializer, pytorchBiasDefault, pytorchDefault, type Initializer, type InitializerLike } from './init.js';
import { Module, Parameter, type NormFold } from './module.js';
import { foldNorm, foldPays } from './functional.js';
import { isGradEnabled } from '../autograd/engine.js';
import type { Regularizer } from './regularizers.js';
import { checkOptionKeys, optionKeys } from '../options.js';

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
  weightRegularizer?: Regularizer | null;
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

/** A `{ seed }` turned into one generator seeded with it, so successive draws continue one stream. */
function seededOnce(random: RandomOptions | undefined): RandomOptions | undefined {
  if (random && !random.generator && random.seed !== undefined) return { generator: new Generator(random.seed) };
  return random;
}

/** y = act(x W^T + b) with W (out, in): PyTorch's nn.Linear, Keras's Dense. */
export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  weight: Parameter;
  bias: Parameter | null;
  activation: LinearActivation;
  activationParam: number;
  activityRegularizer: Regularizer | null;
  /** The initialisers the parameters were drawn with (kept for getConfig). */
  readonly weightInit: Initializer;
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

/** Runs modules in order, each on the previous one's output. */
/** A layer that can run with a following batch norm folded into it (Sequential's inference). */
interface FoldsNorm {
  forwardFolded(x: Tensor, norm: NormFold, activation?: LinearActivation): Tensor | null;
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

export class Sequential extends Module {
  layers: Module[];

  constructor(...layers: Module[]) {
    super();
    layers.forEach((l, i) => {
      if (!(l instanceof Module)) throw new TypeError(`Sequential: argument ${i} is not a Module`);
    });
    this.layers = layers;
  }

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

  get length(): number {
    return this.layers.length;
  }

  forward(x: Tensor): Tensor {
    // Inference (evaluation mode, no gradients): a Linear or convolution followed by a batch
    // norm on running statistics runs as one layer with the norm folded into its weights, and
    // a ReLU after the norm fused into it: one pass over the activations instead of three.
    if (!this.training && !isGradEnabled()) return this.foldedForward(x);
    let y = x;
    for (const layer of this.layers) y = layer.forward(y);
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

export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}

export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

export class LeakyReLU extends Module {
  /** PyTorch's default slope 0.01 (Keras's LeakyReLU defaults to 0.3). */
  constructor(readonly negativeSlope = 0.01) {
    super();
  }
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

export class ELU extends Module {
  constructor(readonly alpha = 1) {
    super();
  }
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

export class GELU extends Module {
  constructor(readonly approximate: 'none' | 'tanh' = 'none') {
    super();
  }
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

export class Softplus extends Module {
  constructor(readonly beta = 1) {
    super();
  }
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

export class Softmax extends Module {
  constructor(readonly axis = -1) {
    super();
  }
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

export class LogSoftmax extends Module {
  constructor(readonly axis = -1) {
    super();
  }
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

/** Inverted dropout (identity in eval mode). */
export class Dropout extends Module {
  /** The mask stream [seedHigh, seedLow, counter]: seeded once (from `random` or the global
   * generator), advanced by each training forward, so masks differ call to call but the
   * sequence is reproducible and a recorded training step replays it. */
  readonly rngState: Float64Array;
  constructor(
    readonly p = 0.5,
    random?: RandomOptions,
  ) {
    super();
    if (!(p >= 0 && p <= 1)) throw new RangeError(`Dropout: p must be in [0, 1], got ${p}`);
    checkOptionKeys('Dropout', random, RANDOM_OPTION_KEYS);
    this.rngState = dropoutState(random);
  }
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

/** Flattens axes startDim..endDim (default: all but the batch axis). */
export class Flatten extends Module {
  constructor(
    readonly startDim = 1,
    readonly endDim = -1,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return flatten(x, this.startDim, this.endDim);
  }
  override getConfig(): Record<string, unknown> {
    return { startDim: this.startDim, endDim: this.endDim };
  }
}
