/**
 * Data-parallel training on MPI. The sampler tests run everywhere; the rest launch rank
 * scripts (./ranks) with `mpirun --oversubscribe` and skip, saying why, only when no MPI is
 * installed. With MPI present but the addon unbuilt they fail: run `npm run build:mpi`.
 *   npx vitest run tests/distributed
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DistributedSampler, distributedLoader, shardRows } from '../../src/distributed/sampler.js';
import { mpiAddonPath } from '../../src/distributed/mpi.js';
import { distributed, tensor, randn, randint } from '../../src/index.js';

const ranksDir = fileURLToPath(new URL('./ranks', import.meta.url));
const mpirun = spawnSync('mpirun', ['--version'], { encoding: 'utf8' });
const haveMpi = mpirun.status === 0;
const skipReason = 'MPI is not installed (no mpirun; Debian: apt-get install openmpi-bin libopenmpi-dev)';
if (!haveMpi) console.warn(`tests/distributed: skipping the mpirun tests: ${skipReason}`);

interface Run {
  status: number | null;
  out: string;
  seconds: number;
  results: Record<string, unknown>[];
}

/** Runs `script` on n ranks; a job that outlives limitS is killed and reported as a hang. */
function mpi(n: number, script: string, args: string[] = [], limitS = 90, env: NodeJS.ProcessEnv = {}): Run {
  const t0 = performance.now();
  const r = spawnSync(
    'mpirun',
    [
      '--allow-run-as-root',
      '--oversubscribe',
      '-np',
      String(n),
      process.execPath,
      '--import',
      'tsx',
      join(ranksDir, script),
      ...args,
    ],
    {
      encoding: 'utf8',
      timeout: limitS * 1000,
      killSignal: 'SIGTERM',
      env: { ...process.env, AXON_NUM_THREADS: '1', ...env },
    },
  );
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  const results = out
    .split('\n')
    .filter((l) => l.startsWith('RESULT '))
    .map((l) => JSON.parse(l.slice(7)) as Record<string, unknown>);
  return { status: r.status, out, seconds: (performance.now() - t0) / 1000, results };
}

/** The checks of equivalence.ts's results: N ranks at batch B/N against one process at B. */
function expectEquivalence(run: Run, n: number): void {
  expect(run.results.length, run.out).toBe(n);
  for (const r of run.results as {
    size: number;
    threads: number;
    explicit: { diff: number; buckets: number; reductions: number };
    bf16: { diff: number; identical: boolean };
    fitShards: { diff: number; steps: number };
    ddpFit: { diff: number; lossDiff: number; accDiff: number; loss: number[] };
    bn: { local: number; average: number };
    unused: { loop: number; fit: number };
  }[]) {
    expect(r.size).toBe(n);
    expect(r.explicit.diff).toBeLessThan(1e-5);
    expect(r.explicit.buckets).toBeGreaterThan(1); // several buckets, launched during backward
    expect(r.explicit.reductions).toBe(6 * r.explicit.buckets);
    expect(r.bf16.identical).toBe(true); // bf16 gradients on the wire: the same weights everywhere,
    expect(r.bf16.diff).toBeGreaterThan(0); // not the exact run's,
    expect(r.bf16.diff).toBeLessThan(1e-2); // but close to it after 6 steps
    expect(r.fitShards.diff).toBeLessThan(1e-5);
    expect(r.fitShards.steps).toBe(12);
    expect(r.ddpFit.diff).toBeLessThan(1e-5);
    expect(r.ddpFit.lossDiff).toBeLessThan(1e-5); // metrics reduced across ranks
    expect(r.ddpFit.accDiff).toBeLessThan(1e-6);
    expect(r.ddpFit.loss).toEqual((run.results[0] as { ddpFit: { loss: number[] } }).ddpFit.loss);
    expect(r.bn.local).toBeGreaterThan(0); // ranks see different batches
    expect(r.bn.average).toBe(0);
    // A parameter outside the forward gets no gradient anywhere: momentum, weight decay and
    // Adam must leave it exactly as it was (explicit loop and fit).
    expect(r.unused).toEqual({ loop: 0, fit: 0 });
  }
}

describe('DistributedSampler', () => {
  it('gives every rank the same number of samples and, padded, covers every sample', () => {
    for (const [n, size] of [
      [10, 3],
      [12, 4],
      [7, 2],
    ]) {
      const shards = Array.from({ length: size }, (_, r) =>
        new DistributedSampler(n, { rank: r, size, seed: 3 }).indices(),
      );
      const counts = new Set(shards.map((s) => s.length));
      expect(counts.size).toBe(1);
      expect(shards[0].length).toBe(Math.ceil(n / size));
      const seen = new Set(shards.flatMap((s) => Array.from(s)));
      expect(seen.size).toBe(n);
    }
  });

  it('drops the uneven tail with dropLast: disjoint shards of floor(n / size)', () => {
    const shards = [0, 1, 2].map((r) =>
      new DistributedSampler(10, { rank: r, size: 3, dropLast: true, seed: 1 }).indices(),
    );
    const all = shards.flatMap((s) => Array.from(s));
    expect(shards.every((s) => s.length === 3)).toBe(true);
    expect(new Set(all).size).toBe(9);
  });

  it('reshuffles per epoch, identically on every rank, and the ranks interleave the global order', () => {
    const a = new DistributedSampler(20, { rank: 0, size: 2, seed: 5 });
    const b = new DistributedSampler(20, { rank: 1, size: 2, seed: 5 });
    const one = new DistributedSampler(20, { rank: 0, size: 1, seed: 5 });
    const e0 = Array.from(a.globalOrder());
    expect(Array.from(b.globalOrder())).toEqual(e0);
    expect(Array.from(one.indices())).toEqual(e0);
    expect(Array.from(a.indices())).toEqual(e0.filter((_, i) => i % 2 === 0));
    expect(Array.from(b.indices())).toEqual(e0.filter((_, i) => i % 2 === 1));
    a.setEpoch(1);
    expect(Array.from(a.globalOrder())).not.toEqual(e0);
    expect(new DistributedSampler(20, { rank: 0, size: 2, shuffle: false }).indices()[3]).toBe(6);
  });

  it('rejects bad ranks and sizes with the argument named', () => {
    expect(() => new DistributedSampler(10, { rank: 2, size: 2 })).toThrow(/rank must be in \[0, 2\)/);
    expect(() => new DistributedSampler(0, { rank: 0, size: 1 })).toThrow(/length/);
    expect(() => new DistributedSampler(1, { rank: 0, size: 2, dropLast: true })).toThrow(/pad instead/);
  });

  it('distributedLoader yields equal batch counts per rank and advances the epoch per pass', () => {
    const x = randn([11, 2], { seed: 1 });
    const y = randint(0, 2, [11], { seed: 2 });
    const loaders = [0, 1, 2].map((r) => distributedLoader(x, y, { rank: r, size: 3, batchSize: 2, seed: 4 }));
    for (const l of loaders) {
      const batches = [...l];
      expect(batches.length).toBe(2); // 4 samples per rank (11 padded to 12), batches 2 + 2
      expect(l.batchesPerEpoch).toBe(2);
    }
    expect(loaders[0].sampler.epoch).toBe(0);
    expect(Array.from(loaders[0]).length).toBe(2); // the second pass: epoch 1
    expect(loaders[0].sampler.epoch).toBe(1);
  });

  it('shardRows takes rows r, r + size, ...', () => {
    const x = tensor([[0], [1], [2], [3], [4]]);
    expect(Array.from(shardRows(x, 1, 2).data)).toEqual([1, 3]);
    expect(Array.from(shardRows(x, 0, 2).data)).toEqual([0, 2, 4]);
  });
});

describe('distributed without mpirun', () => {
  it('needs init before collectives, and a single process is rank 0 of 1', () => {
    expect(distributed.rank()).toBe(0);
    expect(distributed.size()).toBe(1);
    expect(() => distributed.allreduce(new Float32Array(1))).toThrow(/call await distributed.init\(\) first/);
  });
});

describe.skipIf(!haveMpi)(`distributed training on MPI${haveMpi ? '' : ` (skipped: ${skipReason})`}`, () => {
  it('the MPI addon is built (npm run build:mpi)', () => {
    expect(existsSync(mpiAddonPath()), `${mpiAddonPath()} is missing: MPI is installed, run npm run build:mpi`).toBe(
      true,
    );
  });

  for (const n of [2, 4]) {
    it(`${n} ranks at batch B/${n} match one process at batch B (explicit loop, fit, ddp.fit, buffers)`, () => {
      const run = mpi(n, 'equivalence.ts');
      expect(run.status, run.out).toBe(0);
      expectEquivalence(run, n);
    });
  }

  for (const n of [2, 3]) {
    it(`SyncBatchNorm: ${n} ranks at batch B/${n} match one process with batch norms at batch B (explicit loop and fit)`, () => {
      const run = mpi(n, 'sync-batchnorm.ts');
      expect(run.status, run.out).toBe(0);
      expect(run.results.length, run.out).toBe(n);
      for (const r of run.results as {
        size: number;
        explicit: { weights: number; buffers: number; agree: boolean };
        perRank: { weights: number; buffers: number };
        fit: { weights: number; buffers: number; agree: boolean; steps: number };
        unwrapped: string;
      }[]) {
        expect(r.size).toBe(n);
        // weights and running statistics as one process's, the same on every rank
        expect(r.explicit.weights).toBeLessThan(1e-5);
        expect(r.explicit.buffers).toBeLessThan(1e-5);
        expect(r.explicit.agree).toBe(true);
        expect(r.fit.weights).toBeLessThan(1e-5);
        expect(r.fit.buffers).toBeLessThan(1e-5);
        expect(r.fit.agree).toBe(true);
        expect(r.fit.steps).toBe(8);
        // per-rank statistics train a different model: the synchronization is what matches
        expect(r.perRank.weights).toBeGreaterThan(1e-3);
        expect(r.perRank.buffers).toBeGreaterThan(1e-3);
        expect(r.unwrapped).toMatch(
          /SyncBatchNorm\(4\): .*not by DistributedDataParallel.*DistributedDataParallel\.create/,
        );
      }
    });
  }

  it('collectives compute the right values and reject bad arguments; only rank 0 writes checkpoints; resume restores every rank', () => {
    const dir = mkdtempSync(join(tmpdir(), 'axon-ddp-'));
    try {
      const run = mpi(2, 'collectives.ts', [dir]);
      expect(run.status, run.out).toBe(0);
      expect(run.results.length, run.out).toBe(2);
      for (const r of run.results as Record<string, unknown>[]) {
        expect(r.sum).toEqual([3, 30]);
        expect(r.max).toEqual([1, 0]);
        expect(r.mean).toBe(0.5);
        expect(r.bcast).toEqual([42, 7]);
        expect(r.gather).toEqual({ shape: [2, 2], data: [0, 0, 1, 1] });
        const errors = r.errors as string[];
        expect(errors[0]).toMatch(/expected a float32 Tensor/);
        expect(errors[1]).toMatch(/op must be 'sum', 'mean', 'max' or 'min', got prod/);
        expect(errors[2]).toMatch(/root must be a rank in \[0, 2\)/);
        expect(errors[3]).toMatch(/timeoutMs must be/);
        expect(r.wroteOwnFiles).toEqual(r.rank === 0 ? [true, true, true] : [false, false, false]);
        expect(r.resumeDiff).toBe(0);
      }
      expect(readdirSync(dir).sort()).toEqual(['ck-r0-1.axon', 'ck-r0-2.axon', 'ck-r0-3.axon']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // The ring allreduce (native/mpi/mpi_binding.cpp) runs for buffers from 256 KB; forced with
  // AXON_ALLREDUCE=ring it also runs the small and empty-chunk cases (fewer values than ranks).
  // Up to 16 KB recursive doubling runs: 3 and 5 ranks fold the ranks past a power of two.
  for (const [n, forced] of [
    [2, 'auto'],
    [3, 'ring'],
    [3, 'auto'],
    [4, 'mpi'],
    [5, 'auto'],
  ] as const) {
    it(`allreduce on ${n} ranks (${forced}): every size, op and type right, and the same bits on every rank`, () => {
      const run = mpi(n, 'ring.ts', [], 90, forced === 'auto' ? {} : { AXON_ALLREDUCE: forced });
      expect(run.status, run.out).toBe(0);
      expect(run.results.length, run.out).toBe(n);
      for (const r of run.results as {
        worst: number;
        where: string;
        identical: boolean;
        cases: number;
        bf16Worst: number;
        refusals: string[];
      }[]) {
        expect(r.worst, r.where).toBeLessThan(1e-5);
        expect(r.identical).toBe(true);
        expect(r.cases).toBe(6 * 4 * 2 + 2);
        expect(r.bf16Worst).toBeGreaterThan(0); // it did round
        expect(r.bf16Worst).toBeLessThan(n * 2 ** -8);
        expect(r.refusals[0]).toMatch(
          /bf16 compression reduces float32 buffers with 'sum' or 'mean' only, got Float64Array/,
        );
        expect(r.refusals[1]).toMatch(
          /bf16 compression reduces float32 buffers with 'sum' or 'mean' only, got Float32Array and 'max'/,
        );
        expect(r.refusals[2]).toMatch(/compression must be 'none' or 'bf16', got fp8/);
      }
    });
  }

  it('ranks holding different models get a clear error from DistributedDataParallel.create', () => {
    const run = mpi(2, 'failures.ts', ['mismatch'], 60);
    expect(run.status).not.toBe(0);
    expect(run.out).toMatch(
      /ERROR rank \d: DistributedDataParallel.create: the ranks hold different models.*83 values.*93 values/,
    );
  });

  it('a rank that never joins makes the others time out with an error, and the job ends', () => {
    const run = mpi(2, 'failures.ts', ['stall-start'], 60);
    expect(run.status).not.toBe(0);
    expect(run.out).toMatch(/ERROR rank 0: .*startup check.*not every rank took part within 2000 ms/);
    expect(run.seconds).toBeLessThan(40); // rank 1 would sleep 60 s: the abort ended it
  });

  it('a rank that stops answering during training gives an error, not a hang', () => {
    const run = mpi(2, 'failures.ts', ['stall-train'], 60);
    expect(run.status).not.toBe(0);
    expect(run.out).toMatch(/ERROR rank 0: allreduce \(waiting on rank 1\): not every rank took part within 3000 ms/);
    expect(run.seconds).toBeLessThan(40);
  });

  it('a rank killed during training ends the job', () => {
    const run = mpi(2, 'failures.ts', ['kill'], 60);
    expect(run.status).not.toBe(0);
    expect(run.status).not.toBeNull(); // null: our limit killed it, i.e. it hung
    expect(run.out).not.toMatch(/DONE rank 0/);
    expect(run.seconds).toBeLessThan(40);
  });

  it('an uncaught error from a failed collective is printed, naming the rank and host, before the abort', () => {
    const run = mpi(2, 'failures.ts', ['stall-uncaught'], 60);
    expect(run.status).not.toBe(0);
    expect(run.status).not.toBeNull();
    expect(run.out).toMatch(
      /rank 0 on \S+: \[?Error: allreduce \(waiting on rank 1\): not every rank took part within 3000 ms/,
    );
    expect(run.seconds).toBeLessThan(40);
  });

  it('a rank that never joins a ring allreduce is named, with its host, in the error', () => {
    const run = mpi(2, 'failures.ts', ['stall-ring'], 60);
    expect(run.status).not.toBe(0);
    expect(run.out).toMatch(
      /ERROR rank 0: allreduce \(ring step 1 of 2, waiting on rank 1\): not every rank took part within 3000 ms.*\(rank 1 runs on \S+; reported by rank 0 on \S+\)/,
    );
    expect(run.seconds).toBeLessThan(40);
  });

  it('a rank that dies of an uncaught error prints it, and the job ends', () => {
    const run = mpi(2, 'failures.ts', ['throw'], 60);
    expect(run.status).not.toBe(0);
    expect(run.status).not.toBeNull();
    expect(run.out).toMatch(/rank 1 on \S+: Error: an uncaught error on rank 1\n\s+at /);
    expect(run.seconds).toBeLessThan(40);
  });
});

// Ranks on simulated nodes: network namespaces joined by shaped links (tools/netns-cluster.mjs),
// Open MPI over TCP between them, as across machines. Needs root and iproute2 (CI has both);
// skipped, saying why, elsewhere.
const netnsProbe = haveMpi ? spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }) : null;
const netnsReason = !haveMpi
  ? skipReason
  : process.getuid?.() !== 0
    ? 'simulated nodes need root (network namespaces)'
    : netnsProbe?.status !== 0
      ? `ip netns is unavailable: ${netnsProbe?.stderr || netnsProbe?.error}`
      : '';
if (netnsReason) console.warn(`tests/distributed: skipping the simulated-node tests: ${netnsReason}`);

function cluster(nodes: number, rate: string, command: string[], limitS = 120): Run {
  const t0 = performance.now();
  const r = spawnSync(
    process.execPath,
    [
      join(ranksDir, '..', '..', '..', 'tools', 'netns-cluster.mjs'),
      '--nodes',
      String(nodes),
      '--rate',
      rate,
      '--timeout',
      String(limitS),
      '--',
      ...command,
    ],
    { encoding: 'utf8', timeout: (limitS + 30) * 1000 },
  );
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  const results = out
    .split('\n')
    .filter((l) => l.startsWith('RESULT ') || l.startsWith('{'))
    .map((l) => JSON.parse(l.startsWith('RESULT ') ? l.slice(7) : l) as Record<string, unknown>);
  return { status: r.status, out, seconds: (performance.now() - t0) / 1000, results };
}

describe.skipIf(Boolean(netnsReason))(
  'data parallelism across simulated nodes (network namespaces, shaped TCP links)',
  () => {
    const tsx = [process.execPath, '--conditions=axon-source', '--import', 'tsx'];
    for (const n of [2, 3])
      it(`${n} nodes at 1 Gbit/s: N ranks at batch B/N match one process at batch B`, () => {
        const run = cluster(n, '1gbit', [...tsx, join(ranksDir, 'equivalence.ts')]);
        expect(run.status, run.out).toBe(0);
        expectEquivalence(run, n);
      });

    it('3 nodes at 10 Gbit/s: the ring allreduce over TCP, every size, op and type', () => {
      const run = cluster(3, '10gbit', [...tsx, join(ranksDir, 'ring.ts')]);
      expect(run.status, run.out).toBe(0);
      expect(run.results.length, run.out).toBe(3);
      for (const r of run.results as { worst: number; where: string; identical: boolean }[]) {
        expect(r.worst, r.where).toBeLessThan(1e-5);
        expect(r.identical).toBe(true);
      }
    });

    it('2 nodes at 10 Gbit/s: ddp.fit records the allreduce time per step and the share backward hides', () => {
      const bench = join(ranksDir, '..', '..', '..', 'bench', 'distributed-train.bench.ts');
      const run = cluster(2, '10gbit', [
        ...tsx,
        bench,
        '--model',
        'mlp',
        '--epochs',
        '1',
        '--rows',
        '3200',
        '--bucket-mb',
        '0.25',
      ]);
      expect(run.status, run.out).toBe(0);
      const r = run.results.find((x) => 'hiddenShare' in x) as {
        allreduceAloneMsPerStep: number;
        hiddenShare: number;
        finalLoss: number;
      };
      expect(r, run.out).toBeDefined();
      expect(r.allreduceAloneMsPerStep).toBeGreaterThan(0);
      expect(r.hiddenShare).toBeGreaterThanOrEqual(0);
      expect(r.hiddenShare).toBeLessThanOrEqual(1);
      expect(Number.isFinite(r.finalLoss)).toBe(true);
      console.log(
        `simulated 2 nodes, 10 Gbit/s, MLP: allreduce ${r.allreduceAloneMsPerStep} ms/step, hidden ${(100 * r.hiddenShare).toFixed(0)} %`,
      );
    });
  },
);
