/**
 * The ONNX loss operators: NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (opset 12+),
 * with class weights, ignore_index and the none/sum/mean reductions (mean divides by the
 * weights of the targets not ignored, as ONNX and PyTorch). Input [N, C] or [N, C, d1, ...],
 * targets [N] or [N, d1, ...]; the picked log-probabilities come from one flat gather
 * (takeAlongAxis), so a target outside [0, C) that is not ignored is refused when it runs.
 */
import { logSoftmax } from '../ops/activation.js';
import { cast as castTensor, div, mul, neg, notEqual, where } from '../ops/elementwise.js';
import { reshape, unsqueeze } from '../ops/layout.js';
import { sum } from '../ops/reduce.js';
import { embedding } from '../ops/rnn.js';
import type { Tensor } from '../tensor/tensor.js';
import type { OpContext, OpImpl } from './context.js';
import { takeAlongAxis } from './ops-shape.js';
import { floatValue, int32Tensor, type Value } from './value.js';

function nll(c: OpContext, logp: Tensor, targetValue: Value, weight: Tensor | null): Tensor {
  if (logp.ndim < 2) throw c.error(`input must be [N, C, ...], got [${logp.shape.join(',')}]`);
  const [n, classes] = logp.shape;
  const spatial = logp.shape.slice(2);
  const want = [n, ...spatial];
  if (targetValue.shape.length !== want.length || targetValue.shape.some((d, i) => d !== want[i]))
    throw c.error(`target must be [${want.join(',')}], got [${targetValue.shape.join(',')}]`);
  if (weight && (weight.ndim !== 1 || weight.shape[0] !== classes))
    throw c.error(`weight must be [${classes}], got [${weight.shape.join(',')}]`);
  const target = castTensor(int32Tensor(targetValue, c.what, 'target'), 'float32');
  const ignore = c.has('ignore_index') ? c.int('ignore_index', 0) : null;
  // Ignored targets read class 0 (any valid class) and count 0.
  const keep = ignore === null ? null : notEqual(target, ignore);
  const safe = keep ? where(keep, target, 0) : target;
  const picked = reshape(takeAlongAxis(logp, unsqueeze(safe, 1), 1), want);
  let w: Tensor | null = weight
    ? reshape(embedding(castTensor(safe, 'int32'), reshape(weight, [classes, 1])), want)
    : null;
  if (keep) w = w ? mul(w, keep) : keep;
  const loss = neg(w ? mul(picked, w) : picked);
  const reduction = c.string('reduction', 'mean');
  if (reduction === 'none') return loss;
  if (reduction === 'sum') return sum(loss);
  if (reduction !== 'mean') throw c.error(`reduction '${reduction}' is not one of none, sum, mean`);
  // An all-ignored batch divides 0 by 0 (NaN), as ONNX's reference and PyTorch do.
  return w ? div(sum(loss), sum(w)) : div(sum(loss), loss.size);
}

const negativeLogLikelihoodLoss: OpImpl = (c) => {
  const weight = c.optional(2) ? c.floatInput(2, 'weight') : null;
  return [floatValue(nll(c, c.floatInput(0, 'input'), c.input(1, 'target'), weight))];
};

const softmaxCrossEntropyLoss: OpImpl = (c) => {
  const scores = c.floatInput(0, 'scores');
  const weight = c.optional(2) ? c.floatInput(2, 'weights') : null;
  const logp = logSoftmax(scores, 1);
  const out: Value[] = [floatValue(nll(c, logp, c.input(1, 'labels'), weight))];
  if (c.node.outputs.length > 1 && c.node.outputs[1]) out.push(floatValue(logp));
  return out;
};

export const LOSS_OPS: Record<string, OpImpl> = {
  NegativeLogLikelihoodLoss: negativeLogLikelihoodLoss,
  SoftmaxCrossEntropyLoss: softmaxCrossEntropyLoss,
};
