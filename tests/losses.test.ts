/**
 * Losses against PyTorch (values and input gradients from tools/torch_reference.py), plus
 * stability at extreme logits, gradchecks and bad input.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  binaryCrossEntropy,
  binaryCrossEntropyWithLogits,
  crossEntropy,
  gradcheck,
  huberLoss,
  l1Loss,
  logSoftmax,
  mseLoss,
  nllLoss,
  randn,
  smoothL1Loss,
  tensor,
  type Tensor,
} from '../src/index.js';

const ref = JSON.parse(readFileSync(new URL('./fixtures/torch-reference.json', import.meta.url), 'utf8')).losses;
const inp = ref.inputs;

function expectClose(t: Tensor | null | undefined, want: number | number[] | number[][], digits = 5): void {
  expect(t).toBeTruthy();
  const flat = [want].flat(2) as number[];
  expect(t!.size).toBe(flat.length);
  flat.forEach((v, i) => expect(t!.data[i]).toBeCloseTo(v, digits));
}

function checkCE(name: string, options: Parameters<typeof crossEntropy>[2], probs = false): void {
  const x = tensor(inp.logits).setRequiresGrad();
  const t = probs ? tensor(inp.probs) : tensor(inp.targets, { dtype: 'int32' });
  const loss = crossEntropy(x, t, options);
  if (loss.size === 1) loss.backward();
  else loss.backward(tensor(new Array(loss.size).fill(1)));
  expectClose(loss, ref[name].loss);
  expectClose(x.grad, ref[name].grad);
}

describe('cross-entropy matches torch.nn.functional.cross_entropy', () => {
  it('mean', () => checkCE('ce_mean', {}));
  it('sum', () => checkCE('ce_sum', { reduction: 'sum' }));
  it('none', () => checkCE('ce_none', { reduction: 'none' }));
  it('class weights (mean divides by the summed target weights)', () =>
    checkCE('ce_weight', { weight: tensor(inp.classWeight) }));
  it('label smoothing', () => checkCE('ce_smooth', { labelSmoothing: 0.2 }));
  it('class weights with label smoothing', () =>
    checkCE('ce_weight_smooth', { weight: tensor(inp.classWeight), labelSmoothing: 0.1 }));
  it('ignoreIndex', () => checkCE('ce_ignore', { ignoreIndex: 2 }));
  it('probability targets', () => checkCE('ce_prob', {}, true));
  it('probability targets with weights and smoothing', () =>
    checkCE('ce_prob_weight_smooth', { weight: tensor(inp.classWeight), labelSmoothing: 0.1 }, true));
  it('is exact and finite at logits of +-1e4', () => {
    const x = tensor(ref.ce_extreme.logits).setRequiresGrad();
    const loss = crossEntropy(x, tensor([1, 1], { dtype: 'int32' }), { reduction: 'none' });
    loss.sum().backward();
    expectClose(loss, ref.ce_extreme.loss, 3);
    expect(Number.isFinite(loss.data[0])).toBe(true);
    expectClose(x.grad, ref.ce_extreme.grad);
  });
  it('handles (N, C, d) logits with (N, d) targets', () => {
    const x = randn([2, 3, 4], { seed: 3 });
    const t = tensor(
      [
        [0, 1, 2, 1],
        [2, 2, 0, 1],
      ],
      { dtype: 'int32' },
    );
    const loss = crossEntropy(x, t, { reduction: 'none' });
    expect(loss.shape).toEqual([2, 4]);
    // Independent: -log_softmax over the class axis, picked at the target.
    const lp = logSoftmax(x, 1);
    for (let n = 0; n < 2; n++)
      for (let d = 0; d < 4; d++) {
        const y = t.data[n * 4 + d];
        expect(loss.data[n * 4 + d]).toBeCloseTo(-lp.data[n * 12 + y * 4 + d], 5);
      }
  });
  it('passes gradcheck', () => {
    const x = randn([5, 7], { seed: 11 }).setRequiresGrad();
    const t = tensor([0, 6, 3, 3, 1], { dtype: 'int32' });
    expect(gradcheck((a) => crossEntropy(a, t, { labelSmoothing: 0.1 }), [x]).ok).toBe(true);
  });
  it('rejects bad targets with clear errors', () => {
    const x = randn([3, 4]);
    expect(() => crossEntropy(x, tensor([0, 4, 1], { dtype: 'int32' }))).toThrow(
      'target 4 at row 1 is outside the 4 classes [0, 3]',
    );
    expect(() => crossEntropy(x, tensor([0, 1], { dtype: 'int32' }))).toThrow('index targets must have shape [3]');
    expect(() => crossEntropy(x, tensor([0, 1, 2]))).toThrow('probability targets must have the logits');
    expect(() => crossEntropy(x, tensor([0, 1, 2], { dtype: 'int32' }), { labelSmoothing: 2 })).toThrow(
      'labelSmoothing must be in [0, 1]',
    );
    expect(() => crossEntropy(x, tensor([0, 1, 2], { dtype: 'int32' }), { weight: tensor([1, 2]) })).toThrow(
      'weight must have one entry per class (4)',
    );
  });
  it('nllLoss of log-softmax equals cross-entropy', () => {
    const x = tensor(inp.logits).setRequiresGrad();
    const t = tensor(inp.targets, { dtype: 'int32' });
    const loss = nllLoss(logSoftmax(x), t, { weight: tensor(inp.classWeight) });
    loss.backward();
    expectClose(loss, ref.ce_weight.loss);
    expectClose(x.grad, ref.ce_weight.grad);
  });
});

describe('binary cross-entropy matches PyTorch', () => {
  it('with logits', () => {
    const x = tensor(inp.bceLogits).setRequiresGrad();
    const loss = binaryCrossEntropyWithLogits(x, tensor(inp.bceTargets));
    loss.backward();
    expectClose(loss, ref.bce_logits.loss);
    expectClose(x.grad, ref.bce_logits.grad);
  });
  it('with logits and posWeight', () => {
    const x = tensor(inp.bceLogits).setRequiresGrad();
    const loss = binaryCrossEntropyWithLogits(x, tensor(inp.bceTargets), { posWeight: tensor(inp.posWeight) });
    loss.backward();
    expectClose(loss, ref.bce_logits_pos_weight.loss);
    expectClose(x.grad, ref.bce_logits_pos_weight.grad);
  });
  it('on probabilities (logs clamped at -100)', () => {
    const x = tensor(ref.bce.input).setRequiresGrad();
    const loss = binaryCrossEntropy(x, tensor(inp.bceTargets));
    loss.backward();
    expectClose(loss, ref.bce.loss, 3);
    expectClose(x.grad, ref.bce.grad, 1);
  });
  it('stays finite for huge logits', () => {
    const loss = binaryCrossEntropyWithLogits(tensor([1e4, -1e4, 80]), tensor([0, 1, 1]), { reduction: 'none' });
    expect(Array.from(loss.data.subarray(0, 2))).toEqual([1e4, 1e4]);
    expect(loss.data[2]).toBeCloseTo(Math.exp(-80), 40); // log(1 + e^-80), not rounded to 0
  });
});

describe('regression losses match PyTorch', () => {
  const cases: [string, (a: Tensor, b: Tensor) => Tensor][] = [
    ['mse', (a, b) => mseLoss(a, b)],
    ['l1', (a, b) => l1Loss(a, b)],
    ['huber', (a, b) => huberLoss(a, b, { delta: 1.5 })],
    ['smooth_l1', (a, b) => smoothL1Loss(a, b, { beta: 0.5 })],
  ];
  for (const [name, fn] of cases)
    it(name, () => {
      const x = tensor(inp.regA).setRequiresGrad();
      const loss = fn(x, tensor(inp.regB));
      loss.backward();
      expectClose(loss, ref[name].loss);
      expectClose(x.grad, ref[name].grad);
    });
  it('reject mismatched shapes and bad options', () => {
    expect(() => mseLoss(randn([2, 3]), randn([3, 2]))).toThrow(
      'mseLoss: input [2,3] and target [3,2] must have the same shape',
    );
    expect(() => mseLoss(randn([2]), randn([2]), { reduction: 'avg' as never })).toThrow(
      "mseLoss: reduction must be 'mean', 'sum' or 'none', got avg",
    );
    expect(() => huberLoss(randn([2]), randn([2]), { delta: 0 })).toThrow('huberLoss: delta must be > 0');
  });
});

describe('loss objects', () => {
  it('carry the name compile() knows them by (NLLLoss, which compile does not name: nll)', async () => {
    const { MSELoss, L1Loss, HuberLoss, SmoothL1Loss, CrossEntropyLoss, NLLLoss, BCELoss, BCEWithLogitsLoss } =
      await import('../src/index.js');
    const { LOSS_NAMES } = await import('../src/index.js');
    const objects = [MSELoss, L1Loss, HuberLoss, SmoothL1Loss, CrossEntropyLoss, NLLLoss, BCELoss, BCEWithLogitsLoss];
    const names = objects.map((make) => make().name);
    expect(names).toEqual([
      'mse',
      'mae',
      'huber',
      'smoothL1',
      'crossEntropy',
      'nll',
      'binaryCrossentropy',
      'binaryCrossentropyWithLogits',
    ]);
    for (const n of names.filter((x) => x !== 'nll')) expect(LOSS_NAMES).toContain(n);
  });
});
