// Argument checking for the N-API binding: every value native code relies on is re-checked
// here (types, integer ranges, array lengths, shape products, overflow, aliasing) and a bad
// one throws a JS TypeError/RangeError that names the op and the argument. Kernels never see
// an unchecked value. The only code besides addon.cpp and ops.cpp that includes napi.h.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "axon/kernels.h"

namespace axon::binding {

// Largest extent of one dimension and of any element count we accept: far above any real
// tensor, low enough that products of two of them cannot overflow int64.
inline constexpr int64_t kMaxExtent = int64_t{1} << 40;

// A typed-array argument. `present` is false only for an optional argument given as
// null/undefined: a zero-length typed array is present but may have a null data pointer.
template <class T>
struct Buffer {
  T* data = nullptr;
  int64_t length = 0;
  bool present = false;
};
using F32 = Buffer<float>;
using I32 = Buffer<int32_t>;
using F64 = Buffer<double>;
// A Float32Array or an Int32Array: layout kernels move 4-byte words of either.
struct Words {
  void* data = nullptr;
  int64_t length = 0;
  bool is_int = false;
};

std::string dims_string(const int64_t* dims, int ndim);
std::string shape_string(const Shape& s);

class Args {
 public:
  Args(const Napi::CallbackInfo& info, const char* op);
  // Arguments given as an array (a Program recording an op).
  Args(Napi::Env env, const Napi::Array& values, const char* op);

  const char* op() const { return op_; }
  Napi::Env env() const { return env_; }

  // The *_or_null forms take null, undefined or a missing trailing argument as absent.
  F32 f32(size_t i, const char* name) { return typed<float>(i, name, false); }
  F32 f32_or_null(size_t i, const char* name) { return typed<float>(i, name, true); }
  I32 i32(size_t i, const char* name) { return typed<int32_t>(i, name, false); }
  I32 i32_or_null(size_t i, const char* name) { return typed<int32_t>(i, name, true); }
  F64 f64(size_t i, const char* name) { return typed<double>(i, name, false); }
  F64 f64_or_null(size_t i, const char* name) { return typed<double>(i, name, true); }
  Words words(size_t i, const char* name);
  Words words_value(Napi::Value v, const std::string& name);
  int64_t integer(size_t i, const char* name, int64_t min, int64_t max);
  // A finite number that fits in float32 (NaN, +-inf and |x| > FLT_MAX rejected) unless
  // allow_nonfinite.
  double number(size_t i, const char* name, bool allow_nonfinite = false);
  bool boolean(size_t i, const char* name);
  // An optional trailing boolean: `fallback` when absent or undefined.
  bool optional_boolean(size_t i, const char* name, bool fallback);
  template <class E>
  E enumeration(size_t i, const char* name) {
    return static_cast<E>(integer(i, name, 0, static_cast<int64_t>(E::Count) - 1));
  }
  // A JS array of 0..kMaxDims non-negative integers; the element count must stay in range.
  Shape shape(size_t i, const char* name);
  // A JS array of exactly `len` integers in [min, max].
  std::vector<int64_t> int_list(size_t i, const char* name, size_t len, int64_t min, int64_t max);
  Napi::Array array(size_t i, const char* name);
  // A struct argument: a plain object whose fields are read by name. Every field must be
  // present; a field the op does not know is an error (only_fields), never silently ignored.
  Napi::Object object(size_t i, const char* name);
  int64_t int_field(const Napi::Object& o, const char* obj, const char* key, int64_t min,
                    int64_t max);
  bool bool_field(const Napi::Object& o, const char* obj, const char* key);
  void only_fields(const Napi::Object& o, const char* obj, size_t count, const char* const* keys);

  // a * b and a + b, throwing on int64 overflow or results above kMaxExtent.
  int64_t mul(int64_t a, int64_t b, const char* what);
  int64_t add(int64_t a, int64_t b, const char* what);

  // Throws unless `arr` has exactly / at least `need` elements.
  void expect_length(int64_t have, int64_t need, const char* name, const std::string& why);
  void expect_min_length(int64_t have, int64_t need, const char* name, const std::string& why);
  // Throws if the byte ranges overlap, unless they are identical and allow_identical. Lengths
  // are in 4-byte elements (float32/int32): pass a Float64Array's length times 2.
  void expect_disjoint(const void* a, int64_t a_elems, const char* a_name, const void* b,
                       int64_t b_elems, const char* b_name, bool allow_identical);

  [[noreturn]] void type_error(const std::string& msg) const;
  [[noreturn]] void range_error(const std::string& msg) const;

  // Typed arrays read so far; an async call keeps references to them while it runs.
  std::vector<Napi::Object>& buffers() { return buffers_; }

 private:
  Napi::Value at(size_t i, const char* name);
  template <class T>
  Buffer<T> typed(size_t i, const char* name, bool optional);
  Napi::Env env_;
  std::vector<Napi::Value> values_;
  const char* op_;
  std::vector<Napi::Object> buffers_;
};

}  // namespace axon::binding
