/**
 * Rank script for the failure tests (tests/distributed/distributed.test.ts): what a job does
 * when the ranks disagree or one stops answering. Mode (argv[2]):
 *   mismatch     rank 1 builds a wider hidden layer: DistributedDataParallel.create must reject
 *   stall-start  rank 1 never joins the startup check: rank 0 must time out with a clear error
 *   stall-train  rank 1 stops after 2 steps: rank 0's next synchronize must time out
 *   kill         rank 1 is SIGKILLed after 2 steps: the job must end, not hang
 *   throw        rank 1 throws an error nobody catches after 2 steps: the job must end and the
 *                error must be printed (MPI_Abort at exit would otherwise cut Node's report)
 * Every rank prints `ERROR <message>` for an error it catches, then exits with code 1 (which
 * aborts the job: see distributed.init).
 */
import {
  DistributedDataParallel,
  Linear,
  SGD,
  Sequential,
  crossEntropy,
  distributed,
  randint,
  randn,
} from '../../../src/index.js';

const mode = process.argv[2];
const { rank } = await distributed.init({ timeoutMs: 3000 });
const hidden = mode === 'mismatch' && rank === 1 ? 9 : 8;
const net = new Sequential(new Linear(6, hidden, { activation: 'relu' }), new Linear(hidden, 3));
const x = randn([4, 6], { seed: rank });
const y = randint(0, 3, [4], { seed: rank });

try {
  if (mode === 'stall-ring') {
    // A large allreduce (the ring) that rank 1 never joins: rank 0's error names rank 1 and its host.
    if (rank === 1) await new Promise((r) => setTimeout(r, 60_000));
    await distributed.allreduce(new Float32Array(1 << 20), 'sum');
  }
  if (mode === 'stall-start' && rank === 1) await new Promise((r) => setTimeout(r, 60_000));
  const ddp = await DistributedDataParallel.create(net, { startupTimeoutMs: 2000 });
  const opt = new SGD(net.parameters(), { lr: 0.1 });
  for (let step = 0; step < 5; step++) {
    if (step === 2 && rank === 1 && (mode === 'stall-train' || mode === 'stall-uncaught'))
      await new Promise((r) => setTimeout(r, 60_000));
    if (step === 2 && rank === 1 && mode === 'kill') process.kill(process.pid, 'SIGKILL');
    if (step === 2 && rank === 1 && mode === 'throw')
      setImmediate(() => {
        throw new Error('an uncaught error on rank 1');
      });
    opt.zeroGrad();
    crossEntropy(ddp.forward(x), y).backward();
    await ddp.synchronize();
    opt.step();
  }
  console.log(`DONE rank ${rank}`);
} catch (e) {
  // stall-uncaught: the timed-out collective's error is left uncaught, as a script without a
  // try would; it must still reach stderr before the job is aborted.
  if (mode === 'stall-uncaught') throw e;
  console.log(`ERROR rank ${rank}: ${(e as Error).message}`);
  process.exitCode = 1;
}
