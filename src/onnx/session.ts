/**
 * loadOnnx and OnnxSession, shaped like onnxruntime-node's InferenceSession: `inputs` and
 * `outputs` metadata, `run(feeds)` (off the event loop unless the work is tiny) and `runSync`.
 * Each input signature (names, types, shapes) is recorded once into a native Program that
 * replays only the input-dependent work on fixed buffers; the shape arithmetic and folded
 * weights are computed once at recording. `toModule()` gives the same graph as a trainable
 * Module whose parameters are the float initializers under their ONNX names.
 */
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { noGrad } from '../autograd/engine.js';
import { Module, Parameter } from '../nn/module.js';
import { Tensor } from '../tensor/tensor.js';
import { DEFAULT_LIMITS, estimateSeconds, traceWithinBudget, type ForwardLimits } from '../train/budget.js';
import { trace, type Traced } from '../train/trace.js';
import { checkSupported, fuseForInference, GraphRunner, topologicalOrder } from './graph.js';
import {
  DEFAULT_READ_LIMITS,
  isFloatType,
  OnnxError,
  readModel,
  type ElemType,
  type ModelInfo,
  type NodeInfo,
  type ReadLimits,
  type ValueInfo,
} from './proto.js';
import { dynIntValue, floatValue, hostValue, intValue, Value } from './value.js';

/** A graph input or output: symbolic dimensions as their names. */
export interface OnnxValueMetadata {
  name: string;
  dtype: ElemType;
  shape: (number | string)[] | null;
}

/** A feed given as raw data, as onnxruntime-node's Tensor. */
export interface OnnxTensorLike {
  data: Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array | Int16Array | Uint16Array;
  dims: readonly number[];
}
export type OnnxFeeds = Record<string, Tensor | OnnxTensorLike>;

export interface OnnxLoadOptions {
  /** Budgets while reading the file (tensor bytes, nodes, rank). */
  readLimits?: Partial<ReadLimits>;
  /** Budgets per sample of a run (activation bytes, FLOPs), as Model.limits. */
  limits?: Partial<ForwardLimits>;
}

interface Entry {
  program: Traced<unknown>['program'];
  inputs: Tensor[];
  outputs: Value[];
  seconds: number;
}

const MAX_ENTRIES = 16;
/** Runs estimated under this many seconds run synchronously inside run() (a thread-pool hop
 * costs ~27 us, more than a batch-1 MLP forward). */
const SYNC_SECONDS = 1e-3;

export class OnnxSession {
  readonly inputs: OnnxValueMetadata[];
  readonly outputs: OnnxValueMetadata[];
  /** The default-domain opset of the model. */
  readonly opset: number;
  readonly limits: ForwardLimits;
  private readonly runner: GraphRunner;
  /** Integer inputs that steer shapes (axes, shapes, starts, conditions), not data: their
   * values join the recording's key and are folded like constants. */
  private readonly keyed: Set<string>;
  private readonly entries = new Map<string, Entry>();
  private queue: Promise<unknown> = Promise.resolve();
  private busy = false;

  /** @internal use loadOnnx */
  constructor(
    private readonly model: ModelInfo,
    private readonly order: NodeInfo[],
    opset: number,
    limits: ForwardLimits,
  ) {
    this.opset = opset;
    this.limits = limits;
    const graph = model.graph;
    const inits = new Set(graph.initializers.keys());
    this.inputs = graph.inputs.filter((i) => !inits.has(i.name)).map(meta);
    this.outputs = graph.outputs.map(meta);
    const fused = fuseForInference(order, graph);
    const initial = new Map<string, Value>();
    for (const [name, h] of graph.initializers) {
      const v = hostValue(h);
      v.known = true;
      initial.set(name, v);
    }
    this.runner = new GraphRunner(fused, opset, initial, true);
    this.keyed = valueKeyedInputs(this.inputs, order);
  }

  /** The outputs for `feeds`, synchronously on this thread. */
  runSync(feeds: OnnxFeeds): Record<string, Tensor> {
    if (this.busy) throw new OnnxError('OnnxSession.runSync: a run() is in progress on this session; await it first');
    const tensors = this.checkFeeds('runSync', feeds);
    const entry = this.entry(tensors);
    this.copyIn(entry, tensors);
    entry.program.run(1);
    return this.copyOut(entry);
  }

  /** The outputs for `feeds`: small runs synchronously, others on the thread pool, one
   * session run at a time in call order. */
  run(feeds: OnnxFeeds): Promise<Record<string, Tensor>> {
    let tensors: Tensor[];
    try {
      tensors = this.checkFeeds('run', feeds);
    } catch (e) {
      return Promise.reject(e);
    }
    const next = this.queue.then(async () => {
      const entry = this.entry(tensors);
      this.copyIn(entry, tensors);
      if (entry.seconds <= SYNC_SECONDS) entry.program.run(1);
      else {
        this.busy = true;
        try {
          await entry.program.runAsync(1);
        } finally {
          this.busy = false;
        }
      }
      return this.copyOut(entry);
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** The graph as a trainable Module (the float initializers become its parameters). */
  toModule(): OnnxModule {
    return new OnnxModule(this.model, this.order, this.opset, this.inputs, this.outputs);
  }

  /**
   * @internal With fixed declared input shapes, records the first run now (at load), so
   * whatever it would refuse fails at load. Not when integer inputs steer shapes (zeros there
   * would be meaningless) or an input is huge.
   */
  recordDeclaredShapes(): void {
    if (this.inputs.length === 0 || this.keyed.size > 0) return;
    const feeds: OnnxFeeds = {};
    for (const i of this.inputs) {
      if (!i.shape || !i.shape.every((d) => typeof d === 'number')) return;
      const dims = i.shape as number[];
      const size = dims.reduce((a, b) => a * b, 1);
      if (size > 2 ** 26) return;
      feeds[i.name] = { data: isFloatType(i.dtype) ? new Float32Array(size) : new Int32Array(size), dims };
    }
    this.entry(this.checkFeeds('load', feeds));
  }

  /** Releases every recorded program and its buffers now. */
  release(): void {
    for (const e of this.entries.values()) e.program.clear();
    this.entries.clear();
  }

  private checkFeeds(what: string, feeds: OnnxFeeds): Tensor[] {
    if (typeof feeds !== 'object' || feeds === null)
      throw new OnnxError(`OnnxSession.${what}: feeds must be an object`);
    for (const k of Object.keys(feeds))
      if (!this.inputs.some((i) => i.name === k))
        throw new OnnxError(
          `OnnxSession.${what}: '${k}' is not an input of this model (inputs: ${this.inputs.map((i) => i.name).join(', ')})`,
        );
    return checkInputs(`OnnxSession.${what}`, this.inputs, feeds);
  }

  private entry(tensors: Tensor[]): Entry {
    const key = tensors
      .map(
        (t, i) => `${t.dtype}:${t.shape.join(',')}${this.keyed.has(this.inputs[i].name) ? `=${t.data.join(',')}` : ''}`,
      )
      .join('|');
    let entry = this.entries.get(key);
    if (entry) return entry;
    const inputs = tensors.map(
      (t) => new Tensor(t.dtype === 'int32' ? new Int32Array(t.size) : new Float32Array(t.size), t.shape),
    );
    const rows = tensors[0]?.shape[0] ?? 1;
    const traced = traceWithinBudget(this.limits, 'OnnxSession.run', rows, false, () =>
      trace(
        () =>
          noGrad(() =>
            this.runner.run(
              feedValues(this.inputs, inputs, this.keyed, tensors),
              this.outputs.map((o) => o.name),
            ),
          ),
        {
          execute: false,
        },
      ),
    );
    entry = {
      program: traced.program,
      inputs,
      outputs: traced.value,
      seconds: estimateSeconds(traced.program.flops, traced.program.bytes),
    };
    if (this.entries.size >= MAX_ENTRIES) {
      const oldest = this.entries.keys().next().value as string;
      (this.entries.get(oldest) as Entry).program.clear();
      this.entries.delete(oldest);
    }
    this.entries.set(key, entry);
    return entry;
  }

  private copyIn(entry: Entry, tensors: Tensor[]): void {
    tensors.forEach((t, i) => entry.inputs[i].data.set(t.data));
  }

  private copyOut(entry: Entry): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    this.outputs.forEach((o, i) => (out[o.name] = valueToTensor(entry.outputs[i], o.name)));
    return out;
  }
}

function meta(v: ValueInfo): OnnxValueMetadata {
  return { name: v.name, dtype: v.type, shape: v.shape ? [...v.shape] : null };
}

/** A copy of a computed value as a Tensor (integers as int32). */
function valueToTensor(v: Value, name: string): Tensor {
  if (v.tensor) return new Tensor(v.tensor.data.slice(), v.tensor.shape);
  const ints = v.ints as Float64Array;
  const out = new Int32Array(ints.length);
  for (let i = 0; i < ints.length; i++) {
    if (!(ints[i] >= -(2 ** 31) && ints[i] < 2 ** 31))
      throw new OnnxError(`output '${name}' holds ${ints[i]}, outside int32 (integer outputs are returned as int32)`);
    out[i] = ints[i];
  }
  return new Tensor(out, v.shape);
}

/** Feeds checked against the declared inputs, as float32 or int32 tensors, in input order. */
function checkInputs(what: string, inputs: readonly OnnxValueMetadata[], feeds: OnnxFeeds): Tensor[] {
  const symbols = new Map<string, number>();
  return inputs.map((decl) => {
    const f = feeds[decl.name];
    if (f === undefined) throw new OnnxError(`${what}: input '${decl.name}' is missing`);
    const t = toTensor(what, decl, f);
    if (decl.shape) {
      if (decl.shape.length !== t.ndim)
        throw new OnnxError(
          `${what}: input '${decl.name}' must have shape [${decl.shape.join(',')}], got [${t.shape.join(',')}]`,
        );
      decl.shape.forEach((d, i) => {
        const got = t.shape[i];
        if (typeof d === 'number') {
          if (d !== got)
            throw new OnnxError(
              `${what}: input '${decl.name}' must have shape [${decl.shape?.join(',')}], got [${t.shape.join(',')}]`,
            );
        } else if (d !== '?') {
          const seen = symbols.get(d);
          if (seen !== undefined && seen !== got)
            throw new OnnxError(`${what}: dimension '${d}' is ${seen} in one input and ${got} in input '${decl.name}'`);
          symbols.set(d, got);
        }
      });
    }
    return t;
  });
}

function toTensor(what: string, decl: OnnxValueMetadata, f: Tensor | OnnxTensorLike): Tensor {
  const float = isFloatType(decl.dtype);
  if (f instanceof Tensor) {
    if (float !== (f.dtype === 'float32'))
      throw new OnnxError(`${what}: input '${decl.name}' is ${decl.dtype}, got a ${f.dtype} Tensor`);
    return f;
  }
  if (!f || typeof f !== 'object' || !ArrayBuffer.isView(f.data) || !Array.isArray(f.dims))
    throw new OnnxError(`${what}: input '${decl.name}' must be a Tensor or { data, dims }`);
  const dims = f.dims.map(Number);
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 0))
    throw new OnnxError(`${what}: input '${decl.name}' has invalid dims [${f.dims.join(',')}]`);
  const size = dims.reduce((a, b) => a * b, 1);
  if (f.data.length !== size)
    throw new OnnxError(
      `${what}: input '${decl.name}' has ${f.data.length} values for dims [${dims.join(',')}] (${size})`,
    );
  if (float) {
    if (f.data instanceof BigInt64Array || f.data instanceof Int32Array)
      throw new OnnxError(`${what}: input '${decl.name}' is ${decl.dtype}, got integer data`);
    return new Tensor(f.data instanceof Float32Array ? f.data : Float32Array.from(f.data as Float64Array), dims);
  }
  if (f.data instanceof Float32Array || f.data instanceof Float64Array)
    throw new OnnxError(`${what}: input '${decl.name}' is ${decl.dtype}, got floating data`);
  const out = new Int32Array(size);
  for (let i = 0; i < size; i++) {
    const v = Number(f.data[i]);
    if (!(v >= -(2 ** 31) && v < 2 ** 31))
      throw new OnnxError(`${what}: input '${decl.name}' holds ${v} at ${i}, outside int32`);
    out[i] = v;
  }
  return new Tensor(out, dims);
}

/** Ops that read an integer input as data at run time (indices, lengths): such inputs are not
 * value-keyed. */
const DATA_INT_USES: Record<string, number[]> = { Gather: [1], LSTM: [4], GRU: [4], RNN: [4] };
const MAX_KEYED_ELEMENTS = 64;

/** The recurrent cells that run step by step (ops-recurrent.ts) take sequence_lens known. */
function stepwiseRecurrent(n: NodeInfo): boolean {
  const a = n.attrs.get('linear_before_reset');
  return (n.opType === 'GRU' && !(a && a.kind === 'int' && a.value === 1)) || (n.opType === 'LSTM' && !!n.inputs[7]);
}

function valueKeyedInputs(inputs: readonly OnnxValueMetadata[], nodes: readonly NodeInfo[]): Set<string> {
  const keyed = new Set<string>();
  for (const decl of inputs) {
    if (isFloatType(decl.dtype)) continue;
    const asData = nodes.some(
      (n) => !stepwiseRecurrent(n) && (DATA_INT_USES[n.opType] ?? []).some((k) => n.inputs[k] === decl.name),
    );
    if (!asData) keyed.add(decl.name);
  }
  return keyed;
}

/**
 * The runner's feeds: float and data-integer inputs as run-time values over the recording's
 * buffers; value-keyed integer inputs as known values (from `actual`, the caller's data, whose
 * values are part of the recording's key).
 */
function feedValues(
  inputs: readonly OnnxValueMetadata[],
  tensors: Tensor[],
  keyed: ReadonlySet<string> = new Set(),
  actual: Tensor[] = tensors,
): Map<string, Value> {
  return new Map(
    inputs.map((decl, i) => {
      if (isFloatType(decl.dtype)) return [decl.name, floatValue(tensors[i], decl.dtype)];
      if (keyed.has(decl.name) && actual[i].size <= MAX_KEYED_ELEMENTS) {
        const v = intValue(decl.dtype, actual[i].shape, Float64Array.from(actual[i].data));
        v.known = true;
        return [decl.name, v];
      }
      return [decl.name, dynIntValue(decl.dtype, tensors[i])];
    }),
  );
}

/**
 * An imported graph as a Module: the float initializers are Parameters under their ONNX names
 * (BatchNormalization's running statistics among them, not trainable), so it trains with fit, freezes by
 * name and saves its state. forward takes the graph inputs in order and returns the first
 * output; forwardAll returns every output by name.
 */
export class OnnxModule extends Module {
  private readonly params = new Map<string, Parameter>();
  private readonly runner: GraphRunner;

  constructor(
    model: ModelInfo,
    order: NodeInfo[],
    opset: number,
    readonly inputSpec: readonly OnnxValueMetadata[],
    readonly outputSpec: readonly OnnxValueMetadata[],
  ) {
    super();
    const stats = new Set<string>();
    for (const n of order)
      if (n.opType === 'BatchNormalization') for (const i of [3, 4]) if (n.inputs[i]) stats.add(n.inputs[i]);
    const initial = new Map<string, Value>();
    for (const [name, h] of model.graph.initializers) {
      if (h.f32) {
        // A copy: training must not write into the file's bytes or another session's weights.
        const t = new Tensor(h.f32.slice(), h.dims);
        // BatchNormalization's running statistics stay fixed (inference form): not trained.
        const p = new Parameter(t, !stats.has(name));
        this.params.set(name, p);
        initial.set(name, floatValue(p, h.type));
      } else {
        const v = intValue(h.type, h.dims, h.ints as Float64Array);
        v.known = true;
        initial.set(name, v);
      }
    }
    this.runner = new GraphRunner(order, opset, initial, false);
  }

  protected override ownParameters(): [string, Parameter][] {
    return [...this.params];
  }

  forward(...inputs: Tensor[]): Tensor {
    return this.runAll(inputs)[0];
  }

  /** Every graph output by name. */
  forwardAll(feeds: OnnxFeeds): Record<string, Tensor> {
    const tensors = checkInputs('OnnxModule.forwardAll', this.inputSpec, feeds);
    const values = this.runAll(tensors);
    return Object.fromEntries(this.outputSpec.map((o, i) => [o.name, values[i]]));
  }

  private runAll(inputs: Tensor[]): Tensor[] {
    if (inputs.length !== this.inputSpec.length)
      throw new OnnxError(`OnnxModule.forward: the graph takes ${this.inputSpec.length} inputs, got ${inputs.length}`);
    const values = this.runner.run(
      feedValues(this.inputSpec, inputs),
      this.outputSpec.map((o) => o.name),
    );
    return values.map((v, i) => {
      if (v.tensor) return v.tensor;
      return valueToTensor(v, this.outputSpec[i].name);
    });
  }
}

/**
 * Loads an ONNX model from a path or its bytes. Unsupported operators fail here, all listed
 * with their nodes; so does anything else a first run of a model with fixed input shapes
 * would refuse.
 */
export async function loadOnnx(
  source: string | Uint8Array | ArrayBuffer,
  options: OnnxLoadOptions = {},
): Promise<OnnxSession> {
  let bytes: Uint8Array;
  let dir: string | null = null;
  if (typeof source === 'string') {
    bytes = await readFile(source);
    dir = dirname(source);
  } else if (source instanceof Uint8Array) bytes = source;
  else if (source instanceof ArrayBuffer) bytes = new Uint8Array(source);
  else throw new OnnxError('loadOnnx: source must be a path, a Uint8Array or an ArrayBuffer');
  return loadOnnxBytes(bytes, dir, options);
}

/** loadOnnx on bytes already in memory, synchronously. */
export function loadOnnxSync(source: Uint8Array, options: OnnxLoadOptions = {}): OnnxSession {
  return loadOnnxBytes(source, null, options);
}

function loadOnnxBytes(bytes: Uint8Array, dir: string | null, options: OnnxLoadOptions): OnnxSession {
  const readLimits = { ...DEFAULT_READ_LIMITS, ...options.readLimits };
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const model = readModel(bytes, dir, readLimits);
  const opset = checkSupported(model);
  const order = topologicalOrder(model.graph);
  const session = new OnnxSession(model, order, opset, limits);
  session.recordDeclaredShapes();
  return session;
}
