#!/usr/bin/python3
"""PyTorch side of bench/conv3d.bench.ts: one Conv3d layer (padding 1) forward, and forward +
backward (input, weight and bias gradients), on a random clip batch; milliseconds per call,
median of the timed calls. Prints one JSON line {"forwardMs", "trainMs"}.

  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=T \
      /usr/bin/python3 bench/peers/torch_conv3d.py --shape 4,16,8,32,32 --cout 32 --k 3 --threads T
"""
import argparse
import json
import statistics
import time

import torch


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--shape", default="4,16,8,32,32")
    p.add_argument("--cout", type=int, default=32)
    p.add_argument("--k", type=int, default=3)
    p.add_argument("--stride", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--reps", type=int, default=10)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    n, c, d, h, w = (int(v) for v in a.shape.split(","))
    conv = torch.nn.Conv3d(c, a.cout, a.k, stride=a.stride, padding=a.k // 2)
    x = torch.randn(n, c, d, h, w, requires_grad=True)

    def timed(fn):
        for _ in range(2):
            fn()
        out = []
        for _ in range(a.reps):
            t0 = time.perf_counter()
            fn()
            out.append((time.perf_counter() - t0) * 1e3)
        return statistics.median(out)

    def forward():
        with torch.no_grad():
            conv(x)

    def train():
        conv.zero_grad(set_to_none=True)
        x.grad = None
        conv(x).sum().backward()

    print(json.dumps({"forwardMs": timed(forward), "trainMs": timed(train)}))


if __name__ == "__main__":
    main()
