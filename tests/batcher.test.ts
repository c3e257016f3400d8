/**
 * The dynamic batcher (src/serve/batcher.ts): coalescing into fewer forwards with each caller's
 * own rows, maxBatchSize and maxDelayMs, shapes batched apart, backpressure, aborts and
 * timeouts at each stage, failing forwards, graceful close, and the Model, OnnxSession and
 * function targets. Forwards are held open with gates, so the stage a request is in is known.
 *   npx vitest run tests/batcher.test.ts
 */
import { describe, expect, it } from 'vitest';
import {
  Batcher,
  BatcherClosedError,
  BatchTimeoutError,
  createBatcher,
  exportOnnxBytes,
  Linear,
  loadOnnx,
  Model,
  OnnxSession,
  OverloadedError,
  randn,
  Sequential,
  Tensor,
  tensor,
  type BatchPredictor,
} from '../src/index.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** 2x: a forward whose output is easy to predict. */
function double(x: Tensor): Tensor {
  const data = x.dtype === 'int32' ? Int32Array.from(x.data, (v) => 2 * v) : Float32Array.from(x.data, (v) => 2 * v);
  return new Tensor(data, x.shape);
}

/** A predictor that records each batch and holds it open until released. */
function gated(compute: (x: Tensor) => Tensor = double) {
  const calls: { x: Tensor; release(): void; fail(e: unknown): void }[] = [];
  const predictor: BatchPredictor = (x) =>
    new Promise<Tensor>((resolve, reject) => {
      calls.push({ x, release: () => resolve(compute(x)), fail: reject });
    });
  return { calls, predictor, rows: () => calls.map((c) => c.x.shape[0]) };
}

/** A predictor that answers at once and records the rows of each batch. */
function counting(compute: (x: Tensor) => Tensor | Promise<Tensor> = double) {
  const rows: number[] = [];
  const predictor: BatchPredictor = async (x) => {
    rows.push(x.shape[0]);
    return compute(x);
  };
  return { rows, predictor };
}

function smallModel(): Model {
  return new Model(new Sequential(new Linear(4, 16, { activation: 'relu' }), new Linear(16, 3)));
}

function rowsOf(x: Tensor): Tensor[] {
  return Array.from({ length: x.shape[0] }, (_, i) => x.slice(i, i + 1));
}

function maxAbsDiff(a: Tensor, b: Tensor): number {
  expect(a.shape).toEqual(b.shape);
  let m = 0;
  for (let i = 0; i < a.size; i++) m = Math.max(m, Math.abs(a.data[i] - b.data[i]));
  return m;
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected the promise to reject');
}

describe('coalescing', () => {
  it('N concurrent single-row requests run as one forward, each caller getting its own row', async () => {
    const model = smallModel();
    const { rows, predictor } = counting((x) => model.predict(x));
    const batcher = createBatcher(predictor, { maxBatchSize: 32, maxDelayMs: 20 });
    const x = randn([12, 4], { seed: 3 });
    const outs = await Promise.all(rowsOf(x).map((r) => batcher.predict(r)));
    expect(rows).toEqual([12]);
    const whole = await model.predict(x);
    outs.forEach((o, i) => {
      expect(o.shape).toEqual([1, 3]);
      expect(Array.from(o.data)).toEqual(Array.from(whole.slice(i, i + 1).data)); // bitwise
    });
    // Against each row predicted alone: equal up to the GEMM's blocking.
    for (let i = 0; i < 12; i++) expect(maxAbsDiff(outs[i], await model.predict(x.slice(i, i + 1)))).toBeLessThan(1e-5);
    const s = batcher.stats();
    expect(s).toMatchObject({ requests: 12, batches: 1, rows: 12, rejected: 0, aborted: 0, timedOut: 0, failed: 0 });
    expect(s.batchSizes[12]).toBe(1);
    expect(s.batchSizes.length).toBe(33);
  });

  it('keeps multi-row requests whole and in order', async () => {
    const { rows, predictor } = counting();
    const batcher = createBatcher(predictor, { maxBatchSize: 8, maxDelayMs: 10 });
    const a = tensor([[1], [2], [3]]);
    const b = tensor([[4]]);
    const c = tensor([[5], [6]]);
    const [ya, yb, yc] = await Promise.all([batcher.predict(a), batcher.predict(b), batcher.predict(c)]);
    expect(rows).toEqual([6]);
    expect(ya.toArray()).toEqual([[2], [4], [6]]);
    expect(yb.toArray()).toEqual([[8]]);
    expect(yc.toArray()).toEqual([[10], [12]]);
  });

  it('respects maxBatchSize and never splits a request', async () => {
    const single = counting();
    const b1 = createBatcher(single.predictor, { maxBatchSize: 4, maxDelayMs: 10, maxInFlight: 4 });
    await Promise.all(Array.from({ length: 10 }, (_, i) => b1.predict(tensor([[i]]))));
    expect(single.rows).toEqual([4, 4, 2]);

    const triples = counting();
    const b2 = createBatcher(triples.predictor, { maxBatchSize: 4, maxDelayMs: 10 });
    const outs = await Promise.all([0, 1, 2].map((i) => b2.predict(tensor([[i], [i], [i]]))));
    expect(triples.rows).toEqual([3, 3, 3]);
    expect(outs.map((o) => o.toArray())).toEqual([0, 1, 2].map((i) => [[2 * i], [2 * i], [2 * i]]));
    expect(b2.stats().batchSizes).toEqual([0, 0, 0, 3, 0]);
  });

  it('dispatches a full batch without waiting for maxDelayMs', async () => {
    const { rows, predictor } = counting();
    const batcher = createBatcher(predictor, { maxBatchSize: 2, maxDelayMs: 5000 });
    const t0 = performance.now();
    await Promise.all([batcher.predict(tensor([[1]])), batcher.predict(tensor([[2]]))]);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(rows).toEqual([2]);
  });

  it('flushes a partial batch once its first request has waited maxDelayMs', async () => {
    const { rows, predictor } = counting();
    const batcher = createBatcher(predictor, { maxBatchSize: 32, maxDelayMs: 60 });
    const t0 = performance.now();
    const p = batcher.predict(tensor([[1]]));
    await sleep(15);
    expect(rows).toEqual([]); // still waiting for company
    expect(batcher.queueDepth).toBe(1);
    expect(batcher.queuedRows).toBe(1);
    const late = batcher.predict(tensor([[2], [3]])); // joins; the wait runs from the first
    expect((await p).toArray()).toEqual([[2]]);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(55);
    expect((await late).toArray()).toEqual([[4], [6]]);
    expect(rows).toEqual([3]);
    expect(batcher.queueDepth).toBe(0);
  });

  it('batches different sample shapes and dtypes separately', async () => {
    const { calls, predictor } = gated();
    const batcher = createBatcher(predictor, { maxBatchSize: 8, maxDelayMs: 5, maxInFlight: 4 });
    const ps = [
      batcher.predict(tensor([[1, 2]])),
      batcher.predict(tensor([[1, 2, 3]])),
      batcher.predict(tensor([[3, 4]])),
      batcher.predict(new Tensor(new Int32Array([5, 6]), [1, 2])),
      batcher.predict(tensor([[[1], [2]]])),
    ];
    await sleep(30);
    expect(calls.map((c) => `${c.x.dtype}${JSON.stringify(c.x.shape)}`).sort()).toEqual(
      ['float32[1,2,1]', 'float32[1,3]', 'float32[2,2]', 'int32[1,2]'].sort(),
    );
    calls.forEach((c) => c.release());
    const outs = await Promise.all(ps);
    expect(outs.map((o) => o.toArray())).toEqual([[[2, 4]], [[2, 4, 6]], [[6, 8]], [[10, 12]], [[[2], [4]]]]);
    expect(outs[3].dtype).toBe('int32');
  });

  it('runs at most maxInFlight forwards; due batches wait and keep filling', async () => {
    const { calls, predictor } = gated();
    const batcher = createBatcher(predictor, { maxBatchSize: 4, maxDelayMs: 1, maxInFlight: 2 });
    const first = [1, 2].map((i) => batcher.predict(tensor([[i]])));
    await sleep(10);
    const second = [3, 4].map((i) => batcher.predict(tensor([[i]])));
    await sleep(10);
    expect(calls.length).toBe(2);
    expect(batcher.inFlight).toBe(2);
    const third = [5, 6, 7].map((i) => batcher.predict(tensor([[i]])));
    await sleep(10);
    expect(calls.length).toBe(2); // waiting for a slot
    expect(batcher.queueDepth).toBe(3);
    calls[0].release();
    await Promise.all(first);
    await sleep(5);
    expect(calls.length).toBe(3);
    expect(calls[2].x.shape[0]).toBe(3); // all three waiting went together
    calls[1].release();
    calls[2].release();
    expect((await Promise.all([...second, ...third])).map((o) => o.item())).toEqual([6, 8, 10, 12, 14]);
    expect(batcher.inFlight).toBe(0);
  });
});

describe('backpressure, aborts and timeouts', () => {
  it('rejects with OverloadedError once maxQueue requests wait', async () => {
    const { calls, predictor } = gated();
    const batcher = createBatcher(predictor, { maxBatchSize: 1, maxDelayMs: 0, maxQueue: 2, maxInFlight: 1 });
    const running = batcher.predict(tensor([[1]]));
    await sleep(5);
    expect(calls.length).toBe(1);
    const waiting = [batcher.predict(tensor([[2]])), batcher.predict(tensor([[3]]))];
    const e = await rejection(batcher.predict(tensor([[4]])));
    expect(e).toBeInstanceOf(OverloadedError);
    expect((e as OverloadedError).code).toBe('ERR_AXON_OVERLOADED');
    expect(e.message).toMatch(/maxQueue 2/);
    expect(batcher.stats().rejected).toBe(1);
    for (let i = 0; i < 3; i++) {
      await sleep(5);
      calls[i].release();
    }
    expect((await Promise.all([running, ...waiting])).map((o) => o.item())).toEqual([2, 4, 6]);
    // Room again.
    const again = batcher.predict(tensor([[5]]));
    await sleep(5);
    calls[3].release();
    expect((await again).item()).toBe(10);
  });

  it('rejects an already-aborted request at once without running it', async () => {
    const { rows, predictor } = counting();
    const batcher = createBatcher(predictor);
    const controller = new AbortController();
    controller.abort(new Error('client went away'));
    const e = await rejection(batcher.predict(tensor([[1]]), { signal: controller.signal }));
    expect(e.name).toBe('AbortError');
    expect(e.message).toMatch(/batcher\.predict: aborted before it was queued/);
    expect((e.cause as Error).message).toBe('client went away');
    await sleep(10);
    expect(rows).toEqual([]);
    expect(batcher.stats()).toMatchObject({ requests: 0, aborted: 1 });
  });

  it('removes a request aborted while queued; the rest of its batch goes without it', async () => {
    const { rows, predictor } = counting();
    const batcher = createBatcher(predictor, { maxBatchSize: 8, maxDelayMs: 40 });
    const controller = new AbortController();
    const a = batcher.predict(tensor([[1]]));
    const b = batcher.predict(tensor([[2]]), { signal: controller.signal });
    const c = batcher.predict(tensor([[3]]));
    await sleep(5);
    controller.abort();
    const e = await rejection(b);
    expect(e.name).toBe('AbortError');
    expect(e.message).toMatch(/while queued/);
    expect(batcher.queueDepth).toBe(2);
    expect(rows).toEqual([]);
    expect((await a).item()).toBe(2);
    expect((await c).item()).toBe(6);
    expect(rows).toEqual([2]);
    expect(batcher.stats().aborted).toBe(1);
  });

  it('rejects at once when aborted after dispatch and drops its rows', async () => {
    const { calls, predictor } = gated();
    const batcher = createBatcher(predictor, { maxBatchSize: 2, maxDelayMs: 1 });
    const controller = new AbortController();
    const a = batcher.predict(tensor([[1]]), { signal: controller.signal });
    const b = batcher.predict(tensor([[2]]));
    await sleep(10);
    expect(calls.length).toBe(1);
    controller.abort();
    const e = await rejection(a); // the forward is still held open
    expect(e.message).toMatch(/aborted while its batch was running/);
    expect(batcher.inFlight).toBe(1);
    calls[0].release();
    expect((await b).item()).toBe(4);
  });

  it('times out while queued and while in flight', async () => {
    const queued = counting();
    const b1 = createBatcher(queued.predictor, { maxDelayMs: 5000 });
    const e1 = await rejection(b1.predict(tensor([[1]]), { timeoutMs: 20 }));
    expect(e1).toBeInstanceOf(BatchTimeoutError);
    expect(e1.name).toBe('TimeoutError');
    expect(e1.message).toMatch(/timed out after 20 ms \(waiting in the queue\)/);
    expect(b1.queueDepth).toBe(0);
    expect(queued.rows).toEqual([]);

    const { calls, predictor } = gated();
    const b2 = createBatcher(predictor, { maxDelayMs: 0 });
    const e2 = await rejection(b2.predict(tensor([[1]]), { timeoutMs: 20 }));
    expect(e2.message).toMatch(/its batch still running/);
    expect(calls.length).toBe(1);
    calls[0].release();
    await b2.close();
    expect(b2.stats()).toMatchObject({ timedOut: 1, batches: 1 });
  });

  it('maxDelayMs 0: requests of one event-loop turn share a forward, and a lone one waits for no timer', async () => {
    const { rows, predictor } = counting();
    const batcher = createBatcher(predictor, { maxDelayMs: 0 });
    const ys = await Promise.all([1, 2, 3, 4, 5].map((v) => batcher.predict(tensor([[v]]))));
    expect(ys.map((y) => y.item())).toEqual([2, 4, 6, 8, 10]);
    expect(rows).toEqual([5]);
    // A lone request is dispatched from the check phase of this very turn (setImmediate
    // callbacks run in order: the batcher's was queued first), not by a timer.
    const lone = batcher.predict(tensor([[6]]));
    await new Promise((r) => setImmediate(r));
    expect(rows).toEqual([5, 1]);
    expect((await lone).item()).toBe(12);
    await batcher.close();
  });

  it('tells the forward whether it is busy (other forwards running or requests waiting)', async () => {
    const seen: boolean[] = [];
    const { calls, predictor } = gated();
    const batcher = createBatcher(
      (x, load) => {
        seen.push(load?.busy as boolean);
        return predictor(x);
      },
      { maxDelayMs: 0, maxBatchSize: 2, maxInFlight: 2 },
    );
    const first = batcher.predict(tensor([[1]]));
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual([false]); // alone: nothing else running or waiting
    const rest = [2, 3, 4, 5].map((v) => batcher.predict(tensor([[v]])));
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual([false, true]); // one forward already running, two requests left waiting
    for (const c of calls) c.release();
    await new Promise((r) => setImmediate(r));
    for (const c of calls) c.release();
    expect((await first).item()).toBe(2);
    expect((await Promise.all(rest)).map((y) => y.item())).toEqual([4, 6, 8, 10]);
    await batcher.close();
  });

  it('a request that settles in time clears its timer and listener', async () => {
    const { predictor } = counting();
    const batcher = createBatcher(predictor, { maxDelayMs: 0 });
    const controller = new AbortController();
    const y = await batcher.predict(tensor([[1]]), { timeoutMs: 30, signal: controller.signal });
    controller.abort();
    await sleep(50);
    expect(y.item()).toBe(2);
    expect(batcher.stats()).toMatchObject({ aborted: 0, timedOut: 0 });
  });
});

describe('failures and close', () => {
  it('rejects every caller of a failing batch with its error and keeps working', async () => {
    let fail = true;
    const boom = new Error('forward exploded');
    const batcher = createBatcher(
      async (x) => {
        if (fail) throw boom;
        return double(x);
      },
      { maxBatchSize: 4, maxDelayMs: 5 },
    );
    const errors = await Promise.all([1, 2, 3].map((i) => rejection(batcher.predict(tensor([[i]])))));
    expect(errors.every((e) => e === boom)).toBe(true);
    fail = false;
    expect((await batcher.predict(tensor([[4]]))).item()).toBe(8);
    expect(batcher.stats()).toMatchObject({ failed: 3, batches: 2 });

    // A predictor that throws synchronously is treated the same.
    const sync = createBatcher(
      (() => {
        throw new RangeError('sync failure');
      }) as BatchPredictor,
      { maxDelayMs: 0 },
    );
    expect((await rejection(sync.predict(tensor([[1]])))).message).toBe('sync failure');
  });

  it('rejects every caller when the output does not have the batch rows', async () => {
    const batcher = createBatcher(async () => tensor([[1, 2]]), { maxDelayMs: 5 });
    const errors = await Promise.all(
      [batcher.predict(tensor([[1, 1]])), batcher.predict(tensor([[2, 2]]))].map(rejection),
    );
    for (const e of errors) {
      expect(e).toBeInstanceOf(RangeError);
      expect(e.message).toMatch(/returned shape \[1, ?2\] for a batch of shape \[2, ?2\] \(2 requests\).*2 rows/);
    }
    const notTensor = createBatcher((async () => [1, 2]) as unknown as BatchPredictor, { maxDelayMs: 0 });
    expect((await rejection(notTensor.predict(tensor([[1]])))).message).toMatch(/returned an array/);
  });

  it('close() dispatches what is queued, waits for in-flight forwards, then refuses new requests', async () => {
    const { calls, predictor } = gated();
    const batcher = createBatcher(predictor, { maxBatchSize: 2, maxDelayMs: 10_000, maxInFlight: 1 });
    const ps = [1, 2, 3].map((i) => batcher.predict(tensor([[i]])));
    await sleep(5);
    expect(calls.length).toBe(1); // [1, 2] is full; [3] waits for its delay
    let closed = false;
    const closing = batcher.close().then(() => (closed = true));
    expect(batcher.closed).toBe(true);
    const late = await rejection(batcher.predict(tensor([[4]])));
    expect(late).toBeInstanceOf(BatcherClosedError);
    expect(late.message).toMatch(/closed/);
    calls[0].release();
    await sleep(5);
    expect(calls.length).toBe(2); // [3] went without waiting 10 s
    expect(closed).toBe(false);
    calls[1].release();
    await closing;
    expect((await Promise.all(ps)).map((o) => o.item())).toEqual([2, 4, 6]);
    expect(batcher.close()).toBe(batcher.close());
  });

  it('close() on an idle batcher resolves at once', async () => {
    await createBatcher(counting().predictor).close();
  });
});

describe('under a random load', () => {
  it('settles every request once, with its own rows or an expected error, and drains to zero', async () => {
    let seed = 12345;
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    let running = 0;
    let maxRunning = 0;
    const batchRows: number[] = [];
    const batcher = createBatcher(
      async (x) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        batchRows.push(x.shape[0]);
        await sleep(random() * 3);
        running--;
        if (random() < 0.1) throw new Error('flaky forward');
        return double(x);
      },
      { maxBatchSize: 6, maxDelayMs: 1, maxQueue: 40, maxInFlight: 2 },
    );
    const outcomes: Promise<string>[] = [];
    for (let i = 0; i < 300; i++) {
      const rows = 1 + Math.floor(random() * 3);
      const width = random() < 0.5 ? 2 : 3;
      const x = new Tensor(
        Float32Array.from({ length: rows * width }, (_, j) => i * 100 + j),
        [rows, width],
      );
      const controller = new AbortController();
      const r = random();
      if (r < 0.05) controller.abort();
      else if (r < 0.15) setTimeout(() => controller.abort(), random() * 4);
      const timeoutMs = random() < 0.1 ? 1 + random() * 3 : undefined;
      outcomes.push(
        batcher.predict(x, { signal: controller.signal, timeoutMs }).then(
          (y) => {
            expect(Array.from(y.data)).toEqual(Array.from(x.data, (v) => 2 * v));
            expect(y.shape).toEqual(x.shape);
            return 'ok';
          },
          (e: Error) => e.name,
        ),
      );
      if (random() < 0.3) await sleep(random() * 2);
    }
    const settled = await Promise.all(outcomes);
    await batcher.close();
    const count = (name: string): number => settled.filter((s) => s === name).length;
    expect(count('ok') + count('AbortError') + count('TimeoutError') + count('Error') + count('OverloadedError')).toBe(
      300,
    );
    expect(count('ok')).toBeGreaterThan(100);
    const s = batcher.stats();
    expect(s.aborted).toBe(count('AbortError'));
    expect(s.timedOut).toBe(count('TimeoutError'));
    expect(s.failed).toBe(count('Error'));
    expect(s.rejected).toBe(count('OverloadedError'));
    // Accepted or refused, except those aborted before they queued.
    expect(s.requests + s.rejected).toBeLessThanOrEqual(300);
    expect(s.requests + s.rejected).toBeGreaterThanOrEqual(300 - count('AbortError'));
    expect(s.batches).toBe(batchRows.length);
    expect(s.rows).toBe(batchRows.reduce((a, b) => a + b, 0));
    expect(Math.max(...batchRows)).toBeLessThanOrEqual(6);
    expect(s.batchSizes.reduce((a, b) => a + b, 0)).toBe(s.batches);
    expect(maxRunning).toBeLessThanOrEqual(2);
    expect([batcher.queueDepth, batcher.queuedRows, batcher.inFlight]).toEqual([0, 0, 0]);
  });
});

describe('targets', () => {
  it('batches a Model through model.predict', async () => {
    const model = smallModel();
    const batcher = createBatcher(model, { maxBatchSize: 16, maxDelayMs: 10 });
    const x = randn([9, 4], { seed: 7 });
    const outs = await Promise.all(rowsOf(x).map((r) => batcher.predict(r)));
    expect(batcher.stats().batches).toBeLessThan(9);
    const whole = await model.predict(x);
    outs.forEach((o, i) => expect(maxAbsDiff(o, whole.slice(i, i + 1))).toBeLessThan(1e-5));
    await batcher.close();
  });

  it('batches an OnnxSession with one input and one output', async () => {
    const model = smallModel();
    const { bytes } = exportOnnxBytes(model, { inputShape: [4] });
    const session = await loadOnnx(bytes);
    const batcher = createBatcher(session, { maxBatchSize: 8, maxDelayMs: 10 });
    const x = randn([6, 4], { seed: 11 });
    const outs = await Promise.all(rowsOf(x).map((r) => batcher.predict(r)));
    expect(batcher.stats().batches).toBe(1);
    const direct = (await session.run({ input: x })).output;
    outs.forEach((o, i) => expect(Array.from(o.data)).toEqual(Array.from(direct.slice(i, i + 1).data)));
    const reference = await model.predict(x);
    outs.forEach((o, i) => expect(maxAbsDiff(o, reference.slice(i, i + 1))).toBeLessThan(1e-5));
  });

  it('refuses an OnnxSession with several inputs or a fixed batch size', async () => {
    const model = smallModel();
    const fixed = await loadOnnx(exportOnnxBytes(model, { inputShape: [4], dynamicBatch: false, batchSize: 4 }).bytes);
    expect(() => createBatcher(fixed)).toThrow(/fixed batch size 4.*dynamicBatch/);
    // A session's metadata is all createBatcher reads: stand in for a two-input graph.
    const twoInputs = Object.create(OnnxSession.prototype, {
      inputs: { value: [{ name: 'a' }, { name: 'b' }] },
      outputs: { value: [{ name: 'y' }] },
    }) as OnnxSession;
    expect(() => createBatcher(twoInputs)).toThrow(/exactly one input and one output.*'a', 'b'.*'y'/);
  });
});

describe('validation', () => {
  const fn = counting().predictor;

  it('checks createBatcher options and the target', () => {
    expect(() => createBatcher(fn, { maxBatchSize: 0 })).toThrow(/createBatcher: maxBatchSize must be an integer/);
    expect(() => createBatcher(fn, { maxBatchSize: 2.5 })).toThrow(/maxBatchSize/);
    expect(() => createBatcher(fn, { maxDelayMs: -1 })).toThrow(/createBatcher: maxDelayMs must be a number/);
    expect(() => createBatcher(fn, { maxDelayMs: Infinity })).toThrow(/maxDelayMs/);
    expect(() => createBatcher(fn, { maxDelayMs: NaN })).toThrow(/maxDelayMs/);
    expect(() => createBatcher(fn, { maxQueue: 0 })).toThrow(/maxQueue/);
    expect(() => createBatcher(fn, { maxInFlight: 0 })).toThrow(/maxInFlight/);
    expect(() => createBatcher(fn, { maxBatch: 4 } as never)).toThrow(/unknown option 'maxBatch'.*maxBatchSize/);
    expect(() => createBatcher({} as never)).toThrow(/target must be a Model, an OnnxSession or a function.*Object/);
    expect(createBatcher(fn)).toBeInstanceOf(Batcher);
    const b = createBatcher(fn);
    expect([b.maxBatchSize, b.maxDelayMs, b.maxQueue, b.maxInFlight]).toEqual([32, 2, 1024, 2]);
  });

  it('checks predict inputs and options', async () => {
    const batcher = createBatcher(fn, { maxBatchSize: 4 });
    const message = async (x: unknown, options?: unknown) =>
      (await rejection(batcher.predict(x as Tensor, options as never))).message;
    expect(await message([1, 2])).toMatch(/batcher\.predict: x must be a Tensor, got an array/);
    expect(await message(tensor(3))).toMatch(/needs a batch axis.*got a scalar/);
    expect(await message(randn([0, 2]))).toMatch(/1 to maxBatchSize \(4\) rows, got shape \[0, ?2\]/);
    expect(await message(randn([5, 2]))).toMatch(/1 to maxBatchSize \(4\) rows, got shape \[5, ?2\]/);
    expect(await message(randn([1, 2]), { timeoutMs: 0 })).toMatch(/timeoutMs must be a number/);
    expect(await message(randn([1, 2]), { timeoutMs: NaN })).toMatch(/timeoutMs/);
    expect(await message(randn([1, 2]), { signal: {} })).toMatch(/signal must be an AbortSignal/);
    expect(await message(randn([1, 2]), { timeout: 5 })).toMatch(/unknown option 'timeout'/);
    expect(batcher.stats().requests).toBe(0);
  });
});
