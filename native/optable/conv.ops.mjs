// Convolution, pooling and normalisation. Hand-written checks (geometry), the runtime index
// check of maxPool2dBackward and the profiler's shape strings: native/binding/ops_conv.cpp.
import { bool, enumArg, f32, f64, i32, int, num, op, struct, MAX_EXTENT } from './dsl.mjs';

const DIM = 'int64_t{1} << 31';
const BN_DIM = 'int64_t{1} << 40';

export const structs = {
  PoolGeometry: {
    doc: 'A 2-D pooling window over `planes` (N*C) planes of h x w; the output size is computed natively.',
    fields: [
      ['planes', 0, DIM, { fuzz: [0, 3] }],
      ['h', 1, DIM, { fuzz: [3, 6] }],
      ['w', 1, DIM, { fuzz: [3, 6] }],
      ['kH:kh', 1, DIM, { fuzz: [1, 3] }],
      ['kW:kw', 1, DIM, { fuzz: [1, 3] }],
      ['strideH', 1, DIM, { fuzz: [1, 2] }],
      ['strideW', 1, DIM, { fuzz: [1, 2] }],
      ['padTop', 0, DIM, { fuzz: [0, 2] }],
      ['padLeft', 0, DIM, { fuzz: [0, 2] }],
      ['padBottom', 0, DIM, { fuzz: [0, 2] }],
      ['padRight', 0, DIM, { fuzz: [0, 2] }],
      ['dilH', 1, DIM, { fuzz: [1, 1] }],
      ['dilW', 1, DIM, { fuzz: [1, 1] }],
      ['ceilMode', 0, 0, { bool: true, extra: true, doc: 'Round the output size up (PyTorch ceil_mode).' }],
      ['countIncludePad', 0, 0, { bool: true, doc: 'Average pooling: divide by the window within the padded input.' }],
    ],
  },
  AdaptivePoolGeometry: {
    doc: 'Adaptive pooling of `planes` (N*C) planes of h x w to outH x outW.',
    // The kernels take these one by one; the binding keeps them in a PoolGeometry.
    cpp: 'PoolGeometry',
    fields: [
      ['planes', 0, DIM, { fuzz: [0, 3] }],
      ['h', 1, DIM, { fuzz: [1, 6] }],
      ['w', 1, DIM, { fuzz: [1, 6] }],
      ['outH:out_h', 1, DIM, { fuzz: [1, 4] }],
      ['outW:out_w', 1, DIM, { fuzz: [1, 4] }],
    ],
  },
  BatchNormDims: {
    doc: 'Batch normalisation of x (n, c, s): c channels, s values per channel and sample.',
    cpp: 'BatchNormArgs',
    fields: [
      ['n', 0, BN_DIM, { fuzz: [1, 3] }],
      ['c', 1, BN_DIM, { fuzz: [1, 3] }],
      ['s', 0, BN_DIM, { fuzz: [2, 4] }],
    ],
  },
};

// ---- convolution ----------------------------------------------------------------------------
const convX = 'geometry.n * geometry.cIn * geometry.h * geometry.w';
const convW = 'geometry.cOut * (geometry.cIn / geometry.groups) * geometry.kH * geometry.kW';
const convY = 'geometry.n * geometry.cOut * outH * outW';
// The output size (ConvGeometry::out_h/out_w), set by check() once the kernel is known to fit
// the padded input; in JS for the binding fuzz.
const convSize = (n, k, s, a, b, d) => {
  const g = (f) => `v.geometry.${f}`;
  return `Math.floor((${g(n)} + ${g(a)} + ${g(b)} - ${g(d)} * (${g(k)} - 1) - 1) / ${g(s)}) + 1`;
};
const convDerived = [
  ['int64_t', 'outH', convSize('h', 'kH', 'strideH', 'padTop', 'padBottom', 'dilH')],
  ['int64_t', 'outW', convSize('w', 'kW', 'strideW', 'padLeft', 'padRight', 'dilW')],
];
const convFlops =
  '2.0 * double(geometry.n * geometry.c_out * out_h * out_w) * double(geometry.c_in / geometry.groups) * double(geometry.kh * geometry.kw)';
const convLens = {
  x: 'double(geometry.n * geometry.c_in * geometry.h * geometry.w)',
  w: 'double(geometry.c_out * (geometry.c_in / geometry.groups) * geometry.kh * geometry.kw)',
  y: 'double(geometry.n * geometry.c_out * out_h * out_w)',
};

// ---- pooling --------------------------------------------------------------------------------
const planeIn = 'geometry.planes * geometry.h * geometry.w';
const planeOut = 'geometry.planes * outH * outW';
// pool_output_size in JS (for the binding fuzz).
const poolSize = (n, k, s, a, b, d) => {
  const g = (f) => `v.geometry.${f}`;
  const span = `${g(n)} + ${g(a)} + ${g(b)} - ${g(d)} * (${g(k)} - 1) - 1`;
  const out = `(${g('ceilMode')} ? Math.ceil(sp / ${g(s)}) : Math.floor(sp / ${g(s)})) + 1`;
  const last = `${g('ceilMode')} && (o - 1) * ${g(s)} >= ${g(n)} + ${g(a)} ? o - 1 : o`;
  return `((sp: number) => (sp < 0 ? 0 : ((o: number) => (${last}))(${out})))(${span})`;
};
// The output size (pool_output_size), set by check(), which also stores it in the geometry.
const poolDerived = [
  ['int64_t', 'outH', poolSize('h', 'kH', 'strideH', 'padTop', 'padBottom', 'dilH')],
  ['int64_t', 'outW', poolSize('w', 'kW', 'strideW', 'padLeft', 'padRight', 'dilW')],
];
const poolWindows = 'double(geometry.planes * out_h * out_w)';

// ---- normalisation --------------------------------------------------------------------------
const bnX = 'dims.n * dims.c * dims.s';
const bnStats = '2 * dims.c + 1';
const perChannel = (name, o = {}) => f32(name, { len: 'dims.c', lenWhy: 'one per channel', ...o });
const perElement = (name, o = {}) => f32(name, { len: 'd', lenWhy: 'one per normalised element', ...o });
const perRow = (name, o = {}) => f32(name, { len: 'rows', lenWhy: 'one per row', ...o });
const sameAsX = (name, o = {}) => f32(name, { len: 'len(x)', lenWhy: "same as 'x'", ...o });
const bnShapes = '"[" + std::to_string(dims.n) + "," + std::to_string(dims.c) + "," + std::to_string(dims.s) + "]"';
const lnShapes = 'std::to_string(rows) + "x" + std::to_string(d)';

export default [
  op({
    name: 'conv2d',
    doc: 'y = act(conv2d(x, weight) + bias); x (n, cIn, h, w), weight (cOut, cIn / groups, kH, kW), y (n, cOut, outH, outW).',
    args: [
      f32('x', { len: convX, lenWhy: 'n*cIn*h*w' }),
      f32('weight', { len: convW, lenWhy: 'cOut*(cIn/groups)*kH*kW' }),
      f32('bias', { optional: true, len: 'geometry.cOut', lenWhy: 'one per output channel' }),
      struct('geometry', 'ConvGeometry'),
      enumArg('activation', 'UnaryOp'),
      num('activationParam'),
      f32('y', { out: true, writesAll: true, len: convY, lenWhy: 'n*cOut*outH*outW' }),
    ],
    derived: convDerived,
    check: true,
    run: 'conv2d_forward(geometry, x, weight, bias, activation, activation_param, y)',
    flops: convFlops,
    bytes: `4.0 * (${convLens.x} + ${convLens.w} + ${convLens.y})`,
  }),
  op({
    name: 'conv2dBackwardData',
    doc: 'dx += (or =, with overwrite) the data gradient of conv2d for the upstream gradient dy (of its pre-activation output).',
    args: [
      f32('dy', { len: convY, lenWhy: 'n*cOut*outH*outW' }),
      f32('weight', { len: convW, lenWhy: 'cOut*(cIn/groups)*kH*kW' }),
      struct('geometry', 'ConvGeometry'),
      f32('dx', { out: true, writesAll: 'overwrite', len: convX, lenWhy: 'n*cIn*h*w' }),
      bool('overwrite', { fallback: false }),
    ],
    // A recorded program sets overwrite itself for a fresh dx (program.cpp).
    overwrite: { flag: 'overwrite', target: 'dx' },
    derived: convDerived,
    check: true,
    run: 'conv2d_backward_data(geometry, dy, weight, dx, overwrite)',
    flops: convFlops,
    bytes: `4.0 * (2.0 * ${convLens.x} + ${convLens.w} + ${convLens.y})`,
  }),
  op({
    name: 'conv2dBackwardWeight',
    doc: 'dw += the weight gradient of conv2d; db += the bias gradient (db may be null).',
    args: [
      f32('x', { len: convX, lenWhy: 'n*cIn*h*w' }),
      f32('dy', { len: convY, lenWhy: 'n*cOut*outH*outW' }),
      struct('geometry', 'ConvGeometry'),
      f32('dw', { out: true, len: convW, lenWhy: 'cOut*(cIn/groups)*kH*kW' }),
      f32('db', { out: true, optional: true, len: 'geometry.cOut', lenWhy: 'one per output channel' }),
    ],
    derived: convDerived,
    check: true,
    run: 'conv2d_backward_weight(geometry, x, dy, dw, db)',
    flops: convFlops,
    bytes: `4.0 * (${convLens.x} + 2.0 * ${convLens.w} + ${convLens.y})`,
  }),
  op({
    name: 'maxPool2d',
    doc:
      'y = the window maxima; index = the argmax position within its input plane (h * W + w).\n' +
      'globalIndex (may be omitted): the same positions over the whole input, plane * H * W +\n' +
      'h * W + w (ONNX MaxPool Indices, storage_order 0), or with columnMajor plane * H * W +\n' +
      'w * H + h (storage_order 1); planes * H * W must fit int32.',
    args: [
      f32('x', { len: planeIn, lenWhy: 'planes*h*w' }),
      struct('geometry', 'PoolGeometry'),
      f32('y', { out: true, writesAll: true, len: planeOut, lenWhy: 'planes*outH*outW' }),
      i32('index', { out: true, writesAll: true, len: 'len(y)', lenWhy: "same as 'y'" }),
      // `fallback`: may be omitted (TS: optional); run_cpu() writes it after the forward.
      i32('globalIndex', {
        out: true,
        optional: true,
        fallback: null,
        writesAll: true,
        len: 'len(y)',
        lenWhy: "same as 'y'",
      }),
      bool('columnMajor', { fallback: false }),
    ],
    derived: poolDerived,
    check: true,
    flops: `${poolWindows} * double(geometry.kh * geometry.kw)`,
    bytes:
      '4.0 * double(geometry.planes * (geometry.h * geometry.w + 2 * out_h * out_w)) +' +
      ' (has_global_index ? 8.0 * double(geometry.planes * out_h * out_w) : 0.0)',
  }),
  op({
    name: 'maxPool2dBackward',
    doc:
      'dx[plane, index] += dy; every index is checked against its plane when the op runs.\n' +
      'overwrite: zero each dx plane before scattering into it. reluMask: the pooled output of a\n' +
      "relu's output; dy is dropped where it is not > 0 (the relu's gradient).",
    args: [
      i32('index', { len: planeOut, lenWhy: 'planes*outH*outW' }),
      f32('dy', { len: planeOut, lenWhy: 'planes*outH*outW' }),
      struct('geometry', 'PoolGeometry'),
      f32('dx', { out: true, writesAll: 'overwrite', len: planeIn, lenWhy: 'planes*h*w' }),
      bool('overwrite', { fallback: false }),
      // `fallback: null`: may be omitted (TS: optional), as overwrite before it.
      f32('reluMask', { optional: true, fallback: null, len: planeOut, lenWhy: 'planes*outH*outW' }),
    ],
    derived: poolDerived,
    check: true,
    // A recorded program sets overwrite itself for a fresh dx (program.cpp).
    overwrite: { flag: 'overwrite', target: 'dx' },
    flops: poolWindows,
    bytes: `12.0 * ${poolWindows}`,
  }),
  op({
    name: 'avgPool2d',
    doc: 'y = the window means (no dilation).',
    args: [
      f32('x', { len: planeIn, lenWhy: 'planes*h*w' }),
      struct('geometry', 'PoolGeometry'),
      f32('y', { out: true, writesAll: true, len: planeOut, lenWhy: 'planes*outH*outW' }),
    ],
    derived: poolDerived,
    check: true,
    run: 'avg_pool2d_forward(geometry, x, y)',
    flops: `${poolWindows} * double(geometry.kh * geometry.kw)`,
    bytes: '4.0 * double(geometry.planes * (geometry.h * geometry.w + out_h * out_w))',
  }),
  op({
    name: 'avgPool2dBackward',
    doc: 'dx = the gradient of avgPool2d for dy.',
    args: [
      f32('dy', { len: planeOut, lenWhy: 'planes*outH*outW' }),
      struct('geometry', 'PoolGeometry'),
      f32('dx', { out: true, len: planeIn, lenWhy: 'planes*h*w' }),
    ],
    derived: poolDerived,
    check: true,
    run: 'avg_pool2d_backward(geometry, dy, dx)',
    flops: `${poolWindows} * double(geometry.kh * geometry.kw)`,
    bytes: '4.0 * double(geometry.planes * (2 * geometry.h * geometry.w + out_h * out_w))',
  }),
  op({
    name: 'adaptiveAvgPool2d',
    doc: 'y (planes, outH, outW) = the means of the adaptive windows of x (planes, h, w).',
    args: [
      f32('x', { len: planeIn, lenWhy: 'planes*h*w' }),
      struct('geometry', 'AdaptivePoolGeometry'),
      f32('y', { out: true, writesAll: true, len: 'geometry.planes * geometry.outH * geometry.outW', lenWhy: 'planes*outH*outW' }),
    ],
    run: 'adaptive_avg_pool2d_forward(geometry.planes, geometry.h, geometry.w, geometry.out_h, geometry.out_w, x, y)',
    flops: 'double(geometry.planes * geometry.h * geometry.w)',
    bytes: '4.0 * double(geometry.planes * (geometry.h * geometry.w + geometry.out_h * geometry.out_w))',
  }),
  op({
    name: 'adaptiveAvgPool2dBackward',
    doc: 'dx = the gradient of adaptiveAvgPool2d for dy.',
    args: [
      f32('dy', { len: 'geometry.planes * geometry.outH * geometry.outW', lenWhy: 'planes*outH*outW' }),
      struct('geometry', 'AdaptivePoolGeometry'),
      f32('dx', { out: true, len: planeIn, lenWhy: 'planes*h*w' }),
    ],
    run: 'adaptive_avg_pool2d_backward(geometry.planes, geometry.h, geometry.w, geometry.out_h, geometry.out_w, dy, dx)',
    flops: 'double(geometry.planes * geometry.h * geometry.w)',
    bytes: '4.0 * double(geometry.planes * (2 * geometry.h * geometry.w + geometry.out_h * geometry.out_w))',
  }),
  op({
    name: 'batchNorm',
    doc:
      'Batch normalisation of x (n, c, s) over n and s. training: normalise by the batch statistics\n' +
      '(saved for the backward) and update the running ones; otherwise use the running ones.',
    args: [
      f32('x', { len: bnX, lenWhy: 'n*c*s' }),
      perChannel('gamma', { optional: true }),
      perChannel('beta', { optional: true }),
      perChannel('runningMean', { optional: true, out: true }),
      perChannel('runningVar', { optional: true, out: true }),
      struct('dims', 'BatchNormDims'),
      num('eps'),
      num('momentum'),
      bool('training'),
      sameAsX('y', { out: true, writesAll: true, alias: { x: 'true', residual: 'true' } }),
      perChannel('saveMean', { out: true, writesAll: true }),
      perChannel('saveInvstd', { out: true, writesAll: true }),
      sameAsX('residual', { optional: true, doc: 'added after the norm, before the relu' }),
      bool('relu', { fallback: false }),
      f64('stats', {
        optional: true,
        len: bnStats,
        lenWhy: '2 per channel + the count',
        doc: "the replicas' summed batchNormStats (cross-replica batch norm): the statistics instead of x's",
      }),
    ],
    check: true,
    runCheck: 'bn_stats_problem(stats, dims.c)',
    fields: ['BatchNormArgs args() const;'],
    run: 'batch_norm_forward(args(), x, residual, gamma, beta, running_mean, running_var, y, save_mean, save_invstd)',
    flops: '(5.0 + (has_residual ? 1.0 : 0.0) + (relu ? 1.0 : 0.0)) * double(dims.n * dims.c * dims.s)',
    bytes: '(12.0 + (has_residual ? 4.0 : 0.0)) * double(dims.n * dims.c * dims.s)',
    shapes: bnShapes,
  }),
  op({
    name: 'batchNormBackward',
    doc:
      'The gradient of y = relu?(bn(x) + residual): with g = dy where y > 0 (relu) else dy, dx += (or =, with\n' +
      'overwrite) the gradient through the norm, dgamma += sum g xhat, dbeta += sum g, dresidual = g (each may\n' +
      'be null; y, the forward output, is required with relu).',
    args: [
      f32('x', { len: bnX, lenWhy: 'n*c*s' }),
      sameAsX('dy'),
      perChannel('gamma', { optional: true }),
      perChannel('saveMean'),
      perChannel('saveInvstd'),
      struct('dims', 'BatchNormDims'),
      bool('training'),
      sameAsX('dx', { out: true, optional: true, writesAll: 'overwrite' }),
      perChannel('dgamma', { out: true, optional: true }),
      perChannel('dbeta', { out: true, optional: true }),
      sameAsX('y', { optional: true, doc: "the forward output (the relu's gate)" }),
      sameAsX('dresidual', { out: true, optional: true, writesAll: true, alias: { dy: 'true' } }),
      bool('relu', { fallback: false }),
      bool('overwrite', { fallback: false }),
      f64('stats', {
        optional: true,
        len: bnStats,
        lenWhy: '2 per channel + the count',
        doc: "the replicas' summed batchNormGradStats (cross-replica batch norm): the sums instead of this batch's",
      }),
    ],
    check: true,
    runCheck: 'bn_stats_problem(stats, dims.c)',
    // A recorded program sets overwrite itself for a fresh dx (program.cpp).
    overwrite: { flag: 'overwrite', target: 'dx' },
    fields: ['BatchNormArgs args() const;'],
    run: 'batch_norm_backward(args(), x, dy, y, gamma, save_mean, save_invstd, dx, overwrite, dgamma, dbeta, dresidual)',
    flops: '8.0 * double(dims.n * dims.c * dims.s)',
    bytes: '(16.0 + (has_y ? 8.0 : 0.0) + (has_dresidual ? 4.0 : 0.0)) * double(dims.n * dims.c * dims.s)',
    shapes: bnShapes,
  }),
  op({
    name: 'batchNormStats',
    doc:
      "This batch's half of a cross-replica batch norm: per channel c, stats[2c] = sum x, stats[2c+1] = sum\n" +
      'x^2 (double), stats[2c] = the values per channel; summed over replicas, they are batchNorm\'s stats.',
    args: [
      f32('x', { len: bnX, lenWhy: 'n*c*s' }),
      struct('dims', 'BatchNormDims'),
      f64('stats', { out: true, writesAll: true, len: bnStats, lenWhy: '2 per channel + the count' }),
    ],
    fields: ['BatchNormArgs args() const;'],
    run: 'batch_norm_stats(args(), x, stats)',
    flops: '3.0 * double(dims.n * dims.c * dims.s)',
    bytes: '4.0 * double(dims.n * dims.c * dims.s)',
    shapes: bnShapes,
  }),
  op({
    name: 'batchNormGradStats',
    doc:
      "The backward's half of a cross-replica batch norm: with g = dy where y > 0 (relu) else dy, stats[2c] =\n" +
      'sum g, stats[2c+1] = sum g (x - mean), stats[2C] = the count; this batch\'s dgamma += sum g xhat, dbeta +=\n' +
      "sum g (each may be null). Summed over replicas, the stats are batchNormBackward's.",
    args: [
      f32('x', { len: bnX, lenWhy: 'n*c*s' }),
      sameAsX('dy'),
      perChannel('saveMean'),
      perChannel('saveInvstd'),
      struct('dims', 'BatchNormDims'),
      f64('stats', { out: true, writesAll: true, len: bnStats, lenWhy: '2 per channel + the count' }),
      perChannel('dgamma', { out: true, optional: true }),
      perChannel('dbeta', { out: true, optional: true }),
      sameAsX('y', { optional: true, doc: "the forward output (the relu's gate)" }),
      bool('relu', { fallback: false }),
    ],
    check: true,
    fields: ['BatchNormArgs args() const;'],
    run: 'batch_norm_grad_stats(args(), x, dy, y, save_mean, save_invstd, stats, dgamma, dbeta)',
    flops: '4.0 * double(dims.n * dims.c * dims.s)',
    bytes: '(8.0 + (has_y ? 4.0 : 0.0)) * double(dims.n * dims.c * dims.s)',
    shapes: bnShapes,
  }),
  op({
    name: 'layerNorm',
    doc: 'Layer normalisation of each of the rows of x (rows, d); the statistics are saved for the backward.',
    args: [
      f32('x', { len: 'rows * d', lenWhy: 'rows*d' }),
      perElement('gamma', { optional: true }),
      perElement('beta', { optional: true }),
      int('rows', 0, MAX_EXTENT),
      int('d', 1, MAX_EXTENT),
      num('eps'),
      sameAsX('y', { out: true, writesAll: true, alias: { x: 'true' } }),
      perRow('saveMean', { out: true, writesAll: true }),
      perRow('saveInvstd', { out: true, writesAll: true }),
    ],
    check: true,
    run: 'layer_norm_forward(rows, d, eps, x, gamma, beta, y, save_mean, save_invstd)',
    flops: '5.0 * double(rows * d)',
    bytes: '12.0 * double(rows * d)',
    shapes: lnShapes,
  }),
  op({
    name: 'layerNormBackward',
    doc: 'dx += ..., dgamma += ..., dbeta += ... (each may be null).',
    args: [
      f32('x', { len: 'rows * d', lenWhy: 'rows*d' }),
      sameAsX('dy'),
      perElement('gamma', { optional: true }),
      perRow('saveMean'),
      perRow('saveInvstd'),
      int('rows', 0, MAX_EXTENT),
      int('d', 1, MAX_EXTENT),
      sameAsX('dx', { out: true, optional: true }),
      perElement('dgamma', { out: true, optional: true }),
      perElement('dbeta', { out: true, optional: true }),
    ],
    run: 'layer_norm_backward(rows, d, x, dy, gamma, save_mean, save_invstd, dx, dgamma, dbeta)',
    flops: '8.0 * double(rows * d)',
    bytes: '16.0 * double(rows * d)',
    shapes: lnShapes,
  }),
];
