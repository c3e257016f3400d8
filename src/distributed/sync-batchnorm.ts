/**
 * SyncBatchNorm (PyTorch's nn.SyncBatchNorm): batch normalisation whose training statistics
 * are those of every rank's batch together. Each forward sums the per-channel [sum x, sum x²,
 * count] over the ranks, each backward the gradient sums [sum g, sum g (x - mean), count]
 * (native/kernels/cpu/norm.cpp: batch_norm_stats, batch_norm_grad_stats). Outside a traced
 * step the sums are reduced at once (the eager forward and backward cannot await); inside
 * Model.fit's traced step of a DistributedDataParallel model the step is cut into pieces
 * around them (ddp.ts, SegmentedStep) and the replay awaits each reduction.
 */
import { isRecording } from '../native/executor.js';
import { BatchNormBase, type BatchNormLayerOptions } from '../nn/conv-layers.js';
import { Module } from '../nn/module.js';
import { batchNormOptionsOf, configReaders, registerLayer } from '../nn/registry.js';
import { allreduceSumNow, isInitialized, size } from './comm.js';
import { tracedDataParallelStep } from './ddp.js';

/**
 * Batch normalisation over axis 1 of [N, C], [N, C, L], [N, C, H, W] or [N, C, D, H, W] whose
 * training statistics are reduced across every rank of the data-parallel job (PyTorch's
 * nn.SyncBatchNorm): with a per-rank batch of 8 on 8 ranks the norm sees the global batch of
 * 64, so small per-rank batches (segmentation, detection, big inputs) normalise as one large
 * batch would. The running statistics follow the global batch and stay identical on every
 * rank; the weight and bias gradients stay per rank and are averaged with the others by
 * DistributedDataParallel, so N ranks at batch B/N train as one process at batch B.
 *
 * On one process, or before `distributed.init()`, it is a plain batch norm (as PyTorch 2's).
 * In evaluation it uses the running statistics, like BatchNorm2d, and it exports to ONNX as
 * BatchNormalization. Each training forward and backward makes one small allreduce per layer
 * (2 C + 1 doubles) that the next layer waits for, so it costs latency per layer: use it
 * where per-rank batches are too small for good statistics.
 *
 * Inside `Model.fit` the model must be wrapped by `DistributedDataParallel.create(model)` (the
 * traced step then awaits each reduction between pieces); an explicit loop works with or
 * without the wrapper. Every rank must run the same layers in the same order.
 *
 * @example
 * ```ts
 * import { distributed, DistributedDataParallel, Model, Sequential, Conv2d, SyncBatchNorm, ReLU, Flatten, Linear } from 'axon-nn';
 * // run under: mpirun -np 4 node train.js
 * await distributed.init();
 * const net = new Sequential(
 *   new Conv2d(1, 16, 3, { padding: 1, bias: false }), new SyncBatchNorm(16), new ReLU(),
 *   new Flatten(), new Linear(16 * 28 * 28, 10),
 * );
 * const model = new Model(net).compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
 * const ddp = await DistributedDataParallel.create(model);
 * ```
 */
export class SyncBatchNorm extends BatchNormBase {
  /**
   * @param numFeatures channels (C, axis 1 of the input).
   * @param options eps, momentum, affine and trackRunningStats, as BatchNorm2d's.
   * @throws RangeError for a non-positive numFeatures, eps <= 0 or momentum outside [0, 1].
   */
  constructor(numFeatures: number, options: BatchNormLayerOptions = {}) {
    super('SyncBatchNorm', numFeatures, [2, 3, 4, 5], options);
  }

  protected override statisticsSync(): ((sums: Float64Array) => void) | null {
    if (!isInitialized() || size() === 1) return null;
    return (sums) => {
      if (!isRecording()) {
        allreduceSumNow('SyncBatchNorm', sums);
        return;
      }
      const step = tracedDataParallelStep();
      if (!step)
        throw new Error(
          `SyncBatchNorm(${this.numFeatures}): a training step is being traced (Model.fit) on ${size()} ranks, but not by DistributedDataParallel: the step could not wait for the other ranks' statistics. Wrap the Model with await DistributedDataParallel.create(model) before fit`,
        );
      step.cut([], [sums]);
    };
  }

  /**
   * Replaces every BatchNorm1d and BatchNorm2d inside `module` (the module itself included)
   * by a SyncBatchNorm with the same options, parameters and running statistics (the same
   * tensors, so an optimizer built before still updates them), as PyTorch's
   * `SyncBatchNorm.convert_sync_batchnorm`. Returns the converted module: the same object
   * unless `module` itself was a batch norm. Convert before `DistributedDataParallel.create`.
   *
   * @example
   * ```ts
   * import { BatchNorm2d, Conv2d, ReLU, Sequential, SyncBatchNorm } from 'axon-nn';
   * const net = new Sequential(new Conv2d(3, 16, 3, { padding: 1 }), new BatchNorm2d(16), new ReLU());
   * SyncBatchNorm.convert(net); // net's second layer is now a SyncBatchNorm(16)
   * ```
   */
  static convert(module: Module): Module {
    const converted = (bn: BatchNormBase): SyncBatchNorm => {
      const sync = new SyncBatchNorm(bn.numFeatures, bn.opts);
      sync.weight = bn.weight;
      sync.bias = bn.bias;
      for (const [name, t] of bn.namedBuffers()) sync.registerBuffer(name, t);
      sync.training = bn.training;
      return sync;
    };
    const isPlain = (m: Module): m is BatchNormBase => m instanceof BatchNormBase && !(m instanceof SyncBatchNorm);
    if (isPlain(module)) return converted(module);
    for (const [name, m] of module.namedModules())
      if (name !== '' && isPlain(m)) module.setSubmodule(name, converted(m));
    return module;
  }
}

registerLayer(SyncBatchNorm, {
  fromConfig: (c) =>
    new SyncBatchNorm(
      configReaders.field(c, 'numFeatures', configReaders.isInt, 'a positive integer'),
      batchNormOptionsOf(c),
    ),
});
