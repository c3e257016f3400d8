// Aligned heap memory that builds everywhere: std::aligned_alloc is C++17 but absent from
// MSVC's and mingw-w64's C runtimes (they have _aligned_malloc, whose memory must go back
// through _aligned_free, never free). Every aligned allocation in native/ uses this pair.
#pragma once

#include <cstddef>
#include <cstdlib>
#if defined(_WIN32)
#include <malloc.h>
#endif

namespace axon {

// `bytes` rounded up to a multiple of `alignment` (a power of two), at least one block, so the
// result is never a zero-byte allocation. Returns nullptr when out of memory. Free with
// aligned_free.
inline void* aligned_alloc_bytes(size_t alignment, size_t bytes) {
  if (bytes > static_cast<size_t>(-1) - alignment) return nullptr;
  const size_t rounded = bytes == 0 ? alignment : (bytes + alignment - 1) / alignment * alignment;
#if defined(_WIN32)
  return _aligned_malloc(rounded, alignment);
#else
  return std::aligned_alloc(alignment, rounded);
#endif
}

// Frees memory from aligned_alloc_bytes; nullptr is a no-op.
inline void aligned_free(void* p) {
#if defined(_WIN32)
  _aligned_free(p);
#else
  std::free(p);
#endif
}

}  // namespace axon
