/**
 * Data-parallel training on MPI (docs/DISTRIBUTED.md): the process group and collectives
 * (comm), DistributedDataParallel (gradient buckets reduced while backward runs), the
 * DistributedSampler and loader, rank-aware callbacks and a distributed fit.
 *
 * @example
 * ```ts
 * import { distributed, DistributedDataParallel, Model, Linear, randn } from 'axon-nn';
 * // run under: mpirun -np 2 node train.js
 * await distributed.init();
 * const model = new Model(new Linear(16, 1)).compile({ optimizer: 'adam', loss: 'mse' });
 * const ddp = await DistributedDataParallel.create(model); // rank 0's weights on every rank
 * await ddp.fit(randn([1000, 16], { seed: 1 }), randn([1000, 1], { seed: 2 }), { epochs: 5, batchSize: 32 });
 * ```
 *
 * @module
 */
export {
  init,
  isAvailable,
  isInitialized,
  rank,
  size,
  localRank,
  localSize,
  isMainProcess,
  barrier,
  broadcast,
  allreduce,
  allgather,
  finalize,
  abort,
  defaultTimeoutMs,
  type InitOptions,
  type DistributedInfo,
  type CollectiveOptions,
  type AllreduceOptions,
  type ReduceOp,
  type Buffer32,
} from './comm.js';
export { mpiUnavailableReason } from './mpi.js';
export { DistributedDataParallel, type DdpOptions, type DdpStats } from './ddp.js';
export { SyncBatchNorm } from './sync-batchnorm.js';
export {
  DistributedSampler,
  distributedLoader,
  shardRows,
  type DistributedSamplerOptions,
  type DistributedLoaderOptions,
} from './sampler.js';
export { MetricReducer, reduceLogs, rankZeroOnly, isWriter, DistributedProgress } from './callbacks.js';
export { fitDistributed, type DistributedFitOptions, type DistributedFitTarget } from './fit.js';
