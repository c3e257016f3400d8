/**
 * ONNX export: `exportOnnx(model, path, { inputShape })` writes a Module's (or a Model's)
 * eval-mode forward as an ONNX graph that onnxruntime and `loadOnnx` run: Sequential and
 * TimeDistributed containers walked recursively, one or a few ONNX nodes per layer
 * (export-layers.ts), parameters and BatchNorm running statistics as initializers under the
 * module's own names (namedParameters / namedBuffers). The file is written atomically.
 *
 * The input is [batch, ...inputShape] with the batch axis symbolic ('batch') unless
 * dynamicBatch is false; a model whose first layer is a time-major recurrent layer takes
 * [steps, batch, features] (the batch axis second). A model starting with an Embedding takes
 * int64 token ids. Opsets 13 to 18 (default 17); LayerNorm below 17 is written decomposed.
 * A layer type without an export fails with an error naming its path and type.
 */
import { writeFileAtomic } from '../io/atomic.js';
import { Dropout, Identity, Sequential } from '../nn/layers.js';
import { Module } from '../nn/module.js';
import { Embedding, LastStep, MeanOverTime, RecurrentBase, TimeDistributed } from '../nn/recurrent.js';
import { Model } from '../train/model.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkOptionKeys, optionKeys } from '../options.js';
import { GraphBuilder, type Dim, type GraphValue } from './export-graph.js';
import { LayerEmitter } from './export-layers.js';
import { OnnxModule } from './module.js';
import { DEFAULT_READ_LIMITS, onnxType, readModel } from './proto.js';

/**
 * Options of {@link exportOnnx} and {@link exportOnnxBytes}: one sample's input shape (required
 * unless a Model has seen an input), its dtype, the opset, the batch axis, and the graph's input
 * and output names. An imported OnnxModule is written back with its own graph, so it takes
 * none of them (any given is refused).
 *
 * @example
 * ```ts
 * import { exportOnnx, Sequential, Conv2d, Flatten, Linear, type OnnxExportOptions } from 'axon-nn';
 * const net = new Sequential(new Conv2d(1, 8, 3), new Flatten(), new Linear(8 * 26 * 26, 10));
 * const options: OnnxExportOptions = { inputShape: [1, 28, 28], opset: 13, inputName: 'image', outputName: 'logits' };
 * await exportOnnx(net, 'net.onnx', options); // input 'image' of shape ['batch', 1, 28, 28]
 * ```
 */
export interface OnnxExportOptions {
  /** One sample's input shape, without the batch axis (default: a Model's inputSpec, once
   * fit or predict has seen an input). */
  inputShape?: readonly number[];
  /** The model's input: 'float32', or 'int32' token ids (written as an int64 input). Default:
   * 'int32' when the first layer is an Embedding, else 'float32'. */
  inputDtype?: 'float32' | 'int32';
  /** ONNX opset, 13 to 18 (default 17). */
  opset?: number;
  /** The batch axis is a symbolic dimension 'batch' (default true); false fixes it to batchSize. */
  dynamicBatch?: boolean;
  /** The batch size written when dynamicBatch is false (default 1). */
  batchSize?: number;
  /** Where the batch axis goes in the input (default 1 when the first layer is a time-major
   * recurrent or sequence-pooling layer, whose input is [steps, batch, ...], else 0). */
  batchAxis?: 0 | 1;
  /** Name of the graph input (default 'input'). */
  inputName?: string;
  /** Name of the graph output (default 'output'); must differ from inputName. */
  outputName?: string;
}
const EXPORT_KEYS = optionKeys<OnnxExportOptions>({
  inputShape: true,
  inputDtype: true,
  opset: true,
  dynamicBatch: true,
  batchSize: true,
  batchAxis: true,
  inputName: true,
  outputName: true,
});

/**
 * What an export wrote: the opset, the graph's input and output (shapes with the symbolic batch
 * dimension as 'batch'), its nodes, op types and initializers.
 *
 * @example
 * ```ts
 * import { exportOnnx, Sequential, Linear, type OnnxExportInfo } from 'axon-nn';
 * const net = new Sequential(new Linear(4, 8, { activation: 'relu' }), new Linear(8, 2));
 * const info: OnnxExportInfo = await exportOnnx(net, 'mlp.onnx', { inputShape: [4] });
 * console.log(info.input.shape, info.output.shape); // ['batch', 4] ['batch', 2]
 * ```
 */
export interface OnnxExportInfo {
  /** The default-domain opset the graph declares. */
  opset: number;
  /** The graph input (int64 for token ids feeding an Embedding). */
  input: {
    /** Input name. */
    name: string;
    /** Element type. */
    dtype: 'float32' | 'int64';
    /** Dimensions; the symbolic batch axis as 'batch'. */
    shape: (number | string)[];
  };
  /** The graph output. */
  output: {
    /** Output name. */
    name: string;
    /** Element type (always float32). */
    dtype: 'float32';
    /** Dimensions; the symbolic batch axis as 'batch'. */
    shape: (number | string)[];
  };
  /** Number of nodes in the graph. */
  nodes: number;
  /** The distinct op types used, sorted. */
  opTypes: string[];
  /** Initializer names (parameters and buffers under their module names first). */
  initializers: string[];
}

/**
 * The opsets exportOnnx writes: 13 to 18, 17 by default (below 17, LayerNorm is written
 * decomposed, since LayerNormalization is an opset-17 op).
 *
 * @example
 * ```ts
 * import { exportOnnxBytes, ONNX_EXPORT_OPSETS, Linear } from 'axon-nn';
 * const net = new Linear(4, 2);
 * for (let opset = ONNX_EXPORT_OPSETS.min; opset <= ONNX_EXPORT_OPSETS.max; opset++)
 *   console.log(opset, exportOnnxBytes(net, { inputShape: [4], opset }).bytes.length);
 * ```
 */
export const ONNX_EXPORT_OPSETS = {
  /** Lowest opset written. */
  min: 13,
  /** Highest opset written. */
  max: 18,
  /** The opset written when none is asked for. */
  default: 17,
} as const;
const IR_VERSION = 8;
const MAX_RANK = 8;
const MAX_FILE_TENSOR_BYTES = 2 ** 31 - 2 ** 24;

/**
 * The ONNX file's bytes for `model` (a Module or a Model) in evaluation mode, and what it
 * holds, without touching the file system (see {@link exportOnnx}). With {@link loadOnnxSync}
 * it round-trips a model in memory.
 * @throws TypeError/RangeError on a bad option, a missing inputShape or tensors over 2 GiB;
 *   OnnxError on a layer that cannot be exported (named by path and type).
 *
 * @example
 * ```ts
 * import { exportOnnxBytes, loadOnnxSync, Sequential, Linear, randn } from 'axon-nn';
 * const net = new Sequential(new Linear(4, 8, { activation: 'relu' }), new Linear(8, 2));
 * const { bytes, info } = exportOnnxBytes(net, { inputShape: [4] });
 * console.log(info.opTypes); // ['Gemm', 'Relu']
 * const { output } = loadOnnxSync(bytes).runSync({ input: randn([3, 4]) });
 * ```
 */
export function exportOnnxBytes(
  model: Module | Model,
  options: OnnxExportOptions = {},
): {
  /** The serialized ModelProto. */
  bytes: Uint8Array;
  /** What the graph holds. */
  info: OnnxExportInfo;
} {
  const op = 'exportOnnx';
  if (options === null || typeof options !== 'object' || Array.isArray(options))
    throw new TypeError(`${op}: options must be an object (inputShape, opset, ...), got ${describe(options)}`);
  checkOptionKeys(op, options, EXPORT_KEYS);
  const root =
    model instanceof Model ? model.module : model instanceof Module ? model : (null as unknown as Module | null);
  if (!root) throw new TypeError(`${op}: expected a Module or a Model, got ${describe(model)}`);
  if (root instanceof OnnxModule) {
    // Its own graph is written back as it is: an option that would change it is refused, not ignored.
    const given = Object.keys(options).filter((k) => (options as Record<string, unknown>)[k] !== undefined);
    if (given.length > 0)
      throw new TypeError(
        `${op}: an imported ONNX model is written back with its own graph, names, shapes and opset; ` +
          `options ${given.map((k) => `'${k}'`).join(', ')} cannot change it (pass none)`,
      );
    return importedGraph(root);
  }

  const opset = options.opset ?? ONNX_EXPORT_OPSETS.default;
  if (!Number.isInteger(opset) || opset < ONNX_EXPORT_OPSETS.min || opset > ONNX_EXPORT_OPSETS.max)
    throw new RangeError(
      `${op}: opset must be an integer from ${ONNX_EXPORT_OPSETS.min} to ${ONNX_EXPORT_OPSETS.max}, got ${describe(options.opset)}`,
    );

  const spec = model instanceof Model ? model.inputSpec : null;
  const shape = options.inputShape ?? spec?.shape;
  if (shape === undefined)
    throw new TypeError(
      `${op}: options.inputShape (one sample's shape, without the batch axis) is required${model instanceof Model ? ' (this Model has not seen an input yet)' : ''}`,
    );
  if (
    !Array.isArray(shape) ||
    shape.length > MAX_RANK - 1 ||
    !shape.every((d: unknown) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 1)
  )
    throw new RangeError(
      `${op}: inputShape must be an array of at most ${MAX_RANK - 1} positive integers (one sample's shape, without the batch axis), got ${describe(shape)}`,
    );

  const dynamicBatch = options.dynamicBatch ?? true;
  if (typeof dynamicBatch !== 'boolean') throw new TypeError(`${op}: dynamicBatch must be a boolean`);
  const batchSize = options.batchSize ?? 1;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1)
    throw new RangeError(`${op}: batchSize must be a positive integer, got ${describe(options.batchSize)}`);
  if (options.batchSize !== undefined && dynamicBatch)
    throw new RangeError(`${op}: batchSize applies only with dynamicBatch: false`);

  const first = firstLayer(root, false);
  const embeddingFirst = firstLayer(root, true) instanceof Embedding;
  const inputDtype = options.inputDtype ?? (spec && options.inputShape === undefined ? spec.dtype : undefined);
  if (inputDtype !== undefined && inputDtype !== 'float32' && inputDtype !== 'int32')
    throw new RangeError(`${op}: inputDtype must be 'float32' or 'int32', got ${describe(inputDtype)}`);
  const tokens = inputDtype === undefined ? embeddingFirst : inputDtype === 'int32';
  if (tokens && !embeddingFirst)
    throw new RangeError(`${op}: integer inputs feed only an Embedding, and this model does not start with one`);

  const timeMajorFirst =
    (first instanceof RecurrentBase && !first.batchFirst) ||
    ((first instanceof LastStep || first instanceof MeanOverTime) && first.timeMajor);
  const batchAxis = options.batchAxis ?? (timeMajorFirst ? 1 : 0);
  if (batchAxis !== 0 && batchAxis !== 1)
    throw new RangeError(`${op}: batchAxis must be 0 or 1, got ${describe(batchAxis)}`);
  if (batchAxis > shape.length)
    throw new RangeError(`${op}: batchAxis ${batchAxis} needs an inputShape of at least ${batchAxis} axes`);

  const inputName = options.inputName ?? 'input';
  const outputName = options.outputName ?? 'output';
  for (const [n, what] of [
    [inputName, 'inputName'],
    [outputName, 'outputName'],
  ] as const)
    if (typeof n !== 'string' || n.length === 0) throw new TypeError(`${op}: ${what} must be a non-empty string`);
  if (inputName === outputName) throw new RangeError(`${op}: inputName and outputName must differ`);

  // Parameters and buffers by their module names (a tied parameter under its first name).
  const tensorNames = new Map<Tensor, string>();
  for (const [n, p] of root.namedParameters()) if (!tensorNames.has(p)) tensorNames.set(p, n);
  for (const [n, b] of root.namedBuffers()) if (!tensorNames.has(b)) tensorNames.set(b, n);

  const g = new GraphBuilder({ opset, tensorNames });
  g.reserve(inputName);
  g.reserve(outputName);
  const inDims: Dim[] = [...shape];
  inDims.splice(batchAxis, 0, dynamicBatch ? 'batch' : batchSize);
  const input: GraphValue = { name: inputName, dims: inDims, dtype: tokens ? 'int64' : 'float32', lengths: null };
  const out = new LayerEmitter(g).emit(root, '', input);
  if (out.dtype !== 'float32') throw new RangeError(`${op}: the model returns its integer input unchanged`);

  // The final value takes the output name.
  if (out.name === inputName || !g.nodes.some((n) => n.output.includes(out.name)))
    g.node('Identity', [out.name], '', {}, [outputName]);
  else
    for (const n of g.nodes) {
      n.output = n.output.map((v) => (v === out.name ? outputName : v));
      n.input = n.input.map((v) => (v === out.name ? outputName : v));
    }
  if (out.dims.length > MAX_RANK) throw new RangeError(`${op}: the output has rank ${out.dims.length}`);

  // One protobuf message holds at most 2 GiB; larger models need ONNX's external data files.
  if (g.tensorBytes > MAX_FILE_TENSOR_BYTES)
    throw new RangeError(
      `${op}: the model's tensors take ${g.tensorBytes} bytes; ONNX files over 2 GiB need external data files, which exportOnnx does not write`,
    );
  const valueInfo = (name: string, elemType: number, dims: readonly Dim[]) => ({
    name,
    type: {
      tensor_type: {
        elem_type: elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
      },
    },
  });
  const ModelProto = onnxType('ModelProto');
  const message = ModelProto.fromObject({
    ir_version: IR_VERSION,
    producer_name: 'axon-nn',
    producer_version: '0.1.0',
    opset_import: [{ domain: '', version: opset }],
    graph: {
      name: root.constructor.name,
      node: g.nodes,
      initializer: g.initializers,
      input: [valueInfo(inputName, tokens ? 7 : 1, inDims)],
      output: [valueInfo(outputName, 1, out.dims)],
    },
  });
  const bytes = ModelProto.encode(message).finish();
  const info: OnnxExportInfo = {
    opset,
    input: { name: inputName, dtype: tokens ? 'int64' : 'float32', shape: inDims },
    output: { name: outputName, dtype: 'float32', shape: [...out.dims] },
    nodes: g.nodes.length,
    opTypes: [...new Set(g.nodes.map((n) => n.op_type))].sort(),
    initializers: g.initializers.map((t) => t.name),
  };
  return { bytes, info };
}

/**
 * Writes `model` (a Module or a Model) to `path` as an ONNX file of its evaluation-mode
 * forward, atomically (a temporary file in the same folder, renamed over `path`), like
 * `torch.onnx.export`. onnxruntime and {@link loadOnnx} run the file; an imported OnnxModule
 * is written back as its own graph with its current weights.
 * @returns what the file holds (see OnnxExportInfo).
 * @throws (rejects) as {@link exportOnnxBytes}, with nothing written; or when path cannot be written.
 * @example
 * ```ts
 * import { exportOnnx, Sequential, Conv2d, Flatten, Linear } from 'axon-nn';
 * const net = new Sequential(new Conv2d(1, 4, 3, { activation: 'relu' }), new Flatten(), new Linear(4 * 26 * 26, 10));
 * const info = await exportOnnx(net, 'net.onnx', { inputShape: [1, 28, 28] });
 * console.log(info.input.shape); // ['batch', 1, 28, 28]
 * ```
 */
export async function exportOnnx(
  model: Module | Model,
  path: string,
  options: OnnxExportOptions = {},
): Promise<OnnxExportInfo> {
  if (typeof path !== 'string' || path.length === 0) throw new TypeError('exportOnnx: path must be a non-empty string');
  const { bytes, info } = exportOnnxBytes(model, options);
  await writeFileAtomic(path, bytes);
  return info;
}

/** An imported graph exported back: its own graph, with the parameters' current values. */
function importedGraph(m: OnnxModule): { bytes: Uint8Array; info: OnnxExportInfo } {
  const bytes = m.toOnnxBytes();
  const model = readModel(bytes, null, DEFAULT_READ_LIMITS);
  const [input] = m.inputSpec;
  const [output] = m.outputSpec;
  return {
    bytes,
    info: {
      opset: model.opsets.get('') ?? 0,
      input: { name: input.name, dtype: input.dtype === 'float32' ? 'float32' : 'int64', shape: input.shape ?? [] },
      output: { name: output.name, dtype: 'float32', shape: output.shape ?? [] },
      nodes: model.graph.nodes.length,
      opTypes: [...new Set(model.graph.nodes.map((n) => n.opType))].sort(),
      initializers: [...model.graph.initializers.keys()],
    },
  };
}

/** The first layer that computes something (through Sequential and pass-through layers; with
 * intoTimeDistributed, through TimeDistributed too, whose layer sees the input's dtype). */
function firstLayer(m: Module, intoTimeDistributed: boolean): Module {
  if (m instanceof Sequential) {
    for (const [, child] of m.namedChildren()) {
      const f = firstLayer(child, intoTimeDistributed);
      if (!(f instanceof Identity || f instanceof Dropout)) return f;
    }
  }
  if (intoTimeDistributed && m instanceof TimeDistributed) return firstLayer(m.layer, true);
  return m;
}

function describe(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `[${v.map(describe).join(', ')}]`;
  if (typeof v === 'string') return `'${v}'`;
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'an object';
  return String(v);
}
