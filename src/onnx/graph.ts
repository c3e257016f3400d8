/**
 * The graph runtime: checks a decoded model (opset, supported operators, every name defined
 * once and before use, no cycles), rewrites it for inference (BatchNormalization folded into
 * the Conv before it, activations fused into the Conv/Gemm that feeds them), and runs it in
 * topological order on our ops. Values known without the input data (shape arithmetic,
 * constants, folded weights) are computed once per input shape, outside any recording, and
 * reused: a recorded run (session.ts) replays only the work that depends on the inputs.
 */
import { noGrad } from '../autograd/engine.js';
import type { Tensor } from '../tensor/tensor.js';

import { untraced } from '../train/trace.js';
import { OpContext, type OpImpl } from './context.js';
import { ELEMENTWISE_OPS } from './ops-elementwise.js';
import { FUSED_OPS, NN_OPS } from './ops-nn.js';
import { LOSS_OPS } from './ops-loss.js';
import { REARRANGE_OPS } from './ops-rearrange.js';
import { RECURRENT_OPS } from './ops-recurrent.js';
import { RESIZE_OPS } from './ops-resize.js';
import { SHAPE_OPS } from './ops-shape.js';
import { OnnxError, type GraphInfo, type HostTensor, type ModelInfo, type NodeInfo } from './proto.js';
import type { Value } from './value.js';

/** Every operator of the default domain we run, by op_type. */
export const ONNX_OPS: Readonly<Record<string, OpImpl>> = {
  ...ELEMENTWISE_OPS,
  ...SHAPE_OPS,
  ...NN_OPS,
  ...LOSS_OPS,
  ...RESIZE_OPS,
  ...REARRANGE_OPS,
  ...RECURRENT_OPS,
};

/** Opsets of the default domain we accept. */
export const MIN_OPSET = 7;
export const MAX_OPSET = 18;

/** Checks the opset and the operators: every unsupported op type with its nodes, at once. */
export function checkSupported(model: ModelInfo): number {
  const opset = model.opsets.get('') ?? 0;
  if (opset < MIN_OPSET || opset > MAX_OPSET)
    throw new OnnxError(
      `loadOnnx: the model uses opset ${opset} of the default domain; supported: ${MIN_OPSET} through ${MAX_OPSET}`,
    );
  const missing = new Map<string, string[]>();
  for (const n of model.graph.nodes) {
    const key = n.domain ? `${n.domain}::${n.opType}` : n.opType;
    if (n.domain || !(n.opType in ONNX_OPS)) {
      const list = missing.get(key) ?? [];
      list.push(n.name);
      missing.set(key, list);
    }
  }
  if (missing.size > 0) {
    const lines = [...missing].map(
      ([op, names]) =>
        `  ${op}: ${names.slice(0, 5).join(', ')}${names.length > 5 ? ` and ${names.length - 5} more` : ''}`,
    );
    throw new OnnxError(`loadOnnx: unsupported operators (opset ${opset}):\n${lines.join('\n')}`);
  }
  return opset;
}

/** The nodes in an order where every input is defined before use; names defined once. */
export function topologicalOrder(graph: GraphInfo): NodeInfo[] {
  const producer = new Map<string, number>();
  const defined = new Set<string>([...graph.initializers.keys(), ...graph.inputs.map((i) => i.name)]);
  graph.nodes.forEach((n, i) => {
    for (const o of n.outputs) {
      if (!o) continue;
      if (producer.has(o) || (defined.has(o) && !graph.initializers.has(o)))
        throw new OnnxError(`loadOnnx: value '${o}' is produced twice (node '${n.name}')`);
      producer.set(o, i);
    }
  });
  const indegree = graph.nodes.map(() => 0);
  const users = graph.nodes.map(() => [] as number[]);
  graph.nodes.forEach((n, i) => {
    for (const name of n.inputs) {
      if (!name) continue;
      const p = producer.get(name);
      if (p !== undefined) {
        indegree[i]++;
        users[p].push(i);
      } else if (!defined.has(name))
        throw new OnnxError(`loadOnnx: node '${n.name}' (${n.opType}) reads '${name}', which nothing defines`);
    }
  });
  const ready = indegree.flatMap((d, i) => (d === 0 ? [i] : []));
  const order: NodeInfo[] = [];
  while (ready.length > 0) {
    const i = ready.shift() as number;
    order.push(graph.nodes[i]);
    for (const u of users[i]) if (--indegree[u] === 0) ready.push(u);
  }
  if (order.length !== graph.nodes.length) throw new OnnxError('loadOnnx: the graph has a cycle');
  for (const o of graph.outputs)
    if (!producer.has(o.name) && !defined.has(o.name))
      throw new OnnxError(`loadOnnx: graph output '${o.name}' is never computed`);
  return order;
}

/**
 * Inference rewrites on the ordered nodes, with the initializers they need (folded entries added): Conv then
 * BatchNormalization with constant statistics becomes one Conv; Relu/Sigmoid/Tanh/LeakyRelu
 * after a Conv or Gemm whose output nothing else reads is fused into it; attention written as
 * MatMul/Softmax/MatMul runs on the fused attention kernel (matchAttention).
 */
export function fuseForInference(
  nodes: NodeInfo[],
  graph: GraphInfo,
  opset: number,
): { nodes: NodeInfo[]; initializers: Map<string, HostTensor> } {
  const uses = new Map<string, number>();
  for (const n of nodes) for (const i of n.inputs) uses.set(i, (uses.get(i) ?? 0) + 1);
  for (const o of graph.outputs) uses.set(o.name, (uses.get(o.name) ?? 0) + 1);
  const consumer = new Map<string, NodeInfo>();
  for (const n of nodes) for (const i of n.inputs) consumer.set(i, n);
  const dropped = new Set<NodeInfo>();
  const producer = new Map<string, NodeInfo>();
  for (const n of nodes) for (const o of n.outputs) if (o) producer.set(o, n);
  const replaced = matchAttention(nodes, uses, consumer, producer, dropped, opset);
  matchDense(nodes, uses, producer, graph.initializers, dropped, replaced);
  // Folded weights go into a copy: the graph's own initializers stay the file's (toModule).
  const init = new Map(graph.initializers);
  const f32 = (name: string | undefined): Float32Array | null => (name ? (init.get(name)?.f32 ?? null) : null);
  const out: NodeInfo[] = [];
  for (const n of nodes) {
    if (dropped.has(n)) continue;
    let node = replaced.get(n) ?? n;
    const next = (): NodeInfo | null => {
      const o = node.outputs[0];
      const user = consumer.get(o);
      return uses.get(o) === 1 && user && !dropped.has(user) ? user : null;
    };
    if (node.opType === 'Conv') {
      const bn = next();
      if (
        bn &&
        bn.opType === 'BatchNormalization' &&
        bn.inputs[0] === node.outputs[0] &&
        bn.outputs.filter(Boolean).length === 1 &&
        // training_mode normalises with the batch's statistics: nothing to fold
        !(bn.attrs.get('training_mode')?.kind === 'int' && bn.attrs.get('training_mode')?.value === 1)
      ) {
        const w = init.get(node.inputs[1]);
        const [scale, beta, mean, variance] = [1, 2, 3, 4].map((i) => f32(bn.inputs[i]));
        const bias = node.inputs[2] ? f32(node.inputs[2]) : null;
        const epsAttr = bn.attrs.get('epsilon');
        const eps = epsAttr && epsAttr.kind === 'float' ? epsAttr.value : 1e-5;
        const cout = w?.dims[0] ?? -1;
        if (
          w?.f32 &&
          scale &&
          beta &&
          mean &&
          variance &&
          (node.inputs[2] ? bias : true) &&
          [scale, beta, mean, variance].every((a) => a.length === cout)
        ) {
          const per = w.f32.length / cout;
          const wNew = new Float32Array(w.f32.length);
          const bNew = new Float32Array(cout);
          for (let o = 0; o < cout; o++) {
            const k = scale[o] / Math.sqrt(variance[o] + eps);
            for (let j = 0; j < per; j++) wNew[o * per + j] = w.f32[o * per + j] * k;
            bNew[o] = ((bias ? bias[o] : 0) - mean[o]) * k + beta[o];
          }
          const wName = `${node.name}::axon_folded_W`;
          const bName = `${node.name}::axon_folded_B`;
          init.set(wName, { type: 'float32', dims: w.dims, f32: wNew, ints: null } satisfies HostTensor);
          init.set(bName, { type: 'float32', dims: [cout], f32: bNew, ints: null });
          node = { ...node, inputs: [node.inputs[0], wName, bName], outputs: bn.outputs.slice(0, 1) };
          dropped.add(bn);
        }
      }
    }
    if (node.opType === 'Conv' || (node.opType === 'Gemm' && gemmFusable(node))) {
      const act = next();
      const fused = act ? activationName(act) : null;
      if (act && fused && act.inputs[0] === node.outputs[0]) {
        const attrs = new Map(node.attrs);
        attrs.set('axon_activation', { kind: 'string', value: fused.name });
        if (fused.param !== undefined) attrs.set('axon_activation_param', { kind: 'float', value: fused.param });
        node = { ...node, attrs, outputs: act.outputs.slice(0, 1) };
        dropped.add(act);
      }
    }
    out.push(node);
  }
  return { nodes: out, initializers: init };
}

/** The single float value of an initializer or a Constant node's tensor, else null. */
function scalarOf(
  name: string,
  producer: ReadonlyMap<string, NodeInfo>,
  initializers: ReadonlyMap<string, HostTensor>,
): number | null {
  let t = initializers.get(name);
  if (!t) {
    const c = producer.get(name);
    const v = c && c.opType === 'Constant' && !c.domain ? c.attrs.get('value') : undefined;
    if (v && v.kind === 'tensor') t = v.value;
  }
  return t?.f32 && t.f32.length === 1 ? t.f32[0] : null;
}

/**
 * Dense layers as exported for inputs of rank 3 (PyTorch: MatMul(x, W) with W a [K, N]
 * initializer, then Add of an [N] bias, then possibly exact GELU written as
 * x * (erf(x / sqrt 2) + 1) * 0.5) become one AxonLinear node: a linear call with the bias and
 * GELU in its epilogue (and the form prepareInference converts). Each intermediate must be
 * read only by the pattern.
 */
function matchDense(
  nodes: readonly NodeInfo[],
  uses: ReadonlyMap<string, number>,
  producer: ReadonlyMap<string, NodeInfo>,
  initializers: ReadonlyMap<string, HostTensor>,
  dropped: Set<NodeInfo>,
  replaced: Map<NodeInfo, NodeInfo>,
): void {
  const readers = new Map<string, NodeInfo[]>();
  for (const n of nodes) for (const i of n.inputs) if (i) readers.set(i, [...(readers.get(i) ?? []), n]);
  const single = (value: string): NodeInfo | null => {
    const r = readers.get(value);
    return uses.get(value) === 1 && r?.length === 1 && !r[0].domain && !dropped.has(r[0]) ? r[0] : null;
  };
  const near = (v: number | null, want: number): boolean => v !== null && Math.abs(v - want) <= 1e-4 * Math.abs(want);
  for (const m of nodes) {
    if (m.opType !== 'MatMul' || m.domain || dropped.has(m) || replaced.has(m)) continue;
    const w = initializers.get(m.inputs[1]);
    if (!w || w.type !== 'float32' || w.dims.length !== 2) continue;
    const n = w.dims[1];
    const add = single(m.outputs[0]);
    if (!add || add.opType !== 'Add') continue;
    const biasName = add.inputs[0] === m.outputs[0] ? add.inputs[1] : add.inputs[0];
    const bias = initializers.get(biasName);
    if (!bias || bias.type !== 'float32' || bias.dims.length !== 1 || bias.dims[0] !== n) continue;
    const y = add.outputs[0];
    const fusedNodes: NodeInfo[] = [add];
    let out = y;
    let activation: string | null = null;
    // GELU: Div(y, sqrt 2) -> Erf -> Add(., 1) -> Mul(y, .) -> Mul(., 0.5), y read twice.
    const r = readers.get(y) ?? [];
    if (uses.get(y) === 2 && r.length === 2) {
      const div = r.find((x) => x.opType === 'Div' && x.inputs[0] === y);
      const mulY = r.find((x) => x.opType === 'Mul');
      const erf =
        div && near(scalarOf(div.inputs[1], producer, initializers), Math.SQRT2) ? single(div.outputs[0]) : null;
      const plus = erf?.opType === 'Erf' ? single(erf.outputs[0]) : null;
      const one =
        plus?.opType === 'Add'
          ? scalarOf(plus.inputs[0] === erf?.outputs[0] ? plus.inputs[1] : plus.inputs[0], producer, initializers)
          : null;
      const times = plus && near(one, 1) ? single(plus.outputs[0]) : null;
      const half = times && times === mulY ? single(times.outputs[0]) : null;
      const h =
        half?.opType === 'Mul'
          ? scalarOf(half.inputs[0] === times?.outputs[0] ? half.inputs[1] : half.inputs[0], producer, initializers)
          : null;
      if (div && erf && plus && times && half && near(h, 0.5)) {
        fusedNodes.push(div, erf, plus, times, half);
        out = half.outputs[0];
        activation = 'gelu';
      }
    }
    for (const f of fusedNodes) dropped.add(f);
    const attrs = new Map(m.attrs);
    if (activation) attrs.set('axon_activation', { kind: 'string', value: activation });
    replaced.set(m, {
      ...m,
      opType: 'AxonLinear',
      inputs: [m.inputs[0], m.inputs[1], biasName],
      outputs: [out],
      attrs,
    });
  }
}

/**
 * Scaled dot-product attention written as nodes: MatMul(Q, Transpose(K)) [Mul or Div by a
 * scale] [Add a mask] Softmax(last axis) MatMul(., V), every intermediate read only by the
 * next. Each match becomes one AxonAttention node (FUSED_OPS) in place of the last MatMul,
 * reading the tensor before K's Transpose (and the permutation that gives K from it); the
 * score matrix is then never materialised. The
 * Transpose stays when something else reads its output. Returns the replacements; the
 * matched nodes go into `dropped`.
 */
function matchAttention(
  nodes: readonly NodeInfo[],
  uses: ReadonlyMap<string, number>,
  consumer: ReadonlyMap<string, NodeInfo>,
  producer: ReadonlyMap<string, NodeInfo>,
  dropped: Set<NodeInfo>,
  opset: number,
): Map<NodeInfo, NodeInfo> {
  const replaced = new Map<NodeInfo, NodeInfo>();
  const only = (value: string): NodeInfo | null => {
    const c = consumer.get(value);
    return uses.get(value) === 1 && c && !c.domain && !dropped.has(c) ? c : null;
  };
  for (const m1 of nodes) {
    if (m1.opType !== 'MatMul' || m1.domain || dropped.has(m1) || replaced.has(m1)) continue;
    const kt = producer.get(m1.inputs[1]);
    const perm = kt?.attrs.get('perm');
    if (!kt || kt.opType !== 'Transpose' || !perm || perm.kind !== 'ints') continue;
    // K^T = Transpose(X, p), so K = Transpose(X, p with its last two entries swapped): the
    // identity when p only swaps the last two axes (a copy of K otherwise, L x d per head).
    const p = perm.value;
    const r = p.length;
    if (r < 2) continue;
    const kPerm = [...p.slice(0, -2), p[r - 1], p[r - 2]];
    const chain: NodeInfo[] = [m1];
    let cur = m1.outputs[0];
    let next = only(cur);
    let scale = '';
    let scaleOp = 'none';
    let mask = '';
    if (next && (next.opType === 'Mul' || next.opType === 'Div')) {
      const other = next.inputs[0] === cur ? next.inputs[1] : next.opType === 'Mul' ? next.inputs[0] : null;
      if (!other) continue;
      scale = other;
      scaleOp = next.opType === 'Mul' ? 'mul' : 'div';
      chain.push(next);
      cur = next.outputs[0];
      next = only(cur);
    }
    if (next && next.opType === 'Add') {
      mask = next.inputs[0] === cur ? next.inputs[1] : next.inputs[0];
      chain.push(next);
      cur = next.outputs[0];
      next = only(cur);
    }
    if (!next || next.opType !== 'Softmax') continue;
    const axisAttr = next.attrs.get('axis');
    const axis = axisAttr && axisAttr.kind === 'int' ? axisAttr.value : opset >= 13 ? -1 : 1;
    // Before opset 13 Softmax flattens from its axis: only -1 is the last axis for sure.
    if (opset < 13 && axis !== -1) continue;
    chain.push(next);
    const m2 = only(next.outputs[0]);
    if (!m2 || m2.opType !== 'MatMul' || m2.inputs[0] !== next.outputs[0]) continue;
    for (const n of chain) dropped.add(n);
    if (uses.get(kt.outputs[0]) === 1) dropped.add(kt);
    const attrs = new Map(m2.attrs);
    attrs.set('axon_scale_op', { kind: 'string', value: scaleOp });
    attrs.set('axon_softmax_axis', { kind: 'int', value: axis });
    attrs.set('axon_k_perm', { kind: 'ints', value: kPerm });
    replaced.set(m2, {
      ...m2,
      opType: 'AxonAttention',
      inputs: [m1.inputs[0], kt.inputs[0], m2.inputs[1], scale, mask],
      attrs,
    });
  }
  return replaced;
}

function gemmFusable(n: NodeInfo): boolean {
  const int = (k: string, d: number): number => {
    const a = n.attrs.get(k);
    return a && a.kind === 'int' ? a.value : d;
  };
  const flt = (k: string, d: number): number => {
    const a = n.attrs.get(k);
    return a && a.kind === 'float' ? a.value : d;
  };
  return int('transB', 0) === 1 && flt('alpha', 1) === 1 && flt('beta', 1) === 1;
}

function activationName(n: NodeInfo): { name: string; param?: number } | null {
  if (n.domain) return null;
  if (n.opType === 'Relu') return { name: 'relu' };
  if (n.opType === 'Sigmoid') return { name: 'sigmoid' };
  if (n.opType === 'Tanh') return { name: 'tanh' };
  if (n.opType === 'LeakyRelu') {
    const a = n.attrs.get('alpha');
    const alpha = a && a.kind === 'float' ? a.value : 0.01;
    return alpha >= 0 ? { name: 'leakyRelu', param: alpha } : null;
  }
  return null;
}

const MAX_PLANS = 16;

/** Runs ordered nodes on Values; folds what is known per input signature. */
export class GraphRunner {
  private readonly plans = new Map<string, Map<string, Value>>();
  private readonly known = new WeakSet<Tensor>();
  private readonly folded = new WeakMap<Tensor, Map<string, Tensor>>();

  /** Whether t is a value known without the inputs (an initializer, a constant, a fold). */
  isConstant(t: Tensor): boolean {
    return this.known.has(t);
  }

  constructor(
    readonly nodes: readonly NodeInfo[],
    readonly opset: number,
    /** Initializers (and, for a module, its parameters) as Values. */
    private readonly initial: ReadonlyMap<string, Value>,
    readonly inference: boolean,
  ) {
    for (const v of initial.values()) if (v.known && v.tensor) this.known.add(v.tensor);
  }

  private readonly fold = (deps: readonly Tensor[], tag: string, fn: () => Tensor): Tensor => {
    if (!this.inference || deps.length === 0 || !deps.every((d) => this.known.has(d))) return fn();
    let cache = this.folded.get(deps[0]);
    if (!cache) {
      cache = new Map();
      this.folded.set(deps[0], cache);
    }
    let t = cache.get(tag);
    if (!t) {
      t = untraced(() => noGrad(fn));
      this.known.add(t);
      cache.set(tag, t);
    }
    return t;
  };

  /** Runs the graph on `feeds` (input Values, not known), returning the `wanted` values. */
  run(feeds: ReadonlyMap<string, Value>, wanted: readonly string[]): Value[] {
    const sig = [...feeds]
      .map(
        ([k, v]) =>
          `${k}:${v.type}:${v.shape.join(',')}${v.known ? `=${(v.ints ?? v.tensor?.data ?? []).join(',')}` : ''}`,
      )
      .join('|');
    let plan = this.plans.get(sig);
    const fresh = !plan;
    plan ??= new Map();
    const env = new Map<string, Value>(this.initial);
    for (const [k, v] of feeds) env.set(k, v);
    for (const node of this.nodes) {
      const outs = node.outputs;
      if (!fresh && outs.every((o) => !o || plan.has(o))) {
        for (const o of outs) if (o) env.set(o, plan.get(o) as Value);
        continue;
      }
      const inputs = node.inputs.map((name) => {
        if (!name) return null;
        const v = env.get(name);
        if (!v) throw new OnnxError(`${node.opType} (node '${node.name}'): input '${name}' is not computed`);
        return v;
      });
      const allKnown = inputs.every((v) => v === null || v.known);
      const impl = ONNX_OPS[node.opType] ?? FUSED_OPS[node.opType];
      const ctx = new OpContext(node, this.opset, inputs, allKnown, this.inference, this.fold);
      let values: Value[];
      try {
        values = allKnown ? untraced(() => noGrad(() => impl(ctx))) : impl(ctx);
      } catch (e) {
        if (e instanceof OnnxError) throw e;
        throw new OnnxError(`${ctx.what}: ${(e as Error).message}`);
      }
      outs.forEach((o, i) => {
        if (!o) return;
        const v = values[i];
        if (!v) throw new OnnxError(`${ctx.what}: output ${i} ('${o}') is not produced`);
        // Exact host integers are known however they were made (Shape of a run-time tensor:
        // shapes are fixed per input signature).
        if (allKnown || v.ints) {
          v.known = true;
          if (v.tensor) this.known.add(v.tensor);
          plan.set(o, v);
        }
        env.set(o, v);
      });
    }
    if (fresh) {
      if (this.plans.size >= MAX_PLANS) this.plans.delete(this.plans.keys().next().value as string);
      this.plans.set(sig, plan);
    }
    return wanted.map((name) => {
      const v = env.get(name);
      if (!v) throw new OnnxError(`graph output '${name}' is not computed`);
      return v;
    });
  }
}
