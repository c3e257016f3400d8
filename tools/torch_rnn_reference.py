#!/usr/bin/python3
"""Writes tests/fixtures/torch-rnn.json: PyTorch (Debian's python3-torch) outputs, final states
and gradients of nn.LSTM / nn.GRU / nn.RNN for fixed weights and inputs, the independent oracle
of tests/rnn.test.ts (gate order, GRU reset placement, bidirectional/multi-layer layout,
batch_first, packed variable-length sequences, parameter names).

Run: /usr/bin/python3 tools/torch_rnn_reference.py
Inputs and weights are sin/cos waves of the element index (no RNG), so the file is
reproducible. Each case records output, h_n (and c_n), and the gradients of
L = sum(g * output) + sum(gh * h_n) (+ sum(gc * c_n)) for fixed upstream g, gh, gc.
"""
import json
import math

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

torch.set_default_dtype(torch.float64)


def wave(shape, a, b, scale=1.0):
    n = math.prod(shape)
    return scale * torch.tensor([math.sin(a * i + b) + 0.3 * math.cos(0.37 * i) for i in range(n)]).reshape(shape)


def flat(t):
    return t.detach().flatten().tolist()


def case(name, kind, input_size, hidden, steps, batch, layers=1, bidirectional=False,
         batch_first=False, lengths=None, with_state=False, nonlinearity="tanh", bias=True):
    cls = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[kind]
    extra = {"nonlinearity": nonlinearity} if kind == "rnn" else {}
    m = cls(input_size, hidden, num_layers=layers, bidirectional=bidirectional,
            batch_first=batch_first, bias=bias, **extra)
    params = {}
    for i, (pname, p) in enumerate(m.named_parameters()):
        with torch.no_grad():
            p.copy_(wave(list(p.shape), 0.53 + 0.07 * i, 0.3 * i, 0.4))
        params[pname] = {"shape": list(p.shape), "data": flat(p)}
    xshape = [batch, steps, input_size] if batch_first else [steps, batch, input_size]
    x = wave(xshape, 0.71, 0.2).requires_grad_(True)
    dirs = 2 if bidirectional else 1
    sshape = [layers * dirs, batch, hidden]
    h0 = wave(sshape, 0.29, 0.5, 0.5).requires_grad_(True) if with_state else None
    c0 = wave(sshape, 0.41, 0.9, 0.5).requires_grad_(True) if with_state and kind == "lstm" else None
    state = None
    if with_state:
        state = (h0, c0) if kind == "lstm" else h0
    if lengths is not None:
        packed = pack_padded_sequence(x, torch.tensor(lengths), batch_first=batch_first, enforce_sorted=False)
        out_p, st = m(packed, state)
        out, _ = pad_packed_sequence(out_p, batch_first=batch_first, total_length=steps)
    else:
        out, st = m(x, state)
    hn, cn = (st if kind == "lstm" else (st, None))
    g = wave(list(out.shape), 0.91, 0.2)
    gh = wave(list(hn.shape), 0.83, 0.6)
    loss = (out * g).sum() + (hn * gh).sum()
    gc = None
    if cn is not None:
        gc = wave(list(cn.shape), 0.67, 0.4)
        loss = loss + (cn * gc).sum()
    loss.backward()
    return {
        "name": name,
        "kind": kind,
        "inputSize": input_size,
        "hidden": hidden,
        "layers": layers,
        "bidirectional": bidirectional,
        "batchFirst": batch_first,
        "nonlinearity": nonlinearity,
        "bias": bias,
        "lengths": lengths,
        "x": {"shape": xshape, "data": flat(x)},
        "h0": None if h0 is None else flat(h0),
        "c0": None if c0 is None else flat(c0),
        "params": params,
        "out": {"shape": list(out.shape), "data": flat(out)},
        "hn": flat(hn),
        "cn": None if cn is None else flat(cn),
        "upstream": {"out": flat(g), "hn": flat(gh), "cn": None if gc is None else flat(gc)},
        "grads": {
            "x": flat(x.grad),
            "h0": None if h0 is None else flat(h0.grad),
            "c0": None if c0 is None else flat(c0.grad),
            "params": {pname: flat(p.grad) for pname, p in m.named_parameters()},
        },
    }


def main():
    cases = [
        case("lstm", "lstm", 3, 5, 4, 2),
        case("gru", "gru", 3, 5, 4, 2),
        case("rnn tanh", "rnn", 3, 5, 4, 2),
        case("rnn relu", "rnn", 3, 5, 4, 2, nonlinearity="relu"),
        case("lstm 2 layers bidirectional h0 c0", "lstm", 4, 3, 5, 3, layers=2, bidirectional=True, with_state=True),
        case("gru 2 layers bidirectional batch_first", "gru", 4, 3, 5, 3, layers=2, bidirectional=True, batch_first=True),
        case("lstm packed lengths bidirectional", "lstm", 3, 4, 6, 3, bidirectional=True, lengths=[6, 2, 4]),
        case("gru packed lengths batch_first h0", "gru", 3, 4, 6, 3, batch_first=True, lengths=[3, 6, 1], with_state=True),
        case("rnn no bias 17 hidden", "rnn", 2, 17, 3, 2, bias=False),
    ]
    with open("tests/fixtures/torch-rnn.json", "w") as f:
        json.dump({"generator": "tools/torch_rnn_reference.py", "torch": torch.__version__, "cases": cases}, f)
    print(f"wrote {len(cases)} cases")


if __name__ == "__main__":
    main()
