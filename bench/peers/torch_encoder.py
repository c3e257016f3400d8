#!/usr/bin/python3
"""PyTorch 1.13 peer of bench/transformer.bench.ts: a DistilBERT-sized encoder
(nn.TransformerEncoder of 6 nn.TransformerEncoderLayer(768, 12, 3072, gelu, batch_first)), its
weights read from the safetensors file axon-nn wrote (the names are PyTorch's), so both engines
and the ONNX file compute the same function.

  torch_encoder.py export WEIGHTS ONNX          # the ONNX file (opset 14, dynamic batch/seq)
  torch_encoder.py infer WEIGHTS BATCH SEQ N    # median ms of N forwards (inference_mode)
  torch_encoder.py train BATCH SEQ N            # median ms of N SGD steps of one encoder layer

Run through bench/torch-peer.ts (OMP_NUM_THREADS = threads, tuned malloc). The last stdout line
is JSON.
"""
import json
import struct
import sys
import time

import torch
from torch import nn

D, HEADS, FF, LAYERS = 768, 12, 3072, 6


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    header.pop("__metadata__", None)
    out = {}
    for name, e in header.items():
        assert e["dtype"] == "F32", e["dtype"]
        b, end = e["data_offsets"]
        raw = bytearray(data[8 + n + b : 8 + n + end])
        out[name] = torch.frombuffer(raw, dtype=torch.float32).reshape(e["shape"]).clone()
    return out


def layer():
    return nn.TransformerEncoderLayer(D, HEADS, FF, dropout=0.1, activation="gelu", batch_first=True)


def encoder(weights):
    m = nn.TransformerEncoder(layer(), LAYERS, enable_nested_tensor=False)
    m.load_state_dict(read_safetensors(weights))
    return m.eval()


def median(v):
    return sorted(v)[len(v) // 2]


mode = sys.argv[1]
torch.manual_seed(0)
if mode == "export":
    m = encoder(sys.argv[2])
    x = torch.randn(1, 128, D)
    torch.onnx.export(m, x, sys.argv[3], opset_version=14, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch", 1: "seq"}, "output": {0: "batch", 1: "seq"}})
    print(json.dumps({"threads": torch.get_num_threads()}))
elif mode == "infer":
    m = encoder(sys.argv[2])
    batch, seq, n = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    x = torch.sin(torch.arange(batch * seq * D, dtype=torch.float32) * 0.37).reshape(batch, seq, D)
    times = []
    with torch.inference_mode():
        for _ in range(3):
            m(x)
        for _ in range(n):
            t0 = time.perf_counter()
            m(x)
            times.append((time.perf_counter() - t0) * 1e3)
    print(json.dumps({"ms": median(times), "threads": torch.get_num_threads()}))
elif mode == "train":
    batch, seq, n = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    m = layer().train()
    opt = torch.optim.SGD(m.parameters(), lr=1e-3, momentum=0.9)
    x = torch.sin(torch.arange(batch * seq * D, dtype=torch.float32) * 0.37).reshape(batch, seq, D)
    y = torch.cos(torch.arange(batch * seq * D, dtype=torch.float32) * 0.11).reshape(batch, seq, D)
    times = []
    for i in range(n + 3):
        t0 = time.perf_counter()
        opt.zero_grad()
        loss = nn.functional.mse_loss(m(x), y)
        loss.backward()
        opt.step()
        if i >= 3:
            times.append((time.perf_counter() - t0) * 1e3)
    print(json.dumps({"ms": median(times), "threads": torch.get_num_threads()}))
