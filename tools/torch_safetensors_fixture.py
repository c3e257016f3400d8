#!/usr/bin/python3
"""Writes tests/fixtures/torch-mlp*.safetensors and torch-mlp.json from PyTorch, and checks
that a model file written by axon-nn loads into PyTorch with the same outputs.

  /usr/bin/python3 tools/torch_safetensors_fixture.py write            # fixtures for the tests
  /usr/bin/python3 tools/torch_safetensors_fixture.py check FILE.axon  # our file -> torch

The safetensors writer and reader here follow the format's specification directly (the
`safetensors` package is not in Debian), so the tests exercise our reader against files laid
out by an independent implementation, with PyTorch's own dtype conversions (f16, bf16, f64).
"""
import json
import struct
import sys

import torch

DTYPE_NAMES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64"}
DTYPES = {v: k for k, v in DTYPE_NAMES.items()}


def write_safetensors(path, tensors, metadata=None):
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        raw = t.view(torch.uint8).numpy().tobytes() if t.dtype == torch.bfloat16 else t.numpy().tobytes()
        header[name] = {"dtype": DTYPE_NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    meta = header.pop("__metadata__", {})
    out = {}
    for name, e in header.items():
        b, end = e["data_offsets"]
        raw = bytearray(data[8 + n + b : 8 + n + end])
        out[name] = torch.frombuffer(raw, dtype=DTYPES[e["dtype"]]).reshape(e["shape"]) if raw else torch.zeros(e["shape"])
    return out, meta


def net():
    torch.manual_seed(7)
    return torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3))


def main():
    if sys.argv[1] == "write":
        model = net()
        sd = model.state_dict()
        x = torch.linspace(-2, 2, 4 * 6).reshape(4, 6)
        fixture = {"input": x.flatten().tolist(), "inputShape": [4, 6], "outputs": {}}
        for dtype, suffix in ((torch.float32, ""), (torch.float16, "-f16"), (torch.bfloat16, "-bf16"), (torch.float64, "-f64")):
            tensors = {k: v.to(dtype) for k, v in sd.items()}
            write_safetensors(f"tests/fixtures/torch-mlp{suffix}.safetensors", tensors, {"format": "pt"})
            # The outputs of the weights as stored, evaluated in float64 then rounded to float32.
            ref = net().double()
            ref.load_state_dict({k: v.double() for k, v in tensors.items()})
            with torch.no_grad():
                fixture["outputs"][DTYPE_NAMES[dtype]] = ref(x.double()).float().flatten().tolist()
        with open("tests/fixtures/torch-mlp.json", "w") as f:
            json.dump(fixture, f, indent=1)
            f.write("\n")
        print("wrote tests/fixtures/torch-mlp*.safetensors and torch-mlp.json")
    elif sys.argv[1] == "check":
        tensors, meta = read_safetensors(sys.argv[2])
        arch = json.loads(meta["axon.architecture"])
        # Our Sequential(Linear(relu), Linear) -> torch's Sequential(Linear, ReLU, Linear).
        model = net()
        model.load_state_dict({"0.weight": tensors["0.weight"], "0.bias": tensors["0.bias"], "2.weight": tensors["1.weight"], "2.bias": tensors["1.bias"]})
        x = torch.linspace(-2, 2, 4 * 6).reshape(4, 6)
        with torch.no_grad():
            print(json.dumps({"architecture": arch["class"], "outputs": model(x).flatten().tolist()}))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
