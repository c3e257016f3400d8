// Optimizer updates, gradient clipping, losses, dropout and the crop/flip augmentation.
// Hand-written checks and run(): native/binding/ops_optim.cpp. Everything these ops read from
// JS-owned data when they run (hyperparameters, the clipping limits, class labels, random
// state) is checked at parse (check()) and again on every run (run()), since a recorded
// Program replays them on new data without parsing again.
import { bool, f32, f32List, f64, i32, int, num, op, struct, MAX_EXTENT } from './dsl.mjs';

const DIM = 'int64_t{1} << 31';
export const structs = {
  CropFlipGeometry: {
    doc: "randomCropFlip's geometry: the input [n, c, h, w], the crop outH x outW and the zero padding.",
    fields: [
      ['n', 0, DIM, { fuzz: [0, 2] }],
      ['c', 1, DIM, { fuzz: [1, 2] }],
      ['h', 1, DIM, { fuzz: [1, 5] }],
      ['w', 1, DIM, { fuzz: [1, 5] }],
      ['outH', 1, DIM, { fuzz: [1, 1] }],
      ['outW', 1, DIM, { fuzz: [1, 1] }],
      ['pad', 0, DIM, { fuzz: [0, 2] }],
    ],
  },
};

const perElement = 'one per parameter element';
const nShapes = '"n=" + std::to_string(param_len)';
// The random stream of dropout and randomCropFlip, advanced by the op.
const randomState = () => f64('state', { out: true, cells: ['seedHigh', 'seedLow', 'counter'] });

// crossEntropy and its backward: logits (n, c), exactly one of the targets, the options.
const ceArgs = [
  f32('logits', { len: 'n * c' }),
  int('n', 0, MAX_EXTENT, { fuzz: [0, 5] }),
  int('c', 1, 'INT32_MAX', { fuzz: [1, 5] }),
  i32('targetIndex', { optional: true, len: 'n', lenWhy: 'one class index per row' }),
  f32('targetProb', { optional: true, len: 'len(logits)', lenWhy: 'same shape as logits' }),
  f32('classWeight', { optional: true, len: 'c', lenWhy: 'one weight per class' }),
  num('labelSmoothing', { double: true }),
  int('ignoreIndex', 'INT32_MIN', 'INT32_MAX', { fuzz: [-100, -100] }),
  int('reduction', 0, 2, { fuzz: [0, 2], doc: '0 none, 1 mean, 2 sum' }),
];
// n values unreduced, else one.
const ceDerived = [['int64_t', 'reducedLen', 'Number(v.reduction) === 0 ? Number(v.n) : 1']];
const ceShapes = '"[" + std::to_string(n) + "," + std::to_string(c) + "]"';
const oneValue = 'one per row, or one value when reduced';

// bceLogits and its backward: x, target, posWeight|null (c values), c.
const bceLogitsArgs = [
  f32('x'),
  f32('target', { len: 'len(x)', lenWhy: 'same shape as the input' }),
  f32('posWeight', { optional: true, len: 'c', lenWhy: 'one per class (the last axis)' }),
  int('c', 1, MAX_EXTENT, { fuzz: [1, 1] }),
];
const bceShapes = '"n=" + std::to_string(x_len)';
const sameAsInput = (name, o = {}) => f32(name, { len: 'len(x)', lenWhy: 'same shape as the input', ...o });
const sameAsP = (name, o = {}) => f32(name, { len: 'len(p)', lenWhy: 'same shape as the input', ...o });

export default [
  op({
    name: 'sgdStep',
    doc:
      'Fused SGD update. hyper = [lr, momentum, dampening, weightDecay, nesterov, maximize, started]\n' +
      '(SgdStepHyper); read when the op runs (so a replayed Program sees lr changes); `started`\n' +
      'becomes 1 after the first momentum step.',
    args: [
      f32('param', { out: true }),
      f32('grad', { len: 'len(param)', lenWhy: perElement }),
      f32('momentumBuf', { out: true, optional: true, len: 'len(param)', lenWhy: perElement }),
      f64('hyper', {
        out: true,
        cells: ['lr', 'momentum', 'dampening', 'weightDecay', 'nesterov', 'maximize', 'started', 'step'],
      }),
    ],
    check: true,
    runCheck: 'sgd_problem(hyper)',
    flops: '6.0 * double(param_len)',
    bytes: '20.0 * double(param_len)',
    shapes: nShapes,
  }),
  op({
    name: 'adamStep',
    doc:
      'Fused Adam/AdamW update. hyper = [lr, beta1, beta2, eps, weightDecay, decoupled, amsgrad,\n' +
      'maximize, step] (AdamStepHyper); `step` (updates done) is incremented before the update.',
    args: [
      f32('param', { out: true }),
      f32('grad', { len: 'len(param)', lenWhy: perElement }),
      f32('m', { out: true, len: 'len(param)', lenWhy: perElement }),
      f32('v', { out: true, len: 'len(param)', lenWhy: perElement }),
      f32('vmax', { out: true, optional: true, len: 'len(param)', lenWhy: perElement }),
      f64('hyper', {
        out: true,
        cells: ['lr', 'beta1', 'beta2', 'eps', 'weightDecay', 'decoupled', 'amsgrad', 'maximize', 'step'],
      }),
    ],
    check: true,
    runCheck: 'adam_problem(hyper)',
    flops: '14.0 * double(param_len)',
    bytes: '28.0 * double(param_len)',
    shapes: nShapes,
  }),
  op({
    name: 'rmspropStep',
    doc: 'Fused RMSprop update. hyper = [lr, alpha, eps, weightDecay, momentum, centered, maximize] (RmspropStepHyper).',
    args: [
      f32('param', { out: true }),
      f32('grad', { len: 'len(param)', lenWhy: perElement }),
      f32('squareAvg', { out: true, len: 'len(param)', lenWhy: perElement }),
      f32('gradAvg', { out: true, optional: true, len: 'len(param)', lenWhy: perElement }),
      f32('momentumBuf', { out: true, optional: true, len: 'len(param)', lenWhy: perElement }),
      f64('hyper', { out: true, cells: ['lr', 'alpha', 'eps', 'weightDecay', 'momentum', 'centered', 'maximize', 'step'] }),
    ],
    check: true,
    runCheck: 'rmsprop_problem(hyper)',
    flops: '12.0 * double(param_len)',
    bytes: '28.0 * double(param_len)',
    shapes: nShapes,
  }),
  op({
    name: 'adagradStep',
    doc: 'Fused Adagrad update. hyper = [lr, lrDecay, eps, weightDecay, maximize, step] (AdagradStepHyper).',
    args: [
      f32('param', { out: true }),
      f32('grad', { len: 'len(param)', lenWhy: perElement }),
      f32('sum', { out: true, len: 'len(param)', lenWhy: perElement }),
      f64('hyper', { out: true, cells: ['lr', 'lrDecay', 'eps', 'weightDecay', 'maximize', 'step'] }),
    ],
    runCheck: 'adagrad_problem(hyper)',
    flops: '8.0 * double(param_len)',
    bytes: '20.0 * double(param_len)',
    shapes: nShapes,
  }),
  op({
    name: 'clipGradNorm',
    doc:
      'Scales the gradients together to global norm <= io.maxNorm (io.normType = 2 or Infinity);\n' +
      'io.norm = the norm before (ClipGradNormIo).',
    args: [
      f32List('grads', { out: true, max: 1000000 }),
      f64('io', { out: true, cells: ['maxNorm', 'normType', 'norm'] }),
    ],
    runCheck: 'clip_problem(io)',
    flops: 'double n = 0;\n  for (int64_t s : grads_len) n += double(s);\n  return 3 * n;',
    bytes: '4 * flops() / 3',
    shapes: 'std::to_string(grads.size()) + " tensors"',
  }),
  op({
    name: 'crossEntropy',
    doc:
      'Cross-entropy from logits (n, c); exactly one of the targets is non-null.\n' +
      'reduction 0 = none (out has n values), 1 = mean (divided by the summed target weights),\n' +
      '2 = sum; lse (n) and rows (n) are kept for the backward / used as scratch.',
    args: [
      ...ceArgs,
      f32('out', { out: true, writesAll: true, len: 'reducedLen', lenWhy: oneValue }),
      f32('lse', { out: true, writesAll: true, len: 'n', lenWhy: 'one per row' }),
      f32('rows', { out: true, writesAll: true, len: 'n', lenWhy: 'one per row' }),
    ],
    derived: ceDerived,
    check: true,
    fields: ['CrossEntropyArgs args() const;'],
    flops: '20.0 * double(n) * double(c)',
    bytes: '4.0 * double(n) * double(c)',
    shapes: ceShapes,
  }),
  op({
    name: 'crossEntropyBackward',
    doc: 'dlogits += the gradient of crossEntropy given dout (n values or 1).',
    args: [
      ...ceArgs,
      f32('lse', { len: 'n', lenWhy: 'one per row' }),
      f32('dout', { len: 'reducedLen', lenWhy: oneValue }),
      f32('dlogits', { out: true, len: 'len(logits)', lenWhy: 'same shape as logits' }),
      f32('scratch', { out: true, writesAll: true, len: 'n', lenWhy: 'one per row' }),
    ],
    derived: ceDerived,
    check: true,
    fields: ['CrossEntropyArgs args() const;'],
    flops: '20.0 * double(n) * double(c)',
    bytes: '12.0 * double(n) * double(c)',
    shapes: ceShapes,
  }),
  op({
    name: 'bceLogits',
    doc: 'Elementwise binary cross-entropy on logits; posWeight (c) scales the positive term per class of the last axis.',
    args: [...bceLogitsArgs, sameAsInput('loss', { out: true, writesAll: true })],
    check: true,
    run: 'bce_logits_forward(x, target, pos_weight, c, loss, x_len)',
    flops: '10.0 * double(x_len)',
    bytes: '12.0 * double(x_len)',
    shapes: bceShapes,
  }),
  op({
    name: 'bceLogitsBackward',
    doc: 'dx += the gradient of bceLogits given dloss.',
    args: [...bceLogitsArgs, sameAsInput('dloss'), sameAsInput('dx', { out: true })],
    check: true,
    run: 'bce_logits_backward(x, target, pos_weight, c, dloss, dx, x_len)',
    flops: '10.0 * double(x_len)',
    bytes: '16.0 * double(x_len)',
    shapes: bceShapes,
  }),
  op({
    name: 'bce',
    doc: 'Elementwise binary cross-entropy of probabilities p (logs clamped at -100).',
    args: [f32('p'), sameAsP('target'), sameAsP('loss', { out: true, writesAll: true })],
    run: 'bce_forward(p, target, loss, p_len)',
    flops: '8.0 * double(p_len)',
    bytes: '12.0 * double(p_len)',
    shapes: '"n=" + std::to_string(p_len)',
  }),
  op({
    name: 'bceBackward',
    doc: 'dp += the gradient of bce given dloss.',
    args: [f32('p'), sameAsP('target'), sameAsP('dloss'), sameAsP('dp', { out: true })],
    run: 'bce_backward(p, target, dloss, dp, p_len)',
    flops: '6.0 * double(p_len)',
    bytes: '16.0 * double(p_len)',
    shapes: '"n=" + std::to_string(p_len)',
  }),
  op({
    name: 'dropout',
    doc:
      'Inverted dropout (y may be x); mask receives 0 or 1/(1-p). state = [seedHigh, seedLow, counter]\n' +
      '(DropoutState): each call draws the stream of (seed, counter) and advances the counter.',
    args: [
      f32('x'),
      f32('y', { out: true, writesAll: true, len: 'len(x)', alias: { x: 'true' } }),
      f32('mask', { out: true, writesAll: true, len: 'len(x)' }),
      num('p', { double: true }),
      randomState(),
    ],
    check: true,
    runCheck: 'random_state_problem(state)',
    flops: '4.0 * double(x_len)',
    bytes: '12.0 * double(x_len)',
    shapes: '"n=" + std::to_string(x_len)',
  }),
  op({
    name: 'randomCropFlip',
    doc:
      'Random crop (from x zero-padded by pad) and horizontal flip per sample; random false gives\n' +
      'the centre crop. state as dropout\'s (RandomCropFlipState), advanced per call when random.',
    args: [
      f32('x', { len: 'geometry.n * geometry.c * geometry.h * geometry.w', lenWhy: 'n*c*h*w' }),
      struct('geometry', 'CropFlipGeometry'),
      num('flipP'),
      bool('random'),
      randomState(),
      f32('y', { out: true, writesAll: true, len: 'geometry.n * geometry.c * geometry.outH * geometry.outW', lenWhy: 'n*c*outH*outW' }),
    ],
    check: true,
    runCheck: 'random_state_problem(state)',
    flops: '0',
    bytes: '4.0 * double(geometry.n * geometry.c * (geometry.h * geometry.w + geometry.out_h * geometry.out_w))',
  }),
];
