/**
 * The progress display fit shows by default: a bar per epoch with batches done, ETA, loss and
 * metrics when stdout is a terminal (cli-progress), one summary line per epoch otherwise.
 */
import cliProgress from 'cli-progress';
import type { Callback, Logs, TrainingContext } from './callbacks.js';

function fmt(logs: Logs): string {
  return Object.entries(logs)
    .map(
      ([k, v]) => `${k}: ${Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : v.toFixed(4)}`,
    )
    .join(' - ');
}

/**
 * Where progress goes: process.stdout by default; any stream with write() (a TTY stream for
 * the live bar). Declared here, not as NodeJS.WriteStream, so the public types need no
 * @types/node.
 *
 * @example
 * ```ts
 * import { ProgressBar, type ProgressStream } from 'axon-nn';
 * const lines: string[] = [];
 * const collector: ProgressStream = { write: (chunk) => lines.push(chunk) };
 * const progress = new ProgressBar(collector, false); // in fit's callbacks: one summary line per epoch into `lines`
 * ```
 */
export interface ProgressStream {
  /** Writes a piece of text. */
  write(chunk: string): unknown;
  /** Whether it is a terminal, as on Node's streams: ProgressBar draws the live bar on one unless told otherwise. */
  isTTY?: boolean;
}

/**
 * The progress display fit over tensors shows unless verbose is 0 (Keras's verbose=1): on a
 * terminal a live bar per epoch with batches done, ETA, loss and metrics, otherwise one
 * summary line per epoch. Make one to send progress elsewhere: the constructor takes the stream
 * (default process.stdout) and whether to draw the live bar (default: whether that stream is a terminal).
 *
 * @example
 * ```ts
 * import { Model, Sequential, Linear, ProgressBar, randn } from 'axon-nn';
 * const model = new Model(new Sequential(new Linear(4, 1))).compile({ optimizer: 'adam', loss: 'mse' });
 * // Summary lines on stderr instead of the default display on stdout.
 * await model.fit(randn([32, 4]), randn([32, 1]), { epochs: 2, verbose: 0, callbacks: [new ProgressBar(process.stderr, false)] });
 * ```
 */
export class ProgressBar implements Callback {
  private bar: cliProgress.SingleBar | null = null;
  private ctx: TrainingContext | null = null;
  private started = 0;
  private epoch = 0;
  private running: Logs = {};
  constructor(
    private readonly stream: ProgressStream = process.stdout,
    private readonly tty = Boolean(stream.isTTY),
  ) {}
  /** Keeps the context (epochs and batches per epoch, for the display). */
  setContext(ctx: TrainingContext): void {
    this.ctx = ctx;
  }
  /** Starts the epoch's timer and, on a terminal, its bar. */
  onEpochBegin(epoch: number): void {
    this.epoch = epoch;
    this.started = performance.now();
    this.running = {};
    if (!this.tty || !this.ctx) return;
    this.bar = new cliProgress.SingleBar(
      {
        format: `Epoch ${epoch + 1}/${this.ctx.epochs} [{bar}] {value}/{total} | ETA {eta_formatted} | {metrics}`,
        stream: this.stream as NodeJS.WritableStream,
        hideCursor: true,
        clearOnComplete: false,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(this.ctx.stepsPerEpoch, 0, { metrics: '' });
  }
  /** Advances the bar, showing the running loss. */
  onBatchEnd(batch: number, logs: Logs): void {
    this.running = logs;
    this.bar?.update(batch + 1, { metrics: fmt(logs) });
  }
  /** Completes the bar and writes the epoch's summary line (batches, seconds, logs). */
  onEpochEnd(_epoch: number, logs: Logs): void {
    const seconds = (performance.now() - this.started) / 1000;
    if (this.bar) {
      this.bar.update(this.ctx?.stepsPerEpoch ?? 0, { metrics: fmt(logs) });
      this.bar.stop();
      this.bar = null;
    }
    const total = this.ctx?.epochs ?? 0;
    this.stream.write(
      `Epoch ${this.epoch + 1}/${total} - ${this.ctx?.stepsPerEpoch ?? 0} batches - ${seconds.toFixed(2)}s - ${fmt(logs)}\n`,
    );
  }
  /** Stops a bar left running. */
  onTrainEnd(): void {
    this.bar?.stop();
  }
}
