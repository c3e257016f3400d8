/**
 * The layer registry: how a model's architecture becomes JSON and back (Keras's
 * get_config / from_config and custom-object registration). A module serialises as
 * `{ class, config }`: its registered class name and its getConfig(); a Sequential's config
 * lists its layers the same way. Loading looks the name up here and calls the class's
 * fromConfig, so a saved file can only build classes that were registered: the built-in
 * layers, plus custom ones a program registers with registerLayer before loading.
 *
 * The JSON may come from a hostile file: every config is checked (types, ranges via the
 * layers' own constructors), nesting is bounded, and names are looked up in a Map, never on
 * an object's prototype chain.
 */
import { initializerFromConfig, type Initializer } from './init.js';
import {
  Dropout,
  ELU,
  Flatten,
  GELU,
  Identity,
  LeakyReLU,
  Linear,
  LogSoftmax,
  ReLU,
  Sequential,
  Softmax,
  Softplus,
} from './layers.js';
import { LINEAR_ACTIVATIONS, type LinearActivation } from '../ops/linalg.js';
import { TABLE_ACTIVATION_LAYERS } from './activations.gen.js';
import type { Padding } from '../ops/conv.js';
import type { Conv3dOptions, Pool3dOptions, Triple } from '../ops/conv3d.js';
import {
  AvgPool3d,
  BatchNorm3d,
  Conv3d,
  ConvTranspose3d,
  MaxPool3d,
  type ConvTranspose3dLayerOptions,
} from './conv3d-layers.js';
import {
  AdaptiveAvgPool2d,
  AvgPool2d,
  BatchNorm1d,
  BatchNorm2d,
  Conv1d,
  Conv2d,
  ConvTranspose2d,
  GlobalAvgPool2d,
  LayerNorm,
  MaxPool2d,
  type BatchNormLayerOptions,
  type ConvOptions,
} from './conv-layers.js';
import { Normalize, RandomCrop, RandomHorizontalFlip } from './augment.js';
import {
  Embedding,
  GRU,
  LastStep,
  LSTM,
  MeanOverTime,
  SimpleRNN,
  TimeDistributed,
  type RecurrentOptions,
} from './recurrent.js';
import {
  MultiheadAttention,
  PositionalEmbedding,
  SinusoidalPositionalEncoding,
  TransformerDecoder,
  TransformerDecoderLayer,
  TransformerEncoder,
  TransformerEncoderLayer,
  type TransformerLayerOptions,
} from './transformer.js';
import { withValueBudget } from './budget.js';
import { Module } from './module.js';
import { regularizerFromConfig, type Regularizer } from './regularizers.js';
import { checkOptionKeys, intOption, optionKeys } from '../options.js';

/**
 * A module as JSON: its registered class name and its settings, as {@link serializeModule}
 * writes and {@link deserializeModule} reads (a Sequential's config lists its layers' specs).
 *
 * @example
 * ```ts
 * import { deserializeModule, type LayerSpec } from 'axon-nn';
 * const spec: LayerSpec = { class: 'Linear', config: { inFeatures: 4, outFeatures: 2 } };
 * const layer = deserializeModule(spec); // a Linear(4, 2) with fresh weights
 * ```
 */
export interface LayerSpec {
  /** The name the class is registered under ('Linear', 'Conv2d', or a custom layer's). */
  class: string;
  /** The module's getConfig() output (JSON values only). */
  config: Record<string, unknown>;
}

/**
 * Any class of modules, abstract or not, whatever its constructor's arguments: what
 * {@link registerLayer} takes.
 *
 * @example
 * ```ts
 * import { Conv2d, Linear, type ModuleClass } from 'axon-nn';
 * const kinds: ModuleClass[] = [Linear, Conv2d];
 * const names = kinds.map((cls) => cls.name); // ['Linear', 'Conv2d']
 * ```
 */
export type ModuleClass = abstract new (...args: never[]) => Module;
/**
 * Rebuilds a module from its getConfig() output: a custom layer's static fromConfig, or
 * {@link RegisterLayerOptions.fromConfig}. It should validate what it reads (see configReaders).
 *
 * @example
 * ```ts
 * import { Dropout, configReaders, registerLayer, type FromConfig } from 'axon-nn';
 * class MyDropout extends Dropout {}
 * const { field, isNumber } = configReaders;
 * const fromConfig: FromConfig = (c) => new MyDropout(field(c, 'p', isNumber, 'a number in [0, 1]', 0.5));
 * registerLayer(MyDropout, { fromConfig });
 * ```
 */
export type FromConfig = (config: Record<string, unknown>) => Module;

/**
 * {@link registerLayer}'s options: the name in files and how to rebuild an instance.
 *
 * @example
 * ```ts
 * import { Module, registerLayer, type RegisterLayerOptions, type Tensor } from 'axon-nn';
 * class Swish extends Module {
 *   forward(x: Tensor): Tensor { return x.mul(x.sigmoid()); }
 * }
 * const options: RegisterLayerOptions = { name: 'myapp.Swish', fromConfig: () => new Swish() };
 * registerLayer(Swish, options);
 * ```
 */
export interface RegisterLayerOptions {
  /** The name files use (default: the class's name). */
  name?: string;
  /** Rebuilds an instance from getConfig()'s output (default: static fromConfig, else `new cls(config)`). */
  fromConfig?: FromConfig;
}
const REGISTER_LAYER_KEYS = optionKeys<RegisterLayerOptions>({ name: true, fromConfig: true });
/**
 * {@link deserializeModule}'s options: a cap on what an untrusted architecture may allocate.
 *
 * @example
 * ```ts
 * import { deserializeModule, type DeserializeOptions } from 'axon-nn';
 * const options: DeserializeOptions = { maxElements: 1_000_000 };
 * const spec = JSON.parse('{"class":"Linear","config":{"inFeatures":100000,"outFeatures":100000}}');
 * try {
 *   deserializeModule(spec, 'model', options);
 * } catch (e) {
 *   console.log((e as Error).message); // ... 10000000000 values would exceed the 1000000 the file holds
 * }
 * ```
 */
export interface DeserializeOptions {
  /** Most parameter and buffer values the architecture may allocate (default: no limit). */
  maxElements?: number;
}
const DESERIALIZE_KEYS = optionKeys<DeserializeOptions>({ maxElements: true });

const byName = new Map<string, { cls: ModuleClass; fromConfig: FromConfig }>();
const byClass = new Map<ModuleClass, string>();

/** Deepest nesting of containers a file may declare. */
const MAX_DEPTH = 64;
/** Most modules one architecture may declare. */
const MAX_MODULES = 100_000;

/**
 * Registers a layer class under a name (default: the class's own name) so models containing
 * it can be saved and loaded. `fromConfig` rebuilds an instance from getConfig()'s output;
 * default: the class's static fromConfig, else `new cls(config)`. Registering the same class
 * again is allowed; a name taken by another class throws, as does a class not extending Module.
 *
 * @example
 * ```ts
 * import { Module, configReaders, deserializeModule, registerLayer, serializeModule, type Tensor } from 'axon-nn';
 * class Scale extends Module {
 *   constructor(readonly factor: number) { super(); }
 *   forward(x: Tensor): Tensor { return x.mul(this.factor); }
 *   override getConfig() { return { factor: this.factor }; }
 *   static fromConfig(c: Record<string, unknown>): Scale {
 *     return new Scale(configReaders.field(c, 'factor', configReaders.isNumber, 'a number'));
 *   }
 * }
 * registerLayer(Scale);
 * const copy = deserializeModule(serializeModule(new Scale(2))); // Scale(factor 2)
 * ```
 */
export function registerLayer(
  cls: ModuleClass & { fromConfig?: FromConfig },
  options: RegisterLayerOptions = {},
): void {
  checkOptionKeys('registerLayer', options, REGISTER_LAYER_KEYS);
  if (options.fromConfig !== undefined && typeof options.fromConfig !== 'function')
    throw new TypeError('registerLayer: fromConfig must be a function');
  if (typeof cls !== 'function' || !(cls.prototype instanceof Module))
    throw new TypeError('registerLayer: expected a class extending Module');
  const name = options.name ?? cls.name;
  if (typeof name !== 'string' || !/^[A-Za-z_][\w.]*$/.test(name))
    throw new RangeError(`registerLayer: invalid layer name ${JSON.stringify(name)}`);
  const existing = byName.get(name);
  if (existing && existing.cls !== cls)
    throw new Error(`registerLayer: '${name}' is already registered to another class`);
  const fromConfig: FromConfig =
    options.fromConfig ??
    (typeof cls.fromConfig === 'function'
      ? cls.fromConfig.bind(cls)
      : (config) => new (cls as unknown as new (c: Record<string, unknown>) => Module)(config));
  byName.set(name, { cls, fromConfig });
  byClass.set(cls, name);
}

/**
 * Names of every registered layer class: the built-in layers and those added with registerLayer.
 *
 * @example
 * ```ts
 * import { registeredLayers } from 'axon-nn';
 * const canLoad = registeredLayers().includes('LSTM'); // true
 * ```
 */
export function registeredLayers(): string[] {
  return [...byName.keys()];
}

/**
 * The module tree as JSON-ready specs (the architecture; weights go separately, e.g. in
 * stateDict). Throws naming the first unregistered class, or a getConfig() that is not JSON.
 * `path` names the root in error messages.
 *
 * @example
 * ```ts
 * import { Linear, ReLU, Sequential, serializeModule } from 'axon-nn';
 * const spec = serializeModule(new Sequential(new Linear(4, 8), new ReLU()));
 * const json = JSON.stringify(spec); // {"class":"Sequential","config":{"layers":[...]}}
 * ```
 */
export function serializeModule(m: Module, path = 'model'): LayerSpec {
  if (!(m instanceof Module)) throw new TypeError(`serializeModule: ${path} is not a Module`);
  const name = byClass.get(m.constructor as ModuleClass);
  if (name === undefined)
    throw new Error(
      `serializeModule: ${path} is a ${m.constructor.name}, which is not registered; call registerLayer(${m.constructor.name}) (with a getConfig override if it has settings)`,
    );
  if (m instanceof Sequential)
    return { class: name, config: { layers: m.layers.map((l, i) => serializeModule(l, `${path}.${i}`)) } };
  if (m instanceof TimeDistributed)
    return { class: name, config: { layer: serializeModule(m.layer, `${path}.layer`) } };
  const config = m.getConfig();
  // Round-trip through JSON now so a non-JSON config fails at save, not at load.
  let copy: unknown;
  try {
    copy = JSON.parse(JSON.stringify(config));
  } catch (e) {
    throw new TypeError(`serializeModule: ${path} (${name}).getConfig() is not JSON: ${(e as Error).message}`);
  }
  if (typeof copy !== 'object' || copy === null || Array.isArray(copy))
    throw new TypeError(`serializeModule: ${path} (${name}).getConfig() must return an object`);
  return { class: name, config: copy as Record<string, unknown> };
}

/**
 * Builds modules from specs (as serializeModule writes them). Errors name the path. With
 * maxElements, the layers may allocate at most that many parameter and buffer values in all
 * (loading a file passes the number of values it holds). The spec may be hostile: every
 * config is checked, and unknown classes, bad values and deep nesting throw.
 *
 * @example
 * ```ts
 * import { Linear, Sequential, deserializeModule, serializeModule } from 'axon-nn';
 * const net = new Sequential(new Linear(4, 8), new Linear(8, 2));
 * const copy = deserializeModule(JSON.parse(JSON.stringify(serializeModule(net))));
 * copy.loadStateDict(net.stateDict()); // same architecture, same weights
 * ```
 */
export function deserializeModule(spec: unknown, path = 'model', options: DeserializeOptions = {}): Module {
  checkOptionKeys('deserializeModule', options, DESERIALIZE_KEYS);
  intOption('deserializeModule', 'maxElements', options.maxElements, 0, 0, Number.MAX_SAFE_INTEGER);
  if (options.maxElements !== undefined)
    return withValueBudget(options.maxElements, () => deserializeModule(spec, path));
  let count = 0;
  const build = (s: unknown, at: string, depth: number): Module => {
    if (depth > MAX_DEPTH) throw new RangeError(`deserializeModule: ${at}: nesting deeper than ${MAX_DEPTH}`);
    if (++count > MAX_MODULES) throw new RangeError(`deserializeModule: more than ${MAX_MODULES} modules`);
    if (typeof s !== 'object' || s === null || Array.isArray(s))
      throw new TypeError(`deserializeModule: ${at} must be an object { class, config }`);
    const { class: cls, config } = s as { class?: unknown; config?: unknown };
    if (typeof cls !== 'string') throw new TypeError(`deserializeModule: ${at} has no class name`);
    const entry = byName.get(cls);
    if (!entry)
      throw new RangeError(
        `deserializeModule: ${at} is a '${cls.slice(0, 100)}', which is not a registered layer (register custom layers with registerLayer before loading)`,
      );
    if (typeof config !== 'object' || config === null || Array.isArray(config))
      throw new TypeError(`deserializeModule: ${at} (${cls}) config must be an object`);
    if (entry.cls === Sequential) {
      const layers = (config as { layers?: unknown }).layers;
      if (!Array.isArray(layers)) throw new TypeError(`deserializeModule: ${at} (Sequential) needs a layers array`);
      if (layers.length > MAX_MODULES) throw new RangeError(`deserializeModule: more than ${MAX_MODULES} modules`);
      const seq = new Sequential(); // add one by one: spreading 100k layers overflows the stack
      layers.forEach((l, i) => seq.add(build(l, `${at}.${i}`, depth + 1)));
      return seq;
    }
    try {
      const m = entry.fromConfig(config as Record<string, unknown>);
      if (!(m instanceof Module)) throw new TypeError('fromConfig did not return a Module');
      return m;
    } catch (e) {
      throw new (e instanceof TypeError ? TypeError : RangeError)(
        `deserializeModule: ${at} (${cls}): ${(e as Error).message}`,
      );
    }
  };
  return build(spec, path, 0);
}

// ---- config field readers (hostile input: exact types, clear messages) -------------------

function field<T>(
  config: Record<string, unknown>,
  key: string,
  check: (v: unknown) => v is T,
  what: string,
  fallback?: T,
): T {
  const v = Object.prototype.hasOwnProperty.call(config, key) ? config[key] : undefined;
  if (v === undefined) {
    if (fallback !== undefined) return fallback;
    throw new TypeError(`config.${key} is required (${what})`);
  }
  if (!check(v)) throw new TypeError(`config.${key} must be ${what}, got ${JSON.stringify(v)?.slice(0, 80)}`);
  return v;
}
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isInt = (v: unknown): v is number => Number.isSafeInteger(v);
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const isString = (v: unknown): v is string => typeof v === 'string';

function initFrom(v: unknown, key: string): Initializer | undefined {
  if (v === undefined || v === null) return undefined;
  const o = v as { name?: unknown; config?: unknown };
  if (typeof o !== 'object' || typeof o.name !== 'string' || typeof o.config !== 'object' || o.config === null)
    throw new TypeError(`config.${key} must be { name, config }`);
  for (const [k, x] of Object.entries(o.config))
    if (typeof x !== 'number' && typeof x !== 'string')
      throw new TypeError(`config.${key}.config.${k} must be a number or string`);
  return initializerFromConfig(o.name, o.config as Record<string, number | string>);
}

function regularizerFrom(v: unknown, key: string): Regularizer | null {
  if (v === undefined || v === null) return null;
  const o = v as { name?: unknown; config?: unknown };
  if (typeof o !== 'object' || typeof o.name !== 'string' || typeof o.config !== 'object' || o.config === null)
    throw new TypeError(`config.${key} must be { name, config } or null`);
  return regularizerFromConfig(o.name, o.config as { l1?: number; l2?: number });
}

const ACTIVATIONS = new Set<string>(LINEAR_ACTIVATIONS);

function linearFromConfig(c: Record<string, unknown>): Linear {
  const activation = field(c, 'activation', isString, 'an activation name', 'none');
  if (!ACTIVATIONS.has(activation)) throw new RangeError(`config.activation '${activation.slice(0, 40)}' is unknown`);
  const weightInit = initFrom(c.weightInit, 'weightInit');
  const biasInit = initFrom(c.biasInit, 'biasInit');
  return new Linear(
    field(c, 'inFeatures', isInt, 'a positive integer'),
    field(c, 'outFeatures', isInt, 'a positive integer'),
    {
      bias: field(c, 'bias', isBool, 'a boolean', true),
      activation: activation as LinearActivation,
      activationParam: c.activationParam === undefined ? undefined : field(c, 'activationParam', isNumber, 'a number'),
      ...(weightInit ? { weightInit } : {}),
      ...(biasInit ? { biasInit } : {}),
      weightRegularizer: regularizerFrom(c.weightRegularizer, 'weightRegularizer'),
      biasRegularizer: regularizerFrom(c.biasRegularizer, 'biasRegularizer'),
      activityRegularizer: regularizerFrom(c.activityRegularizer, 'activityRegularizer'),
    },
  );
}

// ---- built-in layers -------------------------------------------------------------------------

registerLayer(Sequential, { fromConfig: () => new Sequential() }); // layers handled above
registerLayer(Linear, { fromConfig: linearFromConfig });
registerLayer(Identity, { fromConfig: () => new Identity() });
registerLayer(ReLU, { fromConfig: () => new ReLU() });
for (const cls of Object.values(TABLE_ACTIVATION_LAYERS)) registerLayer(cls, { fromConfig: () => new cls() });
registerLayer(LeakyReLU, {
  fromConfig: (c) => new LeakyReLU(field(c, 'negativeSlope', isNumber, 'a number', 0.01)),
});
registerLayer(ELU, { fromConfig: (c) => new ELU(field(c, 'alpha', isNumber, 'a number', 1)) });
registerLayer(GELU, {
  fromConfig: (c) => {
    const a = field(c, 'approximate', isString, "'none' or 'tanh'", 'none');
    if (a !== 'none' && a !== 'tanh') throw new RangeError(`config.approximate must be 'none' or 'tanh'`);
    return new GELU(a);
  },
});
registerLayer(Softplus, { fromConfig: (c) => new Softplus(field(c, 'beta', isNumber, 'a number', 1)) });
registerLayer(Softmax, { fromConfig: (c) => new Softmax(field(c, 'axis', isInt, 'an integer', -1)) });
registerLayer(LogSoftmax, { fromConfig: (c) => new LogSoftmax(field(c, 'axis', isInt, 'an integer', -1)) });
registerLayer(Dropout, { fromConfig: (c) => new Dropout(field(c, 'p', isNumber, 'a number in [0, 1]', 0.5)) });
registerLayer(Flatten, {
  fromConfig: (c) =>
    new Flatten(field(c, 'startDim', isInt, 'an integer', 1), field(c, 'endDim', isInt, 'an integer', -1)),
});

// ---- convolution, pooling, normalisation -----------------------------------------------------

const isIntArray =
  (len: number[]) =>
  (v: unknown): v is number[] =>
    Array.isArray(v) && len.includes(v.length) && v.every((x) => Number.isSafeInteger(x));
const isPair = (v: unknown): v is number | [number, number] => isInt(v) || isIntArray([2])(v);
const isPadding = (v: unknown): v is Padding => v === 'same' || v === 'valid' || isInt(v) || isIntArray([2, 4])(v);

function convCommon(c: Record<string, unknown>): ConvOptions {
  const activation = field(c, 'activation', isString, 'an activation name', 'none');
  if (!ACTIVATIONS.has(activation)) throw new RangeError(`config.activation '${activation.slice(0, 40)}' is unknown`);
  const weightInit = initFrom(c.weightInit, 'weightInit');
  const biasInit = initFrom(c.biasInit, 'biasInit');
  return {
    stride: field(c, 'stride', isPair, 'an integer or [h, w]', 1),
    padding: field(c, 'padding', isPadding, "'same', 'valid', an integer, [h, w] or [t, l, b, r]", 0),
    dilation: field(c, 'dilation', isPair, 'an integer or [h, w]', 1),
    groups: field(c, 'groups', isInt, 'a positive integer', 1),
    bias: field(c, 'bias', isBool, 'a boolean', true),
    activation: activation as LinearActivation,
    activationParam: c.activationParam === undefined ? undefined : field(c, 'activationParam', isNumber, 'a number'),
    ...(weightInit ? { weightInit } : {}),
    ...(biasInit ? { biasInit } : {}),
    weightRegularizer: regularizerFrom(c.weightRegularizer, 'weightRegularizer'),
    biasRegularizer: regularizerFrom(c.biasRegularizer, 'biasRegularizer'),
  };
}

registerLayer(Conv2d, {
  fromConfig: (c) =>
    new Conv2d(
      field(c, 'inChannels', isInt, 'a positive integer'),
      field(c, 'outChannels', isInt, 'a positive integer'),
      field(c, 'kernelSize', isPair, 'an integer or [h, w]'),
      convCommon(c),
    ),
});
registerLayer(Conv1d, {
  fromConfig: (c) => {
    const common = convCommon(c);
    const one = (v: unknown, name: string): number => {
      if (!isInt(v)) throw new TypeError(`config.${name} must be an integer for Conv1d`);
      return v;
    };
    const padding = common.padding;
    if (!(padding === 'same' || padding === 'valid' || isInt(padding) || isIntArray([2])(padding)))
      throw new TypeError('config.padding must be an integer, [left, right], same or valid for Conv1d');
    return new Conv1d(
      field(c, 'inChannels', isInt, 'a positive integer'),
      field(c, 'outChannels', isInt, 'a positive integer'),
      field(c, 'kernelSize', isInt, 'a positive integer'),
      {
        ...common,
        stride: one(common.stride, 'stride'),
        dilation: one(common.dilation, 'dilation'),
        padding: padding as number,
      },
    );
  },
});
registerLayer(ConvTranspose2d, {
  fromConfig: (c) => {
    const { activation: _a, activationParam: _p, padding: _pad, ...common } = convCommon({ ...c, padding: 0 });
    return new ConvTranspose2d(
      field(c, 'inChannels', isInt, 'a positive integer'),
      field(c, 'outChannels', isInt, 'a positive integer'),
      field(c, 'kernelSize', isPair, 'an integer or [h, w]'),
      {
        ...common,
        padding: field(c, 'padding', isPair, 'an integer or [h, w]', 0),
        outputPadding: field(c, 'outputPadding', isPair, 'an integer or [h, w]', 0),
      },
    );
  },
});
const poolOptions = (c: Record<string, unknown>): Record<string, unknown> => {
  const out: Record<string, unknown> = {};
  if (c.stride !== undefined) out.stride = field(c, 'stride', isPair, 'an integer or [h, w]');
  if (c.padding !== undefined) out.padding = field(c, 'padding', isPair, 'an integer or [h, w]');
  if (c.dilation !== undefined) out.dilation = field(c, 'dilation', isPair, 'an integer or [h, w]');
  if (c.ceilMode !== undefined) out.ceilMode = field(c, 'ceilMode', isBool, 'a boolean');
  if (c.countIncludePad !== undefined) out.countIncludePad = field(c, 'countIncludePad', isBool, 'a boolean');
  return out;
};
registerLayer(MaxPool2d, {
  fromConfig: (c) => new MaxPool2d(field(c, 'kernelSize', isPair, 'an integer or [h, w]'), poolOptions(c)),
});
registerLayer(AvgPool2d, {
  fromConfig: (c) => {
    const o = poolOptions(c);
    if (o.dilation !== undefined) throw new TypeError('config.dilation: average pooling has no dilation');
    return new AvgPool2d(field(c, 'kernelSize', isPair, 'an integer or [h, w]'), o);
  },
});
registerLayer(GlobalAvgPool2d, { fromConfig: () => new GlobalAvgPool2d() });
registerLayer(AdaptiveAvgPool2d, {
  fromConfig: (c) => new AdaptiveAvgPool2d(field(c, 'outputSize', isPair, 'an integer or [h, w]')),
});
/** A batch norm layer's options from its config (BatchNorm1d/2d here, SyncBatchNorm in
 * distributed/). @internal */
export const batchNormOptionsOf = (c: Record<string, unknown>): BatchNormLayerOptions => ({
  eps: field(c, 'eps', isNumber, 'a number', 1e-5),
  momentum: field(c, 'momentum', isNumber, 'a number', 0.1),
  affine: field(c, 'affine', isBool, 'a boolean', true),
  trackRunningStats: field(c, 'trackRunningStats', isBool, 'a boolean', true),
});
registerLayer(BatchNorm1d, {
  fromConfig: (c) => new BatchNorm1d(field(c, 'numFeatures', isInt, 'a positive integer'), batchNormOptionsOf(c)),
});
registerLayer(BatchNorm2d, {
  fromConfig: (c) => new BatchNorm2d(field(c, 'numFeatures', isInt, 'a positive integer'), batchNormOptionsOf(c)),
});
// ---- 3-D layers
const isTriple = (v: unknown): v is Triple => isInt(v) || isIntArray([3])(v);
const isPadding3d = (v: unknown): v is Conv3dOptions['padding'] => isInt(v) || isIntArray([3, 6])(v);
function conv3dOptions(c: Record<string, unknown>): ConvTranspose3dLayerOptions {
  const {
    activation: _a,
    activationParam: _p,
    stride: _s,
    padding: _pad,
    dilation: _d,
    ...common
  } = convCommon({
    ...c,
    stride: 1,
    padding: 0,
    dilation: 1,
  });
  return {
    ...common,
    stride: field(c, 'stride', isTriple, 'an integer or [d, h, w]', 1),
    padding: field(c, 'padding', isPadding3d, 'an integer, [d, h, w] or six begin/end values', 0),
    dilation: field(c, 'dilation', isTriple, 'an integer or [d, h, w]', 1),
  };
}
const conv3dChannels = (c: Record<string, unknown>): [number, number, Triple] => [
  field(c, 'inChannels', isInt, 'a positive integer'),
  field(c, 'outChannels', isInt, 'a positive integer'),
  field(c, 'kernelSize', isTriple, 'an integer or [d, h, w]'),
];
registerLayer(Conv3d, { fromConfig: (c) => new Conv3d(...conv3dChannels(c), conv3dOptions(c)) });
registerLayer(ConvTranspose3d, {
  fromConfig: (c) =>
    new ConvTranspose3d(...conv3dChannels(c), {
      ...conv3dOptions(c),
      outputPadding: field(c, 'outputPadding', isTriple, 'an integer or [d, h, w]', 0),
    }),
});
const pool3dOptions = (c: Record<string, unknown>): Pool3dOptions => {
  const out: Pool3dOptions = {};
  if (c.stride !== undefined) out.stride = field(c, 'stride', isTriple, 'an integer or [d, h, w]');
  if (c.padding !== undefined) out.padding = field(c, 'padding', isPadding3d, 'an integer, [d, h, w] or six values');
  if (c.dilation !== undefined) out.dilation = field(c, 'dilation', isTriple, 'an integer or [d, h, w]');
  if (c.ceilMode !== undefined) out.ceilMode = field(c, 'ceilMode', isBool, 'a boolean');
  if (c.countIncludePad !== undefined) out.countIncludePad = field(c, 'countIncludePad', isBool, 'a boolean');
  return out;
};
registerLayer(MaxPool3d, {
  fromConfig: (c) => new MaxPool3d(field(c, 'kernelSize', isTriple, 'an integer or [d, h, w]'), pool3dOptions(c)),
});
registerLayer(AvgPool3d, {
  fromConfig: (c) => new AvgPool3d(field(c, 'kernelSize', isTriple, 'an integer or [d, h, w]'), pool3dOptions(c)),
});
registerLayer(BatchNorm3d, {
  fromConfig: (c) => new BatchNorm3d(field(c, 'numFeatures', isInt, 'a positive integer'), batchNormOptionsOf(c)),
});

registerLayer(LayerNorm, {
  fromConfig: (c) => {
    const shape = field(
      c,
      'normalizedShape',
      (v): v is number[] => Array.isArray(v) && v.length >= 1 && v.length <= 8 && v.every(isInt),
      'a list of positive integers',
    );
    return new LayerNorm(shape, {
      eps: field(c, 'eps', isNumber, 'a number', 1e-5),
      elementwiseAffine: field(c, 'elementwiseAffine', isBool, 'a boolean', true),
    });
  },
});

registerLayer(RandomCrop, {
  fromConfig: (c) =>
    new RandomCrop(field(c, 'size', isPair, 'an integer or [h, w]'), {
      padding: field(c, 'padding', isInt, 'an integer', 0),
    }),
});
registerLayer(RandomHorizontalFlip, {
  fromConfig: (c) => new RandomHorizontalFlip(field(c, 'p', isNumber, 'a number', 0.5)),
});
registerLayer(Normalize, {
  fromConfig: (c) => {
    const list = (v: unknown): v is number[] =>
      Array.isArray(v) && v.length >= 1 && v.length <= 1 << 16 && v.every(isNumber);
    return new Normalize(field(c, 'mean', list, 'a list of numbers'), field(c, 'std', list, 'a list of numbers'));
  },
});

// ---- sequence layers ---------------------------------------------------------------------

function recurrentOptions(c: Record<string, unknown>): RecurrentOptions {
  const weightInit = initFrom(c.weightInit, 'weightInit');
  const recurrentInit = initFrom(c.recurrentInit, 'recurrentInit');
  const biasInit = initFrom(c.biasInit, 'biasInit');
  return {
    numLayers: field(c, 'numLayers', isInt, 'a positive integer', 1),
    bias: field(c, 'bias', isBool, 'a boolean', true),
    batchFirst: field(c, 'batchFirst', isBool, 'a boolean', false),
    dropout: field(c, 'dropout', isNumber, 'a number in [0, 1]', 0),
    bidirectional: field(c, 'bidirectional', isBool, 'a boolean', false),
    returnSequences: field(c, 'returnSequences', isBool, 'a boolean', true),
    ...(weightInit ? { weightInit } : {}),
    ...(recurrentInit ? { recurrentInit } : {}),
    ...(biasInit ? { biasInit } : {}),
    ...(c.forgetBias !== undefined ? { forgetBias: field(c, 'forgetBias', isNumber, 'a number') } : {}),
  };
}
const recurrentSizes = (c: Record<string, unknown>): [number, number] => [
  field(c, 'inputSize', isInt, 'a positive integer'),
  field(c, 'hiddenSize', isInt, 'a positive integer'),
];
registerLayer(LSTM, { fromConfig: (c) => new LSTM(...recurrentSizes(c), recurrentOptions(c)) });
registerLayer(GRU, { fromConfig: (c) => new GRU(...recurrentSizes(c), recurrentOptions(c)) });
registerLayer(SimpleRNN, {
  fromConfig: (c) => {
    const nl = field(c, 'nonlinearity', isString, "'tanh' or 'relu'", 'tanh');
    if (nl !== 'tanh' && nl !== 'relu') throw new RangeError("config.nonlinearity must be 'tanh' or 'relu'");
    return new SimpleRNN(...recurrentSizes(c), { ...recurrentOptions(c), nonlinearity: nl });
  },
});
registerLayer(Embedding, {
  fromConfig: (c) => {
    const weightInit = initFrom(c.weightInit, 'weightInit');
    return new Embedding(
      field(c, 'numEmbeddings', isInt, 'a positive integer'),
      field(c, 'embeddingDim', isInt, 'a positive integer'),
      {
        ...(c.paddingIdx !== undefined ? { paddingIdx: field(c, 'paddingIdx', isInt, 'an integer') } : {}),
        ...(c.maxNorm !== undefined ? { maxNorm: field(c, 'maxNorm', isNumber, 'a number') } : {}),
        normType: c.normType === 'inf' ? Infinity : field(c, 'normType', isNumber, "a number or 'inf'", 2),
        ...(weightInit ? { weightInit } : {}),
      },
    );
  },
});
registerLayer(LastStep, {
  fromConfig: (c) => new LastStep({ timeMajor: field(c, 'timeMajor', isBool, 'a boolean', false) }),
});
registerLayer(MeanOverTime, {
  fromConfig: (c) => new MeanOverTime({ timeMajor: field(c, 'timeMajor', isBool, 'a boolean', false) }),
});
registerLayer(TimeDistributed, {
  fromConfig: (c) => {
    const inner = c.layer as { class?: unknown } | undefined;
    // One level: a container or another TimeDistributed inside would let a file nest without
    // the depth limit the top-level reader enforces.
    if (
      typeof inner !== 'object' ||
      inner === null ||
      inner.class === 'Sequential' ||
      inner.class === 'TimeDistributed'
    )
      throw new TypeError('config.layer must be one non-container layer spec');
    return new TimeDistributed(deserializeModule(inner, 'TimeDistributed.layer'));
  },
});

// ---- attention and transformers ---------------------------------------------------------------

registerLayer(MultiheadAttention, {
  fromConfig: (c) => {
    const embedDim = field(c, 'embedDim', isInt, 'a positive integer');
    return new MultiheadAttention(embedDim, field(c, 'numHeads', isInt, 'a positive integer'), {
      dropout: field(c, 'dropout', isNumber, 'a number in [0, 1)', 0),
      bias: field(c, 'bias', isBool, 'a boolean', true),
      kdim: field(c, 'kdim', isInt, 'a positive integer', embedDim),
      vdim: field(c, 'vdim', isInt, 'a positive integer', embedDim),
      batchFirst: field(c, 'batchFirst', isBool, 'a boolean', false),
    });
  },
});
function transformerLayerOptions(c: Record<string, unknown>): TransformerLayerOptions {
  const activation = field(c, 'activation', isString, "'relu' or 'gelu'", 'relu');
  if (activation !== 'relu' && activation !== 'gelu')
    throw new RangeError("config.activation must be 'relu' or 'gelu'");
  return {
    dimFeedforward: field(c, 'dimFeedforward', isInt, 'a positive integer', 2048),
    dropout: field(c, 'dropout', isNumber, 'a number in [0, 1)', 0.1),
    activation,
    layerNormEps: field(c, 'layerNormEps', isNumber, 'a positive number', 1e-5),
    batchFirst: field(c, 'batchFirst', isBool, 'a boolean', false),
    normFirst: field(c, 'normFirst', isBool, 'a boolean', false),
    bias: field(c, 'bias', isBool, 'a boolean', true),
  };
}
const layerSizes = (c: Record<string, unknown>): [number, number] => [
  field(c, 'dModel', isInt, 'a positive integer'),
  field(c, 'nhead', isInt, 'a positive integer'),
];
registerLayer(TransformerEncoderLayer, {
  fromConfig: (c) => new TransformerEncoderLayer(...layerSizes(c), transformerLayerOptions(c)),
});
registerLayer(TransformerDecoderLayer, {
  fromConfig: (c) => new TransformerDecoderLayer(...layerSizes(c), transformerLayerOptions(c)),
});
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
// A stack's config holds its layer's flat config (not a nested spec), and the final norm's.
function stackParts(c: Record<string, unknown>): {
  layer: Record<string, unknown>;
  numLayers: number;
  norm: LayerNorm | null;
} {
  const layer = field(c, 'layer', isObject, "the layer's config object");
  const numLayers = field(c, 'numLayers', isInt, 'a positive integer');
  if (numLayers < 1 || numLayers > 1000)
    throw new RangeError(`config.numLayers must be in [1, 1000], got ${numLayers}`);
  const n = c.norm === undefined || c.norm === null ? null : field(c, 'norm', isObject, "a LayerNorm's config or null");
  const norm = n
    ? new LayerNorm(
        field(
          n,
          'normalizedShape',
          (v): v is number[] => Array.isArray(v) && v.length === 1 && v.every(isInt),
          '[dModel]',
        ),
        {
          eps: field(n, 'eps', isNumber, 'a number', 1e-5),
          elementwiseAffine: field(n, 'elementwiseAffine', isBool, 'a boolean', true),
        },
      )
    : null;
  return { layer, numLayers, norm };
}
registerLayer(TransformerEncoder, {
  fromConfig: (c) => {
    const { layer, numLayers, norm } = stackParts(c);
    const first = new TransformerEncoderLayer(...layerSizes(layer), transformerLayerOptions(layer));
    return new TransformerEncoder(first, numLayers, { norm });
  },
});
registerLayer(TransformerDecoder, {
  fromConfig: (c) => {
    const { layer, numLayers, norm } = stackParts(c);
    const first = new TransformerDecoderLayer(...layerSizes(layer), transformerLayerOptions(layer));
    return new TransformerDecoder(first, numLayers, { norm });
  },
});
registerLayer(PositionalEmbedding, {
  fromConfig: (c) =>
    new PositionalEmbedding(
      field(c, 'maxLength', isInt, 'a positive integer'),
      field(c, 'dim', isInt, 'a positive integer'),
      {
        batchFirst: field(c, 'batchFirst', isBool, 'a boolean', false),
      },
    ),
});
registerLayer(SinusoidalPositionalEncoding, {
  fromConfig: (c) =>
    new SinusoidalPositionalEncoding(field(c, 'dim', isInt, 'a positive integer'), {
      maxLength: field(c, 'maxLength', isInt, 'a positive integer', 5000),
      batchFirst: field(c, 'batchFirst', isBool, 'a boolean', false),
      dropout: field(c, 'dropout', isNumber, 'a number in [0, 1)', 0),
    }),
});

/**
 * Readers for custom layers' fromConfig: exact types, clear errors. `field(config, key, check,
 * what, fallback?)` returns config[key] when `check` accepts it, the fallback when it is absent,
 * and otherwise throws a TypeError naming the key and `what` it must be.
 *
 * @example
 * ```ts
 * import { configReaders } from 'axon-nn';
 * const { field, isInt, isBool } = configReaders;
 * const config: Record<string, unknown> = { units: 64 };
 * const units = field(config, 'units', isInt, 'an integer'); // 64
 * const bias = field(config, 'bias', isBool, 'a boolean', true); // true (absent)
 * ```
 */
export const configReaders = {
  /** Reads config[key], checked by `check`; the fallback when absent; a TypeError otherwise. */
  field,
  /** A finite number. */
  isNumber,
  /** A safe integer. */
  isInt,
  /** A boolean. */
  isBool,
  /** A string. */
  isString,
};
