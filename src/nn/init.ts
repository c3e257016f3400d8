/**
 * Weight initialisers. Each is a small object with a name and its configuration (so layer
 * configs serialise) that fills a new float32 tensor of a given shape, seeded by the global
 * generator, a per-call seed, or a given generator.
 *
 * Fan computation follows PyTorch: for a weight (out, in, *kernel), fanIn = in * prod(kernel)
 * and fanOut = out * prod(kernel). Gains follow torch.nn.init.calculate_gain.
 *
 * Defaults by layer (documented on each layer): Linear and Conv layers use PyTorch's default,
 * kaimingUniform with a = sqrt(5) (= U(-1/sqrt(fanIn), 1/sqrt(fanIn))) for weights and
 * U(-1/sqrt(fanIn), 1/sqrt(fanIn)) for biases. Keras uses glorotUniform weights and zero
 * biases; pass { weightInit: 'glorotUniform', biasInit: 'zeros' } to get that.
 *
 * @packageDocumentation
 */
import { Generator, pickGenerator, type RandomOptions } from '../tensor/random.js';
import { checkOptionKeys, enumOption, numberOption, optionKeys } from '../options.js';
import { numel, shapeToString } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { reserveValues } from './budget.js';

/**
 * The nonlinearities {@link calculateGain} knows (torch.nn.init.calculate_gain's, camel-cased):
 * the activation that follows the layer being initialised.
 *
 * @example
 * ```ts
 * import { init } from 'axon-nn';
 * const nonlinearity: init.Nonlinearity = 'tanh';
 * const layerInit = init.glorotUniform(init.calculateGain(nonlinearity)); // gain 5/3
 * ```
 */
export type Nonlinearity = 'linear' | 'sigmoid' | 'tanh' | 'relu' | 'leakyRelu' | 'selu' | 'conv';

/**
 * The recommended gain for a nonlinearity, as torch.nn.init.calculate_gain: 1 for linear,
 * conv and sigmoid, 5/3 for tanh, sqrt(2) for relu, sqrt(2 / (1 + slope^2)) for leakyRelu
 * (`param` is the slope, default 0.01) and 3/4 for selu. Throws a RangeError for other names.
 *
 * @example
 * ```ts
 * import { init } from 'axon-nn';
 * const gain = init.calculateGain('relu'); // 1.4142 (sqrt 2)
 * const weightInit = init.orthogonal(gain);
 * ```
 */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear':
    case 'conv':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leakyRelu': {
      const slope = param ?? 0.01;
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
  }
  throw new RangeError(`calculateGain: unknown nonlinearity '${String(nonlinearity)}'`);
}

/**
 * fanIn and fanOut of a weight shape, as PyTorch computes them: for (out, in, *kernel),
 * fanIn = in * prod(kernel) and fanOut = out * prod(kernel). A 1-D shape has fanIn = fanOut = n;
 * a scalar has 1 and 1.
 *
 * @example
 * ```ts
 * import { init } from 'axon-nn';
 * const { fanIn, fanOut } = init.computeFans([64, 3, 3, 3]); // a Conv2d(3, 64, 3) weight: 27 and 576
 * ```
 */
export function computeFans(shape: readonly number[]): {
  /** Inputs feeding each output unit. */
  fanIn: number;
  /** Outputs each input unit feeds. */
  fanOut: number;
} {
  if (shape.length === 0) return { fanIn: 1, fanOut: 1 };
  if (shape.length === 1) return { fanIn: shape[0], fanOut: shape[0] };
  const receptive = numel(shape.slice(2));
  return { fanIn: shape[1] * receptive, fanOut: shape[0] * receptive };
}

/**
 * A weight initialiser: a name and configuration (saved in layer configs, rebuilt by
 * {@link initializerFromConfig}) and `create`, which draws a new float32 tensor. Layers take one
 * (or an {@link InitializerName}) as weightInit / biasInit; the factories in `init` make them.
 *
 * @example
 * ```ts
 * import { init, type Initializer } from 'axon-nn';
 * const he: Initializer = init.heNormal({ nonlinearity: 'relu' });
 * const w = he.create([256, 128], { seed: 0 }); // N(0, 2 / 128)
 * console.log(he.name, he.config); // heNormal { a: 0, mode: 'fanIn', nonlinearity: 'relu' }
 * ```
 */
export interface Initializer {
  /** The initialiser's name, as initializerFromConfig reads it ('glorotUniform', ...). */
  readonly name: string;
  /** Its settings (gain, std, ...), JSON values only. */
  readonly config: Record<string, number | string>;
  /** A new tensor of `shape`. `fans` overrides the fans computed from the shape (biases). */
  create(shape: readonly number[], options?: RandomOptions & { fans?: { fanIn: number; fanOut: number } }): Tensor;
}

type Fill = (
  n: number,
  fans: { fanIn: number; fanOut: number },
  g: Generator,
  shape: readonly number[],
) => Float32Array;

function make(name: string, config: Record<string, number | string>, fill: Fill): Initializer {
  return {
    name,
    config,
    create(shape, options) {
      reserveValues(`init ${name}`, numel(shape));
      const fans = options?.fans ?? computeFans(shape);
      const g = pickGenerator(options);
      return new Tensor(fill(numel(shape), fans, g, shape), shape);
    },
  };
}

function uniformFill(n: number, low: number, high: number, g: Generator): Float32Array {
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = low + (high - low) * g.nextFloat();
  return d;
}

function normalFill(n: number, mean: number, std: number, g: Generator): Float32Array {
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = mean + std * g.nextNormal();
  return d;
}

function checkPositive(op: string, v: number, name: string): void {
  if (!(Number.isFinite(v) && v >= 0)) throw new RangeError(`${op}: ${name} must be a finite number >= 0, got ${v}`);
}

/**
 * Fills with 0 (Keras's default bias initialiser; `'zeros'` by name).
 *
 * @example
 * ```ts
 * import { Linear, init } from 'axon-nn';
 * const layer = new Linear(10, 4, { biasInit: init.zeros() });
 * ```
 */
export const zeros = (): Initializer => make('zeros', {}, (n) => new Float32Array(n));
/**
 * Fills with 1 (`'ones'` by name).
 *
 * @example
 * ```ts
 * import { init } from 'axon-nn';
 * const t = init.ones().create([2, 3]); // all ones
 * ```
 */
export const ones = (): Initializer => make('ones', {}, (n) => new Float32Array(n).fill(1));
/**
 * Fills with `value`; throws a RangeError when it is not finite.
 *
 * @example
 * ```ts
 * import { Linear, init } from 'axon-nn';
 * const layer = new Linear(10, 4, { biasInit: init.constant(0.1) }); // a small positive bias for ReLU units
 * ```
 */
export function constant(value: number): Initializer {
  if (!Number.isFinite(value)) throw new RangeError(`constant: value must be finite, got ${value}`);
  return make('constant', { value }, (n) => new Float32Array(n).fill(value));
}
/**
 * N(mean, std^2); with the defaults (0, 0.01) the "small random Gaussian". Throws a RangeError
 * for a negative or non-finite std.
 *
 * @example
 * ```ts
 * import { Linear, init } from 'axon-nn';
 * const layer = new Linear(128, 10, { weightInit: init.normal(0, 0.02) });
 * ```
 */
export function normal(mean = 0, std = 0.01): Initializer {
  checkPositive('normal', std, 'std');
  return make('normal', { mean, std }, (n, _f, g) => normalFill(n, mean, std, g));
}
/**
 * U(low, high), default U(-0.05, 0.05) (Keras's RandomUniform). Throws a RangeError when high < low.
 *
 * @example
 * ```ts
 * import { Linear, init } from 'axon-nn';
 * const layer = new Linear(4, 2, { weightInit: init.uniform(-0.1, 0.1) });
 * ```
 */
export function uniform(low = -0.05, high = 0.05): Initializer {
  if (!(high >= low)) throw new RangeError(`uniform: high ${high} must be >= low ${low}`);
  return make('uniform', { low, high }, (n, _f, g) => uniformFill(n, low, high, g));
}
/**
 * N(mean, std^2) redrawn until inside [mean + a*std, mean + b*std]: a and b count standard
 * deviations (Keras's TruncatedNormal cuts at +-2; torch's trunc_normal_ takes absolute bounds).
 * Defaults: mean 0, std 0.05, a = -2, b = 2. Throws a RangeError unless a < b.
 *
 * @example
 * ```ts
 * import { Linear, init } from 'axon-nn';
 * const layer = new Linear(768, 768, { weightInit: init.truncatedNormal(0, 0.02) }); // within +-0.04
 * ```
 */
export function truncatedNormal(mean = 0, std = 0.05, a = -2, b = 2): Initializer {
  checkPositive('truncatedNormal', std, 'std');
  if (!(b > a)) throw new RangeError(`truncatedNormal: need a < b, got ${a}, ${b}`);
  return make('truncatedNormal', { mean, std, a, b }, (n, _f, g) => {
    const d = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      let z: number;
      do z = g.nextNormal();
      while (z < a || z > b);
      d[i] = mean + std * z;
    }
    return d;
  });
}
/**
 * Glorot/Xavier uniform: U(-l, l), l = gain * sqrt(6 / (fanIn + fanOut)). Keras's default
 * kernel initialiser (`'glorotUniform'` or `'xavierUniform'` by name).
 *
 * @example
 * ```ts
 * import { Linear, init } from 'axon-nn';
 * const dense = new Linear(256, 128, { weightInit: init.glorotUniform(), biasInit: 'zeros' }); // Keras's Dense
 * ```
 */
export function glorotUniform(gain = 1): Initializer {
  return make('glorotUniform', { gain }, (n, f, g) => {
    const l = gain * Math.sqrt(6 / (f.fanIn + f.fanOut));
    return uniformFill(n, -l, l, g);
  });
}
/**
 * Glorot/Xavier normal: N(0, gain^2 * 2 / (fanIn + fanOut)) (`'glorotNormal'` or `'xavierNormal'` by name).
 *
 * @example
 * ```ts
 * import { Linear, init } from 'axon-nn';
 * const layer = new Linear(64, 64, { weightInit: init.glorotNormal(init.calculateGain('tanh')) });
 * ```
 */
export function glorotNormal(gain = 1): Initializer {
  return make('glorotNormal', { gain }, (n, f, g) => normalFill(n, 0, gain * Math.sqrt(2 / (f.fanIn + f.fanOut)), g));
}

/**
 * {@link heUniform}'s and {@link heNormal}'s options, as torch.nn.init.kaiming_uniform_'s
 * arguments (a, mode, nonlinearity). Defaults: a = 0, mode 'fanIn', nonlinearity 'leakyRelu'.
 *
 * @example
 * ```ts
 * import { Conv2d, init } from 'axon-nn';
 * const options: init.KaimingOptions = { mode: 'fanOut', nonlinearity: 'relu' }; // torchvision's ResNet convs
 * const conv = new Conv2d(64, 64, 3, { padding: 1, weightInit: init.heNormal(options) });
 * ```
 */
export interface KaimingOptions {
  /** Negative slope of the following leaky ReLU (0 for ReLU). */
  a?: number;
  /** Scale by fanIn (preserves the forward variance; default) or fanOut (the backward's). */
  mode?: 'fanIn' | 'fanOut';
  /** The activation after the layer, for calculateGain (default 'leakyRelu' with slope `a`). */
  nonlinearity?: Nonlinearity;
}
const KAIMING_KEYS = optionKeys<KaimingOptions>({ a: true, mode: true, nonlinearity: true });

/** KaimingOptions checked for `op` (a mode other than fanIn used to mean fanOut silently). */
function checkKaiming(op: string, options: KaimingOptions): void {
  checkOptionKeys(op, options, KAIMING_KEYS);
  numberOption(op, 'a', options.a, 0, -Number.MAX_VALUE, Number.MAX_VALUE);
  enumOption(op, 'mode', options.mode, 'fanIn', ['fanIn', 'fanOut']);
}
function kaimingStd(opts: KaimingOptions, f: { fanIn: number; fanOut: number }): number {
  const fan = (opts.mode ?? 'fanIn') === 'fanIn' ? f.fanIn : f.fanOut;
  const gain = calculateGain(opts.nonlinearity ?? 'leakyRelu', opts.a ?? 0);
  return gain / Math.sqrt(Math.max(fan, 1));
}
/**
 * He/Kaiming uniform: U(-b, b), b = gain * sqrt(3 / fan) (torch.nn.init.kaiming_uniform_).
 * By name (`'heUniform'`, `'kaimingUniform'`) it assumes a following ReLU. Unknown option keys
 * or a mode other than 'fanIn' / 'fanOut' throw.
 *
 * @example
 * ```ts
 * import { Linear, init } from 'axon-nn';
 * const layer = new Linear(512, 256, { weightInit: init.heUniform({ nonlinearity: 'relu' }) });
 * ```
 */
export function heUniform(options: KaimingOptions = {}): Initializer {
  checkKaiming('heUniform', options);
  return make(
    'heUniform',
    { a: options.a ?? 0, mode: options.mode ?? 'fanIn', nonlinearity: options.nonlinearity ?? 'leakyRelu' },
    (n, f, g) => {
      const b = Math.sqrt(3) * kaimingStd(options, f);
      return uniformFill(n, -b, b, g);
    },
  );
}
/**
 * He/Kaiming normal: N(0, gain^2 / fan) (torch.nn.init.kaiming_normal_). By name (`'heNormal'`,
 * `'kaimingNormal'`) it assumes a following ReLU.
 *
 * @example
 * ```ts
 * import { Conv2d, init } from 'axon-nn';
 * const conv = new Conv2d(3, 32, 3, { weightInit: init.heNormal({ nonlinearity: 'relu' }) });
 * ```
 */
export function heNormal(options: KaimingOptions = {}): Initializer {
  checkKaiming('heNormal', options);
  return make(
    'heNormal',
    { a: options.a ?? 0, mode: options.mode ?? 'fanIn', nonlinearity: options.nonlinearity ?? 'leakyRelu' },
    (n, f, g) => normalFill(n, 0, kaimingStd(options, f), g),
  );
}
/**
 * LeCun normal: N(0, 1 / fanIn) (Keras's lecun_normal is truncated; this one is not). The
 * usual partner of SELU activations.
 *
 * @example
 * ```ts
 * import { Linear, SELU, Sequential, init } from 'axon-nn';
 * const net = new Sequential(new Linear(32, 64, { weightInit: init.lecunNormal() }), new SELU());
 * ```
 */
export function lecunNormal(): Initializer {
  return make('lecunNormal', {}, (n, f, g) => normalFill(n, 0, 1 / Math.sqrt(Math.max(f.fanIn, 1)), g));
}
/**
 * A (semi-)orthogonal matrix from the QR decomposition of a Gaussian one (Saxe et al. 2013),
 * times gain; tensors with more than 2 axes are flattened to (shape[0], rest), and fewer than
 * 2 axes throw a RangeError when created. Keras's default for recurrent kernels.
 *
 * @example
 * ```ts
 * import { LSTM, init } from 'axon-nn';
 * const lstm = new LSTM(16, 32, { recurrentInit: init.orthogonal() });
 * ```
 */
export function orthogonal(gain = 1): Initializer {
  return make('orthogonal', { gain }, (n, _f, g, shape) => {
    if (shape.length < 2) throw new RangeError(`orthogonal: needs at least 2 dimensions, got ${shapeToString(shape)}`);
    const rows = shape[0];
    const cols = n / Math.max(rows, 1);
    // Work on the tall orientation (r >= c): Gram-Schmidt on the c columns of an r x c Gaussian.
    const r = Math.max(rows, cols);
    const c = Math.min(rows, cols);
    const q = new Float64Array(r * c);
    for (let i = 0; i < q.length; i++) q[i] = g.nextNormal();
    for (let j = 0; j < c; j++) {
      // Two passes of modified Gram-Schmidt for numerical orthogonality.
      for (let pass = 0; pass < 2; pass++)
        for (let k = 0; k < j; k++) {
          let dot = 0;
          for (let i = 0; i < r; i++) dot += q[i * c + j] * q[i * c + k];
          for (let i = 0; i < r; i++) q[i * c + j] -= dot * q[i * c + k];
        }
      let norm = 0;
      for (let i = 0; i < r; i++) norm += q[i * c + j] ** 2;
      norm = Math.sqrt(norm) || 1;
      for (let i = 0; i < r; i++) q[i * c + j] /= norm;
    }
    const out = new Float32Array(n);
    for (let i = 0; i < rows; i++)
      for (let j = 0; j < cols; j++) out[i * cols + j] = gain * (rows >= cols ? q[i * c + j] : q[j * c + i]);
    return out;
  });
}

/**
 * Names accepted wherever an initializer is expected (Keras's names and PyTorch's); each
 * resolves through {@link getInitializer} to the initialiser with its default settings.
 *
 * @example
 * ```ts
 * import { Linear, type InitializerName } from 'axon-nn';
 * const weightInit: InitializerName = 'xavierUniform'; // same as 'glorotUniform'
 * const layer = new Linear(16, 8, { weightInit, biasInit: 'zeros' });
 * ```
 */
export type InitializerName =
  | 'zeros'
  | 'ones'
  | 'normal'
  | 'uniform'
  | 'truncatedNormal'
  | 'glorotUniform'
  | 'glorotNormal'
  | 'xavierUniform'
  | 'xavierNormal'
  | 'heUniform'
  | 'heNormal'
  | 'kaimingUniform'
  | 'kaimingNormal'
  | 'lecunNormal'
  | 'orthogonal';

/**
 * What layers take as weightInit / biasInit: an {@link Initializer} or an {@link InitializerName}.
 *
 * @example
 * ```ts
 * import { Linear, init, type InitializerLike } from 'axon-nn';
 * const choices: InitializerLike[] = ['heUniform', init.normal(0, 0.02)];
 * const layers = choices.map((weightInit) => new Linear(8, 8, { weightInit }));
 * ```
 */
export type InitializerLike = Initializer | InitializerName;

/**
 * Resolves a name (defaults of each initializer) or returns the initializer. He/Kaiming by
 * name assume a following ReLU (as Keras's he_* do). Throws a RangeError for an unknown name.
 *
 * @example
 * ```ts
 * import { init } from 'axon-nn';
 * const he = init.getInitializer('kaimingNormal');
 * console.log(he.name, he.config); // heNormal { a: 0, mode: 'fanIn', nonlinearity: 'relu' }
 * ```
 */
export function getInitializer(spec: InitializerLike): Initializer {
  if (typeof spec === 'object' && spec && typeof spec.create === 'function') return spec;
  switch (spec) {
    case 'zeros':
      return zeros();
    case 'ones':
      return ones();
    case 'normal':
      return normal();
    case 'uniform':
      return uniform();
    case 'truncatedNormal':
      return truncatedNormal();
    case 'glorotUniform':
    case 'xavierUniform':
      return glorotUniform();
    case 'glorotNormal':
    case 'xavierNormal':
      return glorotNormal();
    case 'heUniform':
    case 'kaimingUniform':
      return heUniform({ nonlinearity: 'relu' });
    case 'heNormal':
    case 'kaimingNormal':
      return heNormal({ nonlinearity: 'relu' });
    case 'lecunNormal':
      return lecunNormal();
    case 'orthogonal':
      return orthogonal();
  }
  throw new RangeError(`unknown initializer ${JSON.stringify(spec)}`);
}

/**
 * Rebuilds an initializer from { name, config } (layer configs in saved models): the inverse
 * of reading an Initializer's `name` and `config`. Throws a RangeError for an unknown name.
 *
 * @example
 * ```ts
 * import { init } from 'axon-nn';
 * const saved = init.truncatedNormal(0, 0.02);
 * const again = init.initializerFromConfig(saved.name, saved.config); // the same distribution
 * ```
 */
export function initializerFromConfig(name: string, config: Record<string, number | string>): Initializer {
  const c = config as Record<string, never>;
  switch (name) {
    case 'zeros':
      return zeros();
    case 'ones':
      return ones();
    case 'constant':
      return constant(c.value);
    case 'normal':
      return normal(c.mean, c.std);
    case 'uniform':
      return uniform(c.low, c.high);
    case 'truncatedNormal':
      return truncatedNormal(c.mean, c.std, c.a, c.b);
    case 'glorotUniform':
      return glorotUniform(c.gain);
    case 'glorotNormal':
      return glorotNormal(c.gain);
    case 'heUniform':
      return heUniform(config as KaimingOptions);
    case 'heNormal':
      return heNormal(config as KaimingOptions);
    case 'lecunNormal':
      return lecunNormal();
    case 'orthogonal':
      return orthogonal(c.gain);
    case 'pytorchLinearDefault':
      return pytorchDefault();
    case 'pytorchBiasDefault':
      return pytorchBiasDefault();
  }
  throw new RangeError(`unknown initializer '${name}'`);
}

/**
 * PyTorch's default for Linear/Conv weights: kaiming_uniform_(a=sqrt(5)) = U(+-1/sqrt(fanIn)).
 * Layers use it when no weightInit is given; saved as 'pytorchLinearDefault'.
 *
 * @example
 * ```ts
 * import { init } from 'axon-nn';
 * const w = init.pytorchDefault().create([128, 784]); // U(-1/28, 1/28)
 * ```
 */
export function pytorchDefault(): Initializer {
  const inner = heUniform({ a: Math.sqrt(5), nonlinearity: 'leakyRelu' });
  return { name: 'pytorchLinearDefault', config: {}, create: inner.create };
}
/**
 * PyTorch's default for Linear/Conv biases: U(+-1/sqrt(fanIn)) with the weight's fanIn
 * (pass it as options.fans; zeros when fanIn is 0). Layers use it when no biasInit is given.
 *
 * @example
 * ```ts
 * import { init } from 'axon-nn';
 * const b = init.pytorchBiasDefault().create([128], { fans: { fanIn: 784, fanOut: 128 } }); // U(-1/28, 1/28)
 * ```
 */
export function pytorchBiasDefault(): Initializer {
  return make('pytorchBiasDefault', {}, (n, f, g) => {
    const b = f.fanIn > 0 ? 1 / Math.sqrt(f.fanIn) : 0;
    return uniformFill(n, -b, b, g);
  });
}
