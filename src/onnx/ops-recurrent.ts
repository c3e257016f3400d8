/**
 * The recurrent ONNX operators (LSTM, GRU, RNN): ONNX's gate order and layouts mapped onto our
 * fused recurrent kernels (PyTorch's order); the cells those kernels lack (GRU with
 * linear_before_reset = 0, LSTM peepholes) run step by step on ops.
 */
import { concat, index, permute, reshape, stack } from '../ops/layout.js';
import { add, mul, sub } from '../ops/elementwise.js';
import { linear } from '../ops/linalg.js';
import { rnnDirection } from '../ops/rnn.js';
import { sigmoid, tanh } from '../ops/activations.gen.js';
import { Tensor } from '../tensor/tensor.js';
import type { OpContext, OpImpl } from './context.js';
import { floatValue, int32Tensor, type Value } from './value.js';

/** LSTM/GRU/RNN: ONNX gate order and layout mapped onto rnnDirection (PyTorch's order). */
function recurrent(mode: 'lstm' | 'gru' | 'rnn'): OpImpl {
  return (c) => {
    const G = mode === 'lstm' ? 4 : mode === 'gru' ? 3 : 1;
    const layout = c.int('layout', 0);
    let x = c.floatInput(0, 'X');
    if (x.ndim !== 3) throw c.error(`X must be 3-D, got [${x.shape}]`);
    if (layout === 1) x = permute(x, [1, 0, 2]);
    const W = c.floatInput(1, 'W');
    const R = c.floatInput(2, 'R');
    const B = c.optional(3) ? c.floatInput(3, 'B') : null;
    const hidden = c.int('hidden_size', R.shape[2]);
    const direction = c.string('direction', 'forward');
    const dirs = direction === 'bidirectional' ? 2 : 1;
    if (!['forward', 'reverse', 'bidirectional'].includes(direction))
      throw c.error(`direction '${direction}' is unknown`);
    if (W.ndim !== 3 || W.shape[0] !== dirs || W.shape[1] !== G * hidden || W.shape[2] !== x.shape[2])
      throw c.error(`W must be [${dirs}, ${G * hidden}, ${x.shape[2]}], got [${W.shape}]`);
    if (R.ndim !== 3 || R.shape[0] !== dirs || R.shape[1] !== G * hidden || R.shape[2] !== hidden)
      throw c.error(`R must be [${dirs}, ${G * hidden}, ${hidden}], got [${R.shape}]`);
    if (c.has('clip')) throw c.error("the 'clip' attribute is not supported");
    const acts = c.strings('activations');
    const defaults = mode === 'lstm' ? ['Sigmoid', 'Tanh', 'Tanh'] : mode === 'gru' ? ['Sigmoid', 'Tanh'] : ['Tanh'];
    let rnnMode: 'lstm' | 'gru' | 'rnnTanh' | 'rnnRelu' = mode === 'rnn' ? 'rnnTanh' : mode;
    if (acts) {
      const per = acts.slice(0, defaults.length);
      if (mode === 'rnn' && per[0] === 'Relu') rnnMode = 'rnnRelu';
      else if (per.some((a, i) => a !== defaults[i])) throw c.error(`activations [${acts}] are not supported`);
    }
    if (mode === 'lstm' && c.int('input_forget', 0) !== 0) throw c.error('input_forget = 1 is not supported');
    const initial = (i: number, name: string): Tensor | null => {
      if (!c.optional(i)) return null;
      const t = c.floatInput(i, name);
      return layout === 1 ? permute(t, [1, 0, 2]) : t;
    };
    const h0 = initial(5, 'initial_h');
    const c0 = mode === 'lstm' ? initial(6, 'initial_c') : null;
    // GRU with the reset gate applied before the hidden product, and LSTM peepholes: cells our
    // fused kernel does not have, run step by step on ops (recorded like the rest).
    const stepwise = (mode === 'gru' && c.int('linear_before_reset', 0) !== 1) || (mode === 'lstm' && !!c.optional(7));
    if (stepwise)
      return stepwiseRecurrent(c, mode as 'lstm' | 'gru', x, W, R, B, h0, c0, hidden, dirs, direction, layout);
    const lengths = c.optional(4) ? int32Tensor(c.input(4, 'sequence_lens'), c.what, 'sequence_lens') : null;
    // ONNX gate blocks -> ours: LSTM (i, o, f, c) -> (i, f, c, o); GRU (z, r, h) -> (r, z, h).
    const order = mode === 'lstm' ? [0, 2, 3, 1] : mode === 'gru' ? [1, 0, 2] : [0];
    const regate = (t: Tensor): Tensor =>
      G === 1
        ? t
        : concat(
            order.map((g) => index(t, [[g * hidden, (g + 1) * hidden]])),
            0,
          );
    const ys: Tensor[] = [];
    const hs: Tensor[] = [];
    const cs: Tensor[] = [];
    for (let d = 0; d < dirs; d++) {
      const pick = (t: Tensor): Tensor => index(t, [d]);
      const wIh = c.fold([W], `w${d}`, () => regate(pick(W)));
      const wHh = c.fold([R], `r${d}`, () => regate(pick(R)));
      const bIh = B ? c.fold([B], `bi${d}`, () => regate(index(pick(B), [[0, G * hidden]]))) : null;
      const bHh = B ? c.fold([B], `bh${d}`, () => regate(index(pick(B), [[G * hidden, 2 * G * hidden]]))) : null;
      const r = rnnDirection(
        rnnMode,
        x,
        { wIh, wHh, bIh, bHh },
        {
          h0: h0 ? pick(h0) : null,
          c0: c0 ? pick(c0) : null,
          lengths,
          reverse: direction === 'reverse' || d === 1,
        },
      );
      ys.push(r.output);
      hs.push(r.hn);
      if (r.cn) cs.push(r.cn);
    }
    return outputs(mode, ys, hs, cs, layout);
  };
}

/** Y [T, dirs, N, H] (layout 1: [N, T, dirs, H]); Y_h, Y_c [dirs, N, H] (layout 1: [N, dirs, H]). */
function outputs(mode: string, ys: Tensor[], hs: Tensor[], cs: Tensor[], layout: number): Value[] {
  let y = stack(ys, 1);
  let yh = stack(hs, 0);
  let yc = cs.length ? stack(cs, 0) : null;
  if (layout === 1) {
    y = permute(y, [2, 0, 1, 3]);
    yh = permute(yh, [1, 0, 2]);
    if (yc) yc = permute(yc, [1, 0, 2]);
  }
  const out: Value[] = [floatValue(y), floatValue(yh)];
  if (mode === 'lstm' && yc) out.push(floatValue(yc));
  return out;
}

/**
 * The ONNX cell equations step by step (ONNX gate order: LSTM i, o, f, c; GRU z, r, h), for
 * GRU linear_before_reset = 0 and LSTM peepholes P = [Pi, Po, Pf]. sequence_lens must be known
 * at load here: rows past their length keep their state and output zeros.
 */
function stepwiseRecurrent(
  c: OpContext,
  mode: 'lstm' | 'gru',
  x: Tensor,
  W: Tensor,
  R: Tensor,
  B: Tensor | null,
  h0: Tensor | null,
  c0: Tensor | null,
  H: number,
  dirs: number,
  direction: string,
  layout: number,
): Value[] {
  const [T, N] = x.shape;
  const G = mode === 'lstm' ? 4 : 3;
  const lens = c.optional(4) ? Array.from(c.knownInts(4, 'sequence_lens').data) : null;
  if (lens && (lens.length !== N || lens.some((l) => !(l >= 0 && l <= T))))
    throw c.error(`sequence_lens must hold ${N} lengths in [0, ${T}]`);
  const mask = (t: number): Tensor | null =>
    lens && lens.some((l) => t >= l)
      ? new Tensor(
          Float32Array.from(lens, (l) => (t < l ? 1 : 0)),
          [N, 1],
        )
      : null;
  const P = mode === 'lstm' && c.optional(7) ? c.floatInput(7, 'P') : null;
  const block = (t: Tensor, g: number): Tensor => index(t, [null, [g * H, (g + 1) * H]]);
  const ys: Tensor[] = [];
  const hs: Tensor[] = [];
  const cs: Tensor[] = [];
  for (let d = 0; d < dirs; d++) {
    const w = index(W, [d]);
    const r = index(R, [d]);
    const wb = B ? index(B, [d, [0, G * H]]) : null;
    const rb = B ? index(B, [d, [G * H, 2 * G * H]]) : null;
    // x W^T + Wb for every step at once: [T, N, G*H].
    const xw = reshape(linear(reshape(x, [T * N, x.shape[2]]), w, wb), [T, N, G * H]);
    let h = h0 ? index(h0, [d]) : new Tensor(new Float32Array(N * H), [N, H]);
    let cell = c0 ? index(c0, [d]) : new Tensor(new Float32Array(N * H), [N, H]);
    const p = P ? [0, 1, 2].map((k) => index(P, [d, [k * H, (k + 1) * H]])) : null;
    const steps = new Array<Tensor>(T);
    const reverse = direction === 'reverse' || d === 1;
    for (let k = 0; k < T; k++) {
      const t = reverse ? T - 1 - k : k;
      const g = index(xw, [t]);
      let hNew: Tensor;
      let cNew = cell;
      if (mode === 'gru') {
        const rz = linear(h, index(r, [[0, 2 * H]]), rb ? index(rb, [[0, 2 * H]]) : null);
        const z = sigmoid(add(block(g, 0), block(rz, 0)));
        const rg = sigmoid(add(block(g, 1), block(rz, 1)));
        const rh = index(r, [[2 * H, 3 * H]]);
        const rbh = rb ? index(rb, [[2 * H, 3 * H]]) : null;
        const hh = tanh(add(block(g, 2), linear(mul(rg, h), rh, rbh)));
        hNew = add(mul(sub(1, z), hh), mul(z, h));
      } else {
        const gates = add(g, linear(h, r, rb));
        const peep = (gate: Tensor, k2: number, state: Tensor): Tensor => (p ? add(gate, mul(p[k2], state)) : gate);
        const i = sigmoid(peep(block(gates, 0), 0, cell));
        const f = sigmoid(peep(block(gates, 2), 2, cell));
        cNew = add(mul(f, cell), mul(i, tanh(block(gates, 3))));
        const o = sigmoid(peep(block(gates, 1), 1, cNew));
        hNew = mul(o, tanh(cNew));
      }
      const m = mask(t);
      if (m) {
        const keep = sub(1, m);
        h = add(mul(hNew, m), mul(h, keep));
        cell = add(mul(cNew, m), mul(cell, keep));
        steps[t] = mul(hNew, m);
      } else {
        h = hNew;
        cell = cNew;
        steps[t] = hNew;
      }
    }
    ys.push(stack(steps, 0));
    hs.push(h);
    if (mode === 'lstm') cs.push(cell);
  }
  return outputs(mode, ys, hs, cs, layout);
}

export const RECURRENT_OPS: Record<string, OpImpl> = {
  LSTM: recurrent('lstm'),
  GRU: recurrent('gru'),
  RNN: recurrent('rnn'),
};
