// The vocabulary of the op table (native/optable/*.ops.mjs). Each native op is declared once,
// as data: its arguments (typed, named, with the relations the binding checks), its kernel
// call and its cost model. tools/gen-ops.mjs turns the table into the binding's parsers and
// exports (native/generated/) and the TypeScript interface (src/native/ops.gen.ts).
//
// Expressions:
//  - `len` / `minLen` of a buffer: integer arithmetic (+ - * / parentheses, integer literals)
//    over the op's integer arguments (`m`), struct fields (`g.cIn`, JS names), other buffers'
//    lengths (`len(x)`; of a wordsList, how many arrays it holds), shapes' element counts
//    (`numel(s)`) and ranks (`rank(s)`), derived values declared in the op's `derived` (by
//    name) and max(a, b). The binding evaluates it with overflow checks;
//    the binding fuzz evaluates it in JS to build valid arguments.
//  - `alias` conditions: C++ over the parsed op `op` (op.a_len == op.out_len).
//  - `run`, `flops`, `bytes`, `shapes`: C++ in the op's member context (fields are the
//    arguments' snake_case names; a buffer `x` is `x` and `x_len`).

/** Fuzz hints (raw JS, only the binding fuzz reads them): `fuzzLen` a buffer length over `v`
 *  (argument values by name) and `L(name)` (buffer lengths) when check() enforces it instead of
 *  len/minLen; `eachLen` over `v` and `i` the length of element i of a list; `fuzz: [lo, hi]`
 *  the range of an int or number. */

/** Float32Array. Options: out (written by the op; `writesAll: true` or a C++ condition over
 *  the op's members when the op writes all of it without reading it, which lets a recorded
 *  Program skip zeroing a fresh buffer: native/binding/program.cpp), optional (null allowed),
 *  len, minLen,
 *  alias ({other: 'true' | C++ condition on `op`}: may be exactly the same memory as `other`),
 *  doc. */
export const f32 = (name, o = {}) => ({ kind: 'f32', name, ...o });
/** Int32Array. */
export const i32 = (name, o = {}) => ({ kind: 'i32', name, ...o });
/** Float64Array (JS-owned state read or written when the op runs; `optional` allows null, as
 *  for f32). `cells` names each cell
 *  (['lr', 'momentum', ...]): the array then has exactly that many, checked as soon as it is
 *  read (a hand-written check() may read them); the op struct gets k<Arg><Cell> indices,
 *  k<Arg>Length and k<Arg>Cells (the names, comma-separated), and ops.gen.ts exports
 *  `<Op><Arg> = { cell: index }` and `<Op><Arg>Length`. */
export const f64 = (name, o = {}) => ({ kind: 'f64', name, ...o });
/** Float32Array or Int32Array (layout ops move 4-byte words); all `words` of one op share
 *  one type. */
export const words = (name, o = {}) => ({ kind: 'words', name, ...o });
/** An array of `words` arrays (concat's inputs). */
export const wordsList = (name, o = {}) => ({ kind: 'wordsList', name, ...o });
/** An array of 0..max (default 65536) Float32Arrays (clipGradNorm's grads). With out, each is
 *  checked disjoint from the op's other buffers (not from one another). */
export const f32List = (name, o = {}) => ({ kind: 'f32List', name, ...o });
/** An integer in [min, max]. fuzz: [lo, hi] for the binding fuzz (default [min, min + 4]). */
export const int = (name, min, max, o = {}) => ({ kind: 'int', name, min, max, ...o });
/** A number; finite and within float32 unless nonfinite. `double: true` keeps it a double. */
export const num = (name, o = {}) => ({ kind: 'num', name, ...o });
/** A boolean; with `fallback` it may be omitted (trailing) or undefined. */
export const bool = (name, o = {}) => ({ kind: 'bool', name, ...o });
/** A value of one of the table's enums (native/optable/enums.mjs). */
export const enumArg = (name, type, o = {}) => ({ kind: 'enum', name, type, ...o });
/** A shape: an array of 0..8 non-negative integers. */
export const shape = (name, o = {}) => ({ kind: 'shape', name, ...o });
/** An array of exactly `len` (an expression) integers in [min, max]. */
export const intList = (name, len, min, max, o = {}) => ({ kind: 'intList', name, len, min, max, ...o });
/** A named object of the struct `type` (declared in structs.mjs). */
export const struct = (name, type, o = {}) => ({ kind: 'struct', name, type, ...o });

/** An op. See the header of this file and docs/ARCHITECTURE.md. `runCheck`: a C++ expression
 *  over the op's members giving the first problem with data it reads when it runs ("" when
 *  none, a hand-written function): checked at parse and again before every run. `overwrite: { flag, target }`
 *  names a bool argument that makes the op write `target` instead of adding into it; a
 *  recorded Program sets it for a fresh target. */
export const op = (spec) => spec;

/** Biggest extent of one dimension (args.h kMaxExtent) and of one GEMM dimension. */
export const MAX_EXTENT = 'kMaxExtent';
export const MAX_DIM = 'kMaxDim';
