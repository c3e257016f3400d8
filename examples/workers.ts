/**
 * Serving from worker_threads: three ways to place a model, measured on this machine with the
 * same stream of 1-row requests (the 784-256-128-10 MLP, `--concurrency` requests in flight):
 *
 *   main      the model on the main thread behind a batcher (createBatcher): no workers.
 *   shared    one inference worker holds the model and its batcher; the main thread (a server's
 *             event loop) only posts requests and receives rows.
 *   per-worker one model per worker (`--workers` copies, each with a batcher), requests dealt
 *             round robin: more memory, no shared state.
 *
 * Every worker loads the model from the file the main thread saved (Model.save / Model.load),
 * so all three serve identical weights; each answer is checked against the main thread's.
 *
 *   npx tsx examples/workers.ts [--requests 20000] [--concurrency 64] [--workers 2]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Linear, Model, Sequential, Tensor, createBatcher, getNumThreads } from 'axon-nn';

interface Request {
  id: number;
  x: Float32Array;
}
interface Reply {
  id: number;
  y?: Float32Array;
  error?: string;
}

const FEATURES = 784;

/** Inside a worker: load the model, answer each posted request through a batcher. */
async function serveInWorker(file: string): Promise<void> {
  const model = await Model.load(file);
  const batcher = createBatcher(model, { maxBatchSize: 64, maxDelayMs: 0 });
  parentPort?.on('message', (req: Request | 'close') => {
    if (req === 'close') {
      void batcher.close().then(() => parentPort?.close());
      return;
    }
    batcher.predict(new Tensor(req.x, [1, FEATURES])).then(
      (y) => parentPort?.postMessage({ id: req.id, y: y.data as Float32Array } satisfies Reply),
      (e: unknown) => parentPort?.postMessage({ id: req.id, error: (e as Error).message } satisfies Reply),
    );
  });
  parentPort?.postMessage('ready');
}

/** A worker running serveInWorker, as a function from a request to its reply. */
async function startWorker(
  file: string,
): Promise<{ ask: (x: Float32Array) => Promise<Float32Array>; stop: () => Promise<void> }> {
  // A worker does not inherit tsx's loader hooks (Node 20): register them in the worker first.
  const api = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(api)}).then((m) => m.register()).then(() => import(${JSON.stringify(import.meta.url)}))`;
  const worker = new Worker(boot, { eval: true, workerData: { file } });
  const pending = new Map<number, { resolve: (y: Float32Array) => void; reject: (e: Error) => void }>();
  let next = 0;
  await new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', () => resolve());
  });
  worker.on('message', (r: Reply) => {
    const p = pending.get(r.id);
    pending.delete(r.id);
    if (r.error !== undefined) p?.reject(new Error(r.error));
    else p?.resolve(r.y as Float32Array);
  });
  return {
    ask: (x) =>
      new Promise((resolve, reject) => {
        const id = next++;
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, x } satisfies Request);
      }),
    stop: async () => {
      worker.postMessage('close');
      await new Promise((r) => worker.once('exit', r));
    },
  };
}

/** Sends `total` 1-row requests, `concurrency` in flight; requests/s and the answers' check. */
async function drive(
  ask: (x: Float32Array, i: number) => Promise<Float32Array>,
  inputs: Float32Array[],
  want: Float32Array[],
  total: number,
  concurrency: number,
): Promise<{ perSecond: number; maxError: number }> {
  let issued = 0;
  let maxError = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (issued < total) {
        const i = issued++;
        const k = i % inputs.length;
        const y = await ask(inputs[k], i);
        for (let j = 0; j < y.length; j++) maxError = Math.max(maxError, Math.abs(y[j] - want[k][j]));
      }
    }),
  );
  return { perSecond: total / ((performance.now() - t0) / 1000), maxError };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string', default: '20000' },
      concurrency: { type: 'string', default: '64' },
      workers: { type: 'string', default: '2' },
    },
  });
  const total = Number(values.requests);
  const concurrency = Number(values.concurrency);
  const workers = Number(values.workers);
  if (![total, concurrency, workers].every((v) => Number.isInteger(v) && v > 0))
    throw new RangeError('--requests, --concurrency and --workers must be positive integers');

  const dir = mkdtempSync(join(tmpdir(), 'axon-workers-'));
  try {
    const model = new Model(
      new Sequential(
        new Linear(FEATURES, 256, { activation: 'relu', init: { seed: 1 } }),
        new Linear(256, 128, { activation: 'relu', init: { seed: 2 } }),
        new Linear(128, 10, { init: { seed: 3 } }),
      ),
    );
    const inputs = Array.from({ length: 256 }, (_, r) =>
      Float32Array.from({ length: FEATURES }, (_, i) => Math.sin(r * 31 + i * 0.37)),
    );
    const want = inputs.map((x) => model.predictSync(new Tensor(x, [1, FEATURES])).data as Float32Array);
    const file = join(dir, 'mlp.axon');
    await model.save(file);
    console.log(`${total} 1-row requests, ${concurrency} in flight, pool threads per engine ${getNumThreads()}`);
    // Rows batched together may differ from rows predicted alone in the last bits.
    const report = (name: string, r: { perSecond: number; maxError: number }): void => {
      if (r.maxError > 1e-4) throw new Error(`${name}: answers differ from the model's by ${r.maxError}`);
      console.log(`  ${name.padEnd(34)} ${r.perSecond.toFixed(0).padStart(7)} requests/s`);
    };

    const batcher = createBatcher(model, { maxBatchSize: 64, maxDelayMs: 0 });
    report(
      'main thread + batcher',
      await drive(
        async (x) => (await batcher.predict(new Tensor(x, [1, FEATURES]))).data as Float32Array,
        inputs,
        want,
        total,
        concurrency,
      ),
    );
    await batcher.close();

    const shared = await startWorker(file);
    report('one shared inference worker', await drive((x) => shared.ask(x), inputs, want, total, concurrency));
    await shared.stop();

    const pool = await Promise.all(Array.from({ length: workers }, () => startWorker(file)));
    report(
      `a model per worker (${workers} workers)`,
      await drive((x, i) => pool[i % workers].ask(x), inputs, want, total, concurrency),
    );
    await Promise.all(pool.map((w) => w.stop()));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (isMainThread) await main();
else await serveInWorker((workerData as { file: string }).file);
