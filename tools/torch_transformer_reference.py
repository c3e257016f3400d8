#!/usr/bin/python3
"""Writes tests/fixtures/torch-transformer.json: PyTorch (Debian's python3-torch 1.13) outputs,
attention weights and gradients of nn.MultiheadAttention, nn.TransformerEncoderLayer,
nn.TransformerDecoderLayer and nn.TransformerEncoder for fixed weights, inputs and masks: the
independent oracle of tests/transformer.test.ts (parameter names and layouts, sequence-first
and batch-first, packed and separate projections, bool and float masks, post- and pre-norm,
relu and gelu).

Run: /usr/bin/python3 tools/torch_transformer_reference.py
Inputs and weights are sin/cos waves of the element index (no RNG), so the file is
reproducible. Modules run in training mode with dropout 0 (deterministic, and off 1.13's
inference fast path). Each case records the outputs and the gradients of L = sum(g * output)
for a fixed g, with respect to the inputs and every parameter.
"""
import json
import math

import torch
from torch import nn

torch.set_default_dtype(torch.float64)


def wave(shape, a, b, scale=1.0):
    n = math.prod(shape)
    return scale * torch.tensor([math.sin(a * i + b) + 0.3 * math.cos(0.37 * i) for i in range(n)]).reshape(shape)


def flat(t):
    # 9 significant digits: float32's precision, and a third of the file.
    return [float("%.9g" % v) for v in t.detach().flatten().tolist()]


def tensor_json(t):
    return {"shape": list(t.shape), "data": flat(t.double() if t.dtype == torch.bool else t)}


def set_params(m):
    params = {}
    for i, (name, p) in enumerate(m.named_parameters()):
        with torch.no_grad():
            if name.endswith("norm1.weight") or name.endswith("norm2.weight") or name.endswith("norm3.weight") or name == "norm.weight":
                p.copy_(1.0 + wave(list(p.shape), 0.41 + 0.05 * i, 0.2 * i, 0.1))
            else:
                p.copy_(wave(list(p.shape), 0.53 + 0.07 * i, 0.3 * i, 0.3))
        params[name] = tensor_json(p)
    return params


def record(name, module, inputs, run, config, masks=None, call=None, weights=None):
    """inputs: dict of name -> tensor (requires grad); run() -> output (and weights)."""
    params = set_params(module)
    module.train()
    for t in inputs.values():
        t.requires_grad_(True)
    out = run()
    att = None
    if isinstance(out, tuple):
        out, att = out
    g = wave(list(out.shape), 0.29, 0.7)
    (g * out).sum().backward()
    case = {
        "name": name,
        "config": config,
        "params": params,
        "inputs": {k: tensor_json(v) for k, v in inputs.items()},
        "masks": {k: {"bool": v.dtype == torch.bool, **tensor_json(v)} for k, v in (masks or {}).items()},
        "call": call or {},
        "output": tensor_json(out),
        "upstream": tensor_json(g),
        "inputGrads": {k: tensor_json(v.grad) for k, v in inputs.items()},
        "paramGrads": {n: tensor_json(p.grad) for n, p in module.named_parameters()},
    }
    if att is not None:
        case["weights"] = tensor_json(att)
    return case


cases = []

# A. Self-attention, sequence-first, packed projection, key padding (bool) + float attn_mask,
# averaged weights.
E, H, L, N = 12, 3, 5, 2
mha = nn.MultiheadAttention(E, H)
x = wave([L, N, E], 0.31, 0.1)
kpm = torch.tensor([[False] * 5, [False, False, False, True, True]])
am = wave([L, L], 0.77, 0.4, 0.5)
cases.append(record(
    "mha_self", mha, {"x": x},
    lambda: mha(x, x, x, key_padding_mask=kpm, attn_mask=am, need_weights=True),
    {"embedDim": E, "numHeads": H, "batchFirst": False},
    masks={"keyPaddingMask": kpm, "attnMask": am}, call={"needWeights": True}))

# B. Cross-attention, batch-first, kdim/vdim != embedDim (separate projections), bool attn_mask.
E, H, Lq, Lk, N = 8, 2, 4, 7, 2
mha = nn.MultiheadAttention(E, H, kdim=6, vdim=5, batch_first=True)
q = wave([N, Lq, E], 0.23, 0.5)
k = wave([N, Lk, 6], 0.37, 0.9)
v = wave([N, Lk, 5], 0.19, 1.3)
am = torch.zeros(Lq, Lk, dtype=torch.bool)
am[0, 5:] = True
am[2, :2] = True
cases.append(record(
    "mha_cross", mha, {"query": q, "key": k, "value": v},
    lambda: mha(q, k, v, attn_mask=am, need_weights=False)[0],
    {"embedDim": E, "numHeads": H, "kdim": 6, "vdim": 5, "batchFirst": True},
    masks={"attnMask": am}))

# C. Encoder layer, post-norm, relu, sequence-first, key padding.
d, H, ff, L, N = 16, 4, 24, 6, 3
layer = nn.TransformerEncoderLayer(d, H, dim_feedforward=ff, dropout=0.0)
src = wave([L, N, d], 0.27, 0.3)
kpm = torch.zeros(N, L, dtype=torch.bool)
kpm[2, 3:] = True
cases.append(record(
    "encoder_post_relu", layer, {"src": src},
    lambda: layer(src, src_key_padding_mask=kpm),
    {"dModel": d, "nhead": H, "dimFeedforward": ff, "dropout": 0, "activation": "relu", "batchFirst": False, "normFirst": False},
    masks={"srcKeyPaddingMask": kpm}))

# D. Encoder layer, pre-norm, gelu, batch-first, causal (a bool mask in PyTorch 1.13).
layer = nn.TransformerEncoderLayer(d, H, dim_feedforward=ff, dropout=0.0, activation="gelu", batch_first=True, norm_first=True)
src = wave([2, 7, d], 0.21, 0.8)
causal = torch.triu(torch.ones(7, 7, dtype=torch.bool), diagonal=1)
cases.append(record(
    "encoder_pre_gelu_causal", layer, {"src": src},
    lambda: layer(src, src_mask=causal),
    {"dModel": d, "nhead": H, "dimFeedforward": ff, "dropout": 0, "activation": "gelu", "batchFirst": True, "normFirst": True},
    masks={"mask": causal}))

# E. Decoder layer, post-norm, batch-first, causal target, memory key padding.
d, H, ff = 16, 2, 20
layer = nn.TransformerDecoderLayer(d, H, dim_feedforward=ff, dropout=0.0, batch_first=True)
tgt = wave([2, 5, d], 0.33, 0.2)
mem = wave([2, 6, d], 0.17, 1.1)
causal = torch.triu(torch.ones(5, 5, dtype=torch.bool), diagonal=1)
mkpm = torch.zeros(2, 6, dtype=torch.bool)
mkpm[1, 4:] = True
cases.append(record(
    "decoder_post", layer, {"tgt": tgt, "memory": mem},
    lambda: layer(tgt, mem, tgt_mask=causal, memory_key_padding_mask=mkpm),
    {"dModel": d, "nhead": H, "dimFeedforward": ff, "dropout": 0, "activation": "relu", "batchFirst": True, "normFirst": False},
    masks={"tgtMask": causal, "memoryKeyPaddingMask": mkpm}))

# F. A two-layer encoder stack with a final LayerNorm (sequence-first).
d, H, ff = 16, 4, 24
stack = nn.TransformerEncoder(nn.TransformerEncoderLayer(d, H, dim_feedforward=ff, dropout=0.0), 2, norm=nn.LayerNorm(d))
src = wave([5, 2, d], 0.39, 0.6)
cases.append(record(
    "encoder_stack", stack, {"src": src},
    lambda: stack(src),
    {"dModel": d, "nhead": H, "dimFeedforward": ff, "dropout": 0, "activation": "relu", "batchFirst": False, "normFirst": False, "numLayers": 2},
    masks={}))

with open("tests/fixtures/torch-transformer.json", "w") as f:
    json.dump({"generator": "tools/torch_transformer_reference.py", "torch": torch.__version__, "cases": cases}, f)
print("wrote tests/fixtures/torch-transformer.json,", len(cases), "cases")
