/**
 * The engine's one backward fusion (src/autograd/engine.ts, BackwardFusion): a max pool that is
 * the only consumer of a relu's output applies the relu's gradient itself, and the relu's
 * backward is skipped. The gradients must be exactly those of the unfused graph, and the fusion
 * must not happen when the relu output has another consumer or retains its gradient.
 */
import { describe, expect, it } from 'vitest';
import { Tensor, conv2d, maxPool2d, randn, relu, startProfiling, stopProfiling } from '../src/index.js';

function backwardOps(fn: () => Tensor): string[] {
  const y = fn();
  startProfiling();
  y.sum().backward();
  return stopProfiling().records.map((r) => r.op);
}

describe('relu -> max pool backward fusion', () => {
  const make = (): { x: Tensor; w: Tensor } => ({
    x: randn([2, 3, 8, 8], { seed: 1 }).setRequiresGrad(),
    w: randn([4, 3, 3, 3], { seed: 2 }).setRequiresGrad(),
  });

  it('skips the relu backward and gives the unfused gradients', () => {
    const a = make();
    const fusedOps = backwardOps(() => maxPool2d(relu(a.x), 2));
    expect(fusedOps).not.toContain('unaryBackward');
    // The same graph with the relu output also feeding a zero-weighted second consumer: no
    // fusion, and the gradient is the same.
    const b = make();
    const unfusedOps = backwardOps(() => {
      const r = relu(b.x);
      return maxPool2d(r, 2).add(r.mul(0).sum());
    });
    expect(unfusedOps).toContain('unaryBackward');
    expect(Array.from(a.x.grad?.data ?? [])).toEqual(Array.from(b.x.grad?.data ?? []));
  });

  it('folds a convolution fused relu too, and not when the relu output retains its grad', () => {
    const a = make();
    const ops = backwardOps(() => maxPool2d(conv2d(a.x, a.w, null, { padding: 1, activation: 'relu' }), 2));
    expect(ops).not.toContain('unaryBackward');
    const b = make();
    const retained = backwardOps(() => {
      const r = conv2d(b.x, b.w, null, { padding: 1, activation: 'relu' });
      r.retainGrad();
      return maxPool2d(r, 2);
    });
    expect(retained).toContain('unaryBackward');
    expect(Array.from(a.w.grad?.data ?? [])).toEqual(Array.from(b.w.grad?.data ?? []));
    expect(Array.from(a.x.grad?.data ?? [])).toEqual(Array.from(b.x.grad?.data ?? []));
  });
});
