// Argument checks for the binding (see args.h).
#include "args.h"

#include <cmath>
#include <cstring>
#include <type_traits>

#include "axon/portable.h"

namespace axon::binding {

std::string dims_string(const int64_t* dims, int ndim) {
  std::string s = "[";
  for (int i = 0; i < ndim; ++i) {
    if (i) s += ",";
    s += std::to_string(dims[i]);
  }
  return s + "]";
}

std::string shape_string(const Shape& s) { return dims_string(s.dims, s.ndim); }

Args::Args(const Napi::CallbackInfo& info, const char* op) : env_(info.Env()), op_(op) {
  values_.reserve(info.Length());
  for (size_t i = 0; i < info.Length(); ++i) values_.push_back(info[i]);
}

Args::Args(Napi::Env env, const Napi::Array& values, const char* op) : env_(env), op_(op) {
  const uint32_t n = values.Length();
  if (n > 64) type_error("too many arguments (" + std::to_string(n) + ")");
  values_.reserve(n);
  for (uint32_t i = 0; i < n; ++i) values_.push_back(values.Get(i));
}

void Args::type_error(const std::string& msg) const {
  throw Napi::TypeError::New(env_, std::string(op_) + ": " + msg);
}

void Args::range_error(const std::string& msg) const {
  throw Napi::RangeError::New(env_, std::string(op_) + ": " + msg);
}

Napi::Value Args::at(size_t i, const char* name) {
  if (i >= values_.size())
    type_error(std::string("missing argument '") + name + "' (position " + std::to_string(i) + ")");
  return values_[i];
}

template <class T>
Buffer<T> Args::typed(size_t i, const char* name, bool optional) {
  if (optional && (i >= values_.size() || values_[i].IsNull() || values_[i].IsUndefined()))
    return {};
  constexpr bool f32 = std::is_same_v<T, float>, i32 = std::is_same_v<T, int32_t>;
  constexpr napi_typedarray_type type = f32   ? napi_float32_array
                                        : i32 ? napi_int32_array
                                              : napi_float64_array;
  Napi::Value v = at(i, name);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type)
    type_error(std::string("argument '") + name + "' must be " +
               (f32   ? "a Float32Array"
                : i32 ? "an Int32Array"
                      : "a Float64Array"));
  auto arr = v.As<Napi::TypedArrayOf<T>>();
  buffers_.push_back(arr);
  return {arr.Data(), static_cast<int64_t>(arr.ElementLength()), true};
}
template F32 Args::typed<float>(size_t, const char*, bool);
template I32 Args::typed<int32_t>(size_t, const char*, bool);
template F64 Args::typed<double>(size_t, const char*, bool);

Words Args::words_value(Napi::Value v, const std::string& name) {
  if (v.IsTypedArray()) {
    auto t = v.As<Napi::TypedArray>();
    if (t.TypedArrayType() == napi_float32_array) {
      auto arr = v.As<Napi::Float32Array>();
      buffers_.push_back(arr);
      return {arr.Data(), static_cast<int64_t>(arr.ElementLength()), false};
    }
    if (t.TypedArrayType() == napi_int32_array) {
      auto arr = v.As<Napi::Int32Array>();
      buffers_.push_back(arr);
      return {arr.Data(), static_cast<int64_t>(arr.ElementLength()), true};
    }
  }
  type_error("argument '" + name + "' must be a Float32Array or an Int32Array");
}

Words Args::words(size_t i, const char* name) { return words_value(at(i, name), name); }

namespace {
// The value as an integer in [min, max]; `what` names it in the error.
int64_t checked_integer(const Args& a, Napi::Value v, const std::string& what, int64_t min,
                        int64_t max) {
  if (!v.IsNumber()) a.type_error(what + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(std::floor(d) == d)) a.type_error(what + " must be an integer, got " + std::to_string(d));
  if (d < static_cast<double>(min) || d > static_cast<double>(max))
    a.range_error(what + " must be in [" + std::to_string(min) + ", " + std::to_string(max) +
                  "], got " + std::to_string(d));
  return static_cast<int64_t>(d);
}
}  // namespace

int64_t Args::integer(size_t i, const char* name, int64_t min, int64_t max) {
  return checked_integer(*this, at(i, name), std::string("argument '") + name + "'", min, max);
}

Napi::Object Args::object(size_t i, const char* name) {
  Napi::Value v = at(i, name);
  if (!v.IsObject() || v.IsArray() || v.IsTypedArray())
    type_error(std::string("argument '") + name + "' must be an object with named fields");
  return v.As<Napi::Object>();
}

int64_t Args::int_field(const Napi::Object& o, const char* obj, const char* key, int64_t min,
                        int64_t max) {
  Napi::Value v = o.Get(key);
  const std::string what = std::string("'") + obj + "." + key + "'";
  if (v.IsUndefined()) type_error(what + " is missing");
  return checked_integer(*this, v, what, min, max);
}

bool Args::bool_field(const Napi::Object& o, const char* obj, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsBoolean())
    type_error(std::string("'") + obj + "." + key + "' must be a boolean" +
               (v.IsUndefined() ? " (it is missing)" : ""));
  return v.As<Napi::Boolean>().Value();
}

void Args::only_fields(const Napi::Object& o, const char* obj, size_t count,
                       const char* const* keys) {
  Napi::Array names = o.GetPropertyNames();
  if (names.Length() == count) return;  // every expected key was read, so these are they
  for (uint32_t i = 0; i < names.Length(); ++i) {
    const std::string k = names.Get(i).ToString();
    bool known = false;
    for (size_t j = 0; j < count; ++j) known = known || k == keys[j];
    if (!known) type_error(std::string("'") + obj + "' has an unknown field '" + k + "'");
  }
}

double Args::number(size_t i, const char* name, bool allow_nonfinite) {
  Napi::Value v = at(i, name);
  if (!v.IsNumber()) type_error(std::string("argument '") + name + "' must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!allow_nonfinite && !(std::isfinite(d) && std::fabs(d) <= 3.4028234663852886e38))
    range_error(std::string("argument '") + name + "' must be a finite float32 value, got " +
                std::to_string(d));
  return d;
}

bool Args::boolean(size_t i, const char* name) {
  Napi::Value v = at(i, name);
  if (!v.IsBoolean()) type_error(std::string("argument '") + name + "' must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

bool Args::optional_boolean(size_t i, const char* name, bool fallback) {
  if (i >= values_.size() || values_[i].IsUndefined()) return fallback;
  return boolean(i, name);
}

Napi::Array Args::array(size_t i, const char* name) {
  Napi::Value v = at(i, name);
  if (!v.IsArray()) type_error(std::string("argument '") + name + "' must be an array");
  return v.As<Napi::Array>();
}

Shape Args::shape(size_t i, const char* name) {
  Napi::Array a = array(i, name);
  const uint32_t n = a.Length();
  if (n > static_cast<uint32_t>(kMaxDims))
    range_error(std::string("shape '") + name + "' has " + std::to_string(n) +
                " dimensions; at most " + std::to_string(kMaxDims) + " are supported");
  Shape s;
  s.ndim = static_cast<int>(n);
  int64_t total = 1;
  for (uint32_t d = 0; d < n; ++d) {
    Napi::Value v = a.Get(d);
    if (!v.IsNumber()) type_error(std::string("shape '") + name + "' must hold numbers");
    const double x = v.As<Napi::Number>().DoubleValue();
    if (!(std::floor(x) == x) || x < 0 || x > static_cast<double>(kMaxExtent))
      range_error(std::string("shape '") + name + "' dimension " + std::to_string(d) +
                  " must be an integer in [0, 2^40], got " + std::to_string(x));
    s.dims[d] = static_cast<int64_t>(x);
    total = mul(total, s.dims[d], name);
  }
  return s;
}

std::vector<int64_t> Args::int_list(size_t i, const char* name, size_t len, int64_t min,
                                    int64_t max) {
  Napi::Array a = array(i, name);
  if (a.Length() != len)
    range_error(std::string("argument '") + name + "' must have " + std::to_string(len) +
                " entries, got " + std::to_string(a.Length()));
  std::vector<int64_t> out(len);
  for (uint32_t d = 0; d < len; ++d) {
    Napi::Value v = a.Get(d);
    if (!v.IsNumber()) type_error(std::string("argument '") + name + "' must hold numbers");
    const double x = v.As<Napi::Number>().DoubleValue();
    if (!(std::floor(x) == x) || x < static_cast<double>(min) || x > static_cast<double>(max))
      range_error(std::string("argument '") + name + "' entry " + std::to_string(d) +
                  " must be an integer in [" + std::to_string(min) + ", " + std::to_string(max) +
                  "], got " + std::to_string(x));
    out[d] = static_cast<int64_t>(x);
  }
  return out;
}

int64_t Args::mul(int64_t a, int64_t b, const char* what) {
  int64_t r;
  if (mul_overflow(a, b, &r) || r > kMaxExtent)
    range_error(std::string("size of '") + what + "' overflows (" + std::to_string(a) + " x " +
                std::to_string(b) + ")");
  return r;
}

int64_t Args::add(int64_t a, int64_t b, const char* what) {
  int64_t r;
  if (add_overflow(a, b, &r) || r > kMaxExtent)
    range_error(std::string("size of '") + what + "' overflows");
  return r;
}

void Args::expect_length(int64_t have, int64_t need, const char* name, const std::string& why) {
  if (have != need)
    range_error(std::string("argument '") + name + "' has " + std::to_string(have) +
                " elements, expected " + std::to_string(need) + " (" + why + ")");
}

void Args::expect_min_length(int64_t have, int64_t need, const char* name, const std::string& why) {
  if (have < need)
    range_error(std::string("argument '") + name + "' has " + std::to_string(have) +
                " elements, needs at least " + std::to_string(need) + " (" + why + ")");
}

void Args::expect_disjoint(const void* a, int64_t a_elems, const char* a_name, const void* b,
                           int64_t b_elems, const char* b_name, bool allow_identical) {
  if (!a || !b || a_elems == 0 || b_elems == 0) return;
  const auto pa = reinterpret_cast<uintptr_t>(a), pb = reinterpret_cast<uintptr_t>(b);
  const uintptr_t ea = pa + static_cast<uintptr_t>(a_elems) * 4;
  const uintptr_t eb = pb + static_cast<uintptr_t>(b_elems) * 4;
  if (pa >= eb || pb >= ea) return;
  if (allow_identical && pa == pb && a_elems == b_elems) return;
  range_error(std::string("'") + a_name + "' and '" + b_name + "' overlap in memory" +
              (allow_identical ? " (only an exact in-place alias is allowed)" : ""));
}

}  // namespace axon::binding
