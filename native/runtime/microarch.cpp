// The CPU's microarchitecture by name, from its CPUID family and model (x86) — what per-CPU
// tuning and the roofline report key on. Family/model tables from the vendors' programming
// references (AMD: family 19h = Zen 3 / Zen 4 by model range, 1Ah = Zen 5; Intel: family 6
// model numbers). Unknown parts get "unknown <vendor> family f model m".
#include <cstdio>
#include <string>

#include "axon/runtime.h"

namespace axon {

namespace {

struct Range {
  int first, last;
  const char* name;
};

const char* amd(int family, int model) {
  static const Range k19[] = {
      {0x00, 0x0f, "zen3"}, {0x10, 0x1f, "zen4"}, {0x20, 0x2f, "zen3"}, {0x30, 0x3f, "zen3"},
      {0x40, 0x4f, "zen3"}, {0x50, 0x5f, "zen3"}, {0x60, 0x7f, "zen4"}, {0xa0, 0xaf, "zen4"},
  };
  if (family == 0x17) return model >= 0x30 ? "zen2" : "zen1";
  if (family == 0x19)
    for (const Range& r : k19)
      if (model >= r.first && model <= r.last) return r.name;
  if (family == 0x1a) return "zen5";
  return nullptr;
}

const char* intel(int family, int model) {
  if (family != 6) return nullptr;
  switch (model) {
    case 0x3c:
    case 0x3f:
    case 0x45:
    case 0x46:
      return "haswell";
    case 0x3d:
    case 0x47:
    case 0x4f:
    case 0x56:
      return "broadwell";
    case 0x4e:
    case 0x5e:
    case 0x8e:
    case 0x9e:
    case 0xa5:
    case 0xa6:
      return "skylake";
    case 0x55:
      return "skylake-server";  // Skylake-SP, Cascade Lake, Cooper Lake
    case 0x66:
      return "cannon-lake";
    case 0x7d:
    case 0x7e:
      return "ice-lake";
    case 0x6a:
    case 0x6c:
      return "ice-lake-server";
    case 0x8c:
    case 0x8d:
      return "tiger-lake";
    case 0xa7:
      return "rocket-lake";
    case 0x97:
    case 0x9a:
      return "alder-lake";
    case 0xb7:
    case 0xba:
    case 0xbf:
      return "raptor-lake";
    case 0xaa:
    case 0xac:
      return "meteor-lake";
    case 0xbd:
      return "lunar-lake";
    case 0xc5:
    case 0xc6:
      return "arrow-lake";
    case 0x8f:
      return "sapphire-rapids";
    case 0xcf:
      return "emerald-rapids";
    case 0xad:
    case 0xae:
      return "granite-rapids";
    default:
      return nullptr;
  }
}

}  // namespace

std::string microarchitecture(const CpuIdentity& id) {
  const char* name = nullptr;
  if (id.vendor == "AuthenticAMD" || id.vendor == "HygonGenuine") name = amd(id.family, id.model);
  if (id.vendor == "GenuineIntel") name = intel(id.family, id.model);
  if (name != nullptr) return name;
  if (id.arch == "aarch64") return "aarch64";
  char buf[96];
  std::snprintf(buf, sizeof buf, "unknown %s family 0x%x model 0x%x",
                id.vendor.empty() ? id.arch.c_str() : id.vendor.c_str(), id.family, id.model);
  return buf;
}

}  // namespace axon
