// Scaled dot-product attention, forward and backward (native/kernels/cpu/attention.cpp).
// Hand-written checks (the mask's reach, the dropout probability, the seed cells):
// native/binding/ops_attention.cpp.
import { f32, f64, num, op, struct, MAX_EXTENT } from './dsl.mjs';

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
];
