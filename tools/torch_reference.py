#!/usr/bin/python3
"""Writes tests/fixtures/torch-reference.json: reference values computed with PyTorch (Debian's
python3-torch 1.13), an implementation independent of ours, for the optimizer, loss and
scheduler tests.

Run: /usr/bin/python3 tools/torch_reference.py
Inputs are fixed lists below (no RNG), so the file is reproducible.
"""
import json
import math

import torch

torch.set_default_dtype(torch.float64)  # references in float64; tests compare float32 results

P0 = [0.5, -1.25, 2.0, 0.0, -0.75, 3.5]
# Ten fixed gradients, one per step: a deterministic wave so momentum terms matter.
GRADS = [[math.sin(0.7 * s + 1.3 * i) * (1 + 0.1 * i) for i in range(6)] for s in range(10)]

OPTIMIZERS = {
    "sgd": (torch.optim.SGD, dict(lr=0.1)),
    "sgd_momentum": (torch.optim.SGD, dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    "sgd_nesterov": (torch.optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.001)),
    "sgd_maximize": (torch.optim.SGD, dict(lr=0.1, momentum=0.5, maximize=True)),
    "adam": (torch.optim.Adam, dict(lr=0.01)),
    "adam_wd_amsgrad": (torch.optim.Adam, dict(lr=0.02, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.05, amsgrad=True)),
    "adamw": (torch.optim.AdamW, dict(lr=0.01, weight_decay=0.1)),
    "rmsprop": (torch.optim.RMSprop, dict(lr=0.01)),
    "rmsprop_centered_momentum": (torch.optim.RMSprop, dict(lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.01, momentum=0.8, centered=True)),
    "adagrad": (torch.optim.Adagrad, dict(lr=0.1)),
    "adagrad_decay": (torch.optim.Adagrad, dict(lr=0.1, lr_decay=0.05, weight_decay=0.01, initial_accumulator_value=0.1, eps=1e-8)),
}


def optimizer_refs():
    out = {}
    for name, (cls, kw) in OPTIMIZERS.items():
        p = torch.tensor(P0, requires_grad=True)
        opt = cls([p], **kw)
        traj = []
        for g in GRADS:
            p.grad = torch.tensor(g)
            opt.step()
            traj.append(p.detach().tolist())
        out[name] = {"options": kw, "trajectory": traj}
    return out


LOGITS = [[2.0, -1.0, 0.5, 0.0], [-0.5, 1.5, 3.0, -2.0], [0.1, 0.2, 0.3, 0.4]]
TARGETS = [0, 2, 3]
CW = [1.0, 2.0, 0.5, 1.5]
PROBS = [[0.7, 0.1, 0.1, 0.1], [0.0, 0.25, 0.75, 0.0], [0.25, 0.25, 0.25, 0.25]]


def loss_refs():
    out = {}
    cases = {
        "ce_mean": dict(),
        "ce_sum": dict(reduction="sum"),
        "ce_none": dict(reduction="none"),
        "ce_weight": dict(weight=torch.tensor(CW)),
        "ce_smooth": dict(label_smoothing=0.2),
        "ce_weight_smooth": dict(weight=torch.tensor(CW), label_smoothing=0.1),
        "ce_ignore": dict(ignore_index=2),
    }
    for name, kw in cases.items():
        x = torch.tensor(LOGITS, requires_grad=True)
        loss = torch.nn.functional.cross_entropy(x, torch.tensor(TARGETS), **kw)
        loss.backward(torch.ones_like(loss))
        out[name] = {"loss": loss.tolist(), "grad": x.grad.tolist()}
    for name, kw in {"ce_prob": dict(), "ce_prob_weight_smooth": dict(weight=torch.tensor(CW), label_smoothing=0.1)}.items():
        x = torch.tensor(LOGITS, requires_grad=True)
        loss = torch.nn.functional.cross_entropy(x, torch.tensor(PROBS), **kw)
        loss.backward()
        out[name] = {"loss": loss.item(), "grad": x.grad.tolist()}
    big = torch.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 5.0]], requires_grad=True)
    loss = torch.nn.functional.cross_entropy(big, torch.tensor([1, 1]), reduction="none")
    loss.sum().backward()
    out["ce_extreme"] = {"logits": big.tolist(), "loss": loss.tolist(), "grad": big.grad.tolist()}
    xb = [[0.3, -2.0, 4.0], [-0.1, 0.0, 12.0]]
    tb = [[1.0, 0.0, 1.0], [0.0, 0.5, 1.0]]
    pw = [2.0, 0.5, 1.0]
    for name, kw in {"bce_logits": dict(), "bce_logits_pos_weight": dict(pos_weight=torch.tensor(pw))}.items():
        x = torch.tensor(xb, requires_grad=True)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(x, torch.tensor(tb), **kw)
        loss.backward()
        out[name] = {"loss": loss.item(), "grad": x.grad.tolist()}
    pb = [[0.9, 0.2, 0.5], [1e-9, 0.999, 0.3]]
    x = torch.tensor(pb, requires_grad=True)
    loss = torch.nn.functional.binary_cross_entropy(x, torch.tensor(tb))
    loss.backward()
    out["bce"] = {"input": pb, "loss": loss.item(), "grad": x.grad.tolist()}
    a = [[0.5, -1.0, 2.5], [3.0, 0.2, -0.4]]
    b = [[0.0, 1.0, 0.5], [-1.0, 0.1, 0.3]]
    for name, fn in {
        "mse": lambda x, y: torch.nn.functional.mse_loss(x, y),
        "l1": lambda x, y: torch.nn.functional.l1_loss(x, y),
        "huber": lambda x, y: torch.nn.functional.huber_loss(x, y, delta=1.5),
        "smooth_l1": lambda x, y: torch.nn.functional.smooth_l1_loss(x, y, beta=0.5),
    }.items():
        x = torch.tensor(a, requires_grad=True)
        loss = fn(x, torch.tensor(b))
        loss.backward()
        out[name] = {"loss": loss.item(), "grad": x.grad.tolist()}
    out["inputs"] = {"logits": LOGITS, "targets": TARGETS, "classWeight": CW, "probs": PROBS,
                     "bceLogits": xb, "bceTargets": tb, "posWeight": pw, "regA": a, "regB": b}
    return out


def scheduler_refs():
    out = {}

    def run(name, make, steps=12, metric=None):
        p = torch.zeros(1, requires_grad=True)
        opt = torch.optim.SGD([p], lr=0.1, momentum=0.9)
        sched = make(opt)
        lrs = [opt.param_groups[0]["lr"]]
        moms = [opt.param_groups[0]["momentum"]]
        for s in range(steps):
            opt.step()
            if metric is None:
                sched.step()
            else:
                sched.step(metric[s])
            lrs.append(opt.param_groups[0]["lr"])
            moms.append(opt.param_groups[0]["momentum"])
        out[name] = {"lrs": lrs, "momentum": moms}

    S = torch.optim.lr_scheduler
    run("step", lambda o: S.StepLR(o, step_size=3, gamma=0.5))
    run("multistep", lambda o: S.MultiStepLR(o, milestones=[2, 5, 9], gamma=0.3))
    run("exponential", lambda o: S.ExponentialLR(o, gamma=0.9))
    run("cosine", lambda o: S.CosineAnnealingLR(o, T_max=10, eta_min=0.001))
    run("onecycle", lambda o: S.OneCycleLR(o, max_lr=1.0, total_steps=12), steps=11)
    run("onecycle_linear_3phase", lambda o: S.OneCycleLR(o, max_lr=0.5, total_steps=12, anneal_strategy="linear", three_phase=True, pct_start=0.25), steps=11)
    losses = [1.0, 0.9, 0.95, 0.96, 0.97, 0.85, 0.86, 0.87, 0.88, 0.89, 0.9, 0.91]
    run("plateau", lambda o: S.ReduceLROnPlateau(o, factor=0.5, patience=2, cooldown=1, min_lr=0.02), metric=losses)
    out["plateauMetrics"] = losses
    return out


def main():
    data = {
        "source": "PyTorch %s (Debian python3-torch), tools/torch_reference.py" % torch.__version__,
        "optimizers": {"p0": P0, "grads": GRADS, "cases": optimizer_refs()},
        "losses": loss_refs(),
        "schedulers": scheduler_refs(),
    }
    with open("tests/fixtures/torch-reference.json", "w") as f:
        json.dump(data, f, indent=1)
    print("wrote tests/fixtures/torch-reference.json")


if __name__ == "__main__":
    main()
