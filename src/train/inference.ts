/**
 * The inference cache: one recorded forward per input shape (dtype and every extent), replayed
 * on fixed input and output buffers: copy in, replay, copy out. predict's synchronous path and
 * its one-batch pool path share these programs, so both give the same bits. Bounded by count
 * and by the activation bytes held; evicted programs release their buffers at once (not when
 * a finalizer runs). Shapes too costly for the synchronous path keep only their estimate.
 */
import type { NativeProgram } from '../native/binding.js';
import { captureStructure, structureUnchanged, type Module, type ModuleStructure } from '../nn/module.js';
import { shapesEqual } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { estimateSeconds, recordForward, type ForwardLimits } from './budget.js';
import { AbortError } from './fit.js';

/** One recorded forward: its program and the fixed buffers it reads and writes. */
export interface Replica {
  program: NativeProgram;
  input: Tensor;
  output: Tensor;
  /** Replaying for a request now (a program runs one replay at a time). */
  busy: boolean;
}

/**
 * The recorded forwards for one input shape: one replica per request running at once (up to
 * MAX_REPLICAS; more requests wait for a free one), all reading the same parameter buffers.
 */
export interface PredictEntry {
  replicas: Replica[];
  /** The first replica's program. */
  program: NativeProgram;
  /** The parameter buffers they point into (re-recorded when a parameter is replaced). */
  params: Float32Array[];
  /** Its estimated time (estimateSeconds). */
  seconds: number;
  /** Activation bytes one replica holds. */
  bytes: number;
  /** Requests waiting for a free replica, oldest first. */
  waiting: ((r: Replica) => void)[];
}

/** Shapes kept: a dynamic batcher sends every row count up to its maxBatchSize (32 by default),
 * and re-recording a forward costs far more than replaying it. MAX_BYTES bounds the memory. */
const MAX_ENTRIES = 64;
const MAX_BYTES = 256 * 2 ** 20;
const MAX_COSTLY = 64;
/** Replicas per shape: concurrent requests beyond this wait for one to be free. */
const MAX_REPLICAS = 8;

export class InferenceCache {
  readonly entries = new Map<string, PredictEntry>();
  private readonly costly = new Map<string, number>();
  private last: PredictEntry | null = null;
  /** The module tree as the recordings saw it (checkStructure). */
  private structure: ModuleStructure | null = null;

  constructor(
    private readonly module: Module,
    private readonly limits: ForwardLimits,
  ) {}

  /**
   * The cached recorded forward for x's shape, recording it (under the budgets) when new.
   * With a `maxSeconds`, null when its estimated time is above it: such shapes keep only
   * their cost, not a program, so a stream of large requests does not fill the cache.
   */
  /** Wraps every recording (Model.prepareInference puts its prepared weights in scope). */
  recordScope: <T>(fn: () => T) => T = (fn) => fn();

  entry(
    x: { shape: readonly number[]; dtype: 'float32' | 'int32' },
    what: string,
    maxSeconds = Infinity,
  ): PredictEntry | null {
    this.checkStructure();
    // The most recent shape first (the common case: one request shape), without a string key.
    let entry: PredictEntry | undefined = this.last ?? undefined;
    if (entry && entry.replicas[0].input.dtype === x.dtype && shapesEqual(entry.replicas[0].input.shape, x.shape))
      return entry.seconds <= maxSeconds ? entry : null;
    const key = `${x.dtype}:${x.shape.join(',')}`;
    entry = this.entries.get(key);
    // A costly shape cached by predictSync or the pool path is not run synchronously.
    if (entry) return entry.seconds <= maxSeconds ? entry : null;
    if (this.costly.has(key) && (this.costly.get(key) as number) > maxSeconds) return null;
    const params = this.module.parameters();
    const { replica, bytes } = this.record(x, what);
    const seconds = estimateSeconds(replica.program.flops, replica.program.bytes);
    if (seconds > maxSeconds) {
      replica.program.clear();
      if (this.costly.size >= MAX_COSTLY) this.costly.delete(this.costly.keys().next().value as string);
      this.costly.set(key, seconds);
      return null;
    }
    entry = {
      replicas: [replica],
      program: replica.program,
      params: params.map((p) => p.data as Float32Array),
      seconds,
      bytes,
      waiting: [],
    };
    this.makeRoom(entry.bytes);
    this.entries.set(key, entry);
    return entry;
  }

  /** Records the module's forward for x's shape on fresh buffers. */
  private record(
    x: { shape: readonly number[]; dtype: 'float32' | 'int32' },
    what: string,
  ): { replica: Replica; bytes: number } {
    const size = x.shape.reduce((a, b) => a * b, 1);
    const input = new Tensor(x.dtype === 'int32' ? new Int32Array(size) : new Float32Array(size), x.shape);
    const traced = this.recordScope(() => recordForward(this.module, this.limits, what, x.shape[0], () => input));
    // Intermediate buffers share memory by liveness; the output predict copies out stays put.
    traced.program.compact([traced.value.data]);
    return {
      replica: { program: traced.program, input, output: traced.value, busy: false },
      bytes: traced.activationBytes,
    };
  }

  /**
   * A recorded forward points at the parameters' buffers: when anything in the module tree
   * was replaced since the last check (structureUnchanged: a field-by-field comparison, cheap
   * enough for every predict), drop the recordings if a parameter they read is gone (a new
   * head, a module swapped in).
   */
  private checkStructure(): void {
    if (this.structure && structureUnchanged(this.structure)) return;
    // Anything replaced (a parameter, a layer with or without parameters, a field) may change
    // what the forward records: record again.
    this.clear();
    this.structure = captureStructure(this.module);
  }

  /** Evicts the oldest shapes until `adding` more bytes (and one more shape) fit the bounds. */
  private makeRoom(adding: number): void {
    let held = adding;
    for (const e of this.entries.values()) held += e.bytes * e.replicas.length;
    while (this.entries.size > 0 && (this.entries.size >= MAX_ENTRIES || held > MAX_BYTES)) {
      const oldest = this.entries.keys().next().value as string;
      const e = this.entries.get(oldest) as PredictEntry;
      held -= e.bytes * e.replicas.length;
      this.evict(oldest);
    }
  }

  /**
   * A free replica of entry, recording another while under MAX_REPLICAS and the byte bound;
   * null when every replica is busy and no more may be made.
   */
  private tryAcquire(entry: PredictEntry, what: string, force = false): Replica | null {
    let replica = entry.replicas.find((r) => !r.busy);
    if (!replica && (force || entry.replicas.length < MAX_REPLICAS)) {
      let held = entry.bytes;
      for (const e of this.entries.values()) held += e.bytes * e.replicas.length;
      if (force || held <= MAX_BYTES) {
        replica = this.record(entry.replicas[0].input, what).replica;
        entry.replicas.push(replica);
      }
    }
    if (replica) replica.busy = true;
    return replica ?? null;
  }

  private releaseReplica(entry: PredictEntry, replica: Replica): void {
    replica.busy = false;
    const next = entry.waiting.shift();
    if (next) {
      replica.busy = true;
      next(replica);
      return;
    }
    // Its shape was evicted (or the cache cleared) while it ran: free it now.
    if (!this.live(entry)) {
      replica.program.clear();
      entry.replicas = entry.replicas.filter((r) => r !== replica);
    }
  }

  /** Whether entry is still cached. */
  private live(entry: PredictEntry): boolean {
    for (const e of this.entries.values()) if (e === entry) return true;
    return false;
  }

  /**
   * Replays entry synchronously on x (its shape); a copy of the output. Null when every replica
   * is replaying for other requests (the caller then takes the pool path and waits its turn).
   */
  tryRun(entry: PredictEntry, x: Tensor, what: string, force = false): Tensor | null {
    const replica = this.tryAcquire(entry, what, force);
    if (!replica) return null;
    this.last = entry;
    try {
      replica.input.data.set(x.data);
      replica.program.run(1);
      return new Tensor(replica.output.data.slice(), replica.output.shape);
    } finally {
      this.releaseReplica(entry, replica);
    }
  }

  /** Replays entry synchronously on x (its shape); a copy of the output. */
  run(entry: PredictEntry, x: Tensor, what: string): Tensor {
    const out = this.tryRun(entry, x, what);
    if (!out)
      throw new Error(
        `${what}: every recorded forward for shape [${x.shape.join(', ')}] is in use by predict() calls in flight; await them`,
      );
    return out;
  }

  /**
   * Replays entry on x on the thread pool on a free replica (waiting for one when all are
   * busy); a copy of the output. The replica stays taken until the native replay ends, even
   * when the caller has stopped waiting (an aborted predict).
   */
  async runAsync(entry: PredictEntry, x: Tensor, what: string, signal?: AbortSignal): Promise<Tensor> {
    const replica =
      this.tryAcquire(entry, what) ?? (await new Promise<Replica>((resolve) => entry.waiting.push(resolve)));
    try {
      // Aborted while waiting for a replica: pass it on without running.
      if (signal?.aborted) throw new AbortError(`${what}: aborted`);
      replica.input.data.set(x.data);
      await replica.program.runAsync(1);
      return new Tensor(replica.output.data.slice(), replica.output.shape);
    } finally {
      this.releaseReplica(entry, replica);
    }
  }

  /** Releases every recorded program and its buffers now. */
  clear(): void {
    for (const key of [...this.entries.keys()]) this.evict(key);
    this.costly.clear();
    this.last = null;
  }

  private evict(key: string): void {
    const e = this.entries.get(key) as PredictEntry;
    if (this.last === e) this.last = null;
    this.entries.delete(key);
    // A replica taken by a request (replaying, or handed to a waiter that has not resumed yet)
    // stays whole: releaseReplica frees it when that request is done with it.
    for (const r of e.replicas) if (!r.busy) r.program.clear();
    e.replicas = e.replicas.filter((r) => r.busy);
  }
}
