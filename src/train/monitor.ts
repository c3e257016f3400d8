/**
 * Monitor: runs one model's async calls (fit, evaluate, predict, save, saveCheckpoint, weight
 * loads) one at a time, in call order. A call made from inside the running call (a fit
 * callback that evaluates, saves a checkpoint or predicts) is recognised by the async context
 * it runs in (AsyncLocalStorage), not by a state flag, and runs at once: queueing it behind
 * the fit that awaits it would never finish. Such a nested call still waits for the native
 * replay in flight, since that replay is writing the weights on a pool thread.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** The monitors the current async context holds (usually none or one). */
const held = new AsyncLocalStorage<ReadonlySet<Monitor>>();

export class Monitor {
  private tail: Promise<unknown> = Promise.resolve();
  private queued = 0;
  private running: string | null = null;
  private replay: Promise<unknown> | null = null;

  /** Calls queued or running. */
  get busy(): boolean {
    return this.queued > 0;
  }

  /** The running call's name ('fit', 'predict', ...), or null. */
  get current(): string | null {
    return this.running;
  }

  /** Whether the caller runs inside this monitor's current call (e.g. in a fit callback). */
  holdsHere(): boolean {
    return held.getStore()?.has(this) ?? false;
  }

  /** A native replay is writing this model's buffers right now. */
  get replaying(): boolean {
    return this.replay !== null;
  }

  /**
   * Runs `work` once every call before it has settled (or at once, when called from inside the
   * running call). Its promise settles with work's.
   */
  run<T>(op: string, work: () => Promise<T>): Promise<T> {
    if (this.holdsHere()) return this.nested(work);
    this.queued++;
    const start = (): Promise<T> => {
      const inside = new Set(held.getStore());
      inside.add(this);
      return held.run(inside, async () => {
        this.running = op;
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
    // next chunk replays: let that chunk finish first.
    while (this.replay) await this.replay.catch(() => undefined);
    return work();
  }

  /** Awaits a native replay of this model's step, marking it in flight meanwhile. */
  async awaitReplay<T>(replay: Promise<T>): Promise<T> {
    this.replay = replay;
    try {
      return await replay;
    } finally {
      this.replay = null;
    }
  }
}
