/**
 * HTTP serving under load (issue 16): examples/serve.ts's server around axon-nn against the
 * same server around onnxruntime-node (bench/serve-child.ts, each in its own process, the same
 * 784-256-128-10 MLP weights, the same batcher settings), driven by autocannon from this
 * process with 1-row float32 requests at concurrency 1, 16 and 64 for a fixed duration each,
 * the engines alternated per cell. Per cell: requests/s, latency p50 and p99, the server's
 * event-loop delay (p99 and max, prom-client's monitorEventLoopDelay, reset at each scrape) and
 * its RSS before and after. Then the RSS growth of the axon server over 1,000,000 requests.
 *
 *   node tools/test-peers.mjs    # onnxruntime-node into tests/peers (npm test does it too)
 *   npx tsx bench/serve.bench.ts [--seconds 10] [--rounds 2] [--million 1000000]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { Linear, Model, Sequential, Tensor, exportOnnx, getNumThreads } from '../src/index.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '2' },
    million: { type: 'string', default: '1000000' },
    'max-batch': { type: 'string', default: '32' },
    'max-delay-ms': { type: 'string', default: '0' },
  },
});
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const MILLION = Number(values.million);

interface Server {
  child: ChildProcess;
  url: string;
}

async function startServer(engine: 'axon' | 'ort', file: string): Promise<Server> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(import.meta.dirname, 'serve-child.ts'),
      engine,
      file,
      values['max-batch'],
      values['max-delay-ms'],
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`${engine} server exited with ${code}`)));
  });
  return { child, url: `http://127.0.0.1:${port}` };
}

async function stopServer(s: Server): Promise<void> {
  const exited = new Promise((r) => s.child.once('exit', r));
  s.child.kill('SIGTERM');
  await exited;
}

/** The server's process RSS (MiB) and event-loop delay since the last scrape (ms). */
async function scrape(s: Server): Promise<{ rss: number; loopP99: number; loopMax: number }> {
  const text = await (await fetch(`${s.url}/metrics`)).text();
  const value = (name: string): number => {
    const m = new RegExp(`^${name} ([0-9.e+-]+)`, 'm').exec(text);
    if (!m) throw new Error(`/metrics has no ${name}`);
    return Number(m[1]);
  };
  return {
    rss: value('process_resident_memory_bytes') / 2 ** 20,
    loopP99: value('nodejs_eventloop_lag_p99_seconds') * 1000,
    loopMax: value('nodejs_eventloop_lag_max_seconds') * 1000,
  };
}

const body = Buffer.from(Float32Array.from({ length: 784 }, (_, i) => Math.sin(i * 0.37)).buffer);

function load(
  s: Server,
  connections: number,
  opts: { duration?: number; amount?: number },
): Promise<autocannon.Result> {
  return autocannon({
    url: `${s.url}/predict`,
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    body,
    connections,
    ...opts,
  });
}

const dir = mkdtempSync(join(tmpdir(), 'axon-serve-bench-'));
try {
  const model = new Model(
    new Sequential(
      new Linear(784, 256, { activation: 'relu', init: { seed: 1 } }),
      new Linear(256, 128, { activation: 'relu', init: { seed: 2 } }),
      new Linear(128, 10, { init: { seed: 3 } }),
    ),
  );
  model.predictSync(new Tensor(new Float32Array(784), [1, 784])); // records the input shape Model.save stores
  const axonFile = join(dir, 'mlp.axon');
  const onnxFile = join(dir, 'mlp.onnx');
  await model.save(axonFile);
  await exportOnnx(model, onnxFile, { inputShape: [784], dynamicBatch: true });

  console.log(
    `threads per server ${getNumThreads()}, batcher maxBatchSize ${values['max-batch']}, maxDelayMs ${values['max-delay-ms']}, ${SECONDS} s per run, ${ROUNDS} rounds`,
  );
  console.log(
    '| engine | concurrency | requests/s | p50 ms | p99 ms | loop p99 ms | loop max ms | RSS before / after MiB | non-2xx |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  const servers = { axon: await startServer('axon', axonFile), ort: await startServer('ort', onnxFile) };
  for (const s of Object.values(servers)) await load(s, 16, { duration: 2 }); // warm up
  for (const connections of [1, 16, 64])
    for (let round = 0; round < ROUNDS; round++)
      for (const engine of ['axon', 'ort'] as const) {
        const s = servers[engine];
        const before = await scrape(s);
        const r = await load(s, connections, { duration: SECONDS });
        const after = await scrape(s);
        console.log(
          `| ${engine} | ${connections} | ${r.requests.average.toFixed(0)} | ${r.latency.p50} | ${r.latency.p99} | ${after.loopP99.toFixed(2)} | ${after.loopMax.toFixed(2)} | ${before.rss.toFixed(0)} / ${after.rss.toFixed(0)} | ${r.non2xx + r.errors} |`,
        );
      }
  await stopServer(servers.ort);

  if (MILLION > 0) {
    // RSS growth of the axon server over a long run, after a warm-up of 50,000 requests.
    await load(servers.axon, 64, { amount: 50_000 });
    const before = await scrape(servers.axon);
    const t0 = performance.now();
    const r = await load(servers.axon, 64, { amount: MILLION });
    const seconds = (performance.now() - t0) / 1000;
    const after = await scrape(servers.axon);
    console.log(
      `\naxon server, ${MILLION} requests at concurrency 64 in ${seconds.toFixed(1)} s (${(MILLION / seconds).toFixed(0)}/s, ${r.non2xx + r.errors} not 2xx): RSS ${before.rss.toFixed(1)} MiB -> ${after.rss.toFixed(1)} MiB (${(after.rss - before.rss).toFixed(1)} MiB)`,
    );
  }
  await stopServer(servers.axon);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
