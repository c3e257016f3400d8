/**
 * Habits users bring from TensorFlow.js, PyTorch and Keras: `tensor(values, shape)`, sizes
 * passed as separate numbers, dtype strings, snake_case loss names, loading the wrong kind of
 * file. Each either works as there or fails with an error that names the function, the
 * argument and what came, with the fix when it is known.
 * Run: npx vitest run tests/api-habits.test.ts
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  Linear,
  Model,
  ModelFileError,
  SafetensorsError,
  Sequential,
  arange,
  eye,
  linspace,
  loadWeights,
  ones,
  rand,
  randint,
  randn,
  tensor,
  zeros,
} from '../src/index.js';
import { LOSS_NAMES, OPTIMIZER_NAMES } from '../src/train/compile.js';
import { METRIC_NAMES } from '../src/train/metrics.js';
import { nearestName } from '../src/options.js';

const values = (t: { data: ArrayLike<number> }): number[] => Array.from(t.data);

describe('tensor(values, shape) as in TensorFlow.js', () => {
  it('takes a shape array as the second argument', () => {
    const t = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    expect(t.shape).toEqual([2, 3]);
    expect(t.dtype).toBe('float32');
    expect(values(t)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(tensor(new Int32Array([1, 2, 3, 4]), [2, 2]).dtype).toBe('int32');
    expect(tensor(new Float32Array(6), [3, 1, 2]).shape).toEqual([3, 1, 2]);
    expect(tensor(7, [1, 1]).shape).toEqual([1, 1]);
    expect(tensor([], [0, 3]).shape).toEqual([0, 3]);
  });

  it('takes options after the shape', () => {
    const labels = tensor([0, 2, 1, 1], [2, 2], { dtype: 'int32' });
    expect(labels.dtype).toBe('int32');
    expect(labels.shape).toEqual([2, 2]);
    const w = tensor([1, 2, 3, 4], [2, 2], { requiresGrad: true });
    expect(w.requiresGrad).toBe(true);
    expect(w.gradFn).toBeNull();
    // null in place of the shape infers it, as tf.tensor(values, null, dtype)
    expect(tensor([[1, 2]], null as never, { dtype: 'int32' }).shape).toEqual([1, 2]);
  });

  it('reshapes nested values to a shape with as many elements, giving a leaf tensor', () => {
    const t = tensor(
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      [3, 2],
    );
    expect(t.shape).toEqual([3, 2]);
    expect(values(t)).toEqual([1, 2, 3, 4, 5, 6]);
    // Through options.shape too; with requiresGrad it stays a leaf (it used to be a reshape view).
    const leaf = tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { shape: [4], requiresGrad: true },
    );
    expect(leaf.shape).toEqual([4]);
    expect(leaf.gradFn).toBeNull();
    leaf.sum().backward();
    expect(values(leaf.grad!)).toEqual([1, 1, 1, 1]);
  });

  it('still takes one options object', () => {
    const t = tensor([1, 2, 3, 4], { shape: [2, 2], dtype: 'int32' });
    expect(t.shape).toEqual([2, 2]);
    expect(t.dtype).toBe('int32');
    expect(tensor([1, 2, 3], undefined).shape).toEqual([3]);
    expect(tensor([1, 2, 3], null as never).shape).toEqual([3]);
    expect(() => tensor([1, 2], { shap: [2] } as never)).toThrow(
      "tensor: unknown option 'shap' (did you mean 'shape'?)",
    );
  });

  it('refuses any other second argument, naming tensor, the argument and what came', () => {
    const second = (v: unknown) => () => tensor([1, 2, 3], v as never);
    expect(second(3)).toThrow(TypeError);
    expect(second(3)).toThrow(
      'tensor: the second argument must be a shape array, as in tensor([1, 2, 3, 4, 5, 6], [2, 3]), or an options object { dtype, requiresGrad, shape }, got 3 (a shape is an array: tensor(values, [3]))',
    );
    expect(second('int32')).toThrow(
      /got "int32" \(a dtype goes in the options: tensor\(values, \{ dtype: 'int32' \}\)\)$/,
    );
    expect(second('abc')).toThrow(/^tensor: the second argument must be .* got "abc"$/);
    expect(second(true)).toThrow(/^tensor: the second argument must be .* got true$/);
    expect(second(false)).toThrow(TypeError);
    expect(second(new Int32Array([3]))).toThrow(/got an Int32Array \(pass the shape as a plain array/);
    expect(second(() => 0)).toThrow(/got function$/);
  });

  it('refuses a bad third argument and a shape given twice', () => {
    expect(() => tensor([1, 2], [2], 'int32' as never)).toThrow(
      `tensor: options must be an object, got "int32" (a dtype goes in the options: tensor(values, shape, { dtype: 'int32' }))`,
    );
    expect(() => tensor([1, 2], [2], { shape: [2] } as never)).toThrow("tensor: unknown option 'shape'");
    expect(() => tensor([1, 2], { dtype: 'int32' } as never, { requiresGrad: false } as never)).toThrow(
      'tensor: a third argument (options) follows only a shape array',
    );
  });

  it('refuses a shape that does not hold the values, naming both', () => {
    const err = (f: () => unknown): Error => {
      try {
        f();
      } catch (e) {
        return e as Error;
      }
      throw new Error('did not throw');
    };
    const nested = err(() =>
      tensor(
        [
          [1, 2],
          [3, 4],
        ],
        [3],
      ),
    );
    expect(nested).toBeInstanceOf(RangeError);
    expect(nested.message).toBe(
      'tensor: 4 values do not fill shape [3] (3 elements; the values are nested arrays of shape [2,2])',
    );
    expect(err(() => tensor([1, 2, 3, 4, 5, 6], [4, 2])).message).toBe(
      'tensor: 6 values do not fill shape [4,2] (8 elements; the values are nested arrays of shape [6])',
    );
    expect(err(() => tensor(new Float32Array(5), [2, 3])).message).toBe(
      'tensor: 5 values do not fill shape [2,3] (6 elements; the values are a Float32Array)',
    );
    expect(err(() => tensor(1, [2])).message).toBe(
      'tensor: 1 value does not fill shape [2] (2 elements; the values are one number)',
    );
    expect(err(() => tensor([1, 2], { shape: [3] }))).toBeInstanceOf(RangeError);
    expect(() => tensor([1, 2], [2, -1])).toThrow('tensor: shape [2,-1] must hold non-negative integers');
    // Ragged rows are reported as such, not as a count mismatch.
    expect(() => tensor([[1, 2], [3]], [3])).toThrow('tensor: ragged nested array: [1] has 1 entries, expected 2');
  });
});

describe('the other creation functions', () => {
  it("tell PyTorch's zeros(2, 3) to pass one array", () => {
    expect(() => zeros(2 as never, 3 as never)).toThrow(
      'zeros: shape must be an array of integers, got 2 (pass the sizes as one array: zeros([2, 3]))',
    );
    expect(() => ones(4 as never)).toThrow(
      'ones: shape must be an array of integers, got 4 (pass the sizes as one array: ones([4]))',
    );
    expect(() => rand(2 as never, 3 as never)).toThrow(/^rand: .* rand\(\[2, 3\]\)\)$/);
    expect(() => randn(2 as never, 3 as never)).toThrow(/^randn: .* randn\(\[2, 3\]\)\)$/);
    expect(() => zeros('2' as never)).toThrow('zeros: shape must be an array of integers, got "2"');
  });

  it('refuse a bare dtype or number where the options go', () => {
    expect(() => zeros([2, 3], 'int32' as never)).toThrow(
      `zeros: options must be an object, got "int32" (a dtype goes in the options: zeros(shape, { dtype: 'int32' }))`,
    );
    expect(() => ones([2], 'float32' as never)).toThrow(/ones\(shape, \{ dtype: 'float32' \}\)/);
    expect(() => zeros([2, 3], 3 as never)).toThrow('zeros: options must be an object, got 3');
    expect(() => arange(0, 4, 1, 'int32' as never)).toThrow(/arange\(start, end, step, \{ dtype: 'int32' \}\)/);
    expect(() => arange(5, { dtype: 'int32' } as never)).toThrow(
      "arange: end must be a finite number, got an object (options come fourth: arange(0, 5, 1, { dtype: 'int32' }))",
    );
    expect(() => eye(3, { dtype: 'int32' } as never)).toThrow(
      "eye: m (the column count) must be an integer, got object (options come third: eye(3, 3, { dtype: 'int32' }))",
    );
    expect(() => linspace(0, { dtype: 'int32' } as never, 3)).toThrow(
      'linspace: end must be a finite number, got object',
    );
  });

  it('refuse an int32 dtype for rand and randn instead of ignoring it', () => {
    expect(() => rand([2], { dtype: 'int32' })).toThrow(
      'rand: dtype must be \'float32\', got "int32" (randint draws integers)',
    );
    expect(() => randn([2], { dtype: 'int32' })).toThrow(RangeError);
    expect(rand([2], { dtype: 'float32' }).dtype).toBe('float32');
  });

  it("tell PyTorch's randint(high, size) the argument order", () => {
    expect(() => randint(10, [2, 3] as never, undefined as never)).toThrow(
      'randint: high must be an integer, got an array (the arguments are (low, high, shape): for [0, 10) write randint(0, 10, [2,3]))',
    );
    const t = randint(0, 10, [2, 3], { seed: 1 });
    expect(t.shape).toEqual([2, 3]);
    expect(values(t).every((v) => v >= 0 && v < 10)).toBe(true);
  });
});

describe('compile with an unknown name lists the valid names and suggests the nearest', () => {
  const model = (): Model => new Model(new Sequential(new Linear(4, 3)));
  const list = (names: readonly string[]): string => names.map((n) => `'${n}'`).join(', ');

  it('losses', () => {
    expect(() => model().compile({ optimizer: 'adam', loss: 'categorical_crossentropy' as never })).toThrow(
      `compile: unknown loss "categorical_crossentropy" (did you mean 'categoricalCrossentropy'?); the valid names are ${list(LOSS_NAMES)}`,
    );
    expect(() => model().compile({ optimizer: 'adam', loss: 'mean_squared_error' as never })).toThrow(
      "(did you mean 'meanSquaredError'?)",
    );
    expect(() => model().compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossEntropy' as never })).toThrow(
      "(did you mean 'sparseCategoricalCrossentropy'?)",
    );
    // Too far from every name: no guess, but the list.
    expect(() => model().compile({ optimizer: 'adam', loss: 'bce' as never })).toThrow(
      `compile: unknown loss "bce"; the valid names are ${list(LOSS_NAMES)}`,
    );
    expect(() => model().compile({ optimizer: 'adam', loss: 5 as never })).toThrow(
      `compile: loss must be a loss name or a function (prediction, target) => loss, got 5; the valid names are ${list(LOSS_NAMES)}`,
    );
    expect(() => model().compile({ optimizer: 'adam' } as never)).toThrow(/got undefined; the valid names are/);
  });

  it('optimizers', () => {
    expect(() => model().compile({ optimizer: 'Adma' as never, loss: 'mse' })).toThrow(
      `compile: unknown optimizer "Adma" (did you mean 'adam'?); the valid names are ${list(OPTIMIZER_NAMES)}`,
    );
    expect(() => model().compile({ optimizer: 'rms_prop' as never, loss: 'mse' })).toThrow("(did you mean 'rmsprop'?)");
    expect(() => model().compile({ optimizer: 'AdamW' as never, loss: 'mse' })).toThrow("(did you mean 'adamw'?)");
    expect(() => model().compile({ optimizer: 'lbfgs' as never, loss: 'mse' })).toThrow(
      `compile: unknown optimizer "lbfgs"; the valid names are ${list(OPTIMIZER_NAMES)}`,
    );
  });

  it('metrics', () => {
    expect(() => model().compile({ optimizer: 'adam', loss: 'mse', metrics: ['acuracy' as never] })).toThrow(
      `compile: unknown metric "acuracy" (did you mean 'accuracy'?); the valid names are ${list(METRIC_NAMES)}`,
    );
    expect(() =>
      model().compile({ optimizer: 'adam', loss: 'crossEntropy', metrics: ['sparse_categorical_accuracy' as never] }),
    ).toThrow("(did you mean 'sparseCategoricalAccuracy'?)");
    expect(() => model().compile({ optimizer: 'adam', loss: 'mse', metrics: [7 as never] })).toThrow(
      `compile: unknown metric 7; the valid names are ${list(METRIC_NAMES)}, or a Metric object ({ name, needs, compute })`,
    );
    // The right names still compile.
    expect(() => model().compile({ optimizer: 'adamw', loss: 'crossEntropy', metrics: ['acc', 'f1'] })).not.toThrow();
  });

  it('nearestName: case, underscores and swapped letters are near; short unrelated names are not', () => {
    expect(nearestName('ADAM', OPTIMIZER_NAMES)).toBe('adam');
    expect(nearestName('sdg', OPTIMIZER_NAMES)).toBe('sgd');
    expect(nearestName('binary-crossentropy', LOSS_NAMES)).toBe('binaryCrossentropy');
    expect(nearestName('r3', METRIC_NAMES)).toBe('r2');
    expect(nearestName('xyz', LOSS_NAMES)).toBeNull();
    expect(nearestName('hinge', LOSS_NAMES)).toBeNull();
  });
});

describe('Model.load of something that is not a model names the path and what it expected', () => {
  const dir = mkdtempSync(join(tmpdir(), 'axon-habits-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const at = (name: string): string => join(dir, name);
  const loadError = async (path: string): Promise<Error> => {
    try {
      await Model.load(path);
    } catch (e) {
      return e as Error;
    }
    throw new Error(`Model.load(${path}) did not throw`);
  };
  const EXPECTED = 'an axon-nn model file (as model.save writes)';
  const NOT_SAFETENSORS = `not a safetensors file, so not ${EXPECTED}`;

  it('a missing file: the path, ENOENT, what was expected; code kept', async () => {
    const e = await loadError(at('nope.axon'));
    expect(e).toBeInstanceOf(ModelFileError);
    expect(e.message).toBe(`${at('nope.axon')}: no such file (ENOENT); expected ${EXPECTED}`);
    expect((e as ModelFileError).code).toBe('ENOENT');
    // A relative path also says where it was looked for.
    const rel = relative(process.cwd(), at('nope.axon'));
    expect((await loadError(rel)).message).toBe(
      `${rel} (resolved to ${resolve(rel)}): no such file (ENOENT); expected ${EXPECTED}`,
    );
    expect((await loadError(at('nope.onnx'))).message).toMatch(
      /expected an axon-nn model file .*; for an ONNX model use loadOnnx\(path\)$/,
    );
  });

  it('a JSON file', async () => {
    writeFileSync(at('model.json'), JSON.stringify({ format: 'layers-model', modelTopology: {} }));
    const e = await loadError(at('model.json'));
    expect(e).toBeInstanceOf(ModelFileError);
    expect(e.message).toBe(`${at('model.json')}: ${NOT_SAFETENSORS}; it holds JSON text`);
  });

  it('an ONNX file, known by its content, with the loadOnnx hint', async () => {
    const onnx = join(import.meta.dirname, 'fixtures/onnx/torch/mlp/model.onnx');
    copyFileSync(onnx, at('exported.bin'));
    const e = await loadError(at('exported.bin'));
    expect(e).toBeInstanceOf(ModelFileError);
    expect(e.message).toBe(
      `${at('exported.bin')}: ${NOT_SAFETENSORS}; it looks like an ONNX model: load it with loadOnnx(path)`,
    );
    // A .onnx name gets the hint whatever the content.
    writeFileSync(at('broken.onnx'), 'hello');
    expect((await loadError(at('broken.onnx'))).message).toBe(
      `${at('broken.onnx')}: ${NOT_SAFETENSORS}; it has only 5 bytes; for an ONNX model use loadOnnx(path)`,
    );
  });

  it('random bytes, an empty file, a PyTorch zip, a directory', async () => {
    const bytes = Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 97 + 13) & 255));
    writeFileSync(at('random.bin'), bytes);
    expect((await loadError(at('random.bin'))).message).toBe(
      `${at('random.bin')}: ${NOT_SAFETENSORS}; its first bytes (0d 6e cf 30 91 f2 53 b4) match no format this library reads`,
    );
    writeFileSync(at('empty.axon'), Buffer.alloc(0));
    expect((await loadError(at('empty.axon'))).message).toBe(
      `${at('empty.axon')}: ${NOT_SAFETENSORS}; the file is empty`,
    );
    writeFileSync(at('model.pt'), Buffer.concat([Buffer.from([0x50, 0x4b, 3, 4]), bytes]));
    expect((await loadError(at('model.pt'))).message).toMatch(
      /; it is a zip archive \(a PyTorch \.pt file\? .*loadWeights/,
    );
    mkdirSync(at('folder'));
    const e = await loadError(at('folder'));
    expect(e).toBeInstanceOf(ModelFileError);
    expect(e.message).toBe(`${at('folder')}: not a regular file (a directory); expected ${EXPECTED}`);
  });

  it('a damaged model file keeps its safetensors error; a good one loads', async () => {
    const model = new Model(new Sequential(new Linear(3, 2)));
    await model.save(at('good.axon'));
    expect((await Model.load(at('good.axon'))).module).toBeInstanceOf(Sequential);
    const good = readFileSync(at('good.axon'));
    writeFileSync(at('cut.axon'), good.subarray(0, 40));
    const e = await loadError(at('cut.axon'));
    expect(e).toBeInstanceOf(SafetensorsError);
    expect(e.message).toMatch(/cut\.axon: header length past end of file/);
    // A header that no longer opens with '{', behind a length that fits: still a damaged model file.
    const bent = Buffer.from(good);
    bent[8] = 0x5b; // '['
    writeFileSync(at('bent.axon'), bent);
    const b = await loadError(at('bent.axon'));
    expect(b).toBeInstanceOf(SafetensorsError);
    expect(b.message).toMatch(/bent\.axon: malformed header/);
  });

  it('loadWeights says it expected a weights file', async () => {
    writeFileSync(at('weights.json'), '[1, 2, 3]');
    await expect(loadWeights(new Sequential(new Linear(3, 2)), at('weights.json'))).rejects.toThrow(
      `${at('weights.json')}: not a safetensors file, so not a weights file (as saveWeights or model.save write, or a PyTorch state dict in safetensors); it holds JSON text`,
    );
  });
});

describe('arguments that used to be taken silently are refused', () => {
  it('randn: a std that is not a finite number >= 0', () => {
    expect(() => randn([2], { std: '2' as unknown as number })).toThrow(
      'randn: std must be a finite number >= 0, got "2"',
    );
    expect(() => randn([2], { std: -1 })).toThrow('randn: std must be a finite number >= 0, got -1');
    expect(() => randn([2], { std: Infinity })).toThrow('randn: std must be a finite number >= 0, got Infinity');
    expect(randn([4], { std: 0, mean: 3 }).toArray()).toEqual([3, 3, 3, 3]);
  });

  it('layerNorm: eps <= 0, and weight or bias of the right size but not the normalised shape', async () => {
    const { layerNorm } = await import('../src/index.js');
    const x = randn([2, 3, 4]);
    expect(() => layerNorm(x, [3, 4], null, null, 0)).toThrow('layerNorm: eps must be a number in');
    expect(() => layerNorm(x, [3, 4], null, null, NaN)).toThrow('layerNorm: eps must be a number in');
    expect(() => layerNorm(x, [3, 4], ones([4, 3]))).toThrow('layerNorm: weight must have shape [3,4], got [4,3]');
    expect(() => layerNorm(x, [3, 4], ones([12]))).toThrow('layerNorm: weight must have shape [3,4], got [12]');
    expect(layerNorm(x, [3, 4], ones([3, 4]), zeros([3, 4])).shape).toEqual([2, 3, 4]);
  });

  it('exportOnnx of an imported ONNX model: options it cannot honour', async () => {
    const { exportOnnxBytes, loadOnnxSync } = await import('../src/index.js');
    const { bytes } = exportOnnxBytes(new Sequential(new Linear(3, 2)), { inputShape: [3] });
    const imported = loadOnnxSync(bytes).toModule();
    expect(() => exportOnnxBytes(imported, { opset: 13 })).toThrow(
      "exportOnnx: an imported ONNX model is written back with its own graph, names, shapes and opset; options 'opset' cannot change it (pass none)",
    );
    expect(() => exportOnnxBytes(imported, { inputName: 'x', dynamicBatch: false })).toThrow(
      "options 'inputName', 'dynamicBatch' cannot change it",
    );
    expect(exportOnnxBytes(imported).bytes.length).toBeGreaterThan(0);
    expect(() => exportOnnxBytes(imported, 3 as never)).toThrow(
      'exportOnnx: options must be an object (inputShape, opset, ...), got',
    );
  });
});
