// Recurrent layers, embeddings and sequence pooling. Hand-written checks, run-time checks of
// lengths and tokens, and helpers: native/binding/ops_sequence.cpp.
import { f32, i32, int, num, op, struct, MAX_EXTENT } from './dsl.mjs';

const STEPS = 'int64_t{1} << 31';

export const structs = {
  RnnDims: {
    doc: 'One recurrent layer direction over a time-major sequence x (steps, batch, input).',
    cpp: 'RnnArgs',
    fields: [
      ['mode', 0, 0, { enum: 'RnnMode' }],
      ['steps', 0, STEPS, { fuzz: [0, 3] }],
      ['batch', 0, STEPS, { fuzz: [0, 3] }],
      ['input', 1, STEPS, { fuzz: [1, 3] }],
      ['hidden', 1, STEPS, { fuzz: [1, 3] }],
      ['reverse', 0, 1, { bool: true, doc: 'Process t = steps-1 .. 0 (the backward direction).' }],
    ],
  },
  EmbeddingDims: {
    doc: 'Tokens (rows, steps); output row r*steps + t, or t*rows + r when timeMajor.',
    fields: [
      ['rows', 0, MAX_EXTENT, { fuzz: [0, 3] }],
      ['steps', 0, MAX_EXTENT, { fuzz: [0, 4] }],
      ['timeMajor', 0, 1, { bool: true }],
    ],
  },
  SequencePoolDims: {
    doc: 'A sequence (steps, batch, dim) when timeMajor, else (batch, steps, dim), pooled by mode.',
    fields: [
      ['steps', 0, MAX_EXTENT, { fuzz: [0, 4] }],
      ['batch', 0, MAX_EXTENT, { fuzz: [0, 3] }],
      ['dim', 1, MAX_EXTENT, { fuzz: [1, 3], doc: 'Features per step.' }],
      ['timeMajor', 0, 1, { bool: true }],
      ['mode', 0, 0, { enum: 'SequencePool' }],
    ],
  },
};

// Gate blocks times hidden (G = 4 LSTM, 3 GRU, 1 RNN): set by check().
const gates = ['int64_t', 'gates', '[4, 3, 1, 1][v.dims.mode] * v.dims.hidden'];
const nh = 'dims.batch * dims.hidden';

const poolShapes = 'std::to_string(dims.steps) + "x" + std::to_string(dims.batch) + "x" + std::to_string(dims.dim)';
const seqLen = 'dims.steps * dims.batch * dims.dim';
const pooledLen = 'dims.batch * dims.dim';

export default [
  op({
    name: 'rnn',
    doc: [
      'One recurrent layer, one direction, over a time-major sequence x (steps, batch, input).',
      'Writes y (steps, batch, hidden), hn, cn (LSTM) and the workspace the backward reads',
      '(rnnSizes gives its length). lengths (batch) mask padded steps; checked when it runs.',
    ].join('\n'),
    args: [
      f32('x', { len: 'dims.steps * dims.batch * dims.input', lenWhy: 'steps*batch*input' }),
      f32('wIh', { len: 'gates * dims.input', lenWhy: 'gates*hidden x input' }),
      f32('wHh', { len: 'gates * dims.hidden', lenWhy: 'gates*hidden x hidden' }),
      f32('bIh', { optional: true, len: 'gates', lenWhy: 'gates*hidden' }),
      f32('bHh', { optional: true, len: 'gates', lenWhy: 'gates*hidden' }),
      f32('h0', { optional: true, len: nh, lenWhy: 'batch*hidden' }),
      f32('c0', { optional: true, len: nh, lenWhy: 'batch*hidden' }),
      i32('lengths', { optional: true, len: 'dims.batch', lenWhy: 'one per batch row' }),
      struct('dims', 'RnnDims'),
      f32('y', { out: true, writesAll: true, len: 'dims.steps * dims.batch * dims.hidden', lenWhy: 'steps*batch*hidden' }),
      f32('hn', { out: true, writesAll: true, len: nh, lenWhy: 'batch*hidden' }),
      f32('cn', { out: true, writesAll: true, optional: true, len: nh, lenWhy: 'batch*hidden' }),
      f32('workspace', { out: true, writesAll: true, len: 'workspaceSize', lenWhy: 'rnnSizes(dims)[0]' }),
    ],
    derived: [gates, ['int64_t', 'workspaceSize']],
    check: true,
    runCheck: 'lengths_problem(lengths, dims.batch, dims.steps)',
    run: 'rnn_forward(dims, x, w_ih, w_hh, b_ih, b_hh, h0, c0, lengths, y, hn, cn, workspace)',
    flops: '2.0 * double(dims.steps) * double(dims.batch) * double(gates) * double(dims.input + dims.hidden)',
    bytes: '4.0 * double(workspace_size)',
  }),
  op({
    name: 'rnnBackward',
    doc: 'Backward through time of rnn: dx, dw*, db* accumulate (+=); dh0, dc0 are written.',
    args: [
      f32('x', { len: 'dims.steps * dims.batch * dims.input', lenWhy: 'steps*batch*input' }),
      f32('wIh', { len: 'gates * dims.input', lenWhy: 'gates*hidden x input' }),
      f32('wHh', { len: 'gates * dims.hidden', lenWhy: 'gates*hidden x hidden' }),
      i32('lengths', { optional: true, len: 'dims.batch', lenWhy: 'one per batch row' }),
      f32('workspace', { len: 'workspaceSize', lenWhy: 'rnnSizes(dims)[0]' }),
      struct('dims', 'RnnDims'),
      f32('dy', { optional: true, len: 'dims.steps * dims.batch * dims.hidden', lenWhy: 'steps*batch*hidden' }),
      f32('dhn', { optional: true, len: nh, lenWhy: 'batch*hidden' }),
      f32('dcn', { optional: true, len: nh, lenWhy: 'batch*hidden' }),
      f32('dx', { out: true, optional: true, len: 'len(x)', lenWhy: "same as 'x'" }),
      f32('dwIh', { out: true, optional: true, len: 'len(wIh)', lenWhy: "same as 'wIh'" }),
      f32('dwHh', { out: true, optional: true, len: 'len(wHh)', lenWhy: "same as 'wHh'" }),
      f32('dbIh', { out: true, optional: true, len: 'gates', lenWhy: 'gates*hidden' }),
      f32('dbHh', { out: true, optional: true, len: 'gates', lenWhy: 'gates*hidden' }),
      f32('dh0', { out: true, writesAll: true, optional: true, len: nh, lenWhy: 'batch*hidden' }),
      f32('dc0', { out: true, writesAll: true, optional: true, len: nh, lenWhy: 'batch*hidden' }),
      f32('scratch', { out: true, writesAll: true, len: 'scratchSize', lenWhy: 'rnnSizes(dims)[1]' }),
    ],
    derived: [gates, ['int64_t', 'workspaceSize'], ['int64_t', 'scratchSize']],
    check: true,
    runCheck: 'lengths_problem(lengths, dims.batch, dims.steps)',
    run:
      'rnn_backward(dims, x, w_ih, w_hh, lengths, workspace, dy, dhn, dcn, dx, dw_ih, dw_hh, db_ih, db_hh, dh0, dc0, scratch)',
    flops: '4.0 * double(dims.steps) * double(dims.batch) * double(gates) * double(dims.input + dims.hidden)',
    bytes: '8.0 * double(workspace_size)',
  }),
  op({
    name: 'embedding',
    doc: 'out rows = weight (vocab, dim) rows of tokens (rows, steps). Tokens checked when it runs.',
    args: [
      f32('weight'),
      int('dim', 1, MAX_EXTENT, { fuzz: [1, 4] }),
      i32('tokens', { len: 'dims.rows * dims.steps', lenWhy: 'rows * steps' }),
      struct('dims', 'EmbeddingDims'),
      f32('out', { out: true, writesAll: true, len: 'dims.rows * dims.steps * dim', lenWhy: 'rows * steps * dim' }),
    ],
    derived: [['int64_t', 'vocab']],
    check: true,
    runCheck: 'tokens_problem(tokens, dims.rows, dims.steps, vocab)',
    run: 'embedding_forward(weight, vocab, dim, tokens, dims.rows, dims.steps, dims.time_major, out)',
    flops: '0',
    bytes: '8.0 * double(dims.rows * dims.steps * dim)',
    shapes:
      'std::to_string(dims.rows) + "x" + std::to_string(dims.steps) + " of " + std::to_string(vocab) + "x" + std::to_string(dim)',
  }),
  op({
    name: 'embeddingBackward',
    doc: 'dweight rows += dout rows at their tokens, except tokens equal to paddingIdx (-1: none).',
    args: [
      f32('dout', { len: 'dims.rows * dims.steps * dim', lenWhy: 'rows * steps * dim' }),
      int('dim', 1, MAX_EXTENT, { fuzz: [1, 4] }),
      i32('tokens', { len: 'dims.rows * dims.steps', lenWhy: 'rows * steps' }),
      struct('dims', 'EmbeddingDims'),
      int('paddingIdx', -1, MAX_EXTENT, { fuzz: [-1, 0] }),
      f32('dweight', { out: true }),
    ],
    derived: [['int64_t', 'vocab']],
    check: true,
    runCheck: 'tokens_problem(tokens, dims.rows, dims.steps, vocab)',
    run: 'embedding_backward(dout, dim, tokens, dims.rows, dims.steps, dims.time_major, padding_idx, vocab, dweight)',
    flops: 'double(dims.rows * dims.steps * dim)',
    bytes: '12.0 * double(dims.rows * dims.steps * dim)',
    shapes:
      'std::to_string(dims.rows) + "x" + std::to_string(dims.steps) + " into " + std::to_string(vocab) + "x" + std::to_string(dim)',
  }),
  op({
    name: 'embeddingRenorm',
    doc: 'Rows of weight used by tokens rescaled in place to norm <= maxNorm.',
    args: [
      f32('weight', { out: true }),
      int('dim', 1, MAX_EXTENT, { fuzz: [1, 4] }),
      i32('tokens'),
      num('maxNorm'),
      num('normType', { nonfinite: true }),
    ],
    derived: [['int64_t', 'vocab']],
    check: true,
    runCheck: 'tokens_problem(tokens, 1, tokens_len, vocab)',
    run: 'embedding_renorm(weight, vocab, dim, tokens, tokens_len, max_norm, norm_type)',
    flops: '2.0 * double(tokens_len * dim)',
    bytes: '8.0 * double(tokens_len * dim)',
    shapes:
      'std::to_string(tokens_len) + " tokens of " + std::to_string(vocab) + "x" + std::to_string(dim)',
  }),
  op({
    name: 'sequenceLengths',
    doc: 'lengths[r] = 1 + position of the last token != pad in row r of tokens (rows, steps).',
    args: [
      i32('tokens', { len: 'rows * steps', lenWhy: 'rows * steps' }),
      int('rows', 0, MAX_EXTENT, { fuzz: [0, 4] }),
      int('steps', 0, STEPS, { fuzz: [0, 5] }),
      int('pad', 'INT32_MIN', 'INT32_MAX', { fuzz: [0, 2] }),
      i32('lengths', { out: true, writesAll: true, len: 'rows', lenWhy: 'one per row' }),
    ],
    run: 'sequence_lengths(tokens, rows, steps, static_cast<int32_t>(pad), lengths)',
    flops: '0',
    bytes: '4.0 * double(rows * steps)',
    shapes: 'std::to_string(rows) + "x" + std::to_string(steps)',
  }),
  op({
    name: 'sequencePool',
    doc: 'out (batch, dim) = last valid step (mode last) or mean over valid steps (mode mean) of x.\nlengths checked when it runs.',
    args: [
      f32('x', { len: seqLen, lenWhy: 'steps * batch * features' }),
      struct('dims', 'SequencePoolDims'),
      i32('lengths', { optional: true, len: 'dims.batch', lenWhy: 'one per batch row' }),
      f32('out', { out: true, writesAll: true, len: pooledLen, lenWhy: 'batch * features' }),
    ],
    flops: 'double(dims.steps * dims.batch * dims.dim)',
    runCheck: 'lengths_problem(lengths, dims.batch, dims.steps)',
    run: 'sequence_pool_forward(x, dims.steps, dims.batch, dims.dim, dims.time_major, dims.mode, lengths, out)',
    bytes: '4.0 * double(dims.steps * dims.batch * dims.dim)',
    shapes: poolShapes,
  }),
  op({
    name: 'sequencePoolBackward',
    doc: 'dx += the sequencePool gradient for dout.',
    args: [
      f32('dout', { len: pooledLen, lenWhy: 'batch * features' }),
      struct('dims', 'SequencePoolDims'),
      i32('lengths', { optional: true, len: 'dims.batch', lenWhy: 'one per batch row' }),
      f32('dx', { out: true, len: seqLen, lenWhy: 'steps * batch * features' }),
    ],
    flops: 'double(dims.steps * dims.batch * dims.dim)',
    runCheck: 'lengths_problem(lengths, dims.batch, dims.steps)',
    run: 'sequence_pool_backward(dout, dims.steps, dims.batch, dims.dim, dims.time_major, dims.mode, lengths, dx)',
    bytes: '8.0 * double(dims.steps * dims.batch * dims.dim)',
    shapes: poolShapes,
  }),
];
