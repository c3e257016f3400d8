// Transformer inference and training: scaled dot-product attention, forward and backward
// (native/kernels/cpu/attention.cpp), and the reduced-precision linear layers
// (native/kernels/cpu/lowp_gemm.cpp). Hand-written checks (the mask's reach, the dropout
// probability, the seed cells, the packed weights' size and column sums):
// native/binding/ops_attention.cpp.
import { enumArg, f32, f64, i32, int, num, op, struct, MAX_EXTENT } from './dsl.mjs';

export const structs = {
  AttentionGeometry: {
    doc: [
      'batch*heads heads of q (lq, d), k (lk, d), v (lk, dv), contiguous per head; the additive',
      "mask's element (b, h, i, j) at b*maskStrideB + h*maskStrideH + i*maskStrideQ + j.",
    ].join(' '),
    cpp: 'AttentionArgs',
    fields: [
      ['batch', 0, MAX_EXTENT, { fuzz: [0, 2] }],
      ['heads', 1, MAX_EXTENT, { fuzz: [1, 2] }],
      ['lq', 0, MAX_EXTENT, { fuzz: [0, 4] }],
      ['lk', 0, MAX_EXTENT, { fuzz: [0, 4] }],
      ['d', 1, MAX_EXTENT, { fuzz: [1, 3], doc: 'Query and key features per head.' }],
      ['dv', 1, MAX_EXTENT, { fuzz: [1, 3], doc: 'Value features per head.' }],
      ['causal', 0, 1, { bool: true, doc: 'Key j hidden from query i when j > i.' }],
      ['maskStrideB', 0, MAX_EXTENT, { fuzz: [0, 0] }],
      ['maskStrideH', 0, MAX_EXTENT, { fuzz: [0, 0] }],
      ['maskStrideQ', 0, MAX_EXTENT, { fuzz: [0, 0] }],
    ],
  },
};

const G = 'geometry';
const heads = `${G}.batch * ${G}.heads`;
const qLen = `${heads} * ${G}.lq * ${G}.d`;
const kLen = `${heads} * ${G}.lk * ${G}.d`;
const vLen = `${heads} * ${G}.lk * ${G}.dv`;
const oLen = `${heads} * ${G}.lq * ${G}.dv`;
const inputs = [
  f32('q', { len: qLen, lenWhy: 'batch*heads*lq*d' }),
  f32('k', { len: kLen, lenWhy: 'batch*heads*lk*d' }),
  f32('v', { len: vLen, lenWhy: 'batch*heads*lk*dv' }),
  f32('mask', { optional: true, fuzzLen: '0', doc: 'Additive; its reach is checked by check().' }),
  struct(G, 'AttentionGeometry'),
  num('scale'),
  num('dropout', { fuzz: [0, 0], doc: 'Probability of dropping a weight, in [0, 1).' }),
];
// The seed dropout used, as two 32-bit halves: written by attention, read by its backward.
const seedCells = ['high', 'low'];
const pairs = `double(${heads}) * double(${G}.lq) * double(${G}.lk)`;
const shapes =
  'std::to_string(geometry.batch) + "x" + std::to_string(geometry.heads) + " q" + ' +
  'std::to_string(geometry.lq) + " k" + std::to_string(geometry.lk) + " d" + ' +
  'std::to_string(geometry.d) + (geometry.causal ? " causal" : "") + (has_mask ? " masked" : "")';

export default [
  op({
    name: 'attention',
    doc: [
      'o = softmax(scale q k^T + mask, causal) v per head, tiled with an online softmax (no lq x lk',
      'buffer); lse gets each query\'s log-sum-exp (+inf when it sees no key: its output is 0).',
      'With dropout > 0 the weights are dropped by a hash of a seed drawn from state (advanced),',
      'written to seedUsed for the backward.',
    ].join('\n'),
    args: [
      ...inputs,
      f64('state', { out: true, cells: ['seedHigh', 'seedLow', 'counter'] }),
      f64('seedUsed', { out: true, cells: seedCells }),
      f32('o', { out: true, writesAll: true, len: oLen, lenWhy: 'batch*heads*lq*dv' }),
      f32('lse', { out: true, writesAll: true, len: `${heads} * ${G}.lq`, lenWhy: 'batch*heads*lq' }),
    ],
    check: true,
    runCheck: 'random_state_problem(state)',
    flops: `2.0 * ${pairs} * double(${G}.d + ${G}.dv) * (${G}.causal ? 0.5 : 1.0)`,
    bytes: '4.0 * double(q_len + k_len + v_len + o_len)',
    shapes,
  }),
  op({
    name: 'attentionBackward',
    doc: 'dq, dk, dv (written, not added to) of attention, from dO, its o and lse, and seedUsed.',
    args: [
      ...inputs,
      f64('seedUsed', { cells: seedCells }),
      f32('o', { len: oLen, lenWhy: 'batch*heads*lq*dv' }),
      f32('lse', { len: `${heads} * ${G}.lq`, lenWhy: 'batch*heads*lq' }),
      f32('dO', { len: oLen, lenWhy: 'batch*heads*lq*dv' }),
      f32('dq', { out: true, writesAll: true, len: 'len(q)', lenWhy: "same as 'q'" }),
      f32('dk', { out: true, writesAll: true, len: 'len(k)', lenWhy: "same as 'k'" }),
      f32('dv', { out: true, writesAll: true, len: 'len(v)', lenWhy: "same as 'v'" }),
    ],
    check: true,
    runCheck: 'attention_seed_problem(seed_used)',
    flops: `4.0 * ${pairs} * double(${G}.d + ${G}.dv) * (${G}.causal ? 0.5 : 1.0)`,
    bytes: '8.0 * double(q_len + k_len + v_len + o_len)',
    shapes,
  }),
  op({
    name: 'lowpPack',
    doc: [
      "Packs a Linear's weight w (n, k) for lowpLinear: format 0 bf16, 1 int8 (then also the",
      'per-channel scales and the column sums of the quantised weights). lowpPackedSize gives',
      "packed's length.",
    ].join('\n'),
    args: [
      int('format', 0, 1, { doc: '0 bf16, 1 int8' }),
      f32('w', { len: 'n * k', lenWhy: 'n*k (out, in)' }),
      int('n', 1, MAX_EXTENT, { fuzz: [1, 40] }),
      int('k', 1, MAX_EXTENT, { fuzz: [1, 9] }),
      i32('packed', { out: true, writesAll: true, fuzzLen: '((v.n + 31) >> 5) * 32 * (v.format === 0 ? (v.k + 1) >> 1 : (v.k + 3) >> 2)' }),
      f32('scales', { out: true, writesAll: true, len: 'n', lenWhy: 'one per output channel' }),
      i32('colsum', { out: true, writesAll: true, len: 'n', lenWhy: 'one per output channel' }),
    ],
    check: true,
    runCheck: 'lowp_weights_problem(format, w, w_len)',
    run: 'lowp_pack(LowpFormat(format), w, n, k, packed, scales, colsum)',
    flops: '4.0 * double(w_len)',
    bytes: '6.0 * double(w_len)',
    shapes: '(format ? std::string("int8 ") : std::string("bf16 ")) + std::to_string(n) + "x" + std::to_string(k)',
  }),
  op({
    name: 'lowpLinear',
    doc: [
      'y (m, n) = act(x (m, k) W^T + bias) on weights packed by lowpPack: bf16 products summed in',
      'float32, or int8 (x quantised per row, on the fly) summed exactly in int32.',
    ].join('\n'),
    args: [
      int('format', 0, 1, { doc: '0 bf16, 1 int8' }),
      f32('x', { len: 'm * k', lenWhy: 'm*k' }),
      int('m', 0, MAX_EXTENT, { fuzz: [0, 3] }),
      int('n', 1, MAX_EXTENT, { fuzz: [1, 40] }),
      int('k', 1, MAX_EXTENT, { fuzz: [1, 9] }),
      i32('packed', { fuzzLen: '((v.n + 31) >> 5) * 32 * (v.format === 0 ? (v.k + 1) >> 1 : (v.k + 3) >> 2)' }),
      f32('scales', { len: 'n', lenWhy: 'one per output channel' }),
      i32('colsum', { len: 'n', lenWhy: 'one per output channel' }),
      f32('bias', { optional: true, len: 'n', lenWhy: 'one per output channel' }),
      enumArg('activation', 'UnaryOp'),
      num('activationParam'),
      f32('y', { out: true, writesAll: true, len: 'm * n', lenWhy: 'm*n' }),
    ],
    check: true,
    runCheck: 'lowp_colsum_problem(format, colsum, n, k)',
    flops: '2.0 * double(m) * double(n) * double(k)',
    bytes: '4.0 * double(x_len + y_len) + 4.0 * double(packed_len)',
    shapes:
      '(format ? std::string("int8 ") : std::string("bf16 ")) + "m=" + std::to_string(m) + " n=" + std::to_string(n) + " k=" + std::to_string(k)',
  }),
];
