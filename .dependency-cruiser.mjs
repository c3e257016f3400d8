/**
 * Dependency rules for src/, checked by `npm run lint` (depcruise) in CI.
 *
 * Allowed direction: a layer imports only the layers to its left (and options.ts).
 *
 *   tensor  <-  autograd  <-  ops  <-  nn  <-  optim, data  <-  io  <-  train  <-  distributed
 *
 *   - tensor/    Tensor, shapes, creation, random. Imports no other layer at run time; its
 *                one upward import is a type (Tensor.gradFn's GradNode, from autograd/).
 *   - autograd/  the graph and backward; ops/ record on it.
 *   - ops/       every kernel call on tensors (forward and backward), and the Tensor op
 *                methods (ops/tensor-methods.ts installs x.add, x.relu, x.backward, ...).
 *   - nn/        modules, layers, losses, init: built on ops/, never on the native binding.
 *   - optim/, data/  optimizers and data loading: may use nn/ and below.
 *   - io/        model files and checkpoints: may use data/, optim/, nn/ and below; what it
 *                needs of a Model is the CheckpointModel interface it declares.
 *   - train/     Model, fit, callbacks, tracing: everything but distributed/ and serve/.
 *   - distributed/  data-parallel training on top of train/.
 *   - serve/     inference serving (the dynamic batcher): train/, onnx/ and below, never the
 *                binding directly (it runs models through Model.predict and OnnxSession.run).
 *   - profiler.ts, backend.ts: thin wrappers over the binding (nn/summary uses the profiler).
 *   - index.ts: the public entry; imports everything.
 *   - cli/       the `axon-nn` command (info, bench): the public API through index.ts, plus the
 *                binding for the peer libraries it loads at run time (native/binding/peers.cpp).
 *
 * The native binding (src/native/binding.ts) is imported only by autograd/, ops/, optim/
 * (the optimizer kernels), data/ (row gathers), train/ (recorded steps, tracing),
 * distributed/ (gradient buckets), cli/ (the bench's peers), profiler.ts and backend.ts: never by
 * tensor/, nn/ or io/.
 *
 * Type-only imports (`import type`; the compiler erases them, and eslint's
 * no-import-type-side-effects keeps `import { type X }` from leaving a runtime import behind)
 * are exempt from the cycle rule: they cannot change what is evaluated first. The layer rules
 * apply to them too, except tensor/'s GradNode type. Known type-only cycles: inside train/
 * (model <-> callbacks, fit, progress) and tensor.ts <-> autograd/engine.ts (GradNode).
 */
const runtime = { dependencyTypesNot: ['type-only'] };

/** A layer (`from`, a path regex) may import only `allowed` (path regexes under src/). */
function layer(name, from, allowed, options = {}) {
  return {
    name: `layer-${name}`,
    comment: `${from} may import only ${allowed.join(', ')} and options.ts (see the top of .dependency-cruiser.mjs)`,
    severity: 'error',
    from: { path: from },
    to: { path: '^src/', pathNot: [`^src/(${allowed.join('|')})`, '^src/options\\.ts$'], ...options },
  };
}

export default {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import cycles through run-time imports (type-only imports are erased)',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true, viaOnly: runtime },
    },
    {
      name: 'native-only-from-kernel-layers',
      comment:
        'Only autograd/, ops/, optim/, data/, train/, distributed/, cli/, profiler.ts and backend.ts call the binding',
      severity: 'error',
      from: {
        path: '^src/',
        pathNot: ['^src/(autograd|ops|optim|data|train|distributed|native|cli)/', '^src/(profiler|backend)\\.ts$'],
      },
      to: { path: '^src/native/' },
    },
    layer('tensor', '^src/tensor/', ['tensor/'], runtime),
    layer('tensor-types', '^src/tensor/', ['tensor/', 'autograd/'], { dependencyTypes: ['type-only'] }),
    layer('autograd', '^src/autograd/', ['autograd/', 'tensor/', 'native/']),
    layer('ops', '^src/ops/', ['ops/', 'autograd/', 'tensor/', 'native/']),
    layer('nn', '^src/nn/', ['nn/', 'ops/', 'autograd/', 'tensor/', 'profiler\\.ts$']),
    layer('optim', '^src/optim/', ['optim/', 'nn/', 'ops/', 'autograd/', 'tensor/', 'native/']),
    layer('data', '^src/data/', ['data/', 'nn/', 'ops/', 'autograd/', 'tensor/', 'native/']),
    layer('io', '^src/io/', ['io/', 'data/', 'optim/', 'nn/', 'ops/', 'autograd/', 'tensor/']),
    {
      name: 'layer-train',
      comment: 'train/ may import everything but distributed/, serve/ and index.ts',
      severity: 'error',
      from: { path: '^src/train/' },
      to: { path: '^src/(distributed/|serve/|index\\.ts$)' },
    },
    layer('onnx', '^src/onnx/', ['onnx/', 'train/', 'io/', 'data/', 'optim/', 'nn/', 'ops/', 'autograd/', 'tensor/']),
    layer('serve', '^src/serve/', [
      'serve/',
      'train/',
      'onnx/',
      'io/',
      'data/',
      'optim/',
      'nn/',
      'ops/',
      'autograd/',
      'tensor/',
    ]),
    layer('profiler-backend', '^src/(profiler|backend)\\.ts$', ['native/', 'io/atomic\\.ts$', 'backend\\.ts$']),
    layer('native', '^src/native/', ['native/']),
    layer('cli', '^src/cli/', ['cli/', 'index\\.ts$', 'native/']),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
