#!/usr/bin/python3
"""Writes tests/fixtures/torch-conv.json: PyTorch (Debian's python3-torch) outputs and input
gradients of convolution, pooling and normalisation for fixed inputs, the independent oracle of
tests/kernels/conv.test.ts.

Run: /usr/bin/python3 tools/torch_conv_reference.py
Inputs are sin/cos waves of the element index (no RNG), so the file is reproducible. Each
case records the output and the gradients of L = sum(g * out) for a fixed upstream g.
"""
import json
import math

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def wave(shape, a, b):
    n = math.prod(shape)
    return torch.tensor([math.sin(a * i + b) + 0.3 * math.cos(0.37 * i) for i in range(n)]).reshape(shape)


def case(name, fn, inputs):
    ts = [t.clone().requires_grad_(True) for t in inputs]
    out = fn(*ts)
    g = wave(list(out.shape), 0.91, 0.2)
    (out * g).sum().backward()
    return {
        "name": name,
        "inputs": [{"shape": list(t.shape), "data": t.detach().flatten().tolist()} for t in inputs],
        "out": {"shape": list(out.shape), "data": out.detach().flatten().tolist()},
        "upstream": g.flatten().tolist(),
        "grads": [t.grad.flatten().tolist() for t in ts],
    }


def main():
    x = wave([2, 4, 9, 8], 0.7, 0.1)
    cases = [
        case("conv2d", lambda a, w, b: F.conv2d(a, w, b), [x, wave([6, 4, 3, 3], 0.3, 1.0), wave([6], 1.1, 0)]),
        case("conv2d_stride2_pad1", lambda a, w, b: F.conv2d(a, w, b, stride=2, padding=1), [x, wave([5, 4, 3, 3], 0.5, 0.3), wave([5], 0.9, 0)]),
        case("conv2d_dilation2_pad2", lambda a, w: F.conv2d(a, w, None, padding=2, dilation=2), [x, wave([3, 4, 3, 3], 0.2, 0.7)]),
        case("conv2d_groups2", lambda a, w, b: F.conv2d(a, w, b, padding=1, groups=2), [x, wave([6, 2, 3, 3], 0.4, 0.5), wave([6], 0.3, 0)]),
        case("conv2d_depthwise", lambda a, w: F.conv2d(a, w, None, padding=1, groups=4), [x, wave([4, 1, 3, 3], 0.6, 0.2)]),
        case("conv2d_same_5x5", lambda a, w: F.conv2d(a, w, None, padding="same"), [x, wave([3, 4, 5, 5], 0.25, 0.9)]),
        case("conv1d_stride2", lambda a, w, b: F.conv1d(a, w, b, stride=2, padding=1), [wave([2, 3, 17], 0.5, 0.4), wave([4, 3, 5], 0.3, 0.1), wave([4], 0.7, 0)]),
        case("conv_transpose2d", lambda a, w, b: F.conv_transpose2d(a, w, b, stride=2, padding=1, output_padding=1), [x, wave([4, 3, 3, 3], 0.35, 0.6), wave([3], 0.8, 0)]),
        case("conv_transpose2d_groups", lambda a, w: F.conv_transpose2d(a, w, None, stride=1, padding=0, groups=2), [x, wave([4, 2, 2, 3], 0.45, 0.15)]),
        case("max_pool2d", lambda a: F.max_pool2d(a, 2), [x]),
        case("max_pool2d_ceil_pad", lambda a: F.max_pool2d(a, 3, stride=2, padding=1, ceil_mode=True), [x]),
        case("max_pool2d_dilation", lambda a: F.max_pool2d(a, 2, stride=1, dilation=2), [x]),
        case("avg_pool2d", lambda a: F.avg_pool2d(a, 3, stride=2, padding=1), [x]),
        case("avg_pool2d_no_pad_count_ceil", lambda a: F.avg_pool2d(a, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False), [x]),
        case("adaptive_avg_pool2d", lambda a: F.adaptive_avg_pool2d(a, (4, 3)), [x]),
        case("batch_norm_train", lambda a, w, b: F.batch_norm(a, None, None, w, b, training=True), [x, wave([4], 0.5, 1.0) + 1, wave([4], 0.7, 0)]),
        case("batch_norm_relu_train", lambda a, w, b: F.relu(F.batch_norm(a, None, None, w, b, training=True)), [x, wave([4], 0.5, 1.0) + 1, wave([4], 0.7, 0)]),
        case("batch_norm_add_relu_train", lambda a, w, b, r: F.relu(F.batch_norm(a, None, None, w, b, training=True) + r), [x, wave([4], 0.5, 1.0) + 1, wave([4], 0.7, 0), wave([2, 4, 9, 8], 0.37, 0.5)]),
        case("layer_norm", lambda a, w, b: F.layer_norm(a, [9, 8], w, b), [x, wave([9, 8], 0.2, 0.3) + 1, wave([9, 8], 0.6, 0)]),
    ]
    # Running statistics after three training steps with momentum 0.1 (unbiased variance).
    rm, rv = torch.zeros(4), torch.ones(4)
    for s in range(3):
        F.batch_norm(wave([3, 4, 5, 5], 0.3 + 0.1 * s, s), rm, rv, training=True, momentum=0.1)
    out = {
        "source": f"PyTorch {torch.__version__}, float64",
        "cases": cases,
        "batch_norm_running": {"mean": rm.tolist(), "var": rv.tolist()},
    }
    def rounded(v):  # 9 significant digits: exact enough for float32 comparisons, half the size
        if isinstance(v, float):
            return float(f"{v:.9g}")
        if isinstance(v, list):
            return [rounded(e) for e in v]
        if isinstance(v, dict):
            return {k: rounded(e) for k, e in v.items()}
        return v

    with open("tests/fixtures/torch-conv.json", "w") as f:
        json.dump(rounded(out), f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {len(cases)} cases")


if __name__ == "__main__":
    main()
