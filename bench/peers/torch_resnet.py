#!/usr/bin/python3
"""PyTorch peer for bench/resnet.bench.ts: a CIFAR-style ResNet-20 (3 stages of 16/32/64
channels, 3 basic blocks each, stride-2 3x3 convs and 1x1 stride-2 convolution + BatchNorm
shortcuts, global average pool, linear 10), SGD momentum 0.9, batch 64 on random 32x32x3
inputs. Times `--steps` training steps after `--warmup` and prints one JSON line with the
milliseconds of each round of steps.

Run fairly (../shared/BENCH-NOTES.md): Debian's /usr/bin/python3, OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE unset, OPENBLAS_NUM_THREADS=1, OMP_NUM_THREADS=T, GLIBC_TUNABLES with the
malloc thresholds raised.
"""
import argparse
import json
import time

import torch

nn = torch.nn


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.short = None
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + (x if self.short is None else self.short(x)))


def resnet20():
    layers = [nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU()]
    cin = 16
    for cout, stride in ((16, 1), (32, 2), (64, 2)):
        for i in range(3):
            layers.append(Block(cin, cout, stride if i == 0 else 1))
            cin = cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)]
    return nn.Sequential(*layers)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--batch", type=int, default=64)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = resnet20()
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.randn(args.batch * 8, 3, 32, 32)
    y = torch.randint(0, 10, (args.batch * 8,))

    def step(i):
        j = (i % 8) * args.batch
        opt.zero_grad()
        loss_fn(model(x[j : j + args.batch]), y[j : j + args.batch]).backward()
        opt.step()

    for i in range(args.warmup):
        step(i)
    rounds = []
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        for i in range(args.steps):
            step(i)
        rounds.append((time.perf_counter() - t0) * 1000 / args.steps)
    print(json.dumps({"ms_per_step": rounds}))


if __name__ == "__main__":
    main()
