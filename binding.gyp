# Default build (npm install runs `node-gyp rebuild`). The kernel sources that hold SIMD code
# are compiled once per level into static libraries with that level's flags; the addon picks
# one at load (native/runtime/cpu_features.cpp). CMakeLists.txt builds the same sources for
# the native tests.
{
  "variables": {
    "axon_isa_sources": [
      "native/kernels/cpu/activation.cpp",
      "native/kernels/cpu/elementwise.cpp",
      "native/kernels/cpu/reduce.cpp",
      "native/kernels/cpu/optim.cpp",
      "native/kernels/cpu/kernel_table.cpp",
      "native/kernels/cpu/gemm/gemm.cpp",
      "native/kernels/cpu/conv.cpp",
      "native/kernels/cpu/conv_gemm.cpp",
      "native/kernels/cpu/conv_direct.cpp",
      "native/kernels/cpu/conv_winograd.cpp",
      "native/kernels/cpu/pool_plane.cpp",
      "native/kernels/cpu/rnn_cell.cpp",
    ],
    # No -ffast-math anywhere: it breaks NaN checks, and on a shared library's link line it
    # turns on flush-to-zero for the whole Node process.
    "axon_cflags": ["-O3", "-fno-math-errno", "-ffp-contract=off", "-fPIC", "-Wall", "-Wextra",
                    "-Wno-unused-parameter"],
  },
  "target_defaults": {
    "include_dirs": ["native/include", "native/kernels/cpu", "native/binding", "native/generated"],
    "cflags!": ["-fno-exceptions", "-O2"],
    "cflags_cc!": ["-fno-exceptions", "-O2"],
    "cflags_cc": ["<@(axon_cflags)"],
    "defines": ["NDEBUG"],
  },
  "conditions": [
    ["target_arch=='x64'", {
      "targets": [
        {
          "target_name": "axon_isa_avx2",
          "type": "static_library",
          "sources": ["<@(axon_isa_sources)", "native/kernels/cpu/gemm/microkernel_avx2.cpp"],
          "defines": ["AXON_ISA_AVX2"],
          "cflags_cc": ["-mavx2", "-mfma", "-mf16c"],
        },
        {
          "target_name": "axon_isa_avx512",
          "type": "static_library",
          "sources": ["<@(axon_isa_sources)", "native/kernels/cpu/gemm/microkernel_avx512.cpp"],
          "defines": ["AXON_ISA_AVX512"],
          # GCC 12 warns falsely on _mm512_reduce_* and masked loads.
          "cflags_cc": ["-mavx2", "-mfma", "-mf16c", "-mavx512f", "-mavx512bw", "-mavx512vl",
                        "-mavx512dq", "-Wno-uninitialized", "-Wno-maybe-uninitialized"],
        },
      ],
    }],
    ["target_arch=='arm64'", {
      "targets": [
        {
          "target_name": "axon_isa_neon",
          "type": "static_library",
          "sources": ["<@(axon_isa_sources)", "native/kernels/cpu/gemm/microkernel_generic.cpp"],
          "defines": ["AXON_ISA_NEON"],
        },
      ],
    }],
  ],
  "targets": [
    {
      "target_name": "axon_isa_scalar",
      "type": "static_library",
      "sources": ["<@(axon_isa_sources)", "native/kernels/cpu/gemm/microkernel_generic.cpp"],
      "defines": ["AXON_ISA_SCALAR"],
    },
    {
      "target_name": "axon_native",
      "dependencies": ["axon_isa_scalar"],
      "sources": [
        "native/binding/addon.cpp",
        "native/binding/args.cpp",
        "native/binding/ops_elementwise.cpp",
        "native/binding/ops_sequence.cpp",
        "native/binding/ops_optim.cpp",
        "native/binding/ops_layout.cpp",
        "native/binding/ops_conv.cpp",
        "native/binding/op_util.cpp",
        "native/generated/binding_ops.cpp",
        "native/binding/program.cpp",
        "native/runtime/cpu_features.cpp",
        "native/runtime/thread_pool.cpp",
        "native/runtime/profiler.cpp",
        "native/kernels/cpu/dispatch.cpp",
        "native/kernels/cpu/layout.cpp",
        "native/kernels/cpu/loss.cpp",
        "native/kernels/cpu/data.cpp",
        "native/kernels/cpu/pool.cpp",
        "native/kernels/cpu/norm.cpp",
        "native/kernels/cpu/rnn.cpp",
        "native/kernels/cpu/embedding.cpp",
        "native/generated/op_enums.cpp",
        "native/kernels/ref/elementwise_ref.cpp",
        "native/kernels/ref/reduce_ref.cpp",
        "native/kernels/ref/layout_ref.cpp",
        "native/kernels/ref/gemm_ref.cpp",
        "native/kernels/ref/conv_ref.cpp",
        "native/kernels/ref/rnn_ref.cpp",
        "native/kernels/ref/optim_ref.cpp",
        "native/kernels/ref/loss_ref.cpp",
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": [
        "NAPI_VERSION=8",
        "NODE_ADDON_API_CPP_EXCEPTIONS",
        # An exception that cannot be thrown to JS (the environment of a terminated worker_thread
        # is being torn down) is dropped instead of rethrown as a C++ exception out of a Node-API
        # callback, which would std::terminate the whole process.
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS",
        "AXON_BUILD_FLAGS=\"node-gyp: -O3 -fno-math-errno -ffp-contract=off, avx2: -mavx2 -mfma, avx512: -mavx512f -mavx512bw -mavx512vl -mavx512dq\"",
      ],
      "conditions": [
        ["target_arch=='x64'", {
          "dependencies": ["axon_isa_avx2", "axon_isa_avx512"],
          "defines": ["AXON_HAVE_AVX2", "AXON_HAVE_AVX512"],
        }],
        ["target_arch=='arm64'", {
          "dependencies": ["axon_isa_neon"],
          "defines": ["AXON_HAVE_NEON"],
        }],
      ],
    },
  ],
}
