// Structs that cross the boundary as named objects (geometry, sizes); a family may also
// declare its own (`export const structs` in its .ops.mjs). Each field:
// ['jsName' or 'jsName:cpp_name', min, max, options]; options: bool (a boolean field), enum (a
// value of that enum of enums.mjs), extra (the
// C++ struct has no such field: it lives on the op as <arg>_<cpp_name>), fuzz ([lo, hi] for the
// binding fuzz), doc. `cpp`: the kernel struct filled (default: the same name).
const DIM = 'int64_t{1} << 31';
export default {
  ConvGeometry: {
    doc: 'A 2-D convolution: input (n, cIn, h, w), weight (cOut, cIn / groups, kH, kW).',
    fields: [
      ['n', 0, DIM, { fuzz: [0, 2] }],
      ['cIn', 1, DIM, { fuzz: [1, 3] }],
      ['h', 1, DIM, { fuzz: [1, 5] }],
      ['w', 1, DIM, { fuzz: [1, 5] }],
      ['cOut', 1, DIM, { fuzz: [1, 3] }],
      ['kH:kh', 1, DIM, { fuzz: [1, 3] }],
      ['kW:kw', 1, DIM, { fuzz: [1, 3] }],
      ['strideH', 1, DIM, { fuzz: [1, 2] }],
      ['strideW', 1, DIM, { fuzz: [1, 2] }],
      ['padTop', 0, DIM, { fuzz: [0, 1] }],
      ['padLeft', 0, DIM, { fuzz: [0, 1] }],
      ['padBottom', 0, DIM, { fuzz: [0, 1] }],
      ['padRight', 0, DIM, { fuzz: [0, 1] }],
      ['dilH', 1, DIM, { fuzz: [1, 2] }],
      ['dilW', 1, DIM, { fuzz: [1, 2] }],
      ['groups', 1, DIM, { fuzz: [1, 1] }],
    ],
  },
};
