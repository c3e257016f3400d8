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
 */
import { Generator, pickGenerator, type RandomOptions } from '../tensor/random.js';
import { checkOptionKeys, enumOption, numberOption, optionKeys } from '../options.js';
import { numel, shapeToString } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { reserveValues } from './budget.js';

export type Nonlinearity = 'linear' | 'sigmoid' | 'tanh' | 'relu' | 'leakyRelu' | 'selu' | 'conv';

/** torch.nn.init.calculate_gain */
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

/** fanIn and fanOut of a weight shape (see file comment). A 1-D shape has fanIn = fanOut = n. */
export function computeFans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length === 0) return { fanIn: 1, fanOut: 1 };
  if (shape.length === 1) return { fanIn: shape[0], fanOut: shape[0] };
  const receptive = numel(shape.slice(2));
  return { fanIn: shape[1] * receptive, fanOut: shape[0] * receptive };
}

export interface Initializer {
  readonly name: string;
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

export const zeros = (): Initializer => make('zeros', {}, (n) => new Float32Array(n));
export const ones = (): Initializer => make('ones', {}, (n) => new Float32Array(n).fill(1));
export function constant(value: number): Initializer {
  if (!Number.isFinite(value)) throw new RangeError(`constant: value must be finite, got ${value}`);
  return make('constant', { value }, (n) => new Float32Array(n).fill(value));
}
/** N(mean, std^2); with the defaults (0, 0.01) the "small random Gaussian". */
export function normal(mean = 0, std = 0.01): Initializer {
  checkPositive('normal', std, 'std');
  return make('normal', { mean, std }, (n, _f, g) => normalFill(n, mean, std, g));
}
/** U(low, high). */
export function uniform(low = -0.05, high = 0.05): Initializer {
  if (!(high >= low)) throw new RangeError(`uniform: high ${high} must be >= low ${low}`);
  return make('uniform', { low, high }, (n, _f, g) => uniformFill(n, low, high, g));
}
/**
 * N(mean, std^2) redrawn until inside [mean + a*std, mean + b*std]: a and b count standard
 * deviations (Keras's TruncatedNormal cuts at +-2; torch's trunc_normal_ takes absolute bounds).
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
/** Glorot/Xavier uniform: U(-l, l), l = gain * sqrt(6 / (fanIn + fanOut)). Keras's default. */
export function glorotUniform(gain = 1): Initializer {
  return make('glorotUniform', { gain }, (n, f, g) => {
    const l = gain * Math.sqrt(6 / (f.fanIn + f.fanOut));
    return uniformFill(n, -l, l, g);
  });
}
/** Glorot/Xavier normal: N(0, gain^2 * 2 / (fanIn + fanOut)). */
export function glorotNormal(gain = 1): Initializer {
  return make('glorotNormal', { gain }, (n, f, g) => normalFill(n, 0, gain * Math.sqrt(2 / (f.fanIn + f.fanOut)), g));
}

export interface KaimingOptions {
  /** Negative slope of the following leaky ReLU (0 for ReLU). */
  a?: number;
  mode?: 'fanIn' | 'fanOut';
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
/** He/Kaiming uniform: U(-b, b), b = gain * sqrt(3 / fan) (torch.nn.init.kaiming_uniform_). */
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
/** He/Kaiming normal: N(0, gain^2 / fan). */
export function heNormal(options: KaimingOptions = {}): Initializer {
  checkKaiming('heNormal', options);
  return make(
    'heNormal',
    { a: options.a ?? 0, mode: options.mode ?? 'fanIn', nonlinearity: options.nonlinearity ?? 'leakyRelu' },
    (n, f, g) => normalFill(n, 0, kaimingStd(options, f), g),
  );
}
/** LeCun normal: N(0, 1 / fanIn) (Keras's lecun_normal is truncated; this one is not). */
export function lecunNormal(): Initializer {
  return make('lecunNormal', {}, (n, f, g) => normalFill(n, 0, 1 / Math.sqrt(Math.max(f.fanIn, 1)), g));
}
/** A (semi-)orthogonal matrix from the QR decomposition of a Gaussian one (Saxe et al. 2013),
 * times gain; tensors with more than 2 axes are flattened to (shape[0], rest). */
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

/** Names accepted wherever an initializer is expected (Keras's names and PyTorch's). */
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

export type InitializerLike = Initializer | InitializerName;

/** Resolves a name (defaults of each initializer) or returns the initializer. He/Kaiming by
 * name assume a following ReLU (as Keras's he_* do). */
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

/** Rebuilds an initializer from { name, config } (layer configs in saved models). */
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

/** PyTorch's default for Linear/Conv weights: kaiming_uniform_(a=sqrt(5)) = U(+-1/sqrt(fanIn)). */
export function pytorchDefault(): Initializer {
  const inner = heUniform({ a: Math.sqrt(5), nonlinearity: 'leakyRelu' });
  return { name: 'pytorchLinearDefault', config: {}, create: inner.create };
}
/** PyTorch's default for Linear/Conv biases: U(+-1/sqrt(fanIn)) with the weight's fanIn
 * (pass it as options.fans). */
export function pytorchBiasDefault(): Initializer {
  return make('pytorchBiasDefault', {}, (n, f, g) => {
    const b = f.fanIn > 0 ? 1 / Math.sqrt(f.fanIn) : 0;
    return uniformFill(n, -b, b, g);
  });
}
