# The optional MPI addon (axon_mpi.node), built in its own folder by tools/build-mpi.mjs only
# when pkg-config finds Open MPI (ompi-c) or MPICH; never by the root binding.gyp, so the engine
# builds and runs unchanged without MPI. Flags and the library path come from pkg-config; the
# rpath lets Node find libmpi where Debian installs it (outside the default search path on some
# distributions).
{
  "variables": {
    "mpi_pc": "<!(pkg-config --exists ompi-c && echo ompi-c || echo mpich)",
  },
  "targets": [
    {
      "target_name": "axon_mpi",
      "sources": ["mpi_binding.cpp"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "cflags!": ["-fno-exceptions", "-O2"],
      "cflags_cc!": ["-fno-exceptions", "-O2"],
      "cflags_cc": ["-O2", "-fPIC", "-Wall", "-Wextra", "-Wno-unused-parameter",
                    "<!@(pkg-config --cflags <(mpi_pc))"],
      # Without these, mpi.h drags in the deprecated C++ bindings and loading fails on one
      # of their symbols (BUILD-NOTES, MPI).
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_CPP_EXCEPTIONS", "OMPI_SKIP_MPICXX",
                  "MPICH_SKIP_MPICXX", "NDEBUG"],
      "libraries": ["<!@(pkg-config --libs <(mpi_pc))",
                    "-Wl,-rpath,<!(pkg-config --variable=libdir <(mpi_pc))"],
    },
  ],
}
