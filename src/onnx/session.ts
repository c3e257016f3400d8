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
import { trace, untraced, type Traced } from '../train/trace.js';
import {
  lowpNative,
  prepareWeight,
  withPreparedWeights,
  type PreparedLookup,
  type PreparedWeight,
} from '../ops/linalg.js';
import { checkOptionKeys, numberOption } from '../options.js';
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

/**
 * Options of {@link loadOnnx} and {@link loadOnnxSync}: budgets for reading an untrusted file
 * and for each run, each merged over its defaults (4 GiB of tensor data, 1,000,000 nodes, rank 8;
 * 1 GiB of activations and 1e11 FLOPs per sample).
 *
 * @example
 * ```ts
 * import { loadOnnx, type OnnxLoadOptions } from 'axon-nn';
 * const options: OnnxLoadOptions = { readLimits: { maxTensorBytes: 256 * 2 ** 20 }, limits: { maxFlops: 1e9 } };
 * const session = await loadOnnx('model.onnx', options); // an OnnxError if the file holds more
 * ```
 */
export interface OnnxLoadOptions {
  /** Budgets while reading the file (tensor bytes, nodes, rank). */
  readLimits?: Partial<ReadLimits>;
  /** Budgets per sample of a run (activation bytes, FLOPs), as Model.limits. */
  limits?: Partial<ForwardLimits>;
}

/** One recorded forward: its program and the fixed buffers it reads and writes. */
interface Replica {
  program: Traced<unknown>['program'];
  inputs: Tensor[];
  outputs: Value[];
  /** Replaying for a run now (a program runs one replay at a time). */
  busy: boolean;
}

/** The recordings of one input signature: a replica per run in flight (up to MAX_REPLICAS). */
interface Entry {
  replicas: Replica[];
  /** Runs waiting for a free replica, oldest first. */
  waiting: ((r: Replica) => void)[];
  seconds: number;
  /** Activation bytes one replica holds after compaction, and what compaction saved. */
  bytes: number;
  savedBytes: number;
}

/**
 * {@link OnnxSession.prepareInference}'s options: the precision of the dense products, and
 * feeds to measure what it changes (refused past maxRelativeError).
 *
 * @example
 * ```ts
 * import { randn, type OnnxPrepareOptions } from 'axon-nn';
 * const options: OnnxPrepareOptions = { precision: 'int8', validation: { feeds: { input: randn([8, 16]) } } };
 * ```
 */
export interface OnnxPrepareOptions {
  /** 'bf16' or 'int8' for every MatMul/Gemm with a constant weight; 'float32' undoes it. */
  precision: 'bf16' | 'int8' | 'float32';
  /**
   * Representative inputs: every float output is compared before and after, and the
   * preparation refused (the session left as it was) when an output's relative RMS change
   * exceeds maxRelativeError (default 0.05).
   */
  validation?: {
    /** Inputs as run() takes them. */
    feeds: OnnxFeeds;
    /** The largest accepted relative RMS change of any float output. */
    maxRelativeError?: number;
  };
}

/**
 * What {@link OnnxSession.prepareInference} did: whether the CPU runs the precision natively,
 * and each float output's relative RMS change on the validation feeds.
 *
 * @example
 * ```ts
 * import { type OnnxPreparation } from 'axon-nn';
 * const seen: OnnxPreparation = { precision: 'bf16', native: true, weights: 24, relativeError: { output: 0.003 } };
 * ```
 */
export interface OnnxPreparation {
  /** The precision now in effect. */
  precision: 'bf16' | 'int8' | 'float32';
  /** True when the CPU runs it on AVX512-BF16 / VNNI (else the float fallback, same rounding). */
  native: boolean;
  /** Weight matrices converted so far (known after the validation run; more as new shapes run). */
  weights: number;
  /** Relative RMS change per float output on the validation feeds, when given. */
  relativeError?: Record<string, number>;
}

/** Input signatures kept: a dynamic batcher sends every row count up to its maxBatchSize. */
const MAX_ENTRIES = 64;
/** Replicas per input signature: concurrent runs beyond this wait for a free one. */
const MAX_REPLICAS = 8;
/** Activation memory all recordings may hold (as Model.predict's cache). */
const MAX_BYTES = 256 * 2 ** 20;
/** Runs estimated under this many seconds run synchronously inside run() (a thread-pool hop
 * costs ~27 us, more than a batch-1 MLP forward). */
const SYNC_SECONDS = 1e-3;

/**
 * A loaded ONNX model, shaped like onnxruntime-node's `InferenceSession`: `inputs` and
 * `outputs` metadata, `run(feeds)` (off the event loop unless the work is tiny) and `runSync`,
 * each giving the outputs by name as Tensors (integer outputs as int32). Concurrent runs
 * do not wait for each other. `toModule()` gives the same graph as a trainable Module. Make one
 * with {@link loadOnnx} or {@link loadOnnxSync}.
 *
 * @example
 * ```ts
 * import { exportOnnxBytes, loadOnnxSync, Sequential, Linear, randn } from 'axon-nn';
 * const net = new Sequential(new Linear(4, 8, { activation: 'relu' }), new Linear(8, 2));
 * const session = loadOnnxSync(exportOnnxBytes(net, { inputShape: [4] }).bytes);
 * console.log(session.inputs); // [{ name: 'input', dtype: 'float32', shape: ['batch', 4] }]
 * const { output } = await session.run({ input: randn([3, 4]) });
 * console.log(output.shape); // [3, 2]
 * ```
 */
export class OnnxSession {
  /** The graph inputs a run takes (initializers excluded), symbolic dimensions by name. */
  readonly inputs: OnnxValueMetadata[];
  /** The graph outputs a run returns, in graph order. */
  readonly outputs: OnnxValueMetadata[];
  /** The default-domain opset of the model. */
  readonly opset: number;
  /** Per-sample budgets of a run (activation bytes, FLOPs): OnnxLoadOptions.limits over the defaults. */
  readonly limits: ForwardLimits;
  private readonly runner: GraphRunner;
  /** Integer inputs that steer shapes (axes, shapes, starts, conditions), not data: their
   * values join the recording's key and are folded like constants. */
  private readonly keyed: Set<string>;
  private readonly entries = new Map<string, Entry>();

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
    const fused = fuseForInference(order, graph, this.opset);
    const initial = new Map<string, Value>();
    for (const [name, h] of fused.initializers) {
      const v = hostValue(h);
      v.known = true;
      initial.set(name, v);
    }
    this.runner = new GraphRunner(fused.nodes, this.opset, initial, true);
    this.keyed = valueKeyedInputs(this.inputs, order);
  }

  /**
   * The outputs for `feeds`, synchronously on this thread (onnxruntime-node has no equivalent).
   * It may run while run() calls are in flight (on another recording of the same graph).
   * @throws OnnxError when a feed is missing, unknown, or of the wrong type or shape.
   */
  runSync(feeds: OnnxFeeds): Record<string, Tensor> {
    const tensors = this.checkFeeds('runSync', feeds);
    const entry = this.entry(tensors);
    // A synchronous run cannot wait: with every replica busy it records one more (each JS
    // thread runs one runSync at a time, so this adds at most one per thread).
    const replica = this.tryAcquire(entry, tensors, true) as Replica;
    try {
      this.copyIn(replica, tensors);
      replica.program.run(1);
      return this.copyOut(replica);
    } finally {
      this.releaseReplica(entry, replica);
    }
  }

  /**
   * The outputs for `feeds` by output name: small runs synchronously, others on the thread
   * pool. Runs do not wait for each other: each run in flight replays its own recording of the
   * graph (up to 8 per input signature; more wait for a free one, in call order). The first run
   * with a new input signature (dtypes and shapes) records it, which costs more than a replay.
   * @throws OnnxError when a feed is missing, unknown, or of the wrong type or shape.
   */
  async run(feeds: OnnxFeeds): Promise<Record<string, Tensor>> {
    const tensors = this.checkFeeds('run', feeds);
    const entry = this.entry(tensors);
    const replica =
      this.tryAcquire(entry, tensors) ?? (await new Promise<Replica>((resolve) => entry.waiting.push(resolve)));
    try {
      this.copyIn(replica, tensors);
      if (entry.seconds <= SYNC_SECONDS) replica.program.run(1);
      else await replica.program.runAsync(1);
      return this.copyOut(replica);
    } finally {
      this.releaseReplica(entry, replica);
    }
  }

  /** The graph as a trainable Module: the float initializers become its parameters (copies, under their ONNX names). */
  toModule(): OnnxModule {
    return new OnnxModule(this.model, this.bytes);
  }

  /** Converted weights (by the folded tensor linear multiplies by), null when float32. */
  private lowp: { precision: 'bf16' | 'int8'; cache: Map<Tensor, PreparedWeight | null> } | null = null;
  /** linear's view of them: a constant weight is converted on first use (the first recording). */
  private readonly lookup: PreparedLookup = {
    get: (w) => {
      const p = this.lowp;
      if (!p) return undefined;
      let prepared = p.cache.get(w);
      if (prepared === undefined) {
        const data = w.data as Float32Array;
        // Only constants (a weight the recording would otherwise read live must stay float32),
        // and for int8 only finite ones (a non-finite value has no int8 scale).
        const eligible = this.runner.isConstant(w) && (p.precision === 'bf16' || data.every(Number.isFinite));
        prepared = eligible ? untraced(() => prepareWeight(w, p.precision)) : null;
        p.cache.set(w, prepared);
      }
      return prepared ?? undefined;
    },
  };

  /**
   * Runs the dense products (MatMul and Gemm with a constant weight) in bf16 or int8 from now
   * on, as Model.prepareInference does for a Model (docs/TRANSFORMERS.md): weights converted
   * once, activations per call; the rest of the graph stays float32. With `validation`, every
   * float output is compared with float32's on those feeds and the preparation refused when one
   * changes by more than maxRelativeError. Recordings made before are dropped.
   * @throws OnnxError for an unknown precision, bad feeds, or a change past the limit.
   */
  async prepareInference(options: OnnxPrepareOptions): Promise<OnnxPreparation> {
    checkOptionKeys('OnnxSession.prepareInference', options, ['precision', 'validation']);
    const precision = options.precision;
    if (precision !== 'bf16' && precision !== 'int8' && precision !== 'float32')
      throw new OnnxError(
        `OnnxSession.prepareInference: precision must be 'bf16', 'int8' or 'float32', got ${String(precision)}`,
      );
    const v = options.validation;
    if (v !== undefined) checkOptionKeys('OnnxSession.prepareInference: validation', v, ['feeds', 'maxRelativeError']);
    const limit = numberOption(
      'OnnxSession.prepareInference',
      'validation.maxRelativeError',
      v?.maxRelativeError,
      0.05,
      0,
      Infinity,
    );
    const previous = this.lowp;
    this.lowp = null;
    this.release();
    const before = v ? await this.run(v.feeds) : null;
    this.lowp = precision === 'float32' ? null : { precision, cache: new Map() };
    this.release();
    let relativeError: Record<string, number> | undefined;
    if (v && before) {
      const after = await this.run(v.feeds);
      relativeError = {};
      for (const [name, t] of Object.entries(before)) {
        if (t.dtype !== 'float32') continue;
        const a = after[name].data as Float32Array;
        const b = t.data as Float32Array;
        let e = 0;
        let n = 0;
        for (let i = 0; i < b.length; i++) {
          e += (a[i] - b[i]) ** 2;
          n += b[i] * b[i];
        }
        relativeError[name] = n > 0 ? Math.sqrt(e / n) : Math.sqrt(e);
        if (!(relativeError[name] <= limit)) {
          this.lowp = previous;
          this.release();
          throw new OnnxError(
            `OnnxSession.prepareInference: ${precision} changes output '${name}' by ${relativeError[name].toExponential(2)} (relative RMS), more than maxRelativeError ${limit}; the session is unchanged`,
          );
        }
      }
    }
    const native = precision === 'float32' ? true : lowpNative(precision);
    const weights = this.lowp ? [...this.lowp.cache.values()].filter((p) => p !== null).length : 0;
    return { precision, native, weights, ...(relativeError ? { relativeError } : {}) };
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
  recordings(): {
    /** The input signature: each input's dtype and shape (and value, for inputs that steer shapes). */
    signature: string;
    /** Activation bytes one replay of this recording holds. */
    bytes: number;
    /** Bytes saved by letting buffers with disjoint lifetimes share memory. */
    savedBytes: number;
  }[] {
    return [...this.entries].map(([signature, e]) => ({ signature, bytes: e.bytes, savedBytes: e.savedBytes }));
  }

  /** Releases every recorded program and its buffers (after any run in flight); later runs
   * record again. */
  release(): void {
    const entries = [...this.entries.values()];
    this.entries.clear();
    for (const e of entries) {
      // A replica replaying now is cleared when its run ends (releaseReplica sees it released).
      for (const r of e.replicas) if (!r.busy) r.program.clear();
      e.replicas = e.replicas.filter((r) => r.busy);
    }
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
    const { replica, saved, activationBytes } = this.record(tensors);
    entry = {
      replicas: [replica],
      waiting: [],
      seconds: estimateSeconds(replica.program.flops, replica.program.bytes),
      bytes: activationBytes - saved,
      savedBytes: saved,
    };
    // Bounded by count and by the activation memory all replicas hold: oldest signatures out.
    while (this.entries.size > 0 && (this.entries.size >= MAX_ENTRIES || this.heldBytes() + entry.bytes > MAX_BYTES)) {
      const oldest = this.entries.keys().next().value as string;
      const dropped = this.entries.get(oldest) as Entry;
      this.entries.delete(oldest);
      for (const r of dropped.replicas) if (!r.busy) r.program.clear();
      dropped.replicas = dropped.replicas.filter((r) => r.busy);
    }
    this.entries.set(key, entry);
    return entry;
  }

  /** Activation bytes every cached replica holds. */
  private heldBytes(): number {
    let held = 0;
    for (const e of this.entries.values()) held += e.bytes * e.replicas.length;
    return held;
  }

  /** Records the graph for these inputs' signature on fresh buffers. */
  private record(tensors: Tensor[]): { replica: Replica; saved: number; activationBytes: number } {
    const inputs = tensors.map(
      (t) => new Tensor(t.dtype === 'int32' ? new Int32Array(t.size) : new Float32Array(t.size), t.shape),
    );
    const rows = tensors[0]?.shape[0] ?? 1;
    const traced = traceWithinBudget(this.limits, 'OnnxSession.run', rows, false, () =>
      trace(
        () =>
          noGrad(() =>
            withPreparedWeights(this.lowp ? this.lookup : null, () =>
              this.runner.run(
                feedValues(this.inputs, inputs, this.keyed, tensors),
                this.outputs.map((o) => o.name),
              ),
            ),
          ),
        {
          execute: false,
        },
      ),
    );
    // Intermediate buffers share memory by liveness; the outputs JS copies out stay put.
    const saved = traced.program.compact(traced.value.flatMap((v) => (v.tensor ? [v.tensor.data] : [])));
    return {
      replica: { program: traced.program, inputs, outputs: traced.value, busy: false },
      saved,
      activationBytes: traced.activationBytes,
    };
  }

  /**
   * A free replica of entry, recording another while under MAX_REPLICAS and MAX_BYTES (or,
   * `force`, always); null when none.
   */
  private tryAcquire(entry: Entry, tensors: Tensor[], force = false): Replica | null {
    let replica = entry.replicas.find((r) => !r.busy);
    if (
      !replica &&
      (force ||
        (entry.replicas.length < MAX_REPLICAS && this.live(entry) && this.heldBytes() + entry.bytes <= MAX_BYTES))
    ) {
      replica = this.record(tensors).replica;
      entry.replicas.push(replica);
    }
    if (replica) replica.busy = true;
    return replica ?? null;
  }

  /** Whether entry is still cached (not dropped by release() or eviction). */
  private live(entry: Entry): boolean {
    for (const e of this.entries.values()) if (e === entry) return true;
    return false;
  }

  private releaseReplica(entry: Entry, replica: Replica): void {
    replica.busy = false;
    const next = entry.waiting.shift();
    if (next) {
      replica.busy = true;
      next(replica);
      return;
    }
    // Dropped by release() or eviction while it ran: free it now.
    if (!this.live(entry)) {
      replica.program.clear();
      entry.replicas = entry.replicas.filter((r) => r !== replica);
    }
  }

  private copyIn(replica: Replica, tensors: Tensor[]): void {
    tensors.forEach((t, i) => replica.inputs[i].data.set(t.data));
  }

  private copyOut(replica: Replica): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    this.outputs.forEach((o, i) => (out[o.name] = valueToTensor(replica.outputs[i], o.name)));
    return out;
  }
}

/**
 * Loads an ONNX model from a path or its bytes, like onnxruntime-node's
 * `InferenceSession.create`. Unsupported operators fail here, all listed with their nodes; so
 * does anything else a first run of a model with fixed input shapes would refuse. External
 * data files are read from the model's folder (only when loading from a path).
 * @throws (rejects) OnnxError on an invalid or unsupported model or one over the read limits;
 *   the file system's error when the path cannot be read.
 *
 * @example
 * ```ts
 * import { loadOnnx, randn } from 'axon-nn';
 * const session = await loadOnnx('model.onnx');
 * const input = session.inputs[0];
 * console.log(input.name, input.dtype, input.shape); // e.g. input float32 ['batch', 784]
 * const result = await session.run({ [input.name]: randn([1, 784]) });
 * ```
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

/**
 * {@link loadOnnx} on bytes already in memory, synchronously (a model with external data files
 * cannot be loaded this way).
 * @throws OnnxError on an invalid or unsupported model or one over the read limits.
 *
 * @example
 * ```ts
 * import { exportOnnxBytes, loadOnnxSync, Linear, randn } from 'axon-nn';
 * const { bytes } = exportOnnxBytes(new Linear(3, 1), { inputShape: [3] });
 * const session = loadOnnxSync(bytes);
 * console.log(session.runSync({ input: randn([5, 3]) }).output.shape); // [5, 1]
 * ```
 */
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
