/**
 * ONNX export: which layer a module is (its class, unless a subclass overrides forward), the
 * activation an activation layer applies, and how errors name a layer's path.
 */
import type { LinearActivation } from '../ops/linalg.js';
import { SELU, Sigmoid, Tanh, SiLU, Hardswish, Mish } from '../nn/activations.gen.js';
import { ELU, GELU, LeakyReLU, ReLU, Softplus } from '../nn/layers.js';
import type { Module } from '../nn/module.js';

/**
 * Whether m is a `cls` layer: its class or a subclass that keeps its forward (an overridden
 * forward computes something else, which the emitter would not reproduce).
 */
export function sameLayer(m: Module, cls: { prototype: Module }): boolean {
  return Object.prototype.isPrototypeOf.call(cls.prototype, m) && m.forward === cls.prototype.forward;
}

/** The activation a parameter-free (or one-parameter) activation layer applies. */
export function activationOf(m: Module): { name: LinearActivation; param?: number } | null {
  const same = (cls: { prototype: Module }): boolean => sameLayer(m, cls);
  if (same(ReLU)) return { name: 'relu' };
  if (same(LeakyReLU)) return { name: 'leakyRelu', param: (m as LeakyReLU).negativeSlope };
  if (same(ELU)) return { name: 'elu', param: (m as ELU).alpha };
  if (same(GELU)) return { name: (m as GELU).approximate === 'tanh' ? 'geluTanh' : 'gelu' };
  if (same(Softplus)) return { name: 'softplus', param: (m as Softplus).beta };
  if (same(SELU)) return { name: 'selu' };
  if (same(Sigmoid)) return { name: 'sigmoid' };
  if (same(Tanh)) return { name: 'tanh' };
  if (same(SiLU)) return { name: 'silu' };
  if (same(Hardswish)) return { name: 'hardswish' };
  if (same(Mish)) return { name: 'mish' };
  return null;
}

/** The layer types the emitter knows (for the unsupported-layer error). */
export const SUPPORTED = (
  'Sequential TimeDistributed Identity Dropout Linear Conv1d Conv2d ConvTranspose2d MaxPool2d AvgPool2d ' +
  'GlobalAvgPool2d AdaptiveAvgPool2d BatchNorm1d BatchNorm2d LayerNorm Flatten ReLU LeakyReLU ELU GELU ' +
  'Softplus SELU Sigmoid Tanh SiLU Hardswish Mish Softmax LogSoftmax Embedding LSTM GRU SimpleRNN LastStep ' +
  'MeanOverTime Normalize RandomCrop RandomHorizontalFlip MultiheadAttention TransformerEncoderLayer TransformerEncoder ' +
  'PositionalEmbedding SinusoidalPositionalEncoding'
).split(' ');

export function join(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}

export function describePath(path: string): string {
  return path ? `layer '${path}'` : 'the root module';
}
