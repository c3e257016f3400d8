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
import { Tensor } from '../tensor/tensor.js';
import { DEFAULT_LIMITS, estimateSeconds, traceWithinBudget, type ForwardLimits } from '../train/budget.js';
import { trace, type Traced } from '../train/trace.js';
import { checkSupported, fuseForInference, GraphRunner, topologicalOrder } from './graph.js';
import {
  checkInputs,
  feedValues,
  meta,
  valueKeyedInputs,
  valueToTensor,
  type OnnxFeeds,
  type OnnxValueMetadata,
} from './feeds.js';
import { OnnxModule } from './module.js';
import { DEFAULT_READ_LIMITS, isFloatType, OnnxError, readModel, type ModelInfo, type ReadLimits } from './proto.js';
import { hostValue, type Value } from './value.js';

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
  /** Activation bytes the recording holds after compaction, and what compaction saved. */
  bytes: number;
  savedBytes: number;
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
    private readonly bytes: Uint8Array,
    limits: ForwardLimits,
  ) {
    this.opset = checkSupported(model);
    this.limits = limits;
    const graph = model.graph;
    const order = topologicalOrder(graph);
    const inits = new Set(graph.initializers.keys());
    this.inputs = graph.inputs.filter((i) => !inits.has(i.name)).map(meta);
    this.outputs = graph.outputs.map(meta);
    const fused = fuseForInference(order, graph);
    const initial = new Map<string, Value>();
    for (const [name, h] of fused.initializers) {
      const v = hostValue(h);
      v.known = true;
      initial.set(name, v);
    }
    this.runner = new GraphRunner(fused.nodes, this.opset, initial, true);
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
    return new OnnxModule(this.model, this.bytes);
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

  /** Each recorded input signature with the activation memory its replay holds (after buffers
   * whose lifetimes do not overlap were made to share memory) and what that sharing saved. */
  recordings(): { signature: string; bytes: number; savedBytes: number }[] {
    return [...this.entries].map(([signature, e]) => ({ signature, bytes: e.bytes, savedBytes: e.savedBytes }));
  }

  /** Releases every recorded program and its buffers (after any run in flight); later runs
   * record again. */
  release(): void {
    const entries = [...this.entries.values()];
    this.entries.clear();
    const clear = (): void => entries.forEach((e) => e.program.clear());
    // A run on the thread pool still uses its program: clear once the queued runs settle.
    if (this.busy) void this.queue.then(clear);
    else clear();
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
    // Intermediate buffers share memory by liveness; the outputs JS copies out stay put.
    const saved = traced.program.compact(traced.value.flatMap((v) => (v.tensor ? [v.tensor.data] : [])));
    entry = {
      program: traced.program,
      inputs,
      outputs: traced.value,
      seconds: estimateSeconds(traced.program.flops, traced.program.bytes),
      bytes: traced.activationBytes - saved,
      savedBytes: saved,
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
  const session = new OnnxSession(readModel(bytes, dir, readLimits), bytes, limits);
  session.recordDeclaredShapes();
  return session;
}
