#!/usr/bin/env bash
# Cross-builds the native kernel tests for AArch64 (scalar + NEON levels) and runs them under
# qemu-user: the NEON code is compiled only on arm64, so this is how an x86 machine checks it.
# Needs Debian's g++-aarch64-linux-gnu and qemu-user. Usage: tools/neon-tests.sh [test args]
set -euo pipefail
cd "$(dirname "$0")/.."
out=build-neon
mkdir -p "$out"
CXX=aarch64-linux-gnu-g++
flags=(-std=c++17 -O2 -fno-math-errno -ffp-contract=off -Inative/include -Inative/kernels/cpu)
isa_sources=(native/kernels/cpu/{activation,elementwise,reduce,optim,kernel_table}.cpp native/kernels/cpu/gemm/{gemm,microkernel_generic}.cpp)
objs=()
for level in SCALAR NEON; do
  for src in "${isa_sources[@]}"; do
    obj="$out/$(basename "${src%.cpp}")_$level.o"
    "$CXX" "${flags[@]}" -DAXON_ISA_$level -c "$src" -o "$obj" &
    objs+=("$obj")
  done
done
wait
common=(native/runtime/*.cpp native/kernels/cpu/{dispatch,layout,loss,data}.cpp native/kernels/ref/*.cpp native/tests/*.cpp)
"$CXX" "${flags[@]}" -DAXON_HAVE_NEON "${common[@]}" "${objs[@]}" -lpthread -o "$out/axon_native_tests"
qemu-aarch64 -L /usr/aarch64-linux-gnu "$out/axon_native_tests" "$@"
