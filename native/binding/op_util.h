// Shared by the generated op structs (native/generated/binding_ops.*) and the hand-written
// checks of each op family (ops_<family>.cpp). Internal header.
#pragma once

#include <string>

#include "args.h"
#include "axon/kernels.h"

namespace axon::binding {

inline constexpr int64_t kMaxDim = int64_t{1} << 31;  // one GEMM dimension or leading dimension

// randomCropFlip's geometry (the op table's CropFlipGeometry; random_crop_flip takes it as
// integers): the input (n, c, h, w), the crop out_h x out_w and the zero padding.
struct CropFlipGeometry {
  int64_t n, c, h, w, out_h, out_w, pad;
};

// An op whose checks can only run when it runs (it reads data or loop registers) sets this
// instead of touching memory; the sync export and Program replay turn it into a JS error.
void set_runtime_error(std::string message);
// Returns and clears the error set on this thread ("" when none).
std::string take_runtime_error();

std::string gemm_desc(const GemmArgs& g);
// "(outer,r,inner)"
std::string orc_string(int64_t outer, int64_t r, int64_t inner);

}  // namespace axon::binding
