/**
 * OnnxModule: an imported graph as a trainable Module. The float initializers are Parameters
 * under their ONNX names (BatchNormalization's running statistics among them, not trainable),
 * so it trains with fit, freezes by name and saves with model.save: its config holds the graph
 * without those weights (they travel in the file's tensors like any layer's), and loading a
 * model file rebuilds it through the layer registry.
 */
import { Module, Parameter } from '../nn/module.js';
import { reserveValues } from '../nn/budget.js';
import { registerLayer } from '../nn/registry.js';
import { Tensor } from '../tensor/tensor.js';
import { checkInputs, feedValues, meta, valueToTensor, type OnnxFeeds, type OnnxValueMetadata } from './feeds.js';
import { checkSupported, GraphRunner, topologicalOrder } from './graph.js';
import { DEFAULT_READ_LIMITS, isFloatType, onnxType, OnnxError, readModel, type ModelInfo } from './proto.js';
import { floatValue, intValue, type Value } from './value.js';

/**
 * An imported ONNX graph as a trainable Module ({@link OnnxSession.toModule}). The float
 * initializers are Parameters under their ONNX names (BatchNormalization's running statistics
 * among them, not trainable), so it fine-tunes with Model.fit, freezes by name, saves with
 * `model.save`, and `exportOnnx` writes it back with the trained values.
 *
 * @example
 * ```ts
 * import { exportOnnxBytes, loadOnnxSync, Model, Sequential, Linear, randn } from 'axon-nn';
 * const net = new Sequential(new Linear(4, 8, { activation: 'relu' }), new Linear(8, 1));
 * const module = loadOnnxSync(exportOnnxBytes(net, { inputShape: [4] }).bytes).toModule();
 * const model = new Model(module).compile({ optimizer: 'adam', loss: 'mse' });
 * await model.fit(randn([64, 4]), randn([64, 1]), { epochs: 2, verbose: 0 });
 * ```
 */
export class OnnxModule extends Module {
  /** The graph inputs forward takes, in order (initializers excluded). */
  readonly inputSpec: readonly OnnxValueMetadata[];
  /** The graph outputs; forward returns the first, forwardAll all of them. */
  readonly outputSpec: readonly OnnxValueMetadata[];
  private readonly params = new Map<string, Parameter>();
  private readonly runner: GraphRunner;

  /**
   * @param model the decoded model (loadOnnx's session.toModule() passes its own)
   * @param bytes the file's bytes: getConfig keeps the graph from them, without the weights
   * @internal
   */
  constructor(
    model: ModelInfo,
    private readonly bytes: Uint8Array,
  ) {
    super();
    const opset = checkSupported(model);
    const order = topologicalOrder(model.graph);
    const inits = model.graph.initializers;
    this.inputSpec = model.graph.inputs.filter((i) => !inits.has(i.name)).map(meta);
    this.outputSpec = model.graph.outputs.map(meta);
    const stats = new Set<string>();
    for (const n of order)
      if (n.opType === 'BatchNormalization') for (const i of [3, 4]) if (n.inputs[i]) stats.add(n.inputs[i]);
    const initial = new Map<string, Value>();
    for (const [name, h] of inits) {
      if (h.f32) {
        // A copy: training must not write into the file's bytes or a session's weights.
        const p = new Parameter(new Tensor(h.f32.slice(), h.dims), !stats.has(name));
        this.params.set(name, p);
        initial.set(name, floatValue(p, h.type));
      } else {
        const v = intValue(h.type, h.dims, h.ints as Float64Array);
        v.known = true;
        initial.set(name, v);
      }
    }
    this.runner = new GraphRunner(order, opset, initial, false);
  }

  protected override ownParameters(): [string, Parameter][] {
    return [...this.params];
  }

  /**
   * The graph's first output for its inputs, given in inputSpec order.
   * @throws OnnxError on a wrong input count or a float/integer mismatch.
   */
  forward(...inputs: Tensor[]): Tensor {
    return this.runAll(inputs)[0];
  }

  /** Every graph output by name. */
  forwardAll(feeds: OnnxFeeds): Record<string, Tensor> {
    const tensors = checkInputs('OnnxModule.forwardAll', this.inputSpec, feeds);
    const values = this.runAll(tensors);
    return Object.fromEntries(this.outputSpec.map((o, i) => [o.name, values[i]]));
  }

  /**
   * The graph as ONNX bytes with the parameters' current values as its initializers (float32,
   * raw data): a fine-tuned import exported back (exportOnnx writes it for an OnnxModule).
   */
  toOnnxBytes(): Uint8Array {
    const ModelProto = onnxType('ModelProto');
    const msg = ModelProto.decode(this.bytes) as unknown as {
      graph: { initializer: Record<string, unknown>[] };
    };
    const written = new Set<string>();
    msg.graph.initializer = msg.graph.initializer.map((t) => {
      const p = this.params.get(t.name as string);
      if (!p) return t;
      written.add(t.name as string);
      return this.initializerOf(t.name as string, p);
    });
    // Weights rebuilt from a model file (fromConfig) are not in the stripped graph.
    for (const [name, p] of this.params)
      if (!written.has(name)) msg.graph.initializer.push(this.initializerOf(name, p));
    return ModelProto.encode(msg as never).finish();
  }

  private initializerOf(name: string, p: Parameter): Record<string, unknown> {
    const data = p.data as Float32Array;
    return {
      name,
      dims: [...p.shape],
      data_type: 1,
      raw_data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice(),
    };
  }

  /** The graph (ONNX bytes, base64) without its float initializers, which are parameters. */
  override getConfig(): Record<string, unknown> {
    const ModelProto = onnxType('ModelProto');
    const msg = ModelProto.decode(this.bytes) as unknown as {
      graph: { initializer: { name: string; data_type: number }[] };
    };
    msg.graph.initializer = msg.graph.initializer.filter((t) => !this.params.has(t.name));
    const stripped = ModelProto.encode(msg as never).finish();
    return {
      graph: Buffer.from(stripped).toString('base64'),
      weights: [...this.params].map(([name, p]) => ({ name, shape: [...p.shape], trainable: p.trainable })),
    };
  }

  /** Rebuilds from getConfig's output (a model file's, so untrusted): weights start at zero
   * and are filled from the file's tensors. */
  static fromConfig(config: Record<string, unknown>): OnnxModule {
    const graph = config.graph;
    const weights = config.weights;
    if (typeof graph !== 'string' || !Array.isArray(weights))
      throw new OnnxError('OnnxModule.fromConfig: config needs graph (base64) and weights (a list)');
    const bytes = new Uint8Array(Buffer.from(graph, 'base64'));
    const model = readModel(bytes, null, DEFAULT_READ_LIMITS);
    for (const [i, w] of weights.entries()) {
      const { name, shape } = (w ?? {}) as { name?: unknown; shape?: unknown };
      if (
        typeof name !== 'string' ||
        !Array.isArray(shape) ||
        shape.length > DEFAULT_READ_LIMITS.maxRank ||
        !shape.every((d) => Number.isSafeInteger(d) && d >= 0)
      )
        throw new OnnxError(`OnnxModule.fromConfig: weights[${i}] must be { name, shape }`);
      if (model.graph.initializers.has(name))
        throw new OnnxError(`OnnxModule.fromConfig: weight '${name}' is defined twice`);
      const n = (shape as number[]).reduce((a, b) => a * b, 1);
      reserveValues('OnnxModule.fromConfig', n);
      model.graph.initializers.set(name, {
        type: 'float32',
        dims: shape as number[],
        f32: new Float32Array(n),
        ints: null,
      });
    }
    // The file's weights go into the parameters, so the module re-encodes from the same graph.
    const module = new OnnxModule(model, bytes);
    for (const w of weights as { name: string; trainable?: unknown }[])
      if (w.trainable === false) (module.params.get(w.name) as Parameter).trainable = false;
    return module;
  }

  private runAll(inputs: Tensor[]): Tensor[] {
    if (inputs.length !== this.inputSpec.length)
      throw new OnnxError(`OnnxModule.forward: the graph takes ${this.inputSpec.length} inputs, got ${inputs.length}`);
    this.inputSpec.forEach((decl, i) => {
      if (isFloatType(decl.dtype) !== (inputs[i].dtype === 'float32'))
        throw new OnnxError(
          `OnnxModule.forward: input '${decl.name}' is ${decl.dtype}, got a ${inputs[i].dtype} tensor`,
        );
    });
    const values = this.runner.run(
      feedValues(this.inputSpec, inputs),
      this.outputSpec.map((o) => o.name),
    );
    return values.map((v, i) => v.tensor ?? valueToTensor(v, this.outputSpec[i].name));
  }
}

registerLayer(OnnxModule, { fromConfig: (c) => OnnxModule.fromConfig(c) });
