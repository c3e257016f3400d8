#!/usr/bin/python3
"""Exports reference PyTorch models as ONNX test fixtures for axon-nn's ONNX importer.

What it does
    Builds ten small reference networks in PyTorch (Debian's python3-torch 1.13), seeds each
    one with torch.manual_seed, puts it in eval mode, runs it on a fixed input and exports it
    with torch.onnx.export (opset 13, do_constant_folding=True, dynamic first axis named
    'batch' on every graph input and output). onnx.checker.check_model is run on every file.

    Per model it writes the same layout as ONNX's own backend test data (onnx/backend/test/
    data/node/*), so one test runner reads both:

        <outdir>/<name>/model.onnx
        <outdir>/<name>/test_data_set_0/input_<i>.pb    (onnx TensorProto, named like graph input i)
        <outdir>/<name>/test_data_set_0/output_<i>.pb   (onnx TensorProto, named like graph output i)

    The expected outputs are computed by the PyTorch model itself (eval mode; grad left enabled,
    as during export's tracing) on the stored inputs. Finally it writes <outdir>/README.md: each model, its inputs/outputs, the
    opset, the set of ONNX op types in its exported graph and the file sizes.

How to run
    python3 tools/onnx/export_torch_models.py [outdir]
    (default outdir: tests/fixtures/onnx/torch, relative to the repository root)

    It needs torch and onnx. If the python3 on PATH lacks them (e.g. a pyenv interpreter that
    shadows /usr/bin/python3), the script re-executes itself with /usr/bin/python3.
    Single-threaded on purpose (torch.set_num_threads(1)); a full run takes a few seconds.

Determinism
    Every model is built after torch.manual_seed(<fixed per-model seed>) and its input comes
    from a torch.Generator with its own fixed seed, so re-running reproduces identical tensors
    (and byte-identical model.onnx files with the same torch/onnx versions).

Model notes (export decisions)
    mlp                        Linear/ReLU x2 + Linear -> Gemm, Relu.
    fashion_cnn                exactly the issue's architecture (Linear(3136,128) => ~1.7 MB).
    cnn_bn                     BatchNorm2d after each conv. Running stats are made non-trivial
                               by five training-mode forwards (and gamma/beta randomised). It is
                               exported with training=TrainingMode.PRESERVE on the eval-mode
                               model: with the default TrainingMode.EVAL torch's eval peephole
                               pass folds every BatchNorm into the preceding Conv, and the
                               graph would contain no BatchNormalization node at all. PRESERVE
                               on an eval model still exports inference BatchNormalization
                               (1 output, running stats as initializers).
    resnet_block               exported with the default TrainingMode.EVAL, so torch fuses each
                               Conv+BatchNorm into a single Conv (this is what real-world
                               torch exports of ResNets look like). The residual Add, the
                               stride-2 1x1 downsample projection and GlobalAveragePool remain.
    depthwise_separable        ReLU6 exports as Clip with min/max given as inputs (opset >= 11).
                               The input is scaled so that values above 6 occur and clip.
    lstm_text                  Embedding -> Gather on int64 tokens; the bidirectional LSTM ->
                               one ONNX LSTM node (direction=bidirectional, gates in ONNX's
                               i,o,f,c order, sequence_lens passed as the empty name ''), framed
                               by Transpose/Reshape for batch_first; mean over time = ReduceMean.
                               The zero initial states come from the input's dynamic batch size
                               (Shape -> Gather -> Unsqueeze -> Concat -> ConstantOfShape).
    gru_stacked                two-layer GRU -> two chained ONNX GRU nodes (linear_before_reset=1,
                               torch's formulation), each fed its h0 via Slice of one
                               ConstantOfShape; last time step taken with Gather(axis=1).
    transformer_encoder        nn.TransformerEncoder (2 x nn.TransformerEncoderLayer, gelu,
                               batch_first), exported as is; no hand-written attention needed.
                               torch 1.13 has an eval-mode fast path
                               (aten::_transformer_encoder_layer_fwd) that ONNX cannot express,
                               but it is skipped while grad is enabled and parameters require
                               grad, which is how torch.onnx.export traces; so the standard
                               decomposed attention (MatMul/Softmax/...) is exported. The
                               reference outputs are computed with grad enabled too (same path).
                               Opset 13 has no LayerNormalization or Gelu op: LayerNorm becomes
                               ReduceMean/Sub/Pow/Add/Sqrt/Div/Mul/Add and GELU the erf formula
                               x * 0.5 * (1 + erf(x / sqrt(2))). The script fails loudly if an op
                               outside the default ONNX domain (or an ATen fallback) shows up.
                               All parameters are re-drawn from a seeded generator (see
                               randomize_all_parameters): TransformerEncoder deep-copies its
                               layer, so both layers would otherwise share identical weights
                               (the exporter then dedups them into Identity nodes), and
                               LayerNorm gamma/beta and attention biases would be trivial 1/0.
    conv1d_timeseries          Conv1d incl. dilation=2; global average over time = ReduceMean.
    video_3d                   Conv3d, BatchNorm3d, MaxPool3d, AvgPool3d (ceil mode), ConvTranspose3d.
    conv_transpose_autoencoder Conv stride-2 encoder, ConvTranspose2d(stride=2, padding=1,
                               output_padding=1) decoder, Sigmoid. Parameters re-drawn with a
                               larger scale: with torch's default init every output sits within
                               0.5 +- 0.03, a weak check of the deconvolution.
"""
import os
import sys

try:
    import numpy as np
    import onnx
    import torch
    from onnx import numpy_helper
    from torch import nn
except ImportError:  # pragma: no cover - interpreter without torch/onnx on PATH
    if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3") and os.path.exists(
        "/usr/bin/python3"
    ):
        os.execv("/usr/bin/python3", ["/usr/bin/python3", os.path.abspath(__file__)] + sys.argv[1:])
    raise

import hashlib
import shutil
import warnings

OPSET = 13
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_OUTDIR = os.path.join(REPO_ROOT, "tests", "fixtures", "onnx", "torch")
COMMAND = "python3 tools/onnx/export_torch_models.py"

torch.set_num_threads(1)


# ---------------------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------------------


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10)
        )

    def forward(self, x):
        return self.net(x)


class FashionCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(3136, 128),
            nn.ReLU(),
            nn.Linear(128, 10),
        )

    def forward(self, x):
        return self.net(x)


class CnnBN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1),
            nn.BatchNorm2d(8),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 16x16 -> 8x8
            nn.Conv2d(8, 16, 3, padding=1),
            nn.BatchNorm2d(16),
            nn.ReLU(),
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        return self.fc(self.flatten(self.pool(self.features(x))))


class BasicBlock(nn.Module):
    """conv3x3-bn-relu-conv3x3-bn + shortcut, relu. Shortcut: identity, or a 1x1 projection
    (conv stride s + bn) when the shape changes."""

    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout)
            )

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ResNetBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        self.layer1 = BasicBlock(16, 16, stride=1)  # identity shortcut
        self.layer2 = BasicBlock(16, 32, stride=2)  # 1x1 stride-2 projection shortcut
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = self.layer2(self.layer1(self.stem(x)))
        return self.fc(torch.flatten(self.pool(x), 1))


class DepthwiseSeparable(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, padding=1)
        self.act0 = nn.ReLU6()
        self.depthwise = nn.Conv2d(16, 16, 3, stride=2, padding=1, groups=16)  # 16x16 -> 8x8
        self.act1 = nn.ReLU6()
        self.pointwise = nn.Conv2d(16, 32, 1)
        self.act2 = nn.ReLU6()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, 5)

    def forward(self, x):
        x = self.act0(self.stem(x))
        x = self.act1(self.depthwise(x))
        x = self.act2(self.pointwise(x))
        return self.fc(torch.flatten(self.pool(x), 1))


class LSTMText(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(50, 16)
        self.lstm = nn.LSTM(16, 24, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(48, 4)

    def forward(self, tokens):
        out, _ = self.lstm(self.embedding(tokens))  # [batch, seq, 2*24]
        return self.fc(out.mean(dim=1))


class GRUStacked(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(8, 16, num_layers=2, batch_first=True)
        self.fc = nn.Linear(16, 3)

    def forward(self, x):
        out, _ = self.gru(x)  # [batch, seq, 16]
        return self.fc(out[:, -1, :])


class TransformerEncoderNet(nn.Module):
    def __init__(self):
        super().__init__()
        layer = nn.TransformerEncoderLayer(
            d_model=32, nhead=4, dim_feedforward=64, dropout=0.0, activation="gelu", batch_first=True
        )
        # enable_nested_tensor only matters with a src_key_padding_mask; none is used here.
        self.encoder = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
        self.fc = nn.Linear(32, 3)

    def forward(self, x):
        return self.fc(self.encoder(x).mean(dim=1))


class Conv1dTimeseries(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv1d(3, 16, 5, padding=2)
        self.conv2 = nn.Conv1d(16, 16, 3, dilation=2, padding=2)
        self.relu = nn.ReLU()
        self.fc = nn.Linear(16, 2)

    def forward(self, x):
        x = self.relu(self.conv1(x))
        x = self.relu(self.conv2(x))
        return self.fc(x.mean(dim=2))


class ConvTransposeAutoencoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 8, 3, stride=2, padding=1),  # 16 -> 8
            nn.ReLU(),
            nn.Conv2d(8, 16, 3, stride=2, padding=1),  # 8 -> 4
            nn.ReLU(),
        )
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=1),  # 4 -> 8
            nn.ReLU(),
            nn.ConvTranspose2d(8, 1, 3, stride=2, padding=1, output_padding=1),  # 8 -> 16
            nn.Sigmoid(),
        )

    def forward(self, x):
        return self.decoder(self.encoder(x))


class Video3d(nn.Module):
    """A small clip classifier with an upsampling head: 3-D convolutions (stride, padding,
    groups), BatchNorm3d, 3-D max and average pooling, and a 3-D transposed convolution."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv3d(3, 8, 3, padding=1),
            nn.BatchNorm3d(8),
            nn.ReLU(),
            nn.MaxPool3d((1, 2, 2)),
            nn.Conv3d(8, 8, (3, 3, 3), stride=(2, 1, 1), padding=(1, 1, 1), groups=2),
            nn.ReLU(),
            nn.AvgPool3d(2, ceil_mode=True, count_include_pad=False),
        )
        self.up = nn.ConvTranspose3d(8, 4, 3, stride=2, padding=1, output_padding=1)
        self.fc = nn.Linear(4, 5)

    def forward(self, x):
        y = self.up(self.features(x))
        return self.fc(y.mean(dim=(2, 3, 4)))


# ---------------------------------------------------------------------------------------------
# Fixed inputs and preparation
# ---------------------------------------------------------------------------------------------


def gen(seed):
    g = torch.Generator()
    g.manual_seed(seed)
    return g


def randn(shape, seed, scale=1.0, shift=0.0):
    return torch.randn(*shape, generator=gen(seed)) * scale + shift


def warm_batchnorm(model, shape, seed, steps=5):
    """Give every BatchNorm non-trivial gamma/beta and running stats: randomise the affine
    parameters, then run a few training-mode forwards on shifted/scaled data."""
    g = gen(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.bias.copy_(torch.randn(m.num_features, generator=g) * 0.2)
        model.train()
        for _ in range(steps):
            model(torch.randn(*shape, generator=g) * 1.5 + 0.3)
    model.eval()


def randomize_all_parameters(model, seed, gain=1.0):
    """Re-draw every parameter from a seeded generator: weights ~ N(0, gain^2 / fan_in) with
    fan_in = prod(shape[1:]), norm gammas ~ 1 + N(0, 0.2^2), other vectors ~ N(0, 0.1^2).
    Used where torch's default init makes a weak test:
    - nn.TransformerEncoder deep-copies one layer, so both layers would have identical weights
      (the exporter then even dedups them into Identity nodes), and LayerNorm gamma/beta and
      the attention biases would be the trivial 1/0;
    - the conv-transpose autoencoder's default init leaves every output within 0.5 +- 0.03 of
      the Sigmoid's midpoint."""
    g = gen(seed)
    with torch.no_grad():
        for pname, p in model.named_parameters():
            if p.dim() >= 2:
                fan_in = 1
                for n in p.shape[1:]:
                    fan_in *= n
                p.copy_(torch.randn(*p.shape, generator=g) * (gain / fan_in ** 0.5))
            elif "norm" in pname and pname.endswith("weight"):
                p.copy_(1.0 + 0.2 * torch.randn(*p.shape, generator=g))
            else:
                p.copy_(0.1 * torch.randn(*p.shape, generator=g))


def prep_none(model):
    pass


# Each spec: name, seed, model class, list of (input name, tensor), output names, description,
# optional prepare(model), export training mode.
SPECS = [
    dict(
        name="mlp",
        seed=1,
        cls=MLP,
        inputs=lambda: [("input", randn((3, 784), 101))],
        desc="MLP 784-256-128-10: Linear, ReLU, Linear, ReLU, Linear.",
    ),
    dict(
        name="fashion_cnn",
        seed=2,
        cls=FashionCNN,
        inputs=lambda: [("input", torch.rand(2, 1, 28, 28, generator=gen(102)))],
        desc="Conv2d(1,32,3,p1), ReLU, MaxPool2d(2), Conv2d(32,64,3,p1), ReLU, MaxPool2d(2), "
        "Flatten, Linear(3136,128), ReLU, Linear(128,10). Input in [0,1).",
    ),
    dict(
        name="cnn_bn",
        seed=3,
        cls=CnnBN,
        inputs=lambda: [("input", randn((2, 3, 16, 16), 103))],
        prepare=lambda m: warm_batchnorm(m, (4, 3, 16, 16), 203),
        training=torch.onnx.TrainingMode.PRESERVE,
        desc="Conv2d(3,8,3,p1), BatchNorm2d, ReLU, MaxPool2d(2), Conv2d(8,16,3,p1), BatchNorm2d, "
        "ReLU, AdaptiveAvgPool2d(1), Flatten, Linear(16,10). BatchNorm kept as "
        "BatchNormalization (exported with TrainingMode.PRESERVE on the eval model, so not "
        "fused into Conv); running stats from 5 training-mode forwards.",
    ),
    dict(
        name="resnet_block",
        seed=4,
        cls=ResNetBlock,
        inputs=lambda: [("input", randn((2, 3, 16, 16), 104))],
        prepare=lambda m: warm_batchnorm(m, (4, 3, 16, 16), 204),
        desc="stem Conv3x3(3,16)+BN+ReLU, BasicBlock(16,16) with identity shortcut, "
        "BasicBlock(16,32,stride 2) with 1x1 stride-2 conv+BN projection, AdaptiveAvgPool2d(1), "
        "Linear(32,10). Default EVAL export: torch folds each BatchNorm into its Conv.",
    ),
    dict(
        name="depthwise_separable",
        seed=5,
        cls=DepthwiseSeparable,
        inputs=lambda: [("input", randn((2, 3, 16, 16), 105, scale=4.0))],
        desc="Conv2d(3,16,3,p1), ReLU6, depthwise Conv2d(16,16,3,stride 2,p1,groups 16), ReLU6, "
        "pointwise Conv2d(16,32,1), ReLU6, AdaptiveAvgPool2d(1), Linear(32,5). ReLU6 -> Clip.",
    ),
    dict(
        name="lstm_text",
        seed=6,
        cls=LSTMText,
        inputs=lambda: [("tokens", torch.randint(0, 50, (3, 12), generator=gen(106), dtype=torch.int64))],
        desc="Embedding(50,16) on int64 tokens [batch,12], LSTM(16,24,batch_first,bidirectional), "
        "mean over time, Linear(48,4).",
    ),
    dict(
        name="gru_stacked",
        seed=7,
        cls=GRUStacked,
        inputs=lambda: [("input", randn((3, 10, 8), 107))],
        desc="GRU(8,16,num_layers=2,batch_first) on [batch,10,8], last time step, Linear(16,3).",
    ),
    dict(
        name="transformer_encoder",
        seed=8,
        cls=TransformerEncoderNet,
        inputs=lambda: [("input", randn((2, 6, 32), 108))],
        prepare=lambda m: randomize_all_parameters(m, 208),
        desc="nn.TransformerEncoder: 2 x TransformerEncoderLayer(d_model 32, nhead 4, ff 64, "
        "dropout 0, gelu, batch_first, post-norm) on [batch,6,32], mean over seq, Linear(32,3). "
        "All parameters re-drawn from a seeded generator (layers differ; LayerNorm gamma/beta "
        "and attention biases non-trivial).",
    ),
    dict(
        name="conv1d_timeseries",
        seed=9,
        cls=Conv1dTimeseries,
        inputs=lambda: [("input", randn((3, 3, 40), 109))],
        desc="Conv1d(3,16,5,p2), ReLU, Conv1d(16,16,3,dilation 2,p2), ReLU, mean over time, "
        "Linear(16,2). Input [batch,3,40].",
    ),
    dict(
        name="conv_transpose_autoencoder",
        seed=10,
        cls=ConvTransposeAutoencoder,
        inputs=lambda: [("input", torch.rand(2, 1, 16, 16, generator=gen(110)))],
        prepare=lambda m: randomize_all_parameters(m, 210, gain=2.0),
        desc="Conv2d(1,8,3,s2,p1), ReLU, Conv2d(8,16,3,s2,p1), ReLU, "
        "ConvTranspose2d(16,8,3,s2,p1,op1), ReLU, ConvTranspose2d(8,1,3,s2,p1,op1), Sigmoid. "
        "Input [batch,1,16,16] in [0,1). Parameters re-drawn (He-style, gain 2) so the Sigmoid "
        "outputs spread away from 0.5.",
    ),
    dict(
        name="video_3d",
        seed=11,
        cls=Video3d,
        inputs=lambda: [("input", randn((2, 3, 5, 12, 12), 111))],
        prepare=lambda m: warm_batchnorm(m, (4, 3, 5, 12, 12), 211),
        desc="Conv3d(3,8,3,p1), BatchNorm3d (folded into the conv by the eval export), ReLU, "
        "MaxPool3d((1,2,2)), Conv3d(8,8,3,stride (2,1,1),p1,groups 2), ReLU, "
        "AvgPool3d(2, ceil_mode, count_include_pad False), ConvTranspose3d(8,4,3,s2,p1,op1), mean "
        "over D,H,W, Linear(4,5). Input [batch,3,5,12,12] (5 frames).",
    ),
]


# ---------------------------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------------------------


def write_tensor(path, array, name):
    tensor = numpy_helper.from_array(np.ascontiguousarray(array), name)
    with open(path, "wb") as f:
        f.write(tensor.SerializeToString())


def shape_str(vi):
    t = vi.type.tensor_type
    dims = [d.dim_param if d.HasField("dim_param") else str(d.dim_value) for d in t.shape.dim]
    return "%s %s[%s]" % (vi.name, onnx.TensorProto.DataType.Name(t.elem_type).lower(), ", ".join(dims))


def export_one(spec, outdir):
    name = spec["name"]
    torch.manual_seed(spec["seed"])
    model = spec["cls"]()
    model.eval()
    spec.get("prepare", prep_none)(model)
    model.eval()

    named_inputs = spec["inputs"]()
    input_names = [n for n, _ in named_inputs]
    args = tuple(t for _, t in named_inputs)

    # Grad stays enabled (as during export's tracing) so the reference outputs come from the
    # same code path that is exported (no torch 1.13 transformer fast path).
    outs = model(*args)
    outs = outs if isinstance(outs, (tuple, list)) else (outs,)
    output_names = ["output"] if len(outs) == 1 else ["output_%d" % i for i in range(len(outs))]

    model_dir = os.path.join(outdir, name)
    if os.path.isdir(model_dir):
        shutil.rmtree(model_dir)
    data_dir = os.path.join(model_dir, "test_data_set_0")
    os.makedirs(data_dir)
    model_path = os.path.join(model_dir, "model.onnx")

    dynamic_axes = {n: {0: "batch"} for n in input_names + output_names}
    training = spec.get("training", torch.onnx.TrainingMode.EVAL)
    with warnings.catch_warnings():
        # PRESERVE + do_constant_folding warns about training-mode exports; the model is in
        # eval mode, so the warning does not apply.
        warnings.simplefilter("ignore")
        # Export traces with grad enabled (parameters require grad), which also keeps torch
        # 1.13's fused transformer fast path out of the traced graph.
        torch.onnx.export(
            model,
            args,
            model_path,
            export_params=True,
            opset_version=OPSET,
            do_constant_folding=True,
            input_names=input_names,
            output_names=output_names,
            dynamic_axes=dynamic_axes,
            training=training,
        )
    assert not model.training, name

    proto = onnx.load(model_path)
    onnx.checker.check_model(proto)
    graph_inputs = [vi.name for vi in proto.graph.input]
    graph_outputs = [vi.name for vi in proto.graph.output]
    assert graph_inputs == input_names, (name, graph_inputs)
    assert graph_outputs == output_names, (name, graph_outputs)
    domains = {n.domain for n in proto.graph.node} - {"", "ai.onnx"}
    if domains:
        raise RuntimeError("%s: ops outside the default ONNX domain: %s" % (name, sorted(domains)))
    non_onnx = [n.op_type for n in proto.graph.node if n.op_type.startswith("ATen")]
    if non_onnx:
        raise RuntimeError("%s: ATen fallback ops exported: %s" % (name, non_onnx))

    for i, (n, t) in enumerate(named_inputs):
        write_tensor(os.path.join(data_dir, "input_%d.pb" % i), t.numpy(), n)
    for i, (n, t) in enumerate(zip(output_names, outs)):
        write_tensor(os.path.join(data_dir, "output_%d.pb" % i), t.detach().numpy(), n)

    op_types = sorted({n.op_type for n in proto.graph.node})
    op_counts = {}
    for n in proto.graph.node:
        op_counts[n.op_type] = op_counts.get(n.op_type, 0) + 1
    with open(model_path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    opset = [o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")][0]
    return dict(
        name=name,
        desc=spec["desc"],
        opset=opset,
        ir_version=proto.ir_version,
        op_types=op_types,
        op_counts=op_counts,
        nodes=len(proto.graph.node),
        initializers=len(proto.graph.initializer),
        inputs=[shape_str(vi) for vi in proto.graph.input],
        outputs=[shape_str(vi) for vi in proto.graph.output],
        test_inputs=["%s %s%s" % (n, t.numpy().dtype, list(t.shape)) for n, t in named_inputs],
        test_outputs=["%s %s%s" % (n, t.detach().numpy().dtype, list(t.shape)) for n, t in zip(output_names, outs)],
        model_bytes=os.path.getsize(model_path),
        sha256=digest,
        export_mode=str(training).split(".")[-1],
    )


def display_path(path):
    rel = os.path.relpath(os.path.abspath(path), REPO_ROOT)
    return os.path.abspath(path) if rel.startswith("..") else rel


def write_readme(outdir, results):
    union = sorted({op for r in results for op in r["op_types"]})
    lines = [
        "# ONNX fixtures exported from PyTorch",
        "",
        "Generated by `tools/onnx/export_torch_models.py`; do not edit by hand. Regenerate with:",
        "",
        "```",
        COMMAND + ("" if os.path.abspath(outdir) == DEFAULT_OUTDIR else " " + display_path(outdir)),
        "```",
        "",
        "Exported with torch %s and onnx %s: opset %d, `do_constant_folding=True`, eval mode, "
        "dynamic first axis `batch` on every graph input and output. Each `onnx.checker.check_model`-"
        "clean. Layout matches ONNX's backend test data: `<name>/model.onnx`, "
        "`<name>/test_data_set_0/input_<i>.pb` and `output_<i>.pb` (TensorProto named like the "
        "graph input/output). Expected outputs are the PyTorch model's own outputs (float32) on "
        "the stored inputs." % (torch.__version__, onnx.__version__, OPSET),
        "",
        "## Models",
        "",
    ]
    for r in results:
        lines += [
            "### %s" % r["name"],
            "",
            r["desc"],
            "",
            "- opset %d (IR version %d), export mode %s, %d nodes, %d initializers"
            % (r["opset"], r["ir_version"], r["export_mode"], r["nodes"], r["initializers"]),
            "- graph inputs: %s; outputs: %s" % ("; ".join(r["inputs"]), "; ".join(r["outputs"])),
            "- test_data_set_0: inputs %s; outputs %s" % ("; ".join(r["test_inputs"]), "; ".join(r["test_outputs"])),
            "- model.onnx: %d bytes (sha256 %s...)" % (r["model_bytes"], r["sha256"]),
            "- op types: %s" % ", ".join("%s (%d)" % (op, r["op_counts"][op]) for op in r["op_types"]),
            "",
        ]
    lines += [
        "## All op types used (%d)" % len(union),
        "",
        ", ".join(union),
        "",
        "## Notes for the importer",
        "",
        "- `Constant` nodes carry scalars/1-D int64 tensors (shape arithmetic) and float scalars.",
        "- Shape arithmetic on int64 (transformer_encoder, lstm_text, gru_stacked): Shape, Gather "
        "(scalar and 1-element indices), Unsqueeze/Squeeze with axes as an input (opset 13), "
        "Concat, integer Div (truncating), Mul/Add on int64, Cast to int64, Slice with "
        "computed starts/ends, Reshape with 0 (copy dim) and -1, ConstantOfShape.",
        "- LSTM/GRU: optional inputs omitted by the empty name `''` (sequence_lens); initial "
        "states are given. LSTM gates in ONNX order i,o,f,c with B = [Wb; Rb]; GRU has "
        "`linear_before_reset=1`. layout=0 ([seq, batch, ...]) framed by Transpose.",
        "- Clip takes min/max as (scalar) inputs, not attributes. ReduceMean takes `axes` as an "
        "attribute (opset 13), keepdims 0 or default 1. Softmax uses opset-13 semantics "
        "(single axis, -1). Gemm always alpha=beta=1, transB=1.",
        "- BatchNormalization (cnn_bn only) is inference form: 5 inputs, 1 output, epsilon 1e-5. "
        "Elsewhere torch folded BatchNorm into Conv.",
        "- MatMul is batched 3-D x 3-D and 3-D x 2-D (broadcast); Add/Mul/Div/Sub/Pow use "
        "numpy broadcasting with scalars and per-channel vectors.",
        "",
    ]
    with open(os.path.join(outdir, "README.md"), "w") as f:
        f.write("\n".join(lines))


def main(argv):
    if len(argv) > 2 or (len(argv) == 2 and argv[1] in ("-h", "--help")):
        print(__doc__)
        return 0 if len(argv) == 2 else 2
    outdir = os.path.abspath(argv[1]) if len(argv) == 2 else DEFAULT_OUTDIR
    os.makedirs(outdir, exist_ok=True)
    results = []
    for spec in SPECS:
        r = export_one(spec, outdir)
        results.append(r)
        print("%-28s %8d bytes  opset %d  %s" % (r["name"], r["model_bytes"], r["opset"], " ".join(r["op_types"])))
    write_readme(outdir, results)
    print("wrote %d models and README.md to %s" % (len(results), outdir))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
