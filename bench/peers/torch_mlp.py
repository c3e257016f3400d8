#!/usr/bin/python3
"""PyTorch peer for bench/fashion-mlp.bench.ts: the same 784-256-128-10 ReLU MLP, Adam 1e-3,
batch 64, cross-entropy, on Fashion-MNIST. Prints one JSON line.

  train:   times `--epochs` epochs (after a 50-step warm-up), reports seconds per epoch
  accuracy: trains `--epochs` epochs from `--seed` (no warm-up) and reports test accuracy;
           `--standardize` z-scores the pixels with the training set's mean and std, `--cosine`
           sets the lr to 1e-3 (1 + cos(pi e / epochs)) / 2 at each epoch e's start
  predict: median latency of 1000 calls at batch 1 and 64, building the input tensor from a
           float32 buffer and reading the output into one (as the JS side does)

Run fairly (../shared/BENCH-NOTES.md): Debian's /usr/bin/python3, OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE unset, OPENBLAS_NUM_THREADS=1, OMP_NUM_THREADS=T, torch.set_num_threads(T).
"""
import argparse
import gzip
import json
import math
import time

import numpy as np
import torch


def load(path, kind):
    with gzip.open(path, "rb") as f:
        data = f.read()
    if kind == "images":
        return np.frombuffer(data, dtype=np.uint8, offset=16).reshape(-1, 784).astype(np.float32) / 255.0
    return np.frombuffer(data, dtype=np.uint8, offset=8).astype(np.int64)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", default="train")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--standardize", action="store_true")
    ap.add_argument("--cosine", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10)
    )
    if args.mode in ("train", "accuracy"):
        x = torch.from_numpy(load(f"{args.data}/train-images-idx3-ubyte.gz", "images"))
        y = torch.from_numpy(load(f"{args.data}/train-labels-idx1-ubyte.gz", "labels"))
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = torch.nn.CrossEntropyLoss()
        n = x.shape[0]

        def run(steps=None):
            perm = torch.randperm(n)
            count = 0
            for i in range(0, n, 64):
                idx = perm[i : i + 64]
                opt.zero_grad()
                loss = loss_fn(model(x[idx]), y[idx])
                loss.backward()
                opt.step()
                count += 1
                if steps is not None and count >= steps:
                    return

        xt = torch.from_numpy(load(f"{args.data}/t10k-images-idx3-ubyte.gz", "images"))
        if args.standardize:
            mean, std = x.double().mean().item(), x.double().std(unbiased=False).item()
            x, xt = (x - mean) / std, (xt - mean) / std
        if args.mode == "train":
            run(50)
        times = []
        for e in range(args.epochs):
            if args.cosine:
                for g in opt.param_groups:
                    g["lr"] = 1e-3 * (1 + math.cos(math.pi * e / args.epochs)) / 2
            t0 = time.perf_counter()
            run()
            times.append(time.perf_counter() - t0)
        yt = torch.from_numpy(load(f"{args.data}/t10k-labels-idx1-ubyte.gz", "labels"))
        with torch.no_grad():
            acc = (model(xt).argmax(1) == yt).float().mean().item()
        print(json.dumps({"epoch_seconds": times, "test_accuracy": acc}))
    else:
        model.eval()
        out = {}
        for batch in (1, 64):
            src = np.random.rand(batch, 784).astype(np.float32)
            dst = np.empty((batch, 10), dtype=np.float32)
            with torch.no_grad():
                for _ in range(200):
                    dst[:] = model(torch.from_numpy(src)).numpy()
                lat = []
                for _ in range(1000):
                    t0 = time.perf_counter()
                    dst[:] = model(torch.from_numpy(src)).numpy()
                    lat.append(time.perf_counter() - t0)
            out[f"batch{batch}_us"] = float(np.median(lat) * 1e6)
        print(json.dumps(out))


if __name__ == "__main__":
    main()
