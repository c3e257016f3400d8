// The counter-based hash behind dropout: a decision is a pure function of (seed, index), so a
// kernel draws any element's decision in any order, and a backward redraws the forward's
// decisions from the seed alone (attention's dropout stores no mask).
#pragma once

#include <cstdint>

namespace axon {

// SplitMix64's finaliser: every input bit affects every output bit.
inline uint64_t mix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Elements are dropped when the top 24 bits of the hash, as a fraction, fall below p.
inline uint64_t dropout_threshold(float p) {
  return static_cast<uint64_t>(static_cast<double>(p) * 16777216.0);
}
inline bool dropout_keep(uint64_t mixed_seed, uint64_t index, uint64_t threshold) {
  return (mix64(mixed_seed + index) >> 40) >= threshold;
}

}  // namespace axon
