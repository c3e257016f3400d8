/**
 * The inference cache: one recorded forward per input shape (dtype and every extent), replayed
 * on fixed input and output buffers: copy in, replay, copy out. predict's synchronous path and
 * its one-batch pool path share these programs, so both give the same bits. Bounded by count
 * and by the activation bytes held; evicted programs release their buffers at once (not when
 * a finalizer runs). Shapes too costly for the synchronous path keep only their estimate.
 */
import type { NativeProgram } from '../native/binding.js';
import type { Module } from '../nn/module.js';
import { shapesEqual } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { estimateSeconds, recordForward, type ForwardLimits } from './budget.js';

/** A recorded forward for one input shape. */
export interface PredictEntry {
  program: NativeProgram;
  input: Tensor;
  output: Tensor;
  /** The parameter buffers it points into (re-recorded when a parameter is replaced). */
  params: Float32Array[];
  /** Its estimated time (estimateSeconds). */
  seconds: number;
  /** Activation bytes its buffers hold. */
  bytes: number;
}

const MAX_ENTRIES = 16;
const MAX_BYTES = 256 * 2 ** 20;
const MAX_COSTLY = 64;

export class InferenceCache {
  readonly entries = new Map<string, PredictEntry>();
  private readonly costly = new Map<string, number>();
  private last: PredictEntry | null = null;

  constructor(
    private readonly module: Module,
    private readonly limits: ForwardLimits,
  ) {}

  /**
   * The cached recorded forward for x's shape, recording it (under the budgets) when new.
   * With a `maxSeconds`, null when its estimated time is above it: such shapes keep only
   * their cost, not a program, so a stream of large requests does not fill the cache.
   */
  entry(
    x: { shape: readonly number[]; dtype: 'float32' | 'int32' },
    what: string,
    maxSeconds = Infinity,
  ): PredictEntry | null {
    const key = `${x.dtype}:${x.shape.join(',')}`;
    if (this.costly.has(key) && (this.costly.get(key) as number) > maxSeconds) return null;
    // The most recent shape first (the common case: one request shape), without a string key.
    let entry: PredictEntry | undefined = this.last ?? undefined;
    if (!entry || entry.input.dtype !== x.dtype || !shapesEqual(entry.input.shape, x.shape))
      entry = this.entries.get(key);
    // A recorded forward points at the parameters' buffers: re-record if a parameter was
    // replaced (a new head, a module swapped in) since.
    if (entry && !this.module.parametersMatch(entry.params)) {
      this.clear();
      entry = undefined;
    }
    // A costly shape cached by predictSync or the pool path is not run synchronously.
    if (entry) return entry.seconds <= maxSeconds ? entry : null;
    const params = this.module.parameters();
    const size = x.shape.reduce((a, b) => a * b, 1);
    const input = new Tensor(x.dtype === 'int32' ? new Int32Array(size) : new Float32Array(size), x.shape);
    const traced = recordForward(this.module, this.limits, what, x.shape[0], () => input);
    // Intermediate buffers share memory by liveness; the output predict copies out stays put.
    traced.program.compact([traced.value.data]);
    const seconds = estimateSeconds(traced.program.flops, traced.program.bytes);
    if (seconds > maxSeconds) {
      traced.program.clear();
      if (this.costly.size >= MAX_COSTLY) this.costly.delete(this.costly.keys().next().value as string);
      this.costly.set(key, seconds);
      return null;
    }
    entry = {
      program: traced.program,
      input,
      output: traced.value,
      params: params.map((p) => p.data as Float32Array),
      seconds,
      bytes: traced.activationBytes,
    };
    let held = entry.bytes;
    for (const e of this.entries.values()) held += e.bytes;
    while (this.entries.size > 0 && (this.entries.size >= MAX_ENTRIES || held > MAX_BYTES)) {
      const oldest = this.entries.keys().next().value as string;
      held -= (this.entries.get(oldest) as PredictEntry).bytes;
      this.evict(oldest);
    }
    this.entries.set(key, entry);
    return entry;
  }

  /** Replays entry synchronously on x (its shape); a copy of the output. */
  run(entry: PredictEntry, x: Tensor): Tensor {
    this.last = entry;
    entry.input.data.set(x.data);
    entry.program.run(1);
    return new Tensor(entry.output.data.slice(), entry.output.shape);
  }

  /** Replays entry on x on the thread pool (`replay` wraps the promise); a copy of the output. */
  async runAsync(entry: PredictEntry, x: Tensor, replay: (p: Promise<number>) => Promise<number>): Promise<Tensor> {
    entry.input.data.set(x.data);
    await replay(entry.program.runAsync(1));
    return new Tensor(entry.output.data.slice(), entry.output.shape);
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
    try {
      e.program.clear();
    } catch {
      // Replaying for a predict in flight: its buffers go when it is collected.
    }
    this.entries.delete(key);
  }
}
