# Default build (npm install runs `node-gyp rebuild`). The kernel sources that hold SIMD code
# are compiled once per level into static libraries with that level's flags; the addon picks
# one at load (native/runtime/cpu_features.cpp). CMakeLists.txt builds the same sources for
# the native tests.
#
# Linux (GCC or Clang, make) reads cflags_cc. macOS reads xcode_settings and Windows (MSVC)
# msvs_settings instead; both carry the same choices: C++17, exceptions on, -O3 / /O2, no
# contraction of a*b+c into FMA (only the kernels' explicit FMAs), and the per-ISA flags on the
# ISA libraries. Neither is built or tested on a Mac or with MSVC in CI: see docs/PLATFORMS.md.
{
  "variables": {
    "axon_isa_sources": [
      "native/kernels/cpu/activation.cpp",
      "native/kernels/cpu/attention.cpp",
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
      "native/kernels/cpu/norm_rows.cpp",
      "native/kernels/cpu/probe.cpp",
      "native/kernels/cpu/rnn_cell.cpp",
    ],
    # No -ffast-math anywhere: it breaks NaN checks, and on a shared library's link line it
    # turns on flush-to-zero for the whole Node process.
    "axon_cflags": ["-O3", "-fno-math-errno", "-ffp-contract=off", "-fPIC", "-Wall", "-Wextra",
                    "-Wno-unused-parameter"],
    # macOS: Apple Clang contracts by default (-ffp-contract=on), so it is turned off here too.
    "axon_xcode_cflags": ["-fno-math-errno", "-ffp-contract=off", "-Wall", "-Wextra",
                          "-Wno-unused-parameter"],
    # MSVC (with FloatingPointModel /fp:precise, below): /bigobj because the generated
    # binding_ops.cpp has ~3,800 sections under GCC, MSVC makes more, and its limit is 65,279.
    "axon_msvc_cflags": ["/std:c++17", "/bigobj", "/Zc:__cplusplus"],
  },
  "target_defaults": {
    "include_dirs": ["native/include", "native/kernels/cpu", "native/binding", "native/generated"],
    "cflags!": ["-fno-exceptions", "-O2"],
    "cflags_cc!": ["-fno-exceptions", "-O2"],
    "cflags_cc": ["<@(axon_cflags)"],
    "defines": ["NDEBUG"],
    # target_conditions, not conditions: these are merged after node-gyp's common.gypi, whose
    # own OS conditions would otherwise win (GCC_ENABLE_CPP_EXCEPTIONS NO on macOS; /Ox, and
    # /fp:strict on arm64, in Windows Release builds).
    "target_conditions": [
      ["OS=='mac'", {
        "xcode_settings": {
          "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
          "CLANG_CXX_LIBRARY": "libc++",
          "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
          "GCC_OPTIMIZATION_LEVEL": "3",
          # Node 20's own minimum on Intel Macs; libc++'s std::aligned_alloc needs 10.15 too.
          "MACOSX_DEPLOYMENT_TARGET": "10.15",
          "OTHER_CPLUSPLUSFLAGS": ["<@(axon_xcode_cflags)"],
        },
      }],
      ["OS=='win'", {
        "configurations": {
          "Release": {
            "msvs_settings": {"VCCLCompilerTool": {"Optimization": 2, "FloatingPointModel": 0}},
          },
        },
      }],
    ],
    "conditions": [
      ["OS=='win'", {
        # node-gyp's common.gypi turns exceptions off (_HAS_EXCEPTIONS=0, no /EH); its define
        # comes after ours on the command line, so it is removed rather than overridden.
        "defines!": ["_HAS_EXCEPTIONS=0"],
        "defines": ["_HAS_EXCEPTIONS=1"],
        "msvs_settings": {
          "VCCLCompilerTool": {
            "ExceptionHandling": 1,  # /EHsc
            # /fp:precise (also set per configuration above): no contraction of a*b+c, as
            # -ffp-contract=off (Visual Studio 2022 and later contract only with /fp:contract).
            "FloatingPointModel": 0,
            "AdditionalOptions": ["<@(axon_msvc_cflags)"],
          },
        },
      }],
    ],
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
          "xcode_settings": {"OTHER_CPLUSPLUSFLAGS": ["-mavx2", "-mfma", "-mf16c"]},
          # /arch:AVX2 also allows FMA and F16C.
          "msvs_settings": {"VCCLCompilerTool": {"AdditionalOptions": ["/arch:AVX2"]}},
        },
        {
          "target_name": "axon_isa_avx512",
          "type": "static_library",
          "sources": ["<@(axon_isa_sources)", "native/kernels/cpu/gemm/microkernel_avx512.cpp",
                      "native/kernels/cpu/lowp_avx512.cpp"],
          "defines": ["AXON_ISA_AVX512"],
          # GCC 12 warns falsely on _mm512_reduce_* and masked loads.
          "cflags_cc": ["-mavx2", "-mfma", "-mf16c", "-mavx512f", "-mavx512bw", "-mavx512vl",
                        "-mavx512dq", "-Wno-uninitialized", "-Wno-maybe-uninitialized"],
          "xcode_settings": {
            "OTHER_CPLUSPLUSFLAGS": ["-mavx2", "-mfma", "-mf16c", "-mavx512f", "-mavx512bw",
                                     "-mavx512vl", "-mavx512dq"],
          },
          # /arch:AVX512: F, CD, BW, DQ and VL.
          "msvs_settings": {"VCCLCompilerTool": {"AdditionalOptions": ["/arch:AVX512"]}},
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
        "native/binding/ops_attention.cpp",
        "native/binding/ops_layout.cpp",
        "native/binding/ops_conv.cpp",
        "native/binding/op_util.cpp",
        "native/generated/binding_ops.cpp",
        "native/binding/program.cpp",
        "native/binding/peers.cpp",
        "native/runtime/cpu_features.cpp",
        "native/runtime/thread_pool.cpp",
        "native/runtime/profiler.cpp",
        "native/runtime/microarch.cpp",
        "native/kernels/cpu/machine_probe.cpp",
        "native/kernels/cpu/cpu_config.cpp",
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
        "native/kernels/ref/attention_ref.cpp",
        "native/kernels/ref/lowp_ref.cpp",
        "native/kernels/cpu/lowp_gemm.cpp",
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
