/**
 * Monitor: orders one model's async calls (fit, evaluate, predict, save, saveCheckpoint, weight
 * loads) in call order, as a readers-writer queue: an exclusive call (anything that writes the
 * weights or must see them still: fit, evaluate, saves, weight loads) runs alone once every call
 * before it has settled; a shared call (predict, which only reads them) waits for the exclusive
 * calls before it and runs alongside the shared calls around it. So a predict issued after a
 * fit sees the fit's weights, a save issued after predicts waits for them, and concurrent
 * predicts do not queue behind one another. A call made from inside the running call (a fit
 * callback that evaluates, saves a checkpoint or predicts) is recognised by the async context
 * it runs in (AsyncLocalStorage) carrying that running call's token, not by a state flag, and
 * runs at once: queueing it behind the fit that awaits it would never finish. A timer or
 * promise continuation a callback started carries the same context but, once that call has
 * settled, no longer the running call's token, so it queues like any other caller. A nested
 * call still waits for the native replays in flight, since they write the weights on a pool
 * thread.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** Per monitor, the token of the call the current async context runs inside. */
const held = new AsyncLocalStorage<ReadonlyMap<Monitor, symbol>>();

/** How a call shares the model: alone, or alongside other shared calls. */
export type MonitorMode = 'exclusive' | 'shared';

export class Monitor {
  /** Settles when every call so far has settled (what an exclusive call waits for). */
  private tail: Promise<unknown> = Promise.resolve();
  /** Settles when every exclusive call so far has settled (what a shared call waits for). */
  private exclusiveTail: Promise<unknown> = Promise.resolve();
  private queued = 0;
  private exclusiveQueued = 0;
  /** The calls running now, by token (several only when they are shared). */
  private readonly running = new Map<symbol, string>();
  /** Native replays writing this model's weights (fit, evaluate). */
  private readonly replays = new Set<Promise<unknown>>();

  /** Calls queued or running. */
  get busy(): boolean {
    return this.queued > 0;
  }

  /** Exclusive calls queued or running: a call that must see the weights they leave waits. */
  get exclusiveBusy(): boolean {
    return this.exclusiveQueued > 0;
  }

  /** A running call's name ('fit', 'predict', ...), or null. */
  get current(): string | null {
    for (const op of this.running.values()) return op;
    return null;
  }

  /** Whether the caller runs inside one of this monitor's running calls (e.g. a fit callback). */
  holdsHere(): boolean {
    const token = held.getStore()?.get(this);
    return token !== undefined && this.running.has(token);
  }

  /** A native replay is writing this model's weights right now. */
  get replaying(): boolean {
    return this.replays.size > 0;
  }

  /**
   * Runs `work` when the calls before it allow (see the class comment), or at once when called
   * from inside a running call. Its promise settles with work's.
   */
  run<T>(op: string, work: () => Promise<T>, mode: MonitorMode = 'exclusive'): Promise<T> {
    if (this.holdsHere()) return this.nested(work);
    this.queued++;
    if (mode === 'exclusive') this.exclusiveQueued++;
    const start = (): Promise<T> => {
      const token = Symbol(op);
      const inside = new Map(held.getStore());
      inside.set(this, token);
      return held.run(inside, async () => {
        this.running.set(token, op);
        try {
          return await work();
        } finally {
          this.running.delete(token);
        }
      });
    };
    const after = mode === 'exclusive' ? this.tail : this.exclusiveTail;
    const result = after.then(start, start).finally(() => {
      this.queued--;
      if (mode === 'exclusive') this.exclusiveQueued--;
    });
    const settled = result.catch(() => undefined);
    if (mode === 'exclusive') {
      this.tail = settled;
      this.exclusiveTail = settled;
    } else {
      this.tail = Promise.all([this.tail, settled]);
    }
    return result;
  }

  private async nested<T>(work: () => Promise<T>): Promise<T> {
    // A timer started inside a callback carries the callback's context and may fire while the
    // next chunk replays: let the replays in flight finish first.
    while (this.replays.size > 0) await Promise.allSettled([...this.replays]);
    return work();
  }

  /**
   * Awaits a native replay of this model's buffers. One that writes the weights (the default)
   * is marked in flight meanwhile; a forward that only reads them is not.
   */
  async awaitReplay<T>(replay: Promise<T>, writes = true): Promise<T> {
    if (!writes) return replay;
    this.replays.add(replay);
    try {
      return await replay;
    } finally {
      this.replays.delete(replay);
    }
  }
}
