#!/usr/bin/python3
"""PyTorch peer for bench/fashion-cnn.bench.ts: the classic two-conv Fashion-MNIST network
(conv 5x5 32 + ReLU, max-pool 2, conv 5x5 64 + ReLU, max-pool 2, dense 1024 + ReLU, dropout
0.4, dense 10), Adam 1e-3, batch 64. Times `--epochs` epochs after a 20-step warm-up and
reports seconds per epoch, the minor page faults per epoch, and (with --accuracy) the test
accuracy after those epochs. Prints one JSON line.

Run fairly (../shared/BENCH-NOTES.md): Debian's /usr/bin/python3, OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE unset, OPENBLAS_NUM_THREADS=1, OMP_NUM_THREADS=T; GLIBC_TUNABLES set by the
caller for the tuned figure (without it glibc returns and re-faults the multi-MB buffers).
"""
import argparse
import gzip
import json
import resource
import time

import numpy as np
import torch


def load(path, kind):
    with gzip.open(path, "rb") as f:
        data = f.read()
    if kind == "images":
        return np.frombuffer(data, dtype=np.uint8, offset=16).reshape(-1, 1, 28, 28).astype(np.float32) / 255.0
    return np.frombuffer(data, dtype=np.uint8, offset=8).astype(np.int64)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--bn", action="store_true", help="BatchNorm after each conv (convs without bias)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    nn = torch.nn
    def block(cin, cout):
        if args.bn:
            return [nn.Conv2d(cin, cout, 5, padding=2, bias=False), nn.BatchNorm2d(cout), nn.ReLU(), nn.MaxPool2d(2)]
        return [nn.Conv2d(cin, cout, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2)]

    model = nn.Sequential(
        *block(1, 32), *block(32, 64),
        nn.Flatten(), nn.Linear(3136, 1024), nn.ReLU(), nn.Dropout(0.4), nn.Linear(1024, 10),
    )
    x = torch.from_numpy(load(f"{args.data}/train-images-idx3-ubyte.gz", "images"))
    y = torch.from_numpy(load(f"{args.data}/train-labels-idx1-ubyte.gz", "labels"))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    n = x.shape[0]

    def run(steps=None):
        model.train()
        perm = torch.randperm(n)
        for count, i in enumerate(range(0, n, 64)):
            idx = perm[i : i + 64]
            opt.zero_grad()
            loss_fn(model(x[idx]), y[idx]).backward()
            opt.step()
            if steps is not None and count + 1 >= steps:
                return

    run(20)
    times, faults = [], []
    for _ in range(args.epochs):
        f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0)
    xt = torch.from_numpy(load(f"{args.data}/t10k-images-idx3-ubyte.gz", "images"))
    yt = torch.from_numpy(load(f"{args.data}/t10k-labels-idx1-ubyte.gz", "labels"))
    model.eval()
    with torch.no_grad():
        acc = sum((model(xt[i : i + 1000]).argmax(1) == yt[i : i + 1000]).sum().item() for i in range(0, len(xt), 1000)) / len(xt)
    print(json.dumps({"epoch_seconds": times, "minor_faults": faults, "test_accuracy": acc}))


if __name__ == "__main__":
    main()
