// The bench CLI's peers (OpenBLAS, oneDNN) loaded at run time: see peers.cpp. Internal header.
#pragma once

#include <napi.h>

namespace axon::binding {

// Sets peerLoad, peerSetThreads, peerSgemm, peerConv2dIm2col, peerDnnlConv2d, peerDnnlEltwise.
void export_peers(Napi::Env env, Napi::Object exports);

}  // namespace axon::binding
