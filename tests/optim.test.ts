/**
 * Optimizers and LR schedules against PyTorch: trajectories of ten steps from fixed gradients
 * and lr sequences, all produced by torch (tools/torch_reference.py writes
 * tests/fixtures/torch-reference.json), an implementation independent of ours.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  Adagrad,
  Adam,
  AdamW,
  CosineAnnealingLR,
  ExponentialLR,
  MultiStepLR,
  OneCycleLR,
  ReduceLROnPlateau,
  RMSprop,
  SGD,
  StepLR,
  clipGradNorm,
  clipGradValue,
  tensor,
  zeros,
  type Tensor,
} from '../src/index.js';

const ref = JSON.parse(readFileSync(new URL('./fixtures/torch-reference.json', import.meta.url), 'utf8'));

type Make = (p: Tensor[], o: Record<string, unknown>) => { step(): void };
const camel = (o: Record<string, unknown>): Record<string, unknown> => {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) out[k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())] = v;
  return out;
};
const makers: Record<string, Make> = {
  SGD: (p, o) => new SGD(p, o),
  Adam: (p, o) => new Adam(p, o),
  AdamW: (p, o) => new AdamW(p, o),
  RMSprop: (p, o) => new RMSprop(p, o),
  Adagrad: (p, o) => new Adagrad(p, o),
};
const classOf: Record<string, string> = {
  sgd: 'SGD',
  adam: 'Adam',
  adamw: 'AdamW',
  rmsprop: 'RMSprop',
  adagrad: 'Adagrad',
};

describe('optimizers match torch.optim step by step', () => {
  for (const [name, c] of Object.entries<{ options: Record<string, unknown>; trajectory: number[][] }>(
    ref.optimizers.cases,
  )) {
    it(name, () => {
      const p = tensor(ref.optimizers.p0).setRequiresGrad();
      const opts = camel(c.options);
      if (Array.isArray(opts.betas)) opts.betas = [...(opts.betas as number[])];
      const opt = makers[classOf[name.split('_')[0]]]([p], opts);
      ref.optimizers.grads.forEach((g: number[], s: number) => {
        p.grad = tensor(g);
        opt.step();
        // float32 state vs torch's float64: a few float32 ulps of drift per step.
        const want = c.trajectory[s];
        for (let i = 0; i < want.length; i++) expect(p.data[i]).toBeCloseTo(want[i], 5);
      });
    });
  }

  it('round-trips its state through stateDict()', () => {
    const p = tensor(ref.optimizers.p0).setRequiresGrad();
    const opt = new Adam([p], { lr: 0.01, amsgrad: true });
    const q = tensor(ref.optimizers.p0).setRequiresGrad();
    const opt2 = new Adam([q], { lr: 0.5 });
    for (let s = 0; s < 5; s++) {
      p.grad = tensor(ref.optimizers.grads[s]);
      opt.step();
    }
    q.data.set(p.data);
    opt2.loadStateDict(JSON.parse(JSON.stringify(opt.stateDict())));
    expect(opt2.paramGroups[0].lr).toBe(0.01);
    expect(opt2.paramGroups[0].amsgrad).toBe(true);
    for (let s = 5; s < 10; s++) {
      p.grad = tensor(ref.optimizers.grads[s]);
      q.grad = tensor(ref.optimizers.grads[s]);
      opt.step();
      opt2.step();
    }
    expect(Array.from(q.data)).toEqual(Array.from(p.data));
  });

  it('supports parameter groups with their own learning rates', () => {
    const a = zeros([2]).setRequiresGrad();
    const b = zeros([2]).setRequiresGrad();
    const opt = new SGD([{ params: [a] }, { params: [b], lr: 1 }], { lr: 0.1 });
    a.grad = tensor([1, 1]);
    b.grad = tensor([1, 1]);
    opt.step();
    expect(Array.from(a.data)).toEqual([Math.fround(-0.1), Math.fround(-0.1)]);
    expect(Array.from(b.data)).toEqual([-1, -1]);
  });

  it('rejects bad hyperparameters with clear errors', () => {
    const p = zeros([2]).setRequiresGrad();
    expect(() => new SGD([p], { lr: NaN })).toThrow('SGD: lr must be a finite number >= 0, got NaN');
    expect(() => new Adam([p], { lr: -1 })).toThrow('Adam: lr must be a finite number >= 0');
    expect(() => new Adam([p], { betas: [1, 0.9] })).toThrow('Adam: betas[0] must be in [0, 1)');
    expect(() => new SGD([p], { nesterov: true })).toThrow('Nesterov momentum requires a momentum > 0');
    expect(() => new RMSprop([p], { alpha: 2 })).toThrow('RMSprop: alpha must be in [0, 1]');
    expect(() => new SGD([p, p])).toThrow('appears in more than one group');
    const opt = new SGD([p], { lr: 0.1 });
    opt.paramGroups[0].lr = Infinity;
    p.grad = tensor([1, 1]);
    expect(() => opt.step()).toThrow('SGD: lr must be a finite number >= 0, got Infinity (group 0)');
  });

  it('zeroGrad drops gradients by default and zero-fills them in place with setToNone = false', () => {
    const p = zeros([3]).setRequiresGrad();
    const opt = new SGD([p], { lr: 0.1 });
    p.grad = tensor([1, 2, 3]);
    const buf = p.grad;
    opt.zeroGrad(false);
    expect(p.grad).toBe(buf);
    expect(Array.from(buf.data)).toEqual([0, 0, 0]);
    opt.zeroGrad();
    expect(p.grad).toBeNull();
  });
});

describe('gradient clipping', () => {
  it('clips by global norm like torch.nn.utils.clip_grad_norm_', () => {
    const a = zeros([2]).setRequiresGrad();
    const b = zeros([1]).setRequiresGrad();
    a.grad = tensor([3, 4]);
    b.grad = tensor([12]);
    const norm = clipGradNorm([a, b], 6.5);
    expect(norm).toBeCloseTo(13, 6);
    const scale = 6.5 / (13 + 1e-6);
    expect(a.grad.data[0]).toBeCloseTo(3 * scale, 6);
    expect(b.grad.data[0]).toBeCloseTo(12 * scale, 5);
    expect(clipGradNorm([a, b], 100)).toBeCloseTo(6.5, 5); // no change below the limit
    expect(clipGradNorm([a, b], 1, Infinity)).toBeCloseTo(12 * scale, 5);
  });
  it('clips by value', () => {
    const a = zeros([4]).setRequiresGrad();
    a.grad = tensor([-3, -0.5, 0.5, 3]);
    clipGradValue([a], 1);
    expect(Array.from(a.grad.data)).toEqual([-1, -0.5, 0.5, 1]);
    expect(() => clipGradValue([a], NaN)).toThrow('clipGradValue: clipValue must be a finite number >= 0');
  });
});

describe('LR schedules match torch.optim.lr_scheduler', () => {
  type Sched = { lrs: number[]; momentum: number[] };
  const run = (name: string, make: (o: SGD) => { step(m?: number): void }, metrics?: number[]): void => {
    const want: Sched = ref.schedulers[name];
    const p = zeros([1]).setRequiresGrad();
    const opt = new SGD([p], { lr: 0.1, momentum: 0.9 });
    const s = make(opt);
    const lrs = [opt.paramGroups[0].lr];
    const moms = [opt.paramGroups[0].momentum];
    for (let i = 0; i < want.lrs.length - 1; i++) {
      s.step(metrics?.[i]);
      lrs.push(opt.paramGroups[0].lr);
      moms.push(opt.paramGroups[0].momentum);
    }
    lrs.forEach((v, i) => expect(v).toBeCloseTo(want.lrs[i], 10));
    moms.forEach((v, i) => expect(v).toBeCloseTo(want.momentum[i], 10));
  };
  it('StepLR', () => run('step', (o) => new StepLR(o, 3, 0.5)));
  it('MultiStepLR', () => run('multistep', (o) => new MultiStepLR(o, [2, 5, 9], 0.3)));
  it('ExponentialLR', () => run('exponential', (o) => new ExponentialLR(o, 0.9)));
  it('CosineAnnealingLR', () => run('cosine', (o) => new CosineAnnealingLR(o, { tMax: 10, etaMin: 0.001 })));
  it('OneCycleLR (cos, with momentum cycling)', () =>
    run('onecycle', (o) => new OneCycleLR(o, { maxLr: 1, totalSteps: 12 })));
  it('OneCycleLR (linear, three phases)', () =>
    run(
      'onecycle_linear_3phase',
      (o) =>
        new OneCycleLR(o, { maxLr: 0.5, totalSteps: 12, annealStrategy: 'linear', threePhase: true, pctStart: 0.25 }),
    ));
  it('ReduceLROnPlateau', () =>
    run(
      'plateau',
      (o) => {
        const s = new ReduceLROnPlateau(o, { factor: 0.5, patience: 2, cooldown: 1, minLr: 0.02 });
        return { step: (m?: number) => s.step(m as number) };
      },
      ref.schedulers.plateauMetrics,
    ));
  it('cosine warm-up ramps linearly, then anneals', () => {
    const p = zeros([1]).setRequiresGrad();
    const opt = new SGD([p], { lr: 1 });
    const s = new CosineAnnealingLR(opt, { tMax: 4, warmupSteps: 4, warmupStartFactor: 0 });
    const lrs = [opt.paramGroups[0].lr];
    for (let i = 0; i < 8; i++) {
      s.step();
      lrs.push(opt.paramGroups[0].lr);
    }
    expect(lrs.map((v) => +v.toFixed(6))).toEqual([0, 0.25, 0.5, 0.75, 1, 0.853553, 0.5, 0.146447, 0]);
  });
  it('resumes from stateDict', () => {
    const p = zeros([1]).setRequiresGrad();
    const opt = new SGD([p], { lr: 1 });
    const s = new StepLR(opt, 2, 0.5);
    for (let i = 0; i < 5; i++) s.step();
    const opt2 = new SGD([zeros([1]).setRequiresGrad()], { lr: 1 });
    const s2 = new StepLR(opt2, 2, 0.5);
    s2.loadStateDict(s.stateDict());
    expect(opt2.paramGroups[0].lr).toBe(opt.paramGroups[0].lr);
    s.step();
    s2.step();
    expect(opt2.paramGroups[0].lr).toBe(opt.paramGroups[0].lr);
  });
  it('rejects bad arguments', () => {
    const opt = new SGD([zeros([1]).setRequiresGrad()], { lr: 1 });
    expect(() => new StepLR(opt, 0)).toThrow('StepLR: stepSize must be a positive integer, got 0');
    expect(() => new OneCycleLR(opt, { maxLr: 1, totalSteps: 10, pctStart: 1.5 })).toThrow(
      'pctStart must be in (0, 1)',
    );
    expect(() => new ReduceLROnPlateau(opt, { factor: 1 })).toThrow('factor must be in (0, 1)');
  });
});
