// What this machine can do, measured (machineInfo() in JS, the roofline of profile reports):
// the fp32 FMA peak of one core and of the pool, and the bandwidth of streaming reads from a
// core's L2 and from DRAM, at the active SIMD level. About a second; callers cache it.
#pragma once

namespace axon {

struct MachineMeasure {
  int lanes = 0;              // fp32 lanes per vector at the active level
  int threads = 0;            // pool threads the "all" figures used
  double fma_gflops_one = 0;  // one thread, independent FMA chains
  double fma_gflops_all = 0;  // every pool thread at once
  double l2_gbps_one = 0;     // one thread re-reading 192 KiB
  double l2_gbps_all = 0;     // every thread re-reading its own 192 KiB
  double dram_gbps_all = 0;   // every thread reading its share of 256 MiB
  double seconds = 0;         // time the measurement took
};

MachineMeasure measure_machine();

}  // namespace axon
