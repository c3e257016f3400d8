/**
 * Data-parallel training as PyTorch's DistributedDataParallel does it: every rank holds the
 * whole model, trains on its shard of each batch, and averages gradients with allreduce
 * before the optimizer step, so the optimizer moves every rank's weights identically.
 *
 * - At wrap time: the ranks compare their models (names, shapes; a mismatch is an error, not
 *   a hang) and copy rank 0's parameters and buffers to everyone.
 * - Gradients are flattened into buckets (reverse parameter order, which is roughly the order
 *   backward completes them; first bucket small, then bucketCapMB). The autograd engine reports
 *   each parameter whose gradient is complete (setBackwardObserver); a full bucket starts its
 *   allreduce on the MPI comm thread at once, while backward continues with earlier layers.
 * - Explicit loop: `loss.backward(); await ddp.synchronize(); optimizer.step()`.
 * - Model.fit: the traced training step is cut at the points where buckets complete
 *   (SegmentedStep); between the pieces the reductions start, and the last piece (copy the
 *   averages back, clip, optimizer step) runs once they have all finished.
 */
import { createHash } from 'node:crypto';
import { setBackwardObserver, type BackwardObserver } from '../autograd/engine.js';
import { native, type NativeProgram, type Words } from '../native/binding.js';
import { isRecording, kernels } from '../native/executor.js';
import { Module, type Parameter } from '../nn/module.js';
import { Model } from '../train/model.js';
import { shapeToString } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import type { History } from '../train/callbacks.js';
import { fitDistributed, type DistributedFitOptions } from './fit.js';
import {
  allgather,
  allreduce,
  allreduceBusyMs,
  broadcast,
  hiddenShare,
  defaultTimeoutMs,
  isInitialized,
  size as worldSize,
} from './comm.js';
import { checkOptionKeys, numberOption, optionKeys } from '../options.js';

/**
 * Options of {@link DistributedDataParallel.create}: gradient bucket sizes (PyTorch's
 * `bucket_cap_mb`), whether module buffers such as BatchNorm statistics stay per rank or are
 * averaged, and timeouts.
 *
 * @example
 * ```ts
 * import { distributed, DistributedDataParallel, Sequential, Linear, BatchNorm1d, type DdpOptions } from 'axon-nn';
 * // run under: mpirun -np 2 node train.js
 * await distributed.init();
 * const net = new Sequential(new Linear(32, 64), new BatchNorm1d(64), new Linear(64, 10));
 * const options: DdpOptions = { bucketCapMB: 4, buffers: 'average', startupTimeoutMs: 120_000 };
 * const ddp = await DistributedDataParallel.create(net, options);
 * ```
 */
export interface DdpOptions {
  /**
   * Capacity of a gradient bucket in MB, or 'auto' (the default on 2+ ranks; 25 MB, PyTorch's
   * bucket_cap_mb, on one): measured at wrap time (about 10 allreduces of 1 and 8 MB), the link's
   * latency and bandwidth, and buckets of about 2 ms of transfer each (4 latencies if longer,
   * 1 to 25 MB), so the first start early and none waits for the end of backward with data
   * that was ready long before. `ddp.bucketCapMB` says what was chosen.
   */
  bucketCapMB?: number | 'auto';
  /** Capacity of the first bucket in MB (default 1, as PyTorch): the last layers' gradients
   * start reducing early instead of waiting for a full 25 MB. */
  firstBucketCapMB?: number;
  /**
   * Module buffers (BatchNorm running mean/var): 'local' (default, as PyTorch without
   * SyncBatchNorm: each rank keeps statistics of its own batches; rank 0's are the ones saved)
   * or 'average' (averaged across ranks after every step, so every rank evaluates and saves the
   * same statistics). Normalisation inside a training step always uses the rank's own batch.
   */
  buffers?: 'local' | 'average';
  /** Limit for the wrap-time model check and parameter broadcast, in ms (default 60000). */
  startupTimeoutMs?: number;
  /** Limit for each gradient reduction, in ms (default: init's timeoutMs). */
  timeoutMs?: number;
  /**
   * Gradients on the wire: 'none' (default, exact float32) or 'bf16' (bfloat16 with float32
   * accumulation: half the bytes, as PyTorch DDP's bf16 compress hook; buffers stay float32).
   */
  gradientCompression?: 'none' | 'bf16';
}
const DDP_KEYS = optionKeys<DdpOptions>({
  gradientCompression: true,
  bucketCapMB: true,
  firstBucketCapMB: true,
  buffers: true,
  startupTimeoutMs: true,
  timeoutMs: true,
});

/**
 * The 'auto' bucket capacity: the link's latency and bandwidth from two allreduces (1 MB and
 * 8 MB, the fastest of three each, the slowest rank's), then about 2 ms of transfer per bucket
 * (4 latencies if longer), within 1-25 MB. Every rank gets the same number (the timings are
 * reduced with 'max'), as the bucket layout must match across ranks.
 */
async function measuredBucketCapMB(timeoutMs: number): Promise<number> {
  const sizes = [256 * 1024, 2048 * 1024]; // floats: 1 MB and 8 MB (both the ring)
  const times = new Float64Array(2);
  for (let i = 0; i < 2; i++) {
    const buf = new Float32Array(sizes[i]);
    await allreduce(buf, 'sum', { timeoutMs }); // connections and buffers set up
    let best = Infinity;
    for (let r = 0; r < 3; r++) {
      const t0 = performance.now();
      await allreduce(buf, 'sum', { timeoutMs });
      best = Math.min(best, performance.now() - t0);
    }
    times[i] = best;
  }
  await allreduce(times, 'max', { timeoutMs });
  // Bandwidth from the large buffer alone (its latency share is small; the difference of the
  // two times amplified the noise: one run of the CNN got 21 MB buckets and hid nothing), the
  // latency from what the small one took beyond that.
  const bytes = sizes.map((n) => 4 * n);
  const bytesPerMs = Math.max(1, bytes[1] / Math.max(1e-3, times[1]));
  const latencyMs = Math.max(0, times[0] - bytes[0] / bytesPerMs);
  // 2 ms of transfer, or 4 latencies where those are longer (a high-latency link); the
  // latency comes from a 1 MB transfer's excess, noisy on a busy machine, so it gets a small
  // weight (at 20 latencies, one noisy timing gave 17 MB buckets).
  const capBytes = Math.max(2, 4 * latencyMs) * bytesPerMs;
  return Math.round(Math.min(25, Math.max(1, capBytes / 2 ** 20)) * 100) / 100;
}

/**
 * Where the time went, for benchmarks ({@link DistributedDataParallel.stats}): `exposedMs` is
 * time spent waiting for reductions after backward finished (communication not hidden behind
 * compute). Counted since the wrapper was created.
 *
 * @example
 * ```ts
 * import { distributed, DistributedDataParallel, Sequential, Linear, mseLoss, randn } from 'axon-nn';
 * // run under: mpirun -np 2 node train.js
 * await distributed.init();
 * const ddp = await DistributedDataParallel.create(new Sequential(new Linear(256, 256), new Linear(256, 1)));
 * await ddp.backward(mseLoss(ddp.forward(randn([64, 256])), randn([64, 1])));
 * const stats: distributed.DdpStats = ddp.stats;
 * console.log(`${stats.reductions} reductions, ${stats.bytesReduced} bytes, ${stats.exposedMs.toFixed(2)} ms exposed`);
 * ```
 */
export interface DdpStats {
  /** Training steps completed: synchronize() calls and steps of a distributed fit. */
  steps: number;
  /** Milliseconds spent waiting for reductions once backward had finished. */
  exposedMs: number;
  /** Allreduce calls started: one per gradient bucket per step, plus one for averaged buffers. */
  reductions: number;
  /** Bytes those allreduces reduced (gradient buckets with one flag per parameter, and buffers). */
  bytesReduced: number;
  /** Milliseconds the comm thread spent running allreduces (any caller's) since the wrapper was created, as of the last step. */
  allreduceMs: number;
  /** The share of that time backward hid: 1 - exposedMs / allreduceMs (0 before any reduction). */
  hiddenShare: number;
  /** Per epoch of ddp.fit, in order: that epoch's hidden share (fit with verbose prints it too). */
  epochHiddenShares: number[];
}

interface Bucket {
  params: Parameter[];
  views: Float32Array[];
  /** The gradients, then one "had a gradient" flag per parameter (summed with them, so after
   * the reduction a zero flag means no rank produced that gradient). */
  buffer: Float32Array;
  flags: Float32Array;
  /** Parameters complete in the current step. */
  ready: number;
}

// One observer for the process, dispatching to the DDP that owns a parameter.
const owners = new Map<Tensor, DistributedDataParallel>();
const live = new Set<DistributedDataParallel>();
let installed = false;

function installObserver(): void {
  if (installed) return;
  installed = true;
  let prev: BackwardObserver | null = null;
  const observer: BackwardObserver = {
    leafReady(leaf) {
      owners.get(leaf)?.onLeafReady(leaf as Parameter);
      prev?.leafReady(leaf);
    },
    backwardDone() {
      for (const d of live) d.onBackwardDone();
      prev?.backwardDone();
    },
  };
  prev = setBackwardObserver(observer);
}

/**
 * A training step recorded in pieces. Each piece is a native Program; after piece i the
 * buckets it completed start reducing; the last piece waits for every reduction. Implements
 * the NativeProgram interface Model.fit replays (runAsync only: a step cannot block on MPI).
 */
export class SegmentedStep implements NativeProgram {
  /** Each piece, the buckets that start reducing after it and the sums (a synchronized batch
   * norm's) summed over the ranks, and awaited, before the next piece runs. */
  private readonly segments: { program: NativeProgram; launch: number[]; sums: Float64Array[] }[] = [];
  /** Buffers owned by the current piece that no op has used yet (see cut). */
  private unused: Words[] = [];

  constructor(
    private readonly regs: Float64Array,
    private readonly ddp: DistributedDataParallel,
  ) {
    this.segments.push({ program: new native.Program(new Float64Array(4)), launch: [], sums: [] });
  }

  private get current(): NativeProgram {
    return this.segments[this.segments.length - 1].program;
  }

  record(op: string, args: unknown[], execute: boolean): void {
    this.current.record(op, args, execute);
  }

  own(buffer: Words): void {
    this.current.own(buffer);
    this.unused.push(buffer);
  }

  used(buffer: Words): boolean {
    return this.segments.some((s) => s.program.used(buffer));
  }

  /** A training step keeps its buffers: compaction is for inference programs. */
  compact(): number {
    throw new Error('SegmentedStep.compact: a data-parallel training step is not compacted');
  }

  /** Ends the current piece; after it runs, the given buckets start reducing. A buffer
   * allocated in this piece but first used in a later one is owned by that one. */
  cut(launch: number[], sums: Float64Array[] = []): void {
    const done = this.current;
    this.segments[this.segments.length - 1].launch = launch;
    this.segments[this.segments.length - 1].sums = sums;
    this.segments.push({ program: new native.Program(new Float64Array(4)), launch: [], sums: [] });
    const carried = this.unused.filter((b) => !done.used(b));
    this.unused = [];
    for (const b of carried) this.own(b);
  }

  get pieces(): number {
    return this.segments.length;
  }

  run(): number {
    throw new Error(
      'distributed: a data-parallel training step waits for MPI reductions and runs only through runAsync (Model.fit)',
    );
  }

  async runAsync(times = 1): Promise<number> {
    if (this.segments.length === 1)
      throw new Error(
        "distributed: this traced training step reduced no gradients: the model fit trains is not the one wrapped by DistributedDataParallel, or its backward never reached the wrapped module's parameters",
      );
    const regs = this.regs;
    let done = 0;
    for (; done < times; done++) {
      if (regs[3]) break;
      const inflight: Promise<void>[] = [];
      const last = this.segments.length - 1;
      for (let i = 0; i < last; i++) {
        const piece = this.segments[i];
        await piece.program.runAsync(1);
        for (const b of piece.launch) inflight.push(this.ddp.reduceBucket(b));
        for (const sums of piece.sums) await this.ddp.reduceStatistics(sums);
      }
      const t0 = performance.now();
      await Promise.all(inflight);
      this.ddp.stats.exposedMs += performance.now() - t0;
      this.ddp.noteStepDone();
      await this.segments[last].program.runAsync(1);
      regs[0] += regs[2];
      regs[1] += 1;
    }
    return done;
  }

  clear(): void {
    for (const s of this.segments) s.program.clear();
  }

  get length(): number {
    return this.segments.reduce((n, s) => n + s.program.length, 0);
  }

  get ops(): string[] {
    return this.segments.flatMap((s) => s.program.ops);
  }

  get flops(): number {
    return this.segments.reduce((n, s) => n + s.program.flops, 0);
  }

  get bytes(): number {
    return this.segments.reduce((n, s) => n + s.program.bytes, 0);
  }
}

/** Names and shapes of a module's parameters and buffers, in order. */
/** The data-parallel training step being traced now (Model.fit of a wrapped Model), if any:
 * where a synchronized batch norm cuts the step around its reductions. @internal */
export function tracedDataParallelStep(): SegmentedStep | null {
  for (const ddp of live) if (ddp.tracedStep) return ddp.tracedStep;
  return null;
}

function describe(module: Module): { text: string; tensors: number; values: number } {
  const parts: string[] = [];
  let values = 0;
  let tensors = 0;
  for (const [n, p] of module.namedParameters()) {
    parts.push(`p ${n} ${shapeToString(p.shape)} ${p.requiresGrad ? 't' : 'f'}`);
    values += p.size;
    tensors++;
  }
  for (const [n, b] of module.namedBuffers()) {
    parts.push(`b ${n} ${shapeToString(b.shape)} ${b.dtype}`);
    values += b.size;
    tensors++;
  }
  return { text: parts.join('\n'), tensors, values };
}

/**
 * Data-parallel training across MPI ranks, as PyTorch's `DistributedDataParallel`: every rank
 * holds the whole model and its own shard of the data, and gradients are averaged with
 * allreduce in buckets while backward runs, so every rank's weights stay identical. Wrap a
 * Module for an explicit loop (backward, `synchronize()`, optimizer step) or a compiled Model
 * for {@link DistributedDataParallel.fit}; make one with {@link DistributedDataParallel.create}
 * after `distributed.init()`.
 *
 * @example
 * ```ts
 * import { distributed, DistributedDataParallel, Sequential, Linear, SGD, mseLoss, randn } from 'axon-nn';
 * // run under: mpirun -np 2 node train.js
 * await distributed.init();
 * const net = new Sequential(new Linear(10, 32, { activation: 'relu' }), new Linear(32, 1));
 * const ddp = await DistributedDataParallel.create(net); // rank 0's weights on every rank
 * const opt = new SGD(net.parameters(), { lr: 0.01 });
 * const x = randn([64, 10], { seed: distributed.rank() }); // this rank's data
 * const y = randn([64, 1], { seed: 100 + distributed.rank() });
 * for (let step = 0; step < 10; step++) {
 *   opt.zeroGrad();
 *   await ddp.backward(mseLoss(ddp.forward(x), y)); // backward, then the averaged gradients
 *   opt.step();
 * }
 * ```
 */
export class DistributedDataParallel {
  /** The wrapped module (a wrapped Model's module). */
  readonly module: Module;
  /** The wrapped Model, or null when a Module was wrapped (then fit is unavailable). */
  readonly model: Model | null;
  /** Step, reduction and waiting counters since creation, updated in place (see DdpStats). */
  readonly stats: DdpStats = {
    steps: 0,
    exposedMs: 0,
    reductions: 0,
    bytesReduced: 0,
    allreduceMs: 0,
    hiddenShare: 0,
    epochHiddenShares: [],
  };
  private readonly busyAtCreate = allreduceBusyMs();
  /** Updates allreduceMs and hiddenShare after a step's reductions completed. @internal */
  noteStepDone(): void {
    const s = this.stats;
    s.steps++;
    s.allreduceMs = allreduceBusyMs() - this.busyAtCreate;
    s.hiddenShare = hiddenShare(s.exposedMs, s.allreduceMs);
  }
  private readonly buckets: Bucket[] = [];
  private readonly bucketOf = new Map<Parameter, number>();
  private readonly bufferTensors: Tensor[];
  private readonly bufferBuffer: Float32Array | null;
  private readonly timeoutMs: number;
  private readonly gradientCompression: 'none' | 'bf16';
  /** The gradient bucket capacity in use, in MB (chosen by 'auto' or given). */
  readonly bucketCapMB: number;
  // Per-step state.
  private seen = new Set<Parameter>();
  private nextLaunch = 0;
  private inflight: Promise<void>[] = [];
  private backwardFinished = false;
  private noSyncDepth = 0;
  private recording: SegmentedStep | null = null;
  private pendingLaunch: number[] = [];

  private constructor(target: Module | Model, options: DdpOptions) {
    this.module = target instanceof Model ? target.module : target;
    this.model = target instanceof Model ? target : null;
    this.timeoutMs = options.timeoutMs ?? defaultTimeoutMs();
    this.gradientCompression = options.gradientCompression ?? 'none';
    const cap = (typeof options.bucketCapMB === 'number' ? options.bucketCapMB : 25) * 2 ** 20;
    this.bucketCapMB = cap / 2 ** 20;
    const firstCap = (options.firstBucketCapMB ?? 1) * 2 ** 20;
    // Reverse registration order: the output layers' gradients are complete first.
    const trainable = this.module.parameters().filter((p) => p.requiresGrad);
    let current: Parameter[] = [];
    let bytes = 0;
    const flush = (): void => {
      if (current.length === 0) return;
      const total = current.reduce((n, p) => n + p.size, 0);
      const buffer = new Float32Array(total + current.length);
      const views: Float32Array[] = [];
      let off = 0;
      for (const p of current) {
        views.push(buffer.subarray(off, off + p.size));
        this.bucketOf.set(p, this.buckets.length);
        off += p.size;
      }
      this.buckets.push({ params: current, views, buffer, flags: buffer.subarray(total), ready: 0 });
      current = [];
      bytes = 0;
    };
    for (let i = trainable.length - 1; i >= 0; i--) {
      const p = trainable[i];
      const limit = this.buckets.length === 0 ? firstCap : cap;
      if (current.length > 0 && bytes + p.size * 4 > limit) flush();
      current.push(p);
      bytes += p.size * 4;
    }
    flush();
    this.bufferTensors =
      options.buffers === 'average'
        ? this.module
            .namedBuffers()
            .map(([, b]) => b)
            .filter((b) => b.dtype === 'float32' && b.size > 0)
        : [];
    const nb = this.bufferTensors.reduce((n, b) => n + b.size, 0);
    this.bufferBuffer = nb > 0 ? new Float32Array(nb) : null;
  }

  /**
   * Wraps a Module (explicit training loop) or a Model (fit) for data-parallel training. Every
   * rank must call it with the same architecture: the ranks compare parameter and buffer names
   * and shapes first and reject with an error listing what differs, then every rank receives
   * rank 0's values.
   * @throws when distributed.init() has not run, the models differ, or a rank does not answer
   * within startupTimeoutMs.
   * @example
   * ```ts
   * import { distributed, DistributedDataParallel, Model, Sequential, Linear } from 'axon-nn';
   * // run under: mpirun -np 2 node train.js
   * await distributed.init();
   * const model = new Model(new Sequential(new Linear(784, 128, { activation: 'relu' }), new Linear(128, 10)));
   * model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
   * const ddp = await DistributedDataParallel.create(model, { bucketCapMB: 25 });
   * ```
   */
  static async create(target: Module | Model, options: DdpOptions = {}): Promise<DistributedDataParallel> {
    if (!(target instanceof Module) && !(target instanceof Model))
      throw new TypeError('DistributedDataParallel.create: expected a Module or a Model');
    const op = 'DistributedDataParallel.create';
    checkOptionKeys(op, options, DDP_KEYS);
    for (const key of ['startupTimeoutMs', 'timeoutMs'] as const)
      numberOption(op, key, options[key], 0, 0, Number.MAX_VALUE);
    if (!isInitialized()) throw new Error('DistributedDataParallel.create: call await distributed.init() first');
    for (const [k, v] of [
      ['bucketCapMB', options.bucketCapMB === 'auto' ? undefined : options.bucketCapMB],
      ['firstBucketCapMB', options.firstBucketCapMB],
    ] as const)
      if (v !== undefined && !(v > 0 && Number.isFinite(v)))
        throw new RangeError(`DistributedDataParallel.create: ${k} must be a positive number of MB, got ${v}`);
    const gc = options.gradientCompression;
    if (gc !== undefined && gc !== 'none' && gc !== 'bf16')
      throw new RangeError(
        `DistributedDataParallel.create: gradientCompression must be 'none' or 'bf16', got ${String(gc)}`,
      );
    if (options.buffers !== undefined && options.buffers !== 'local' && options.buffers !== 'average')
      throw new RangeError(
        `DistributedDataParallel.create: buffers must be 'local' or 'average', got ${String(options.buffers)}`,
      );
    let resolved = options;
    if ((options.bucketCapMB ?? 'auto') === 'auto' && worldSize() > 1) {
      let capMB: number;
      try {
        capMB = await measuredBucketCapMB(options.startupTimeoutMs ?? 60_000);
      } catch (e) {
        throw new Error(
          `DistributedDataParallel.create: the startup check across ranks failed (timing the link for bucketCapMB 'auto'): ${(e as Error).message}`,
        );
      }
      resolved = { ...options, bucketCapMB: capMB };
    }
    const ddp = new DistributedDataParallel(target, resolved);
    const module = ddp.module;
    for (const p of module.parameters())
      if (owners.has(p) && owners.get(p) !== ddp)
        throw new Error('DistributedDataParallel.create: a parameter of this module is already wrapped by another DDP');
    const startup = options.startupTimeoutMs ?? 60_000;
    await ddp.checkSameModel(startup);
    // Rank 0's values everywhere: parameters and buffers, flattened into one broadcast.
    const tensors: Tensor[] = [...module.parameters(), ...module.namedBuffers().map(([, b]) => b)];
    const floats = tensors.filter((t) => t.dtype === 'float32');
    const total = floats.reduce((n, t) => n + t.size, 0);
    const flat = new Float32Array(total);
    let off = 0;
    for (const t of floats) {
      flat.set(t.data as Float32Array, off);
      off += t.size;
    }
    await broadcast(flat, 0, { timeoutMs: startup });
    off = 0;
    for (const t of floats) {
      (t.data as Float32Array).set(flat.subarray(off, off + t.size));
      off += t.size;
    }
    for (const t of tensors.filter((x) => x.dtype !== 'float32')) await broadcast(t, 0, { timeoutMs: startup });
    // Every parameter, trainable or not: one that starts training later must be caught.
    for (const p of module.parameters()) owners.set(p, ddp);
    live.add(ddp);
    installObserver();
    if (ddp.model) ddp.model.stepProgramFactory = (regs) => ddp.newStepProgram(regs);
    return ddp;
  }

  /** Compares a digest of every rank's parameter/buffer names and shapes (one allgather). */
  private async checkSameModel(timeoutMs: number): Promise<void> {
    const d = describe(this.module);
    const digest = createHash('sha256').update(d.text).digest();
    const mine = new Float64Array([digest.readUInt32BE(0), digest.readUInt32BE(4), d.tensors, d.values]);
    let all: Float64Array;
    try {
      all = await allgather(mine, { timeoutMs });
    } catch (e) {
      throw new Error(`DistributedDataParallel.create: the startup check across ranks failed: ${(e as Error).message}`);
    }
    const bad: string[] = [];
    for (let r = 1; r < worldSize(); r++)
      for (let k = 0; k < 4; k++)
        if (all[r * 4 + k] !== all[k]) {
          bad.push(`rank ${r}: ${all[r * 4 + 2]} tensors, ${all[r * 4 + 3]} values`);
          break;
        }
    if (bad.length)
      throw new Error(
        `DistributedDataParallel.create: the ranks hold different models (parameter/buffer names, shapes or ` +
          `trainable flags differ). rank 0: ${all[2]} tensors, ${all[3]} values; ${bad.join('; ')}. ` +
          'Build the same architecture on every rank (and freeze the same layers) before wrapping it',
      );
  }

  /** The wrapped module's forward. */
  forward(x: Tensor): Tensor {
    return this.module.forward(x);
  }

  /** Number of gradient buckets and their sizes in floats (last layers first). */
  bucketSizes(): number[] {
    return this.buckets.map((b) => b.buffer.length);
  }

  /**
   * Runs fn (typically forward + backward of a micro-batch) without reducing gradients: they
   * accumulate locally, and the next backward outside noSync reduces the sum (gradient
   * accumulation, PyTorch's no_sync).
   */
  async noSync<T>(fn: () => T | Promise<T>): Promise<T> {
    this.noSyncDepth++;
    try {
      return await fn();
    } finally {
      this.noSyncDepth--;
    }
  }

  // ---- backward hooks -----------------------------------------------------------------------

  /** Called by the engine observer for a parameter of this module whose gradient is final. @internal */
  onLeafReady(p: Parameter): void {
    if (this.noSyncDepth > 0) return;
    // A guard, not a mode: a step recorded into any program but this wrapper's own would run
    // the reductions now, on placeholder data.
    if (isRecording() && !this.recording)
      throw new Error(
        'distributed: a training step of a wrapped module is being traced (Model.fit) but DistributedDataParallel wraps the Module, not the Model: pass the Model to DistributedDataParallel.create',
      );
    if (this.seen.has(p))
      throw new Error(
        'distributed: a gradient arrived twice before synchronize() (two backward passes in one step?); accumulate micro-batches inside ddp.noSync()',
      );
    if (this.backwardFinished)
      throw new Error(
        'distributed: backward ran again before synchronize(); await ddp.synchronize() after each backward',
      );
    this.seen.add(p);
    const bi = this.bucketOf.get(p);
    if (bi === undefined)
      throw new Error(
        'distributed: a parameter that was frozen when the module was wrapped now receives gradients; its gradient would never be averaged across ranks. Wrap again (DistributedDataParallel.create) after changing which parameters train',
      );
    this.buckets[bi].ready++;
    this.launchReady(false);
  }

  /** Called once per backward pass (by the engine observer). @internal */
  onBackwardDone(): void {
    if (this.noSyncDepth > 0 || this.seen.size === 0) return;
    // Buckets holding parameters that got no gradient this step (unused branches) still take
    // part, with zeros: every rank must make the same reductions.
    this.launchReady(true);
    if (this.recording) {
      const step = this.recording;
      if (this.bufferBuffer) this.copyBuffersIn();
      step.cut(this.pendingLaunch.concat(this.bufferBuffer ? [-1] : []));
      this.pendingLaunch = [];
      // The last piece starts with the averages copied back; clip and the optimizer step
      // record after them.
      this.copyOut(true);
      this.recording = null;
      this.resetStep();
      return;
    }
    if (this.bufferBuffer) {
      this.copyBuffersIn();
      this.inflight.push(this.reduceBucket(-1));
    }
    this.backwardFinished = true;
  }

  private launchReady(all: boolean): void {
    const launched: number[] = [];
    while (this.nextLaunch < this.buckets.length) {
      const b = this.buckets[this.nextLaunch];
      if (!all && b.ready < b.params.length) break;
      this.copyIn(this.nextLaunch);
      launched.push(this.nextLaunch);
      this.nextLaunch++;
    }
    if (launched.length === 0) return;
    if (this.recording) {
      if (all) this.pendingLaunch.push(...launched);
      else this.recording.cut(launched);
    } else {
      for (const b of launched) this.inflight.push(this.reduceBucket(b));
    }
  }

  /** Gradients into the bucket (native copies: recorded when tracing). */
  private copyIn(bi: number): void {
    const b = this.buckets[bi];
    for (let i = 0; i < b.params.length; i++) {
      const g = b.params[i].grad;
      if (g) kernels.copy(g.data as Float32Array, b.views[i]);
      else kernels.fill(b.views[i], 0);
      kernels.fill(b.flags.subarray(i, i + 1), g ? 1 : 0);
    }
  }

  /**
   * Averaged gradients back into .grad. A parameter no rank produced a gradient for keeps a
   * null .grad, so the optimizer skips it (as PyTorch's DDP): an unused branch or a frozen
   * layer must not be moved by momentum or weight decay. The explicit loop reads the reduced
   * flags; a recorded step is structural (the same graph every step, traced once), so there the
   * gradient's presence while tracing decides.
   */
  private copyOut(traced = false): void {
    for (const b of this.buckets)
      for (let i = 0; i < b.params.length; i++) {
        const p = b.params[i];
        if (traced ? p.grad === null : b.flags[i] === 0) continue;
        p.grad ??= Tensor.empty(p.shape);
        kernels.copy(b.views[i], p.grad.data as Float32Array);
      }
    if (this.bufferBuffer) {
      let off = 0;
      for (const t of this.bufferTensors) {
        kernels.copy(this.bufferBuffer.subarray(off, off + t.size), t.data as Float32Array);
        off += t.size;
      }
    }
  }

  private copyBuffersIn(): void {
    let off = 0;
    const buf = this.bufferBuffer as Float32Array;
    for (const t of this.bufferTensors) {
      kernels.copy(t.data as Float32Array, buf.subarray(off, off + t.size));
      off += t.size;
    }
  }

  /** Starts the allreduce (mean) of bucket bi (-1: the buffers). @internal */
  reduceBucket(bi: number): Promise<void> {
    const buf = bi < 0 ? (this.bufferBuffer as Float32Array) : this.buckets[bi].buffer;
    this.stats.reductions++;
    this.stats.bytesReduced += buf.byteLength;
    return allreduce(buf, 'mean', {
      timeoutMs: this.timeoutMs,
      compression: bi < 0 ? 'none' : this.gradientCompression,
    });
  }

  /** Sums a synchronized batch norm's statistics over the ranks inside a replayed step: the
   * next piece needs them, so the wait is exposed. @internal */
  async reduceStatistics(sums: Float64Array): Promise<void> {
    const t0 = performance.now();
    try {
      await allreduce(sums, 'sum', { timeoutMs: this.timeoutMs });
    } finally {
      this.stats.exposedMs += performance.now() - t0;
    }
  }

  /** The step this wrapper is tracing (Model.fit), or null. @internal */
  get tracedStep(): SegmentedStep | null {
    return this.recording;
  }

  private resetStep(): void {
    this.seen.clear();
    for (const b of this.buckets) b.ready = 0;
    this.nextLaunch = 0;
    this.inflight = [];
    this.backwardFinished = false;
  }

  /**
   * Waits for this step's reductions and writes the averaged gradients into every parameter's
   * .grad (explicit training loop: between loss.backward() and optimizer.step()).
   * @throws when no backward ran since the last synchronize, or a reduction failed.
   */
  async synchronize(): Promise<void> {
    if (!this.backwardFinished)
      throw new Error(
        'DistributedDataParallel.synchronize: no backward of the wrapped module since the last synchronize (call loss.backward() first)',
      );
    const t0 = performance.now();
    try {
      await Promise.all(this.inflight);
    } finally {
      this.stats.exposedMs += performance.now() - t0;
    }
    this.noteStepDone();
    this.copyOut();
    this.resetStep();
  }

  /**
   * Model.fit on this rank's DistributedSampler shard of (x, y), metrics reduced across ranks,
   * writers on rank 0 only (see fitDistributed). Needs a wrapped Model.
   */
  fit(x: Tensor, y: Tensor, options: DistributedFitOptions = {}): Promise<History> {
    return fitDistributed(this, x, y, options);
  }

  /** loss.backward() then synchronize(). */
  async backward(loss: Tensor): Promise<void> {
    loss.backward();
    await this.synchronize();
  }

  /** A program for Model.fit to trace its training step into (see SegmentedStep). @internal */
  newStepProgram(regs: Float64Array): SegmentedStep {
    if (this.backwardFinished || this.seen.size > 0)
      throw new Error('distributed: fit started while an explicit-loop step awaits synchronize()');
    this.recording = new SegmentedStep(regs, this);
    return this.recording;
  }

  /** Stops reducing: the module trains locally again and fit traces plain programs. */
  detach(): void {
    for (const p of this.module.parameters()) if (owners.get(p) === this) owners.delete(p);
    live.delete(this);
    if (this.model) this.model.stepProgramFactory = null;
  }
}
