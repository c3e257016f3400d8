/**
 * Model files: a safetensors file (so PyTorch's and Hugging Face's tools open it) whose
 * tensors are the module's state dict by parameter name, and whose string metadata carries
 * the architecture (the layer registry's JSON), the format version and a SHA-256 checksum.
 *
 *   saveModel(module, path)      architecture + weights; loadModel(path) rebuilds the module
 *   saveWeights(module, path)    weights only; loadWeights(module, path) copies them in by
 *                                name, reporting missing, unexpected and mis-shaped tensors
 *
 * The checksum covers the architecture text and the whole data section, so a flipped bit
 * anywhere a structural check cannot see is still caught. Files from other tools carry no
 * checksum and load without one. Writes are atomic (see atomic.ts): a reader, or a process
 * killed mid-save, sees the old file or the new one.
 */
import { createHash } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
import { readFileChecked as readFileCheckedAs } from '../data/files.js';
import type { Module, LoadReport } from '../nn/module.js';
import { deserializeModule, serializeModule, type LayerSpec } from '../nn/registry.js';
import { shapeToString } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkOptionKeys } from '../options.js';
import { writeFileAtomic } from './atomic.js';
import { SafetensorsError, decodeSafetensors, encodeSafetensors, type SafetensorsContent } from './safetensors.js';

export const FORMAT_NAME = 'axon-nn';
/**
 * The model-file format version this build writes (as the `axon.version` metadata entry) and
 * reads; decodeModelFile refuses an axon-nn file of another version.
 *
 * @example
 * ```ts
 * import { decodeModelFile, encodeModel, Linear, FORMAT_VERSION } from 'axon-nn';
 * const { metadata } = decodeModelFile(encodeModel(new Linear(2, 1)));
 * console.log(metadata['axon.version'] === FORMAT_VERSION); // true
 * ```
 */
export const FORMAT_VERSION = '1';
/** Files larger than this are refused before reading (override with maxBytes). */
export const DEFAULT_MAX_BYTES = 8 * 1024 ** 3;

/**
 * What the model-file, weights and checkpoint readers throw for a file they refuse: missing or
 * unreadable, too large, not a regular file, not safetensors (the message says what it looks
 * like), a bad checksum or version, or weights that do not fit the module.
 *
 * @example
 * ```ts
 * import { loadModel, ModelFileError } from 'axon-nn';
 * try {
 *   await loadModel('/no/such/model.safetensors');
 * } catch (e) {
 *   if (e instanceof ModelFileError) console.log(e.code); // ENOENT
 * }
 * ```
 */
export class ModelFileError extends Error {
  /** Always 'ModelFileError'. */
  override name = 'ModelFileError';
  /** The system error code when the file could not be opened ('ENOENT', 'EACCES', ...). */
  declare readonly code?: string;

  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    if (options?.code !== undefined) this.code = options.code;
  }
}

/** What each reader expects, for its errors. */
const EXPECTED_MODEL = 'an axon-nn model file (as model.save writes)';
const EXPECTED_ANY = 'an axon-nn model, weights or checkpoint file';
const EXPECTED_WEIGHTS = 'a weights file (as saveWeights or model.save write, or a PyTorch state dict in safetensors)';
const LOAD_ONNX_HINT = 'for an ONNX model use loadOnnx(path)';

/**
 * Whether the bytes could be a safetensors file, damaged or not: the format puts an 8-byte
 * little-endian header length first (one that fits the file) and requires the JSON header to
 * open with '{'. Text, ONNX, zip or pickle bytes read as a length are far too large. Anything
 * that is neither is some other kind of file, and the error should say what it looks like
 * instead of which safetensors rule it broke first.
 */
function couldBeSafetensors(b: Uint8Array): boolean {
  if (b.length < 10) return false;
  const length = new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
  return b[8] === 0x7b || length <= BigInt(b.length - 8);
}

/** ModelProto's opening: ir_version (field 1, a small varint), then another ModelProto field. */
function looksLikeOnnx(b: Uint8Array): boolean {
  return (
    b.length >= 3 &&
    b[0] === 0x08 &&
    b[1] >= 1 &&
    b[1] <= 0x7f &&
    [0x12, 0x1a, 0x22, 0x28, 0x32, 0x3a, 0x42, 0x72].includes(b[2])
  );
}

/** A phrase saying what bytes that are not safetensors look like, with the fix when known. */
function whatItLooksLike(b: Uint8Array, source: string): string {
  if (looksLikeOnnx(b)) return 'it looks like an ONNX model: load it with loadOnnx(path)';
  const what = describeBytes(b);
  return /\.onnx$/i.test(source) ? `${what}; ${LOAD_ONNX_HINT}` : what;
}

function describeBytes(b: Uint8Array): string {
  if (b.length === 0) return 'the file is empty';
  const head = Buffer.from(b.buffer, b.byteOffset, Math.min(b.length, 256));
  const text = head
    .toString('latin1')
    .replace(/^\xEF\xBB\xBF/, '')
    .trimStart();
  if (text.startsWith('{') || text.startsWith('[')) return 'it holds JSON text';
  const magic = (...m: number[]): boolean => m.every((v, i) => b[i] === v);
  if (magic(0x50, 0x4b, 0x03, 0x04))
    return 'it is a zip archive (a PyTorch .pt file? save its state_dict with safetensors and use loadWeights, or export it to ONNX and use loadOnnx)';
  if (b[0] === 0x80 && b[1] >= 2 && b[1] <= 5)
    return 'it is a Python pickle (a PyTorch file? save its state_dict with safetensors and use loadWeights, or export it to ONNX and use loadOnnx)';
  if (magic(0x89, 0x48, 0x44, 0x46))
    return 'it is an HDF5 file (Keras .h5?): export the model to ONNX and use loadOnnx';
  if (magic(0x1f, 0x8b)) return 'it is gzip-compressed: decompress it first';
  if (b.length < 10) return `it has only ${b.length} bytes`;
  if (/^[\t\n\r\x20-\x7e]*$/.test(head.toString('latin1'))) return 'it holds text';
  const hex = Array.from(head.subarray(0, 8), (v) => v.toString(16).padStart(2, '0')).join(' ');
  return `its first bytes (${hex}) match no format this library reads`;
}

/**
 * sha256 over every metadata entry but the checksum (sorted, as JSON), a NUL, then the data
 * section: the file's checksum. It covers the architecture, checkpoint state and user
 * metadata as well as every tensor byte.
 */
function checksumOf(metadata: Record<string, string>, data: Iterable<Uint8Array>): string {
  const entries = Object.keys(metadata)
    .filter((k) => k !== 'axon.checksum')
    .sort()
    .map((k) => [k, metadata[k]]);
  const h = createHash('sha256')
    .update(JSON.stringify(entries), 'utf8')
    .update(new Uint8Array([0]));
  for (const chunk of data) h.update(chunk);
  return `sha256:${h.digest('hex')}`;
}

/** The tensors' bytes in the order encodeSafetensors lays them out (sorted names). */
function* dataChunks(tensors: Record<string, Tensor>): Generator<Uint8Array> {
  for (const name of Object.keys(tensors).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    const d = tensors[name].data;
    yield new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  }
}

/**
 * encodeModel's options. Unknown keys throw.
 *
 * @example
 * ```ts
 * import { encodeModel, Linear, type EncodeOptions } from 'axon-nn';
 * const options: EncodeOptions = { metadata: { dataset: 'iris' }, input: { shape: [4], dtype: 'float32' } };
 * const bytes = encodeModel(new Linear(4, 3), options);
 * ```
 */
export interface EncodeOptions {
  /** Extra string metadata stored with the file (keys starting with "axon." are reserved). */
  metadata?: Record<string, string>;
  /** Store the architecture too (default true; false for weights-only files). */
  architecture?: boolean;
  /** Extra tensors (checkpoints add optimizer state): stored under their names as given. */
  extraTensors?: Record<string, Tensor>;
  /** The input one sample has (no batch axis): stored so a loader can budget the forward
   * pass before running it. */
  input?: InputSpec | null;
}

/**
 * One sample's input: its shape (no batch axis) and dtype. A model file may declare it
 * (axon.input) so a loader can check and budget a forward pass before running it.
 *
 * @example
 * ```ts
 * import { saveModel, Sequential, Linear, ReLU, type InputSpec } from 'axon-nn';
 * import { tmpdir } from 'node:os';
 * const input: InputSpec = { shape: [8], dtype: 'float32' };
 * const net = new Sequential(new Linear(8, 16), new ReLU(), new Linear(16, 1));
 * await saveModel(net, `${tmpdir()}/mlp.safetensors`, { input });
 * ```
 */
export interface InputSpec {
  /** Dimensions of one sample (positive integers, at most 8 of them). */
  shape: number[];
  /** The input's dtype: 'float32', or 'int32' for token ids. */
  dtype: 'float32' | 'int32';
}

const MAX_INPUT_RANK = 8;

/** Checks an input spec from a file or a caller; null when `value` is not one. */
export function parseInputSpec(value: unknown): InputSpec | null {
  if (!value || typeof value !== 'object') return null;
  const { shape, dtype } = value as { shape?: unknown; dtype?: unknown };
  if (!Array.isArray(shape) || shape.length > MAX_INPUT_RANK) return null;
  if (!shape.every((d) => Number.isSafeInteger(d) && d > 0 && d <= 2 ** 31 - 1)) return null;
  if (dtype !== 'float32' && dtype !== 'int32') return null;
  return { shape: [...(shape as number[])], dtype };
}

/**
 * A model file's bytes: safetensors holding the module's state dict by parameter name, plus
 * metadata with the architecture (unless `architecture: false`), format version and a SHA-256
 * checksum over the metadata and every tensor byte. saveModel writes this to disk.
 *
 * @throws RangeError for a reserved metadata key ('format' or one starting with "axon.") or an
 *   extra tensor named like a model tensor; TypeError for non-string metadata; Error for a
 *   layer class that is not registered (registerLayer), unless `architecture: false`.
 * @example
 * ```ts
 * import { encodeModel, decodeModelFile, moduleFromContent, Linear } from 'axon-nn';
 * const bytes = encodeModel(new Linear(3, 2), { metadata: { author: 'me' } });
 * const copy = moduleFromContent(decodeModelFile(bytes)); // a Linear(3, 2) with the same weights
 * ```
 */
export function encodeModel(module: Module, options: EncodeOptions = {}): Uint8Array {
  checkOptionKeys('encodeModel', options, ['metadata', 'architecture', 'extraTensors', 'input']);
  const tensors: Record<string, Tensor> = Object.create(null);
  for (const [name, t] of Object.entries(module.stateDict())) tensors[name] = t;
  for (const [name, t] of Object.entries(options.extraTensors ?? {})) {
    if (name in tensors) throw new RangeError(`encodeModel: extra tensor '${name}' clashes with a model tensor`);
    tensors[name] = t;
  }
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(options.metadata ?? {})) {
    if (k.startsWith('axon.') || k === 'format') throw new RangeError(`encodeModel: metadata key '${k}' is reserved`);
    if (typeof v !== 'string') throw new TypeError(`encodeModel: metadata '${k}' must be a string`);
    metadata[k] = v;
  }
  const architecture = options.architecture === false ? '' : JSON.stringify(serializeModule(module));
  metadata.format = 'pt'; // what Hugging Face's loaders expect of PyTorch-layout tensors
  metadata['axon.format'] = FORMAT_NAME;
  metadata['axon.version'] = FORMAT_VERSION;
  if (architecture) metadata['axon.architecture'] = architecture;
  if (options.input) metadata['axon.input'] = JSON.stringify(options.input);
  metadata['axon.checksum'] = checksumOf(metadata, dataChunks(tensors));
  return encodeSafetensors(tensors, metadata);
}

/**
 * What decodeModelFile found: tensors, metadata and (when present) the architecture and the
 * declared input. moduleFromContent builds the module; loadWeightsFromContent loads the weights
 * into one.
 *
 * @example
 * ```ts
 * import { decodeModelFile, encodeModel, Linear, type ModelFileContent } from 'axon-nn';
 * const content: ModelFileContent = decodeModelFile(encodeModel(new Linear(3, 2)));
 * console.log(content.architecture?.class, [...content.tensors.keys()]); // Linear ['bias', 'weight']
 * ```
 */
export interface ModelFileContent extends SafetensorsContent {
  /** The layer registry's description of the module, or null for a weights-only file. */
  architecture: LayerSpec | null;
  /** The input shape the file declares for one sample (axon.input), when it has one. */
  input: InputSpec | null;
}

/**
 * Parses and verifies a model or weights file held in memory: the safetensors rules, then
 * the checksum (when the file has one) and the format version. Bytes that are no safetensors
 * file at all (JSON, ONNX, a PyTorch pickle, ...) get a ModelFileError saying what they look
 * like and `expected` (what the caller wanted), instead of the first safetensors rule broken.
 * @param source the name errors start with (a path, say).
 * @param expected what the caller wanted, for the error about bytes that are not safetensors.
 * @throws SafetensorsError or ModelFileError naming the source and what is wrong.
 * @example
 * ```ts
 * import { decodeModelFile, encodeModel, Linear } from 'axon-nn';
 * const bytes = encodeModel(new Linear(4, 2), { input: { shape: [4], dtype: 'float32' } });
 * const { architecture, input, metadata } = decodeModelFile(bytes, 'linear.safetensors');
 * console.log(input, metadata['axon.version']); // { shape: [4], dtype: 'float32' } '1'
 * ```
 */
export function decodeModelFile(bytes: Uint8Array, source = 'model file', expected = EXPECTED_ANY): ModelFileContent {
  let content: SafetensorsContent;
  try {
    content = decodeSafetensors(bytes, source);
  } catch (e) {
    if (!(e instanceof SafetensorsError) || couldBeSafetensors(bytes)) throw e;
    const what = whatItLooksLike(bytes, source);
    throw new ModelFileError(`${source}: not a safetensors file, so not ${expected}; ${what}`, { cause: e });
  }
  const md = content.metadata;
  const architectureText = md['axon.architecture'] ?? '';
  // Any of our keys (or a checkpoint's state) means the file must carry a valid checksum: a
  // flipped bit in one key name must not switch verification off.
  const ours = Object.keys(md).some((k) => k.startsWith('axon.') || k.startsWith('checkpoint.'));
  if (ours) {
    if (md['axon.format'] !== FORMAT_NAME)
      throw new ModelFileError(
        `${source}: axon.format is ${JSON.stringify(md['axon.format'])?.slice(0, 40) ?? 'missing'}, expected '${FORMAT_NAME}'`,
      );
    if (md['axon.version'] !== FORMAT_VERSION)
      throw new ModelFileError(
        `${source}: format version ${JSON.stringify(md['axon.version'])?.slice(0, 40) ?? 'missing'} is not supported (this build reads version ${FORMAT_VERSION})`,
      );
    const want = md['axon.checksum'];
    if (typeof want !== 'string') throw new ModelFileError(`${source}: the axon.checksum entry is missing`);
    const got = checksumOf(md, [content.dataSection]);
    if (got !== want)
      throw new ModelFileError(
        `${source}: checksum mismatch (the file is corrupt or was modified): stored ${want.slice(0, 80)}, computed ${got}`,
      );
  }
  let architecture: LayerSpec | null = null;
  if (architectureText) {
    try {
      architecture = JSON.parse(architectureText) as LayerSpec;
    } catch (e) {
      throw new ModelFileError(`${source}: the architecture is not valid JSON (${(e as Error).message})`);
    }
  }
  let input: InputSpec | null = null;
  if (md['axon.input'] !== undefined) {
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(md['axon.input']);
    } catch {
      // reported below
    }
    input = parseInputSpec(parsed);
    if (!input)
      throw new ModelFileError(
        `${source}: axon.input ${JSON.stringify(md['axon.input']).slice(0, 80)} is not { shape: positive integers (at most ${MAX_INPUT_RANK}), dtype: 'float32' | 'int32' }`,
      );
  }
  return { ...content, architecture, input };
}

/**
 * Builds the module a decoded file describes and loads its weights (strictly). Layers may not
 * allocate much more than the file holds, so a tiny hostile file cannot demand gigabytes.
 * Checkpoint-only tensors (names with '/') are ignored.
 *
 * @param source the name errors start with.
 * @throws ModelFileError for a weights-only file, an architecture that cannot be built, or
 *   weights that do not match it.
 * @example
 * ```ts
 * import { decodeModelFile, encodeModel, moduleFromContent, Sequential, Linear, Tanh } from 'axon-nn';
 * const bytes = encodeModel(new Sequential(new Linear(2, 4), new Tanh(), new Linear(4, 1)));
 * const net = moduleFromContent(decodeModelFile(bytes), 'net.safetensors');
 * console.log(Object.keys(net.stateDict())); // ['0.weight', '0.bias', '2.weight', '2.bias']
 * ```
 */
export function moduleFromContent(content: ModelFileContent, source = 'model file'): Module {
  if (!content.architecture)
    throw new ModelFileError(
      `${source}: the file holds weights only (no architecture); build the model and use loadWeights`,
    );
  let module: Module;
  // Layers may not allocate more values than the file holds (plus a little for buffers the
  // file may lack): a tiny file must not make us allocate gigabytes of weights.
  let budget = 1024;
  for (const t of content.tensors.values()) budget += t.size;
  try {
    module = deserializeModule(content.architecture, 'model', { maxElements: budget });
  } catch (e) {
    throw new ModelFileError(`${source}: ${(e as Error).message}`);
  }
  const state: Record<string, Tensor> = Object.create(null);
  for (const [name, t] of content.tensors) state[name] = t;
  // Checkpoints keep optimizer and loader state under '/'-prefixed names (module tensor names
  // are dotted identifiers and never contain '/').
  for (const name of Object.keys(state)) if (name.includes('/')) delete state[name];
  try {
    module.loadStateDict(state);
  } catch (e) {
    throw new ModelFileError(`${source}: ${(e as Error).message}`);
  }
  return module;
}

/**
 * readFileChecked (data/files.ts) with ModelFileError for a refused file, and for one that
 * cannot be opened: the message names the path (and the directory a relative one was resolved
 * against), the system error and `expected`, what the caller wanted; `code` keeps the system
 * error's code ('ENOENT', ...).
 */
export async function readFileChecked(path: string, maxBytes: number, expected = EXPECTED_ANY): Promise<Uint8Array> {
  try {
    return await readFileCheckedAs(
      path,
      maxBytes,
      (m, reason) => new ModelFileError(reason === 'not a regular file' ? `${m}; expected ${expected}` : m),
    );
  } catch (e) {
    const code = (e as NodeJS.ErrnoException | null)?.code;
    if (typeof code !== 'string' || e instanceof ModelFileError) throw e;
    const where = isAbsolute(path) ? '' : ` (resolved to ${resolve(path)})`;
    const what =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'a directory'
            : 'cannot be opened';
    const onnx = /\.onnx$/i.test(path) ? `; ${LOAD_ONNX_HINT}` : '';
    throw new ModelFileError(`${path}${where}: ${what} (${code}); expected ${expected}${onnx}`, { cause: e, code });
  }
}

/**
 * loadModel's options (and the base of loadWeights's).
 *
 * @example
 * ```ts
 * import { loadModel, saveModel, Linear, type ReadOptions } from 'axon-nn';
 * import { tmpdir } from 'node:os';
 * await saveModel(new Linear(2, 2), `${tmpdir()}/small.safetensors`);
 * const options: ReadOptions = { maxBytes: 1024 * 1024 }; // refuse anything over 1 MiB
 * const net = await loadModel(`${tmpdir()}/small.safetensors`, options);
 * ```
 */
export interface ReadOptions {
  /** Refuse files larger than this many bytes (default 8 GiB). */
  maxBytes?: number;
}

/**
 * Saves a module's architecture and weights to a model file (see encodeModel), atomically: a
 * reader, or a crash mid-save, sees the old file or the new one. Every layer class must be
 * registered (built-in ones are; see registerLayer) so that loadModel can rebuild it.
 *
 * @throws what encodeModel throws, or an Error naming the path when it cannot be written.
 * @example
 * ```ts
 * import { saveModel, loadModel, Sequential, Linear, ReLU } from 'axon-nn';
 * import { tmpdir } from 'node:os';
 * const net = new Sequential(new Linear(4, 8), new ReLU(), new Linear(8, 3));
 * await saveModel(net, `${tmpdir()}/net.safetensors`, { metadata: { classes: 'a,b,c' } });
 * const restored = await loadModel(`${tmpdir()}/net.safetensors`);
 * ```
 */
export async function saveModel(
  module: Module,
  path: string,
  options: {
    /** Extra string metadata (keys starting with "axon." and 'format' are reserved). */
    metadata?: Record<string, string>;
    /** One sample's input shape and dtype, stored for loaders. */
    input?: InputSpec | null;
  } = {},
): Promise<void> {
  checkOptionKeys('saveModel', options, ['metadata', 'input']);
  // Encoded synchronously (one consistent snapshot of the weights), then written.
  await writeFileAtomic(path, encodeModel(module, { metadata: options.metadata, input: options.input }));
}

/**
 * Loads a model saved by saveModel: the module, in training mode, with its weights. The file
 * is read as untrusted (a regular file of at most maxBytes, every safetensors rule, the
 * checksum, bounded layer sizes). ONNX files are read by loadOnnx instead.
 *
 * @throws ModelFileError (or SafetensorsError) naming the path and what is wrong.
 * @example
 * ```ts
 * import { saveModel, loadModel, Linear, tensor } from 'axon-nn';
 * import { tmpdir } from 'node:os';
 * await saveModel(new Linear(2, 1), `${tmpdir()}/linear.safetensors`);
 * const net = (await loadModel(`${tmpdir()}/linear.safetensors`)).eval();
 * console.log(net.forward(tensor([[1, 2]])).shape); // [1, 1]
 * ```
 */
export async function loadModel(path: string, options: ReadOptions = {}): Promise<Module> {
  return (await loadModelFile(path, options)).module;
}

/** loadModel, also returning the input shape the file declares (null when it has none). */
export async function loadModelFile(
  path: string,
  options: ReadOptions = {},
): Promise<{ module: Module; input: InputSpec | null }> {
  checkOptionKeys('loadModel', options, ['maxBytes']);
  const bytes = await readFileChecked(path, options.maxBytes ?? DEFAULT_MAX_BYTES, EXPECTED_MODEL);
  const content = decodeModelFile(bytes, path, EXPECTED_MODEL);
  return { module: moduleFromContent(content, path), input: content.input };
}

/**
 * Saves the state dict only (parameters and buffers by name, no architecture) as safetensors,
 * atomically; load it into a module built the same way with loadWeights.
 *
 * @throws what encodeModel throws, or an Error naming the path when it cannot be written.
 * @example
 * ```ts
 * import { saveWeights, loadWeights, Linear } from 'axon-nn';
 * import { tmpdir } from 'node:os';
 * await saveWeights(new Linear(3, 2), `${tmpdir()}/linear-weights.safetensors`);
 * const report = await loadWeights(new Linear(3, 2), `${tmpdir()}/linear-weights.safetensors`);
 * ```
 */
export async function saveWeights(
  module: Module,
  path: string,
  options: {
    /** Extra string metadata (keys starting with "axon." and 'format' are reserved). */
    metadata?: Record<string, string>;
  } = {},
): Promise<void> {
  checkOptionKeys('saveWeights', options, ['metadata']);
  await writeFileAtomic(path, encodeModel(module, { metadata: options.metadata, architecture: false }));
}

const LOAD_WEIGHTS_KEYS = ['maxBytes', 'strict', 'rename'] as const satisfies readonly (keyof LoadWeightsOptions)[];

/**
 * loadWeights's and loadWeightsFromContent's options. Unknown keys throw.
 *
 * @example
 * ```ts
 * import { loadWeights, saveWeights, Sequential, Linear, ReLU, type LoadWeightsOptions } from 'axon-nn';
 * import { tmpdir } from 'node:os';
 * const path = `${tmpdir()}/torch-like.safetensors`; // Linear, ReLU, Linear: tensors 0.* and 2.*
 * await saveWeights(new Sequential(new Linear(4, 8), new ReLU(), new Linear(8, 2)), path);
 * const options: LoadWeightsOptions = { rename: (name) => name.replace(/^2\./, '1.') };
 * const report = await loadWeights(new Sequential(new Linear(4, 8), new Linear(8, 2)), path, options);
 * ```
 */
export interface LoadWeightsOptions extends ReadOptions {
  /** Throw unless every name and shape matches (default true). */
  strict?: boolean;
  /**
   * Maps a file's tensor names to the module's (a PyTorch nn.Sequential with separate ReLU
   * modules numbers its Linear layers 0, 2, 4...): a record, or a function returning the new
   * name or null to skip the tensor.
   */
  rename?: Record<string, string> | ((name: string) => string | null);
}

/**
 * Copies a safetensors file's tensors into the module by name: ours, or a PyTorch state dict
 * saved with safetensors (F16, BF16 and F64 are converted to float32). Returns the report of
 * missing, unexpected and mis-shaped tensors; with strict (default) any of those throws.
 *
 * @throws ModelFileError (or SafetensorsError) for a refused file or, with strict, weights
 *   that do not match the module.
 * @example
 * ```ts
 * import { loadWeights, saveWeights, formatLoadReport, Linear, Sequential } from 'axon-nn';
 * import { tmpdir } from 'node:os';
 * await saveWeights(new Sequential(new Linear(3, 3), new Linear(3, 1)), `${tmpdir()}/two.safetensors`);
 * const report = await loadWeights(new Sequential(new Linear(3, 3)), `${tmpdir()}/two.safetensors`, { strict: false });
 * console.log(formatLoadReport(report)); // unexpected (2): 1.bias, 1.weight
 * ```
 */
export async function loadWeights(module: Module, path: string, options: LoadWeightsOptions = {}): Promise<LoadReport> {
  checkOptionKeys('loadWeights', options, LOAD_WEIGHTS_KEYS);
  const bytes = await readFileChecked(path, options.maxBytes ?? DEFAULT_MAX_BYTES, EXPECTED_WEIGHTS);
  return loadWeightsFromContent(module, decodeModelFile(bytes, path, EXPECTED_WEIGHTS), options, path);
}

/**
 * loadWeights on an already decoded file (from decodeModelFile or decodeSafetensors), e.g.
 * bytes fetched over the network.
 *
 * @param source the name errors start with.
 * @throws ModelFileError when, with strict, the weights do not match the module; TypeError for
 *   a rename function that returns neither a string nor null.
 * @example
 * ```ts
 * import { decodeSafetensors, encodeSafetensors, loadWeightsFromContent, Linear, ones, zeros } from 'axon-nn';
 * const bytes = encodeSafetensors({ weight: ones([2, 3]), bias: zeros([2]) });
 * const layer = new Linear(3, 2);
 * const report = loadWeightsFromContent(layer, decodeSafetensors(bytes)); // nothing missing
 * ```
 */
export function loadWeightsFromContent(
  module: Module,
  content: SafetensorsContent,
  options: LoadWeightsOptions = {},
  source = 'weights',
): LoadReport {
  checkOptionKeys('loadWeightsFromContent', options, LOAD_WEIGHTS_KEYS);
  const state: Record<string, Tensor> = Object.create(null);
  const { rename } = options;
  for (const [name, t] of content.tensors) {
    const to =
      rename === undefined
        ? name
        : typeof rename === 'function'
          ? rename(name)
          : Object.hasOwn(rename, name)
            ? rename[name]
            : name;
    if (to === null) continue;
    if (typeof to !== 'string') throw new TypeError(`loadWeights: rename must give a string or null for '${name}'`);
    state[to] = t;
  }
  try {
    return module.loadStateDict(state, { strict: options.strict ?? true });
  } catch (e) {
    if (e instanceof SafetensorsError) throw e;
    throw new ModelFileError(`${source}: ${(e as Error).message}`);
  }
}

/**
 * A load report (from loadWeights or Module.loadStateDict) as readable lines: missing,
 * unexpected and mis-shaped tensors ('' when everything matched).
 *
 * @example
 * ```ts
 * import { formatLoadReport } from 'axon-nn';
 * const mismatched = [{ name: 'fc.weight', expected: [2, 3], got: [3, 2] }];
 * const text = formatLoadReport({ missing: ['fc.bias'], unexpected: [], mismatched });
 * console.log(text); // 'missing (1): fc.bias\nmis-shaped: fc.weight expected [2,3], got [3,2]'
 * ```
 */
export function formatLoadReport(report: LoadReport): string {
  const lines: string[] = [];
  if (report.missing.length) lines.push(`missing (${report.missing.length}): ${report.missing.join(', ')}`);
  if (report.unexpected.length) lines.push(`unexpected (${report.unexpected.length}): ${report.unexpected.join(', ')}`);
  for (const m of report.mismatched)
    lines.push(`mis-shaped: ${m.name} expected ${shapeToString(m.expected)}, got ${shapeToString(m.got)}`);
  return lines.join('\n');
}
