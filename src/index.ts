/**
 * axon-nn: neural networks for Node.js on native SIMD kernels.
 *
 * @example
 * import { tensor, randn, matmul } from 'axon-nn';
 * const x = randn([64, 784], { seed: 1 });
 * const w = randn([10, 784]).mul(0.01).setRequiresGrad();
 * const loss = matmul(x, w.T).relu().mean();
 * loss.backward();
 */
// First: installs the Tensor op methods (x.add, x.relu, x.backward, ...) before anything runs.
import './ops/tensor-methods.js';
export { Tensor, type DType, type NestedArray, type TensorData } from './tensor/tensor.js';
export {
  tensor,
  zeros,
  ones,
  full,
  zerosLike,
  onesLike,
  fullLike,
  arange,
  linspace,
  eye,
  rand,
  randn,
  randint,
  type CreateOptions,
  type TensorOptions,
  type RandOptions,
  type RandnOptions,
} from './tensor/creation.js';
export { Generator, manualSeed, defaultGenerator, type GeneratorState, type RandomOptions } from './tensor/random.js';
export { type Shape, broadcastShapes, numel } from './tensor/shape.js';
export {
  add,
  sub,
  mul,
  div,
  pow,
  maximum,
  minimum,
  greater,
  greaterEqual,
  less,
  lessEqual,
  equal,
  notEqual,
  cast,
  where,
  clamp,
  neg,
  exp,
  log,
  sqrt,
  abs,
  square,
  reciprocal,
  erf,
} from './ops/elementwise.js';
export { relu, leakyRelu, elu, gelu, softplus, softmax, logSoftmax, type GeluOptions } from './ops/activation.js';
// The op table's parameter-free activations (selu, sigmoid, tanh, silu, hardswish, mish, ...)
// and their layers (SELU, Sigmoid, Tanh, SiLU, Hardswish, Mish, ...).
export * from './ops/activations.gen.js';
export * from './nn/activations.gen.js';
export { sum, mean, max, min, argmax, argmin } from './ops/reduce.js';
export { matmul, linear, LINEAR_ACTIVATIONS, type LinearActivation } from './ops/linalg.js';
export {
  reshape,
  flatten,
  squeeze,
  unsqueeze,
  permute,
  transpose,
  index,
  expand,
  concat,
  stack,
  type IndexSpec,
} from './ops/layout.js';
export { noGrad, isGradEnabled, setGradEnabled, type BackwardOptions, type GradNode } from './autograd/engine.js';
export { gradcheck, type GradcheckOptions, type GradcheckResult } from './autograd/gradcheck.js';
export {
  profile,
  startProfiling,
  stopProfiling,
  isProfiling,
  ProfileReport,
  type ProfileRow,
  type TraceEvent,
  type ChromeTrace,
  type ProfileRecord,
  type ProfileSpan,
  type RooflineRow,
} from './profiler.js';
export {
  backendInfo,
  setNumThreads,
  getNumThreads,
  setConvAlgorithm,
  getConvAlgorithm,
  type BackendInfo,
  machineInfo,
  type MachineInfo,
  type CpuInfo,
  type CpuConfigInfo,
  type ConvAlgorithm,
} from './backend.js';
export { Module, Parameter, type LoadReport, type LoadStateDictOptions } from './nn/module.js';
export {
  Linear,
  Sequential,
  Identity,
  ReLU,
  LeakyReLU,
  ELU,
  GELU,
  Softplus,
  Softmax,
  LogSoftmax,
  Dropout,
  Flatten,
  type LinearOptions,
} from './nn/layers.js';
export {
  dropout,
  type DropoutOptions,
  scaledDotProductAttention,
  type ScaledDotProductAttentionOptions,
} from './nn/functional.js';
export {
  MultiheadAttention,
  TransformerEncoderLayer,
  TransformerDecoderLayer,
  TransformerEncoder,
  TransformerDecoder,
  PositionalEmbedding,
  SinusoidalPositionalEncoding,
  type MultiheadAttentionOptions,
  type AttendOptions,
  type AttendResult,
  type TransformerLayerOptions,
  type TransformerLayerSettings,
  type EncoderCallOptions,
  type DecoderCallOptions,
  type TransformerStackOptions,
} from './nn/transformer.js';
export * as init from './nn/init.js';
export type { Initializer, InitializerLike, InitializerName } from './nn/init.js';
export { l1, l2, l1l2, type Regularizer, type L1L2Options } from './nn/regularizers.js';
export {
  mseLoss,
  l1Loss,
  huberLoss,
  smoothL1Loss,
  crossEntropy,
  nllLoss,
  binaryCrossEntropy,
  binaryCrossEntropyWithLogits,
  MSELoss,
  L1Loss,
  HuberLoss,
  SmoothL1Loss,
  CrossEntropyLoss,
  NLLLoss,
  BCELoss,
  BCEWithLogitsLoss,
  type Loss,
  type Reduction,
  type CrossEntropyOptions,
  type ReductionOptions,
  type HuberOptions,
  type SmoothL1Options,
  type NLLOptions,
  type BCEOptions,
  type BCEWithLogitsOptions,
} from './nn/losses.js';
export {
  Optimizer,
  type ParamGroupInput,
  type OptimizerStateDict,
  type ParamGroup,
  type ParamState,
} from './optim/optimizer.js';
export {
  SGD,
  Adam,
  AdamW,
  RMSprop,
  Adagrad,
  type SGDOptions,
  type AdamOptions,
  type RMSpropOptions,
  type AdagradOptions,
} from './optim/optimizers.js';
export { clipGradNorm, clipGradValue } from './optim/clip.js';
export {
  LRScheduler,
  StepLR,
  MultiStepLR,
  ExponentialLR,
  LambdaLR,
  CosineAnnealingLR,
  OneCycleLR,
  ReduceLROnPlateau,
  type CosineOptions,
  type OneCycleOptions,
  type PlateauOptions,
  type AnyOptimizer,
} from './optim/schedulers.js';
export {
  TensorDataset,
  GeneratorDataset,
  DataLoader,
  Dataset,
  type Batch,
  type DataLoaderOptions,
  type DataLoaderState,
} from './data/dataset.js';
export { takeRows } from './data/rows.js';
export { parseIdx, readIdx, type IdxOptions } from './data/idx.js';
export { parseCsv, readCsv, csvColumns, csvColumn, type CsvTable, type CsvOptions } from './data/csv.js';
export { trainTestSplit, kFold, type SplitOptions, type KFoldOptions } from './data/split.js';
export {
  StandardScaler,
  MinMaxScaler,
  Normalizer,
  LabelEncoder,
  OneHotEncoder,
  type StandardScalerOptions,
} from './data/preprocessing.js';
export {
  Model,
  type CompileOptions,
  type FitOptions,
  type PredictOptions,
  type EvaluateOptions,
  AbortError,
  type LossName,
  type LossFunction,
  type OptimizerName,
  NonFiniteLossError,
  type ForwardLimits,
  type ModelLoadOptions,
  type PrepareInferenceOptions,
  type InferencePreparation,
} from './train/model.js';
export { LOSS_NAMES, OPTIMIZER_NAMES } from './train/compile.js';
export {
  History,
  EarlyStopping,
  LearningRateScheduler,
  ReduceLROnPlateauCallback,
  TerminateOnNaN,
  CSVLogger,
  JSONLogger,
  lambdaCallback,
  type Callback,
  type Logs,
  type TrainingContext,
  type EarlyStoppingOptions,
  type PlateauCallbackOptions,
} from './train/callbacks.js';
export { ProgressBar, type ProgressStream } from './train/progress.js';
export { ProfileSteps, type ProfileStepsOptions } from './train/profile-steps.js';
export * as metrics from './train/metrics.js';
export type { Metric, MetricName } from './train/metrics.js';
export { historyToSvg, historyToHtml, type HistoryLike, type PlotOptions } from './train/plot.js';
export { trace } from './train/trace.js';
export {
  registerLayer,
  registeredLayers,
  serializeModule,
  deserializeModule,
  configReaders,
  type LayerSpec,
  type FromConfig,
  type ModuleClass,
  type RegisterLayerOptions,
  type DeserializeOptions,
} from './nn/registry.js';
export { summarize, type Summary, type SummaryRow, type SummaryOptions } from './nn/summary.js';
export {
  encodeSafetensors,
  decodeSafetensors,
  SafetensorsError,
  MAX_HEADER_BYTES,
  sha256,
  type SafetensorsContent,
} from './io/safetensors.js';
export {
  encodeModel,
  decodeModelFile,
  moduleFromContent,
  saveModel,
  loadModel,
  saveWeights,
  loadWeights,
  loadWeightsFromContent,
  formatLoadReport,
  ModelFileError,
  FORMAT_VERSION,
  type EncodeOptions,
  type ModelFileContent,
  type ReadOptions,
  type LoadWeightsOptions,
  type InputSpec,
} from './io/model-file.js';
export {
  encodeCheckpoint,
  saveCheckpoint,
  loadCheckpoint,
  restoreCheckpoint,
  type CheckpointParts,
  type CheckpointInfo,
  type Stateful,
  type FitCursor,
  type CheckpointModel,
} from './io/checkpoint.js';
export { writeFileAtomic } from './io/atomic.js';
export { ModelCheckpoint, formatCheckpointPath, type ModelCheckpointOptions } from './train/model-checkpoint.js';
export {
  choice,
  uniform,
  logUniform,
  intRange,
  gridValues,
  sampleParams,
  type SearchSpace,
  type Choice,
  type Range as SearchRange,
  type UniformRange,
  type LogUniformRange,
  type IntRange,
  type ParamValue,
  type Params,
} from './train/search-space.js';
export {
  gridSearch,
  randomSearch,
  successiveHalving,
  halvingRungs,
  SearchResult,
  type Budget,
  type Objective,
  type TrialResult,
  type TrialRecord,
  type SearchMethod,
  type SearchMode,
  type SearchOptions,
  type GridSearchOptions,
  type RandomSearchOptions,
  type HalvingOptions,
} from './train/search.js';
export {
  mlpObjective,
  mlpModel,
  mlpParams,
  trainMlp,
  MLP_DEFAULTS,
  type MlpParams,
  type MlpObjectiveOptions,
  type MlpModelOptions,
} from './train/search-mlp.js';
export {
  conv2d,
  conv1d,
  convTranspose2d,
  type Conv2dOptions,
  type Conv1dOptions as Conv1dFunctionOptions,
  type ConvTranspose2dOptions,
  type Padding,
  type Pair,
} from './ops/conv.js';
export {
  maxPool2d,
  maxPool2dWithIndices,
  avgPool2d,
  adaptiveAvgPool2d,
  globalAvgPool2d,
  type Pool2dOptions,
  type MaxPool2dWithIndicesOptions,
  type MaxPoolIndexForm,
} from './ops/pool.js';
export { batchNorm, layerNorm, type BatchNormOptions } from './ops/norm.js';
export {
  conv3d,
  convTranspose3d,
  maxPool3d,
  avgPool3d,
  type Triple,
  type Conv3dOptions,
  type ConvTranspose3dOptions,
  type Pool3dOptions,
} from './ops/conv3d.js';
export {
  Conv3d,
  ConvTranspose3d,
  MaxPool3d,
  AvgPool3d,
  BatchNorm3d,
  type Conv3dLayerOptions,
  type ConvTranspose3dLayerOptions,
} from './nn/conv3d-layers.js';
export {
  Conv1d,
  Conv2d,
  ConvTranspose2d,
  MaxPool2d,
  AvgPool2d,
  GlobalAvgPool2d,
  AdaptiveAvgPool2d,
  BatchNorm1d,
  BatchNorm2d,
  LayerNorm,
  type ConvOptions,
  type Conv1dOptions,
  type ConvTransposeOptions,
  type PoolOptions,
  type BatchNormLayerOptions,
  type AvgPoolOptions,
  type LayerNormOptions,
} from './nn/conv-layers.js';
export { RandomCrop, RandomHorizontalFlip, Normalize, type RandomCropOptions } from './nn/augment.js';
export {
  padSequences,
  padFloatSequences,
  paddedToTensors,
  lengthsToMask,
  type PadSide,
  type PadOptions,
  type FloatPadOptions,
  type PaddedSequences,
  type PaddedFloatSequences,
  type IdSequence,
  type FloatSequence,
} from './data/sequence.js';
export {
  Tokenizer,
  Vocabulary,
  parseLabelledTsv,
  readLabelledTsv,
  PAD_TOKEN,
  UNK_TOKEN,
  PAD_ID,
  UNK_ID,
  MAX_VOCABULARY_SIZE,
  type TokenizerOptions,
  type TokenizerConfig,
  type VocabularyOptions,
  type VocabularyJSON,
  type EncodeTextsOptions,
  type LabelledTexts,
  type DecodeOptions,
  type FromTextsOptions,
} from './data/text.js';
export {
  makeWindows,
  windowsToTensors,
  chronologicalSplit,
  scaleSeries,
  inverseScaleColumns,
  naiveForecast,
  rmse,
  mae,
  interpolateMissing,
  readCo2,
  readSunspots,
  type SeriesLike,
  type RowRange,
  type WindowOptions,
  type Windows,
  type ChronologicalSplitOptions,
  type ChronologicalSplit,
  type SeriesScaler,
  type LoadedSeries,
  type Co2Options,
  type ScaleSeriesOptions,
} from './data/timeseries.js';
export {
  LSTM,
  GRU,
  SimpleRNN,
  Embedding,
  LastStep,
  MeanOverTime,
  TimeDistributed,
  RecurrentBase,
  type RecurrentOptions,
  type RecurrentState,
  type RecurrentResult,
  type SimpleRNNOptions,
  type EmbeddingLayerOptions,
  type FromPretrainedOptions,
  type SequencePoolingOptions,
} from './nn/recurrent.js';
export {
  rnnDirection,
  embedding,
  sequenceLengths,
  sequencePool,
  withLengths,
  lengthsOf,
  type AttachedLengths,
  type RnnMode,
  type RnnDirectionWeights,
  type RnnDirectionOptions,
  type RnnDirectionResult,
  type EmbeddingOptions,
  type SequencePoolMode,
  type SequencePoolOptions,
  type WithLengthsOptions,
} from './ops/rnn.js';
export * as distributed from './distributed/index.js';
export {
  DistributedDataParallel,
  DistributedSampler,
  distributedLoader,
  SyncBatchNorm,
  type DdpOptions,
  type DistributedFitOptions,
} from './distributed/index.js';
// ONNX import: run and fine-tune the models people already have.
export {
  loadOnnx,
  loadOnnxSync,
  OnnxSession,
  type OnnxLoadOptions,
  type OnnxPrepareOptions,
  type OnnxPreparation,
} from './onnx/session.js';
export { OnnxModule } from './onnx/module.js';
export { type OnnxFeeds, type OnnxTensorLike, type OnnxValueMetadata } from './onnx/feeds.js';
export { OnnxError, type ElemType as OnnxElemType, type ReadLimits as OnnxReadLimits } from './onnx/proto.js';
// ONNX export: a model's evaluation-mode forward as an ONNX file (onnxruntime, loadOnnx).
export {
  exportOnnx,
  exportOnnxBytes,
  ONNX_EXPORT_OPSETS,
  type OnnxExportOptions,
  type OnnxExportInfo,
} from './onnx/export.js';
// Serving: a dynamic batcher that coalesces concurrent predicts into one forward (docs/SERVING.md).
export {
  createBatcher,
  Batcher,
  OverloadedError,
  BatchTimeoutError,
  BatcherClosedError,
  type BatcherOptions,
  type BatchRequestOptions,
  type BatchPredictor,
  type BatchLoad,
  type BatcherStats,
} from './serve/batcher.js';
