/**
 * Monitor: runs one model's async calls (fit, evaluate, predict, save, saveCheckpoint, weight
 * loads) one at a time, in call order. A call made from inside the running call (a fit
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

export class Monitor {
  private tail: Promise<unknown> = Promise.resolve();
  private queued = 0;
  private running: { op: string; token: symbol } | null = null;
  private readonly replays = new Set<Promise<unknown>>();

  /** Calls queued or running. */
  get busy(): boolean {
    return this.queued > 0;
  }

  /** The running call's name ('fit', 'predict', ...), or null. */
  get current(): string | null {
    return this.running?.op ?? null;
  }

  /** Whether the caller runs inside this monitor's running call (e.g. in a fit callback). */
  holdsHere(): boolean {
    const token = held.getStore()?.get(this);
    return token !== undefined && token === this.running?.token;
  }

  /** A native replay is writing this model's buffers right now. */
  get replaying(): boolean {
    return this.replays.size > 0;
  }

  /**
   * Runs `work` once every call before it has settled (or at once, when called from inside the
   * running call). Its promise settles with work's.
   */
  run<T>(op: string, work: () => Promise<T>): Promise<T> {
    if (this.holdsHere()) return this.nested(work);
    this.queued++;
    const start = (): Promise<T> => {
      const token = Symbol(op);
      const inside = new Map(held.getStore());
      inside.set(this, token);
      return held.run(inside, async () => {
        this.running = { op, token };
        try {
          return await work();
        } finally {
          this.running = null;
        }
      });
    };
    const result = this.tail.then(start, start).finally(() => {
      this.queued--;
    });
    this.tail = result.catch(() => undefined);
    return result;
  }

  private async nested<T>(work: () => Promise<T>): Promise<T> {
    // A timer started inside a callback carries the callback's context and may fire while the
    // next chunk replays: let the replays in flight finish first.
    while (this.replays.size > 0) await Promise.allSettled([...this.replays]);
    return work();
  }

  /** Awaits a native replay of this model's buffers, marking it in flight meanwhile. */
  async awaitReplay<T>(replay: Promise<T>): Promise<T> {
    this.replays.add(replay);
    try {
      return await replay;
    } finally {
      this.replays.delete(replay);
    }
  }
}
