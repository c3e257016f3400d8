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
 */
export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

export class ProgressBar implements Callback {
  private bar: cliProgress.SingleBar | null = null;
  private ctx: TrainingContext | null = null;
  private started = 0;
  private epoch = 0;
  private running: Logs = {};
  constructor(
    private readonly stream: ProgressStream = process.stdout,
    private readonly tty = Boolean(process.stdout.isTTY),
  ) {}
  setContext(ctx: TrainingContext): void {
    this.ctx = ctx;
  }
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
  onBatchEnd(batch: number, logs: Logs): void {
    this.running = logs;
    this.bar?.update(batch + 1, { metrics: fmt(logs) });
  }
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
  onTrainEnd(): void {
    this.bar?.stop();
  }
}
