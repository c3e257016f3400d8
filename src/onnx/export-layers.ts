/**
 * ONNX export, the graph side: a small graph builder (nodes, initializers, constants, fresh
 * names) and one emitter per layer type, each reproducing what the layer's eval-mode forward
 * computes. Shapes are tracked statically (every axis but the batch is known from the input
 * shape), so 'same' padding, ceil-mode pooling and reshapes resolve to plain numbers; the
 * batch axis is a symbolic dimension (a string) unless the export fixes it.
 *
 * exportOnnx (export.ts) drives it; nothing here touches the file system.
 */
import { conv1dPadding, convPlan, pair, type Conv2dOptions } from '../ops/conv.js';
import { poolOutputSize } from '../ops/pool.js';
import { activationPlan, type LinearActivation } from '../ops/linalg.js';
import { Normalize, RandomCrop, RandomHorizontalFlip } from '../nn/augment.js';
import {
  AdaptiveAvgPool2d,
  AvgPool2d,
  BatchNormBase,
  batchNormInputName,
  Conv1d,
  Conv2d,
  ConvTranspose2d,
  GlobalAvgPool2d,
  LayerNorm,
  MaxPool2d,
} from '../nn/conv-layers.js';
import { Dropout, Flatten, Identity, Linear, LogSoftmax, Sequential, Softmax } from '../nn/layers.js';
import { AvgPool3d, Conv3d, ConvTranspose3d, MaxPool3d } from '../nn/conv3d-layers.js';
import { geometry3d, type Pool3dOptions } from '../ops/conv3d.js';
import type { Module, Parameter } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';
import { Embedding, LastStep, MeanOverTime, RecurrentBase, TimeDistributed } from '../nn/recurrent.js';
import {
  MultiheadAttention,
  PositionalEmbedding,
  SinusoidalPositionalEncoding,
  TransformerEncoder,
  TransformerEncoderLayer,
} from '../nn/transformer.js';
import {
  type Dim,
  type SeqLengths,
  type GraphValue,
  dimsToString,
  product,
  DTYPE,
  type Attr,
  aInt,
  aInts,
  aFloat,
  aStr,
  aStrs,
  GraphBuilder,
} from './export-graph.js';
import { activationOf, describePath, join, sameLayer, SUPPORTED } from './export-match.js';
import { OnnxError } from './proto.js';

// ---- layer emitters ----------------------------------------------------------------------

/** Emits the nodes of one module: its output value for input `x`; throws on what it cannot. */
export class LayerEmitter {
  constructor(readonly g: GraphBuilder) {}

  /** A module (and, recursively, its children) applied to x. */
  emit(m: Module, path: string, x: GraphValue): GraphValue {
    const kind = m.constructor.name;
    const is = (cls: { prototype: Module }): boolean => sameLayer(m, cls);
    if (is(Sequential)) {
      let y = x;
      for (const [name, child] of m.namedChildren()) y = this.emit(child, join(path, name), y);
      return y;
    }
    if (is(TimeDistributed)) return this.timeDistributed(m as TimeDistributed, path, x);
    if (is(Identity) || is(Dropout) || is(RandomHorizontalFlip)) {
      this.float(m, path, x);
      return { ...x, name: this.g.op('Identity', [x.name], path) };
    }
    if (is(Embedding)) return this.embedding(m as Embedding, path, x);
    this.float(m, path, x);
    if (is(Linear)) return this.linear(m as Linear, path, x);
    if (is(Conv2d)) return this.conv2d(m as Conv2d, path, x);
    if (is(Conv1d)) return this.conv1d(m as Conv1d, path, x);
    if (is(ConvTranspose2d)) return this.convTranspose2d(m as ConvTranspose2d, path, x);
    if (is(Conv3d) || is(ConvTranspose3d) || is(MaxPool3d) || is(AvgPool3d))
      return this.volumetric(m as Conv3d | ConvTranspose3d | MaxPool3d | AvgPool3d, path, x);
    if (is(MaxPool2d) || is(AvgPool2d)) return this.pool(m as MaxPool2d | AvgPool2d, path, x);
    if (is(GlobalAvgPool2d)) {
      this.rank(m, path, x, [4], '[N, C, H, W]');
      const p = this.g.op('GlobalAveragePool', [x.name], path);
      return this.g.reshape({ ...x, name: p }, x.dims.slice(0, 2), path);
    }
    if (is(AdaptiveAvgPool2d)) return this.adaptiveAvgPool(m as AdaptiveAvgPool2d, path, x);
    // BatchNorm1d, BatchNorm2d and SyncBatchNorm (one in inference)
    if (is(BatchNormBase)) return this.batchNorm(m as BatchNormBase, path, x);
    if (is(LayerNorm)) return this.layerNorm(m as LayerNorm, path, x);
    if (is(Flatten)) return this.flatten(m as Flatten, path, x);
    if (is(Softmax) || is(LogSoftmax)) {
      const axis = this.axis(m, path, (m as Softmax).axis, x.dims.length);
      const op = is(Softmax) ? 'Softmax' : 'LogSoftmax';
      return { ...x, name: this.g.op(op, [x.name], path, { axis: aInt(axis) }), lengths: null };
    }
    const act = activationOf(m);
    if (act) return { ...x, name: this.activation(x.name, act.name, act.param, path, kind), lengths: null };
    if (is(RecurrentBase)) return this.recurrent(m as RecurrentBase, path, x);
    if (is(LastStep) || is(MeanOverTime)) return this.sequencePool(m as LastStep, path, x);
    if (is(Normalize)) return this.normalize(m as Normalize, path, x);
    if (is(MultiheadAttention)) return this.selfAttention(m as MultiheadAttention, path, x);
    if (is(TransformerEncoderLayer)) return this.encoderLayer(m as TransformerEncoderLayer, path, x);
    if (is(TransformerEncoder)) {
      const enc = m as TransformerEncoder;
      let y = x;
      enc.layers.forEach((l, i) => (y = this.encoderLayer(l, join(path, `layers.${i}`), y)));
      return enc.norm ? this.layerNorm(enc.norm, join(path, 'norm'), y) : y;
    }
    if (is(PositionalEmbedding) || is(SinusoidalPositionalEncoding)) {
      const pe = m as PositionalEmbedding | SinusoidalPositionalEncoding;
      const table = pe instanceof PositionalEmbedding ? pe.weight : pe.buffer('pe');
      const name = pe instanceof PositionalEmbedding ? `${path}.weight` : `${path}.pe`;
      return this.addPositions(m, path, x, table, name, pe.batchFirst);
    }
    if (is(RandomCrop)) return this.randomCrop(m as RandomCrop, path, x);
    throw new OnnxError(
      `exportOnnx: ${describePath(path)} (${kind}) has no ONNX export; supported: ${SUPPORTED.join(', ')}`,
    );
  }

  private fail(m: Module, path: string, message: string): OnnxError {
    return new OnnxError(`exportOnnx: ${describePath(path)} (${m.constructor.name}): ${message}`);
  }

  /** Float input required (token ids feed an Embedding only). */
  private float(m: Module, path: string, x: GraphValue): void {
    if (x.dtype !== 'float32')
      throw this.fail(m, path, 'its input is integer token ids; only an Embedding takes token ids');
  }

  private rank(m: Module, path: string, x: GraphValue, ranks: number[], form: string): void {
    if (!ranks.includes(x.dims.length)) throw this.fail(m, path, `input must be ${form}, got ${dimsToString(x.dims)}`);
  }

  private axis(m: Module, path: string, axis: number, rank: number): number {
    if (!Number.isInteger(axis) || axis < -rank || axis >= rank)
      throw this.fail(m, path, `axis ${axis} is out of range for rank ${rank}`);
    return axis < 0 ? axis + rank : axis;
  }

  private staticDims(m: Module, path: string, dims: readonly Dim[], what: string): number[] {
    if (!dims.every((d) => typeof d === 'number'))
      throw this.fail(m, path, `${what} ${dimsToString(dims)} must be known (not symbolic) to export`);
    return dims as number[];
  }

  /** A fused or standalone activation by its `LinearActivation` name. */
  activation(x: string, act: LinearActivation, param: number | undefined, at: string, kind: string): string {
    const g = this.g;
    let p = 0;
    try {
      if (act !== 'none') p = activationPlan(kind, act, param).param;
    } catch (e) {
      throw new OnnxError(`exportOnnx: ${describePath(at)} (${kind}): ${(e as Error).message}`);
    }
    switch (act) {
      case 'none':
        return x;
      case 'relu':
        return g.op('Relu', [x], at);
      case 'leakyRelu':
        return g.op('LeakyRelu', [x], at, { alpha: aFloat(p) });
      case 'elu':
        return g.op('Elu', [x], at, { alpha: aFloat(p) });
      case 'sigmoid':
        return g.op('Sigmoid', [x], at);
      case 'tanh':
        return g.op('Tanh', [x], at);
      case 'selu':
        return g.op('Selu', [x], at);
      case 'silu':
        return g.op('Mul', [x, g.op('Sigmoid', [x], at)], at);
      case 'hardswish':
        if (g.opset >= 14) return g.op('HardSwish', [x], at);
        return g.op('Mul', [x, g.op('HardSigmoid', [x], at, { alpha: aFloat(1 / 6), beta: aFloat(0.5) })], at);
      case 'mish':
        return g.op('Mul', [x, g.op('Tanh', [g.op('Softplus', [x], at)], at)], at);
      case 'softplus': {
        if (p === 1) return g.op('Softplus', [x], at);
        const beta = g.constF([p], [], 'beta');
        return g.op('Div', [g.op('Softplus', [g.op('Mul', [x, beta], at)], at), beta], at);
      }
      case 'gelu': {
        // x * 0.5 * (1 + erf(x / sqrt 2)) (ONNX's Gelu is opset 20).
        const e = g.op('Erf', [g.op('Mul', [x, g.constF([Math.SQRT1_2], [], 'inv_sqrt2')], at)], at);
        const h = g.op('Mul', [g.op('Add', [e, g.constF([1], [], 'one')], at), g.constF([0.5], [], 'half')], at);
        return g.op('Mul', [x, h], at);
      }
      case 'geluTanh': {
        // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        const x3 = g.op('Mul', [g.op('Mul', [x, x], at), x], at);
        const inner = g.op('Add', [x, g.op('Mul', [x3, g.constF([0.044715], [], 'gelu_c')], at)], at);
        const t = g.op('Tanh', [g.op('Mul', [inner, g.constF([Math.sqrt(2 / Math.PI)], [], 'sqrt_2_pi')], at)], at);
        const h = g.op('Mul', [g.op('Add', [t, g.constF([1], [], 'one')], at), g.constF([0.5], [], 'half')], at);
        return g.op('Mul', [x, h], at);
      }
      default:
        throw new OnnxError(
          `exportOnnx: ${describePath(at)} (${kind}): activation '${String(act)}' has no ONNX export`,
        );
    }
  }

  private linear(m: Linear, path: string, x: GraphValue): GraphValue {
    const g = this.g;
    const last = x.dims[x.dims.length - 1];
    if (x.dims.length < 2 || last !== m.inFeatures)
      throw this.fail(m, path, `input ${dimsToString(x.dims)} must end in ${m.inFeatures} features`);
    const w = g.tensor(m.weight, `${path}.weight`);
    const inputs = [x.name, w];
    if (m.bias) inputs.push(g.tensor(m.bias, `${path}.bias`));
    const lead = x.dims.slice(0, -1);
    const flat = x.dims.length === 2 ? x : g.reshape(x, [product(lead), m.inFeatures], path);
    let y = g.op('Gemm', [flat.name, ...inputs.slice(1)], path, { transB: aInt(1) });
    const outDims = [...lead, m.outFeatures];
    if (x.dims.length !== 2) y = g.reshape({ ...x, name: y }, outDims, path).name;
    y = this.activation(y, m.activation, m.activationParam, path, 'Linear');
    return { name: y, dims: outDims, dtype: 'float32', lengths: null };
  }

  private conv2d(m: Conv2d, path: string, x: GraphValue): GraphValue {
    this.rank(m, path, x, [4], `[N, ${m.inChannels}, H, W]`);
    if (x.dims[1] !== m.inChannels)
      throw this.fail(m, path, `input must be [N, ${m.inChannels}, H, W], got ${dimsToString(x.dims)}`);
    const [h, w] = this.staticDims(m, path, x.dims.slice(2), 'spatial size');
    const plan = this.plan(m, path, [1, m.inChannels, h, w], m.weight.shape, m.options);
    const geo = plan.geometry;
    const y = this.convNode(m, path, x, {
      kernel_shape: aInts([geo.kH, geo.kW]),
      strides: aInts([geo.strideH, geo.strideW]),
      pads: aInts([geo.padTop, geo.padLeft, geo.padBottom, geo.padRight]),
      dilations: aInts([geo.dilH, geo.dilW]),
      group: aInt(geo.groups),
    });
    const name = this.activation(y, m.options.activation ?? 'none', m.options.activationParam, path, 'Conv2d');
    return { name, dims: [x.dims[0], ...plan.outShape.slice(1)], dtype: 'float32', lengths: null };
  }

  private conv1d(m: Conv1d, path: string, x: GraphValue): GraphValue {
    this.rank(m, path, x, [3], `[N, ${m.inChannels}, L]`);
    if (x.dims[1] !== m.inChannels)
      throw this.fail(m, path, `input must be [N, ${m.inChannels}, L], got ${dimsToString(x.dims)}`);
    const [len] = this.staticDims(m, path, x.dims.slice(2), 'length');
    const o = m.options1d;
    // As conv1d: a conv2d over [N, C, 1, L].
    const padding = conv1dPadding(o.padding);
    const plan = this.plan(m, path, [1, m.inChannels, 1, len], [...m.weight.shape.slice(0, 2), 1, m.kernelSize], {
      stride: [1, o.stride ?? 1],
      dilation: [1, o.dilation ?? 1],
      padding,
      groups: o.groups,
    });
    const geo = plan.geometry;
    const y = this.convNode(m, path, x, {
      kernel_shape: aInts([geo.kW]),
      strides: aInts([geo.strideW]),
      pads: aInts([geo.padLeft, geo.padRight]),
      dilations: aInts([geo.dilW]),
      group: aInt(geo.groups),
    });
    const name = this.activation(y, o.activation ?? 'none', o.activationParam, path, 'Conv1d');
    return { name, dims: [x.dims[0], plan.outShape[1], plan.outShape[3]], dtype: 'float32', lengths: null };
  }

  private plan(m: Module, path: string, xShape: number[], wShape: readonly number[], options: Conv2dOptions) {
    try {
      return convPlan(m.constructor.name, xShape, wShape, {
        stride: options.stride,
        padding: options.padding,
        dilation: options.dilation,
        groups: options.groups,
      });
    } catch (e) {
      throw this.fail(m, path, (e as Error).message);
    }
  }

  private convNode(m: Conv2d | Conv1d | ConvTranspose2d, path: string, x: GraphValue, attrs: Record<string, Attr>) {
    const g = this.g;
    const inputs = [x.name, g.tensor(m.weight, `${path}.weight`)];
    if (m.bias) inputs.push(g.tensor(m.bias, `${path}.bias`));
    return g.op(m instanceof ConvTranspose2d ? 'ConvTranspose' : 'Conv', inputs, path, attrs);
  }

  private convTranspose2d(m: ConvTranspose2d, path: string, x: GraphValue): GraphValue {
    this.rank(m, path, x, [4], `[N, ${m.inChannels}, H, W]`);
    if (x.dims[1] !== m.inChannels)
      throw this.fail(m, path, `input must be [N, ${m.inChannels}, H, W], got ${dimsToString(x.dims)}`);
    const [h, w] = this.staticDims(m, path, x.dims.slice(2), 'spatial size');
    const o = m.optionsT;
    const op = 'ConvTranspose2d';
    let stride: [number, number], padding: [number, number], outPad: [number, number], dilation: [number, number];
    try {
      stride = pair(op, o.stride, 'stride', 1);
      padding = pair(op, o.padding, 'padding', 0, 0);
      outPad = pair(op, o.outputPadding, 'outputPadding', 0, 0);
      dilation = pair(op, o.dilation, 'dilation', 1);
    } catch (e) {
      throw this.fail(m, path, (e as Error).message);
    }
    const [kh, kw] = m.kernelSize;
    const oh = (h - 1) * stride[0] - 2 * padding[0] + dilation[0] * (kh - 1) + outPad[0] + 1;
    const ow = (w - 1) * stride[1] - 2 * padding[1] + dilation[1] * (kw - 1) + outPad[1] + 1;
    if (oh < 1 || ow < 1) throw this.fail(m, path, `the output would be ${oh}x${ow} for input ${dimsToString(x.dims)}`);
    const y = this.convNode(m, path, x, {
      kernel_shape: aInts([kh, kw]),
      strides: aInts(stride),
      pads: aInts([padding[0], padding[1], padding[0], padding[1]]),
      output_padding: aInts(outPad),
      dilations: aInts(dilation),
      group: aInt(o.groups ?? 1),
    });
    return { name: y, dims: [x.dims[0], m.outChannels, oh, ow], dtype: 'float32', lengths: null };
  }

  /** Conv3d, ConvTranspose3d, MaxPool3d, AvgPool3d: ONNX's Conv, ConvTranspose, MaxPool and
   * AveragePool with three spatial axes (pads in ONNX's begin-then-end order, as ours). */
  private volumetric(m: Conv3d | ConvTranspose3d | MaxPool3d | AvgPool3d, path: string, x: GraphValue): GraphValue {
    const conv = m instanceof Conv3d || m instanceof ConvTranspose3d;
    const channels = conv ? m.inChannels : x.dims[1];
    this.rank(m, path, x, [5], `[N, ${conv ? channels : 'C'}, D, H, W]`);
    if (x.dims[1] !== channels)
      throw this.fail(m, path, `input must be [N, ${channels}, D, H, W], got ${dimsToString(x.dims)}`);
    const sizes = this.staticDims(m, path, x.dims.slice(2), 'spatial size');
    const options = conv ? m.options3d : m.options;
    let geo: ReturnType<typeof geometry3d>;
    try {
      geo = geometry3d(m.constructor.name, m.kernelSize, options, conv ? 'one' : 'kernel');
    } catch (e) {
      throw this.fail(m, path, (e as Error).message);
    }
    const { kernel: k, stride: s, dilation: d, pads: p, outputPadding: op } = geo;
    const ceil = !conv && Boolean((options as Pool3dOptions).ceilMode);
    const out = sizes.map((n, i) => {
      if (m instanceof ConvTranspose3d) return (n - 1) * s[i] + d[i] * (k[i] - 1) + 1 + op[i] - p[i] - p[3 + i];
      if (conv) return Math.floor((n + p[i] + p[3 + i] - d[i] * (k[i] - 1) - 1) / s[i]) + 1;
      return poolOutputSize(n, k[i], s[i], p[i], p[3 + i], d[i], ceil);
    });
    if (out.some((v) => !(v >= 1)))
      throw this.fail(m, path, `the output would be ${out.join('x')} for input ${dimsToString(x.dims)}`);
    const attrs: Record<string, Attr> = { kernel_shape: aInts(k), strides: aInts(s), pads: aInts(p) };
    let y: string;
    if (conv) {
      attrs.dilations = aInts(d);
      attrs.group = aInt(m.options3d.groups ?? 1);
      if (m instanceof ConvTranspose3d) attrs.output_padding = aInts(op);
      const g = this.g;
      const inputs = [x.name, g.tensor(m.weight, `${path}.weight`)];
      if (m.bias) inputs.push(g.tensor(m.bias, `${path}.bias`));
      y = g.op(m instanceof ConvTranspose3d ? 'ConvTranspose' : 'Conv', inputs, path, attrs);
    } else {
      attrs.ceil_mode = aInt(ceil ? 1 : 0);
      if (m instanceof MaxPool3d) attrs.dilations = aInts(d);
      else attrs.count_include_pad = aInt(((options as Pool3dOptions).countIncludePad ?? true) ? 1 : 0);
      y = this.g.op(m instanceof MaxPool3d ? 'MaxPool' : 'AveragePool', [x.name], path, attrs);
    }
    const cOut = m instanceof Conv3d || m instanceof ConvTranspose3d ? m.outChannels : x.dims[1];
    return { name: y, dims: [x.dims[0], cOut, ...out], dtype: 'float32', lengths: null };
  }

  private pool(m: MaxPool2d | AvgPool2d, path: string, x: GraphValue): GraphValue {
    const max = m instanceof MaxPool2d;
    this.rank(m, path, x, [4], '[N, C, H, W]');
    const [h, w] = this.staticDims(m, path, x.dims.slice(2), 'spatial size');
    const o = m.options as { stride?: unknown; padding?: unknown; dilation?: unknown; ceilMode?: boolean };
    const op = m.constructor.name;
    const geo = (() => {
      try {
        const k = pair(op, m.kernelSize, 'kernelSize', 1);
        const s = pair(op, (o.stride as [number, number] | undefined) ?? k, 'stride', 1);
        const pad = o.padding as number | number[] | undefined;
        const p: number[] =
          Array.isArray(pad) && pad.length === 4
            ? [...pad]
            : (() => {
                const q = pair(op, pad as [number, number] | undefined, 'padding', 0, 0);
                return [q[0], q[1], q[0], q[1]];
              })();
        if (!p.every((v) => Number.isInteger(v) && v >= 0))
          throw new RangeError(`padding must be non-negative integers, got ${JSON.stringify(pad)}`);
        const d = max ? pair(op, o.dilation as [number, number] | undefined, 'dilation', 1) : [1, 1];
        if (2 * Math.max(p[0], p[2]) > k[0] || 2 * Math.max(p[1], p[3]) > k[1])
          throw new RangeError(`padding ${JSON.stringify(p)} must be at most half the kernel ${JSON.stringify(k)}`);
        return { k, s, p, d };
      } catch (e) {
        throw this.fail(m, path, (e as Error).message);
      }
    })();
    const { k, s, p, d } = geo;
    const oh = poolOutputSize(h, k[0], s[0], p[0], p[2], d[0], Boolean(o.ceilMode));
    const ow = poolOutputSize(w, k[1], s[1], p[1], p[3], d[1], Boolean(o.ceilMode));
    if (oh < 1 || ow < 1)
      throw this.fail(
        m,
        path,
        `window ${k[0]}x${k[1]} does not fit input ${dimsToString(x.dims)} with padding ${JSON.stringify(p)}`,
      );
    const attrs: Record<string, Attr> = {
      kernel_shape: aInts(k),
      strides: aInts(s),
      pads: aInts(p),
      ceil_mode: aInt(o.ceilMode ? 1 : 0),
    };
    if (max) attrs.dilations = aInts(d);
    else attrs.count_include_pad = aInt(((m as AvgPool2d).options.countIncludePad ?? true) ? 1 : 0);
    const y = this.g.op(max ? 'MaxPool' : 'AveragePool', [x.name], path, attrs);
    return { name: y, dims: [x.dims[0], x.dims[1], oh, ow], dtype: 'float32', lengths: null };
  }

  private adaptiveAvgPool(m: AdaptiveAvgPool2d, path: string, x: GraphValue): GraphValue {
    const g = this.g;
    if (x.dims.length < 2) throw this.fail(m, path, `input needs at least 2 axes, got ${dimsToString(x.dims)}`);
    const [h, w] = this.staticDims(m, path, x.dims.slice(-2), 'spatial size');
    const [oh, ow] = pair('AdaptiveAvgPool2d', m.outputSize, 'outputSize', 1);
    const dims = [...x.dims.slice(0, -2), oh, ow];
    if (x.dims.length === 4 && h % oh === 0 && w % ow === 0) {
      const k = [h / oh, w / ow];
      const y = g.op('AveragePool', [x.name], path, { kernel_shape: aInts(k), strides: aInts(k) });
      return { name: y, dims, dtype: 'float32', lengths: null };
    }
    // Uneven bins (PyTorch's: [floor(i n / o), ceil((i + 1) n / o))): the mean over a
    // rectangle is the mean over its rows of the means over its columns, so two matrix
    // products with averaging matrices A_h [oh, H] and A_w^T [W, ow] compute it.
    const averaging = (n: number, o: number, transpose: boolean): Float32Array => {
      const a = new Float32Array(n * o);
      for (let i = 0; i < o; i++) {
        const s = Math.floor((i * n) / o);
        const e = Math.ceil(((i + 1) * n) / o);
        for (let j = s; j < e; j++) a[transpose ? j * o + i : i * n + j] = 1 / (e - s);
      }
      return a;
    };
    const aw = g.initializer(`${path || 'adaptive'}.pool_w`, averaging(w, ow, true), [w, ow]);
    const ah = g.initializer(`${path || 'adaptive'}.pool_h`, averaging(h, oh, false), [oh, h]);
    const cols = g.op('MatMul', [x.name, aw], path);
    return { name: g.op('MatMul', [ah, cols], path), dims, dtype: 'float32', lengths: null };
  }

  private batchNorm(m: BatchNormBase, path: string, x: GraphValue): GraphValue {
    const g = this.g;
    const ranks = m.ranks;
    if (!ranks.includes(x.dims.length) || x.dims[1] !== m.numFeatures)
      throw this.fail(
        m,
        path,
        `input must be ${ranks.map(batchNormInputName).join(' or ')} with C = ${m.numFeatures}, got ${dimsToString(x.dims)}`,
      );
    const c = m.numFeatures;
    const scale = m.weight
      ? g.tensor(m.weight, `${path}.weight`)
      : g.constF(new Array<number>(c).fill(1), [c], `${path}.scale`);
    const shift = m.bias
      ? g.tensor(m.bias, `${path}.bias`)
      : g.constF(new Array<number>(c).fill(0), [c], `${path}.shift`);
    const tracking = m.getConfig().trackRunningStats as boolean;
    if (tracking) {
      const mean = g.tensor(m.buffer('running_mean'), `${path}.running_mean`);
      const variance = g.tensor(m.buffer('running_var'), `${path}.running_var`);
      const y = g.op('BatchNormalization', [x.name, scale, shift, mean, variance], path, { epsilon: aFloat(m.eps) });
      return { name: y, dims: x.dims, dtype: 'float32', lengths: null };
    }
    // Without running statistics, evaluation uses the batch's (biased variance), as training.
    const axes = [0, ...x.dims.slice(2).map((_, i) => i + 2)];
    const bshape = [1, c, ...x.dims.slice(2).map(() => 1)];
    const mean = g.reduce('ReduceMean', x.name, axes, true, path);
    const d = g.op('Sub', [x.name, mean], path);
    const v = g.reduce('ReduceMean', g.op('Mul', [d, d], path), axes, true, path);
    const inv = g.op('Sqrt', [g.op('Add', [v, g.constF([m.eps], [], 'eps')], path)], path);
    const norm = g.op('Div', [d, inv], path);
    const sc = g.reshape({ name: scale, dims: [c], dtype: 'float32', lengths: null }, bshape, path).name;
    const sh = g.reshape({ name: shift, dims: [c], dtype: 'float32', lengths: null }, bshape, path).name;
    const y = g.op('Add', [g.op('Mul', [norm, sc], path), sh], path);
    return { name: y, dims: x.dims, dtype: 'float32', lengths: null };
  }

  private layerNorm(m: LayerNorm, path: string, x: GraphValue): GraphValue {
    const g = this.g;
    const shape = m.normalizedShape;
    const k = shape.length;
    if (k > x.dims.length || !shape.every((d, i) => d === x.dims[x.dims.length - k + i]))
      throw this.fail(
        m,
        path,
        `normalizedShape ${dimsToString(shape)} must be the trailing axes of ${dimsToString(x.dims)}`,
      );
    const eps = m.options.eps ?? 1e-5;
    const n = shape.reduce((a, b) => a * b, 1);
    const scale = m.weight
      ? g.tensor(m.weight, `${path}.weight`)
      : g.constF(new Array<number>(n).fill(1), shape, `${path}.scale`);
    const shift = m.bias ? g.tensor(m.bias, `${path}.bias`) : null;
    if (g.opset >= 17) {
      const inputs = [x.name, scale, ...(shift ? [shift] : [])];
      const y = g.op('LayerNormalization', inputs, path, { axis: aInt(-k), epsilon: aFloat(eps) });
      return { name: y, dims: x.dims, dtype: 'float32', lengths: null };
    }
    // Before opset 17: mean and (biased) variance over the trailing axes.
    const axes = shape.map((_, i) => x.dims.length - k + i);
    const mean = g.reduce('ReduceMean', x.name, axes, true, path);
    const d = g.op('Sub', [x.name, mean], path);
    const v = g.reduce('ReduceMean', g.op('Mul', [d, d], path), axes, true, path);
    const std = g.op('Sqrt', [g.op('Add', [v, g.constF([eps], [], 'eps')], path)], path);
    let y = g.op('Mul', [g.op('Div', [d, std], path), scale], path);
    if (shift) y = g.op('Add', [y, shift], path);
    return { name: y, dims: x.dims, dtype: 'float32', lengths: null };
  }

  private flatten(m: Flatten, path: string, x: GraphValue): GraphValue {
    const r = x.dims.length;
    if (r === 0) return this.g.reshape(x, [1], path);
    const s = this.axis(m, path, m.startDim, r);
    const e = this.axis(m, path, m.endDim, r);
    if (s > e) throw this.fail(m, path, `startDim ${m.startDim} comes after endDim ${m.endDim}`);
    const dims = [...x.dims.slice(0, s), product(x.dims.slice(s, e + 1)), ...x.dims.slice(e + 1)];
    return this.g.reshape(x, dims, path);
  }

  private embedding(m: Embedding, path: string, x: GraphValue): GraphValue {
    const g = this.g;
    if (x.dtype !== 'int64')
      throw this.fail(
        m,
        path,
        'its input must be the integer token ids (an Embedding must come first, on the model input)',
      );
    let weight: string;
    if (m.maxNorm === undefined) weight = g.tensor(m.weight, `${path}.weight`);
    else {
      // Looked-up rows are renormalised to maxNorm (in place, once per row, idempotent):
      // the file holds every row renormalised as the layer would on its first lookup.
      const [V, E] = m.weight.shape;
      const src = m.weight.data as Float32Array;
      const out = Float32Array.from(src);
      for (let r = 0; r < V; r++) {
        const row = out.subarray(r * E, (r + 1) * E);
        let norm = 0;
        const p = m.normType;
        if (p === 1) for (const v of row) norm += Math.abs(v);
        else if (p === 2) {
          for (const v of row) norm += v * v;
          norm = Math.sqrt(norm);
        } else if (p === Infinity) for (const v of row) norm = Math.max(norm, Math.abs(v));
        else {
          for (const v of row) norm += Math.abs(v) ** p;
          norm = norm ** (1 / p);
        }
        if (norm > m.maxNorm) {
          const scale = Math.fround(m.maxNorm / (norm + 1e-7));
          for (let c = 0; c < E; c++) row[c] = Math.fround(row[c] * scale);
        }
      }
      weight = g.tensor(m.weight, `${path}.weight`, out);
    }
    const y: GraphValue = {
      name: g.op('Gather', [weight, x.name], path, { axis: aInt(0) }),
      dims: [...x.dims, m.embeddingDim],
      dtype: 'float32',
      lengths: null,
    };
    if (m.paddingIdx !== undefined && x.dims.length === 2) {
      // The valid length of each row: 1 + the last position holding a non-padding token,
      // computed with float ops only: a [V] table (0 at paddingIdx, else 1) gathered by the
      // tokens, times the positions 1..T, maximum over time.
      const [V] = m.weight.shape;
      const T = this.staticDims(m, path, [x.dims[1]], 'sequence length')[0];
      const table = new Float32Array(V).fill(1);
      table[m.paddingIdx] = 0;
      const t = g.initializer(`${path}.not_padding`, table, [V]);
      const valid = g.op('Gather', [t, x.name], path, { axis: aInt(0) });
      const pos = g.constF(
        Array.from({ length: T }, (_, i) => i + 1),
        [1, T],
        'positions',
      );
      const scores = g.op('Mul', [valid, pos], path);
      const lengths = g.reduce('ReduceMax', scores, [1], false, path);
      y.lengths = { name: lengths, scores, timeMajor: false, int32: null };
    }
    return y;
  }

  /** The lengths attached to x for a consumer reading `timeMajor` layout (as lengthsFor). */
  private lengthsFor(m: Module, path: string, x: GraphValue, timeMajor: boolean, option: string): SeqLengths | null {
    const a = x.lengths;
    if (!a) return null;
    if (a.timeMajor !== timeMajor)
      throw this.fail(
        m,
        path,
        `the input carries sequence lengths for ${a.timeMajor ? 'time-major' : 'batch-major'} data but this layer reads ${timeMajor ? 'time-major' : 'batch-major'} input; construct it with ${option}`,
      );
    return a;
  }

  private recurrent(m: RecurrentBase, path: string, x: GraphValue): GraphValue {
    const g = this.g;
    if (x.dims.length !== 3 || x.dims[2] !== m.inputSize)
      throw this.fail(
        m,
        path,
        `input must be ${m.batchFirst ? '[batch, steps' : '[steps, batch'}, ${m.inputSize}], got ${dimsToString(x.dims)}`,
      );
    const lengths = this.lengthsFor(m, path, x, !m.batchFirst, `batchFirst: ${m.batchFirst ? 'false' : 'true'}`);
    let seqLens = '';
    if (lengths) {
      // ONNX's sequence_lens are int32. They come from the scores by ArgMax (an integer the
      // runtime computes without a float-to-int cast) over [0.5, scores]: the index of the
      // largest score is the length, and 0 (the 0.5) for a row of padding only.
      if (!lengths.int32) {
        const padded = g.op(
          'Pad',
          [lengths.scores, g.constI([0, 1, 0, 0], [4], 'pads'), g.constF([0.5], [], 'half')],
          path,
        );
        const arg = g.op('ArgMax', [padded], path, { axis: aInt(1), keepdims: aInt(0) });
        lengths.int32 = g.op('Cast', [arg], path, { to: aInt(DTYPE.int32) });
      }
      seqLens = lengths.int32;
    }
    const H = m.hiddenSize;
    const D = m.directions;
    const mode = m.mode;
    const G = mode === 'lstm' ? 4 : mode === 'gru' ? 3 : 1;
    const op = mode === 'lstm' ? 'LSTM' : mode === 'gru' ? 'GRU' : 'RNN';
    // Our gate blocks (PyTorch's) -> ONNX's: LSTM (i, f, g, o) -> (i, o, f, c); GRU (r, z, n) -> (z, r, h).
    const order = mode === 'lstm' ? [0, 3, 1, 2] : mode === 'gru' ? [1, 0, 2] : [0];
    const suffixes = D === 2 ? ['', '_reverse'] : [''];
    const params = m as unknown as Record<string, Parameter | undefined>;
    const pick = (name: string): Parameter => {
      const p = params[name];
      if (!p) throw this.fail(m, path, `parameter ${name} is missing`);
      return p;
    };
    /** Directions stacked, gate blocks reordered: [D, G*H, cols]. */
    const regate = (ts: Float32Array[], cols: number): Float32Array => {
      const out = new Float32Array(D * G * H * cols);
      ts.forEach((t, d) =>
        order.forEach((src, dst) =>
          out.set(t.subarray(src * H * cols, (src + 1) * H * cols), (d * G + dst) * H * cols),
        ),
      );
      return out;
    };
    let seq: GraphValue = m.batchFirst
      ? {
          ...x,
          name: g.op('Transpose', [x.name], path, { perm: aInts([1, 0, 2]) }),
          dims: [x.dims[1], x.dims[0], x.dims[2]],
        }
      : x;
    const [T, N] = seq.dims;
    let lastH = '';
    for (let l = 0; l < m.numLayers; l++) {
      const inF = l === 0 ? m.inputSize : H * D;
      const base = `${path}${path ? '.' : ''}`;
      const w = g.initializer(
        `${base}W_l${l}`,
        regate(
          suffixes.map((s) => pick(`weight_ih_l${l}${s}`).data as Float32Array),
          inF,
        ),
        [D, G * H, inF],
      );
      const r = g.initializer(
        `${base}R_l${l}`,
        regate(
          suffixes.map((s) => pick(`weight_hh_l${l}${s}`).data as Float32Array),
          H,
        ),
        [D, G * H, H],
      );
      const inputs = [seq.name, w, r];
      if (m.bias) {
        const bi = regate(
          suffixes.map((s) => pick(`bias_ih_l${l}${s}`).data as Float32Array),
          1,
        );
        const bh = regate(
          suffixes.map((s) => pick(`bias_hh_l${l}${s}`).data as Float32Array),
          1,
        );
        const b = new Float32Array(D * 2 * G * H);
        for (let d = 0; d < D; d++) {
          b.set(bi.subarray(d * G * H, (d + 1) * G * H), d * 2 * G * H);
          b.set(bh.subarray(d * G * H, (d + 1) * G * H), (d * 2 + 1) * G * H);
        }
        inputs.push(g.initializer(`${base}B_l${l}`, b, [D, 2 * G * H]));
      } else if (seqLens) inputs.push('');
      if (seqLens) inputs.push(seqLens);
      const attrs: Record<string, Attr> = {
        hidden_size: aInt(H),
        direction: aStr(D === 2 ? 'bidirectional' : 'forward'),
      };
      if (mode === 'gru') attrs.linear_before_reset = aInt(1);
      if (mode === 'rnnTanh' || mode === 'rnnRelu')
        attrs.activations = aStrs(new Array<string>(D).fill(mode === 'rnnRelu' ? 'Relu' : 'Tanh'));
      const [y, yh] = g.node(op, inputs, `${path}/l${l}`, attrs, 2);
      lastH = yh;
      // Y [T, D, N, H] -> [T, N, D*H], the directions concatenated on the features as ours
      // (D = 1: [T, 1, N, H] reshaped with N inferred; D = 2: transposed to [T, N, 2, H]).
      const yt = D === 1 ? y : g.op('Transpose', [y], path, { perm: aInts([0, 2, 1, 3]) });
      const flat = g.op('Reshape', [yt, g.constI([0, D === 1 ? -1 : 0, D * H], [3], 'shape')], path);
      seq = { name: flat, dims: [T, N, D * H], dtype: 'float32', lengths: null };
    }
    if (!m.returnSequences) {
      // The last layer's final states [D, N, H] -> [N, D*H].
      const yh = D === 1 ? lastH : g.op('Transpose', [lastH], path, { perm: aInts([1, 0, 2]) });
      const name = g.op('Reshape', [yh, g.constI(D === 1 ? [-1, H] : [0, -1], [2], 'shape')], path);
      return { name, dims: [N, D * H], dtype: 'float32', lengths: null };
    }
    const out: GraphValue = m.batchFirst
      ? {
          name: g.op('Transpose', [seq.name], path, { perm: aInts([1, 0, 2]) }),
          dims: [N, T, D * H],
          dtype: 'float32',
          lengths: null,
        }
      : seq;
    if (lengths) out.lengths = { ...lengths, timeMajor: !m.batchFirst };
    return out;
  }

  /** Prefix masks of valid steps from float lengths [N]: [N, T] with 1 where t < length - shift. */
  private stepMask(lengths: string, T: number, shift: number, at: string): string {
    const g = this.g;
    const steps = g.constF(
      Array.from({ length: T }, (_, t) => t + shift),
      [1, T],
      'steps',
    );
    const l = g.op('Reshape', [lengths, g.constI([-1, 1], [2], 'shape')], at);
    return g.clip(g.op('Sub', [l, steps], at), 0, 1, at);
  }

  private sequencePool(m: LastStep | MeanOverTime, path: string, x: GraphValue): GraphValue {
    const g = this.g;
    const last = m instanceof LastStep;
    const tm = m.timeMajor;
    if (x.dims.length !== 3)
      throw this.fail(
        m,
        path,
        `input must be ${tm ? '[steps, batch, features]' : '[batch, steps, features]'}, got ${dimsToString(x.dims)}`,
      );
    const lengths = this.lengthsFor(m, path, x, tm, `{ timeMajor: ${tm ? 'false' : 'true'} }`);
    const tAxis = tm ? 0 : 1;
    const [T, N, F] = tm ? [x.dims[0], x.dims[1], x.dims[2]] : [x.dims[1], x.dims[0], x.dims[2]];
    const dims = [N, F];
    if (!lengths) {
      if (last) {
        const [t] = this.staticDims(m, path, [T], 'sequence length');
        return {
          name: g.op('Gather', [x.name, g.constI([t - 1], [], 'index')], path, { axis: aInt(tAxis) }),
          dims,
          dtype: 'float32',
          lengths: null,
        };
      }
      return { name: g.reduce('ReduceMean', x.name, [tAxis], false, path), dims, dtype: 'float32', lengths: null };
    }
    const [t] = this.staticDims(m, path, [T], 'sequence length');
    // Weights over the steps [N, T]: the one-hot of step length-1 (last), or the valid-step
    // mask (mean, divided by max(length, 1) after the sum), from float ops only.
    const valid = this.stepMask(lengths.name, t, 0, path);
    const weights = last ? g.op('Sub', [valid, this.stepMask(lengths.name, t, 1, path)], path) : valid;
    const wt = tm ? g.op('Transpose', [weights], path, { perm: aInts([1, 0]) }) : weights;
    const w3 = g.op('Reshape', [wt, g.constI([0, 0, 1], [3], 'shape')], path);
    let y = g.reduce('ReduceSum', g.op('Mul', [x.name, w3], path), [tAxis], false, path);
    if (!last) {
      const count = g.op('Max', [lengths.name, g.constF([1], [], 'one')], path);
      y = g.op('Div', [y, g.op('Reshape', [count, g.constI([-1, 1], [2], 'shape')], path)], path);
    }
    return { name: y, dims, dtype: 'float32', lengths: null };
  }

  private timeDistributed(m: TimeDistributed, path: string, x: GraphValue): GraphValue {
    if (x.dims.length < 3) throw this.fail(m, path, `input must be [batch, steps, ...], got ${dimsToString(x.dims)}`);
    const lengths = this.lengthsFor(m, path, x, false, 'a batch-major input [batch, steps, ...]');
    const [n, t] = x.dims;
    const inner = this.g.reshape(x, [product([n, t]), ...x.dims.slice(2)], path);
    const y = this.emit(m.layer, join(path, 'layer'), { ...inner, dtype: x.dtype });
    if (y.dims.length < 1) throw this.fail(m, path, 'the inner layer returned a scalar');
    const out = this.g.reshape(y, [n, t, ...y.dims.slice(1)], path);
    if (lengths) out.lengths = lengths;
    return out;
  }

  private normalize(m: Normalize, path: string, x: GraphValue): GraphValue {
    const g = this.g;
    const c = m.mean.length;
    if (x.dims.length < 2 || x.dims[1] !== c)
      throw this.fail(m, path, `input ${dimsToString(x.dims)} must have ${c} channels on axis 1`);
    const shape = [1, c, ...x.dims.slice(2).map(() => 1)];
    const mean = g.initializer(`${path || 'normalize'}.mean`, Float32Array.from(m.mean), shape);
    const std = g.initializer(`${path || 'normalize'}.std`, Float32Array.from(m.std), shape);
    const y = g.op('Div', [g.op('Sub', [x.name, mean], path), std], path);
    return { name: y, dims: x.dims, dtype: 'float32', lengths: null };
  }

  private randomCrop(m: RandomCrop, path: string, x: GraphValue): GraphValue {
    // Evaluation: the centre crop (the identity when the image already has the crop's size).
    this.rank(m, path, x, [4], '[N, C, H, W]');
    const [h, w] = this.staticDims(m, path, x.dims.slice(2), 'spatial size');
    const [oh, ow] = m.size;
    if (h === oh && w === ow) return { ...x, name: this.g.op('Identity', [x.name], path) };
    if (oh > h || ow > w) throw this.fail(m, path, `crop ${oh}x${ow} is larger than the image ${h}x${w}`);
    const top = Math.floor((h - oh) / 2);
    const left = Math.floor((w - ow) / 2);
    const g = this.g;
    const y = g.op(
      'Slice',
      [
        x.name,
        g.constI([top, left], [2], 'starts'),
        g.constI([top + oh, left + ow], [2], 'ends'),
        g.constI([2, 3], [2], 'axes'),
      ],
      path,
    );
    return { name: y, dims: [x.dims[0], x.dims[1], oh, ow], dtype: 'float32', lengths: null };
  }

  // ---- attention and transformer layers (their eval-mode forwards: dropout is the identity) ----

  /** [L, N, E] or [N, L, E] (batchFirst) to [N, L, E] and back. */
  private batchFirst(x: GraphValue, batchFirst: boolean, path: string): GraphValue {
    if (batchFirst) return x;
    const name = this.g.op('Transpose', [x.name], path, { perm: aInts([1, 0, 2]) });
    return { ...x, name, dims: [x.dims[1], x.dims[0], x.dims[2]], lengths: null };
  }

  /** x [rows..., k] times W^T (+ b): a Gemm on the flattened rows. */
  private project(x: GraphValue, w: string, b: string | null, outF: number, path: string): GraphValue {
    const k = x.dims[x.dims.length - 1];
    const lead = x.dims.slice(0, -1);
    const flat = this.g.reshape(x, [product(lead), k], path);
    const y = this.g.op('Gemm', [flat.name, w, ...(b ? [b] : [])], path, { transB: aInt(1) });
    return this.g.reshape({ ...x, name: y }, [...lead, outF], path);
  }

  /**
   * MultiheadAttention's forward(x): self-attention as MatMul / Softmax / Transpose nodes
   * (ONNX has no attention operator in the default domain), the in-projection as one Gemm.
   */
  private selfAttention(m: MultiheadAttention, path: string, x: GraphValue, batchFirst = m.batchFirst): GraphValue {
    const g = this.g;
    this.rank(m, path, x, [3], batchFirst ? `[N, L, ${m.embedDim}]` : `[L, N, ${m.embedDim}]`);
    if (x.dims[2] !== m.embedDim || m.kdim !== m.embedDim || m.vdim !== m.embedDim)
      throw this.fail(m, path, `self-attention export needs [.., ${m.embedDim}] inputs and kdim = vdim = embedDim`);
    const xb = this.batchFirst(x, batchFirst, path);
    const [N, L] = xb.dims;
    const E = m.embedDim;
    const H = m.numHeads;
    const Dh = m.headDim;
    if (typeof L !== 'number')
      throw this.fail(m, path, `the sequence length must be known to export, got ${dimsToString(x.dims)}`);
    const bias = m.in_proj_bias ? g.tensor(m.in_proj_bias, `${path}.in_proj_bias`) : null;
    const heads = (v: GraphValue): string =>
      g.op('Transpose', [g.reshape(v, [N, L, H, Dh], path).name], path, { perm: aInts([0, 2, 1, 3]) });
    let q: string;
    let k: string;
    let v: string;
    if (m.in_proj_weight) {
      const qkv = this.project(xb, g.tensor(m.in_proj_weight, `${path}.in_proj_weight`), bias, 3 * E, path);
      const split = g.op('Transpose', [g.reshape(qkv, [N, L, 3, H, Dh], path).name], path, {
        perm: aInts([2, 0, 3, 1, 4]),
      });
      [q, k, v] = [0, 1, 2].map((i) => g.op('Gather', [split, g.constI([i], [], 'index')], path, { axis: aInt(0) }));
    } else {
      // kdim = vdim = embedDim with separate weights: three Gemms (the bias split in three).
      const part = (w: Parameter | null, i: number, name: string): string => {
        const b = m.in_proj_bias
          ? g.initializer(
              `${path}.in_proj_bias_${name}`,
              (m.in_proj_bias.data as Float32Array).slice(i * E, (i + 1) * E),
              [E],
            )
          : null;
        return heads(this.project(xb, g.tensor(w as Parameter, `${path}.${name}_proj_weight`), b, E, path));
      };
      [q, k, v] = [part(m.q_proj_weight, 0, 'q'), part(m.k_proj_weight, 1, 'k'), part(m.v_proj_weight, 2, 'v')];
    }
    const kt = g.op('Transpose', [k], path, { perm: aInts([0, 1, 3, 2]) });
    const scores = g.op('Mul', [g.op('MatMul', [q, kt], path), g.constF([1 / Math.sqrt(Dh)], [], 'scale')], path);
    const weights = g.op('Softmax', [scores], path, { axis: aInt(3) });
    const o = g.op('Transpose', [g.op('MatMul', [weights, v], path)], path, { perm: aInts([0, 2, 1, 3]) });
    const merged = g.reshape({ ...xb, name: o, dims: [N, L, H, Dh] }, [N, L, E], path);
    const out = this.linear(m.out_proj, join(path, 'out_proj'), merged);
    return batchFirst ? out : this.batchFirst(out, false, path);
  }

  /** TransformerEncoderLayer's forward(src), post- or pre-norm. */
  private encoderLayer(m: TransformerEncoderLayer, path: string, x: GraphValue): GraphValue {
    const g = this.g;
    const s = m.settings;
    this.rank(m, path, x, [3], s.batchFirst ? `[N, L, ${m.dModel}]` : `[L, N, ${m.dModel}]`);
    const add = (a: GraphValue, b: GraphValue): GraphValue => ({
      ...a,
      name: g.op('Add', [a.name, b.name], path),
      lengths: null,
    });
    const attend = (v: GraphValue): GraphValue => this.selfAttention(m.self_attn, join(path, 'self_attn'), v, true);
    const ff = (v: GraphValue): GraphValue => {
      const h = this.linear(m.linear1, join(path, 'linear1'), v);
      const a = {
        ...h,
        name: this.activation(h.name, s.activation, undefined, join(path, 'linear1'), 'TransformerEncoderLayer'),
      };
      return this.linear(m.linear2, join(path, 'linear2'), a);
    };
    let y = this.batchFirst(x, s.batchFirst, path);
    if (s.normFirst) {
      y = add(y, attend(this.layerNorm(m.norm1, join(path, 'norm1'), y)));
      y = add(y, ff(this.layerNorm(m.norm2, join(path, 'norm2'), y)));
    } else {
      y = this.layerNorm(m.norm1, join(path, 'norm1'), add(y, attend(y)));
      y = this.layerNorm(m.norm2, join(path, 'norm2'), add(y, ff(y)));
    }
    return s.batchFirst ? y : this.batchFirst(y, false, path);
  }

  /** x plus the first L rows of a position table (Slice of the named initializer). */
  private addPositions(
    m: Module,
    path: string,
    x: GraphValue,
    table: Tensor,
    name: string,
    batchFirst: boolean,
  ): GraphValue {
    const g = this.g;
    const [maxLength, dim] = table.shape;
    this.rank(m, path, x, [3], batchFirst ? `[N, L, ${dim}]` : `[L, N, ${dim}]`);
    const L = x.dims[batchFirst ? 1 : 0];
    if (typeof L !== 'number' || L > maxLength || x.dims[2] !== dim)
      throw this.fail(
        m,
        path,
        `input ${dimsToString(x.dims)} needs a known length <= ${maxLength} and ${dim} features`,
      );
    const rows = g.op(
      'Slice',
      [g.tensor(table, name), g.constI([0], [1], 'starts'), g.constI([L], [1], 'ends'), g.constI([0], [1], 'axes')],
      path,
    );
    const pos = batchFirst
      ? rows
      : g.reshape({ name: rows, dims: [L, dim], dtype: 'float32', lengths: null }, [L, 1, dim], path).name;
    return { ...x, name: g.op('Add', [x.name, pos], path), lengths: null };
  }
}
