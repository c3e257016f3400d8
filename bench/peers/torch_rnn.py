#!/usr/bin/python3
"""PyTorch side of bench/rnn.bench.ts: training throughput of a one-layer LSTM or GRU
(batch-first input [batch, seq, input]) with a linear head on the final hidden state, MSE loss
and plain SGD, the same model and data shapes as axon-nn's side. Prints one JSON line:
{"mode", "threads", "seqPerSec": [per timed round...]}.

Run with Debian's interpreter and fair settings (see ../shared/BENCH-NOTES.md):
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=T \
      /usr/bin/python3 bench/peers/torch_rnn.py --mode lstm --threads T
"""
import argparse
import json
import time

import torch
from torch import nn


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mode", choices=["lstm", "gru"], default="lstm")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seq", type=int, default=50)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--input", type=int, default=32)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--batches", type=int, default=100)
    p.add_argument("--rounds", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    rnn = (nn.LSTM if a.mode == "lstm" else nn.GRU)(a.input, a.hidden, batch_first=True)
    head = nn.Linear(a.hidden, 1)
    params = list(rnn.parameters()) + list(head.parameters())
    opt = torch.optim.SGD(params, lr=0.01)
    n = a.batch * a.batches
    x = torch.randn(n, a.seq, a.input)
    y = torch.randn(n, 1)
    loss_fn = nn.MSELoss()

    def epoch():
        for b in range(a.batches):
            xb = x[b * a.batch:(b + 1) * a.batch]
            yb = y[b * a.batch:(b + 1) * a.batch]
            opt.zero_grad()
            _, h = rnn(xb)
            hn = h[0] if a.mode == "lstm" else h
            loss = loss_fn(head(hn[-1]), yb)
            loss.backward()
            opt.step()

    epoch()  # warm-up
    rates = []
    for _ in range(a.rounds):
        t0 = time.perf_counter()
        epoch()
        rates.append(n / (time.perf_counter() - t0))
    print(json.dumps({"mode": a.mode, "threads": a.threads, "seqPerSec": rates}))


if __name__ == "__main__":
    main()
