#!/usr/bin/python3
"""Images/s of one training step of the fer networks in PyTorch's Python front end.

The peer of bench/bench-train.cpp: the same two architectures as
train/models.cpp (layer order, names, bias flags, batch-norm eps/momentum,
dropout rates; the parameter counts are checked), the same optimizer and loss
as train/trainer.cpp (SGD with Nesterov momentum 0.9 and weight decay 5e-4;
cross-entropy with label smoothing 0.1 and the default `sqrt` class weights),
the same batch, thread count and timing protocol, and the same per-phase
timers. The last line of the output is one JSON object, like bench-train's.

Run it with Debian's interpreter, which has python3-torch:
    /usr/bin/python3 bench/train_throughput.py --arch fernet --threads 2

--ops N additionally profiles a few steps with torch.autograd.profiler and
prints the N operators with the most self CPU time (the kernels are the same
shared libtorch that the C++ benchmark calls, so this says where the kernel
time goes for both).
"""

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

# Trainable parameter counts of train/models.cpp (`fer model-summary`).
EXPECTED_TRAINABLE = {"seed": 1_329_287, "fernet": 841_959}

PHASES = ("zero_grad", "forward", "backward", "optimizer", "other")


def conv3x3(cin, cout, bias):
    return nn.Conv2d(cin, cout, 3, padding=1, bias=bias)


class Net(nn.Module):
    """`features` (to the last spatial feature map) then `head`, as fer::NetImpl."""

    def __init__(self, arch, features, head):
        super().__init__()
        self.arch = arch
        self.features = features
        self.head = head

    def forward(self, x):
        return self.head(self.features(x))


def make_seed():
    # Keras Conv2D has a bias; Keras BatchNormalization: eps 1e-3, momentum 0.99
    # (PyTorch momentum 0.01).
    f = nn.Sequential(OrderedDict([
        ("conv1", conv3x3(1, 128, True)),
        ("relu1", nn.ReLU()),
        ("pool1", nn.MaxPool2d(2)),
        ("conv2", conv3x3(128, 128, True)),
        ("relu2", nn.ReLU()),
        ("pool2", nn.MaxPool2d(2)),
        ("drop1", nn.Dropout(0.5)),
        ("bn", nn.BatchNorm2d(128, eps=1e-3, momentum=0.01)),
    ]))
    h = nn.Sequential(OrderedDict([
        ("flatten", nn.Flatten()),
        ("fc1", nn.Linear(128 * 12 * 12, 64)),
        ("relu3", nn.ReLU()),
        ("drop2", nn.Dropout(0.5)),
        ("fc2", nn.Linear(64, 7)),
    ]))
    return Net("seed", f, h)


def conv_bn_relu(layers, name, cin, cout):
    layers.append((name, conv3x3(cin, cout, False)))
    layers.append((name + "_bn", nn.BatchNorm2d(cout)))
    layers.append((name + "_relu", nn.ReLU()))


def make_fernet():
    w = (32, 64, 128, 192)
    layers = []
    conv_bn_relu(layers, "conv1a", 1, w[0])
    conv_bn_relu(layers, "conv1b", w[0], w[0])
    layers.append(("pool1", nn.MaxPool2d(2)))
    conv_bn_relu(layers, "conv2a", w[0], w[1])
    conv_bn_relu(layers, "conv2b", w[1], w[1])
    layers.append(("pool2", nn.MaxPool2d(2)))
    conv_bn_relu(layers, "conv3a", w[1], w[2])
    conv_bn_relu(layers, "conv3b", w[2], w[2])
    layers.append(("pool3", nn.MaxPool2d(2)))
    conv_bn_relu(layers, "conv4a", w[2], w[3])
    conv_bn_relu(layers, "conv4b", w[3], w[3])
    f = nn.Sequential(OrderedDict(layers))
    h = nn.Sequential(OrderedDict([
        ("gap", nn.AdaptiveAvgPool2d(1)),
        ("flatten", nn.Flatten()),
        ("drop", nn.Dropout(0.4)),
        ("fc", nn.Linear(w[3], 7)),
    ]))
    return Net("fernet", f, h)


def make_net(arch):
    if arch in ("fernet", "default"):
        return make_fernet()
    if arch == "seed":
        return make_seed()
    raise SystemExit(f"train_throughput.py: unknown architecture '{arch}' (expected fernet or seed)")


def trainable_params(net):
    return sum(p.numel() for p in net.parameters() if p.requires_grad)


def net_macs(net):
    """Multiply-accumulates of one forward pass on a 48x48 face (as fer::net_macs)."""
    total = 0

    def hook(mod, inp, out):
        nonlocal total
        if isinstance(mod, nn.Conv2d):
            total += out.numel() * mod.weight.numel() // mod.weight.size(0)
        elif isinstance(mod, nn.Linear):
            total += mod.weight.numel()

    handles = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    was_training = net.training
    net.eval()
    with torch.no_grad():
        net(torch.zeros(1, 1, 48, 48))
    net.train(was_training)
    for h in handles:
        h.remove()
    return total


def class_weights():
    """FER2013 Training class counts and the trainer's default `sqrt` weights."""
    counts = [3995, 436, 4097, 7215, 4830, 3171, 4965]
    total = sum(counts)
    freq = [c / total for c in counts]
    w = [1.0 / math.sqrt(f) for f in freq]
    mean = sum(wi * fi for wi, fi in zip(w, freq))
    return torch.tensor([wi / mean for wi in w], dtype=torch.float32)


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def loadavg():
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "unknown"


def main():
    ap = argparse.ArgumentParser(description="Images/s of one fer training step in PyTorch (Python).")
    ap.add_argument("--arch", default="fernet", help="fernet (= default) or seed")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    ap.add_argument("--warmup", type=int, default=3, help="untimed steps before the first repetition")
    ap.add_argument("--iters", type=int, default=10, help="timed steps per repetition")
    ap.add_argument("--reps", type=int, default=5, help="repetitions (min/median/max over these)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--ops", type=int, default=0, metavar="N",
                    help="after timing, profile --iters steps and print the top N operators by self CPU time")
    a = ap.parse_args()
    if a.batch < 1 or a.threads < 1 or a.warmup < 0 or a.iters < 1 or a.reps < 1 or a.ops < 0:
        ap.error("--batch, --threads, --iters, --reps must be >= 1; --warmup, --ops >= 0")

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)

    net = make_net(a.arch)
    net.train()
    n_params = trainable_params(net)
    if n_params != EXPECTED_TRAINABLE[net.arch]:
        raise SystemExit(f"train_throughput.py: {net.arch} has {n_params} trainable parameters, "
                         f"train/models.cpp has {EXPECTED_TRAINABLE[net.arch]}: the replica is wrong")
    macs = net_macs(net)
    # foreach left at its default (False on CPU in 1.13: a per-parameter loop, like libtorch's C++ SGD).
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
    weight = class_weights()
    x = torch.randn(a.batch, 1, 48, 48)
    y = torch.randint(0, 7, (a.batch,), dtype=torch.long)

    print("train_throughput.py (PyTorch, Python front end)")
    print(f"  torch {torch.__version__}, intra-op threads {torch.get_num_threads()}, "
          f"inter-op threads {torch.get_num_interop_threads()}, hardware threads {os.cpu_count()}, "
          f"python {platform.python_version()}")
    print(f"  cpu {cpu_model()}, load average {loadavg()}")
    print(f"  arch {net.arch}: {n_params} trainable parameters, {macs / 1e6:.1f} M MACs per face forward")
    print(f"  batch {a.batch}, warm-up {a.warmup} steps, {a.reps} repetitions of {a.iters} steps")
    sys.stdout.flush()

    now = time.perf_counter
    phase_steps = {p: [] for p in PHASES}
    step_ms = []
    last_loss = [0.0]

    def step(record):
        t0 = now()
        # Keep the gradient tensors and zero them, as libtorch 1.13's C++ zero_grad() does.
        opt.zero_grad(set_to_none=False)
        t1 = now()
        logits = net(x)
        loss = F.cross_entropy(logits, y, weight=weight, label_smoothing=0.1)
        t2 = now()
        loss.backward()
        t3 = now()
        opt.step()
        t4 = now()
        last_loss[0] = loss.item()  # "other": what fer train reads per step
        t5 = now()
        if record:
            for p, v in zip(PHASES, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
                phase_steps[p].append(1e3 * v)
            step_ms.append(1e3 * (t5 - t0))

    for _ in range(a.warmup):
        step(False)
    img_s = []
    for r in range(a.reps):
        t0 = now()
        for _ in range(a.iters):
            step(True)
        s = now() - t0
        img_s.append(a.iters * a.batch / s)
        print(f"  rep {r + 1}: {img_s[-1]:.1f} images/s ({1e3 * s / a.iters:.1f} ms/step)")
        sys.stdout.flush()
    if not math.isfinite(last_loss[0]):
        raise SystemExit(f"train_throughput.py: loss is not finite ({last_loss[0]})")

    lo, med, hi = min(img_s), statistics.median(img_s), max(img_s)
    phase_mean = {p: sum(v) / len(v) for p, v in phase_steps.items()}
    phase_median = {p: statistics.median(v) for p, v in phase_steps.items()}
    total_mean = sum(phase_mean.values())
    gflops = 6.0 * macs * med / 1e9
    print(f"images/s: min {lo:.1f}  median {med:.1f}  max {hi:.1f}   (~{gflops:.1f} GFLOP/s at the median)")
    print(f"per step: median {statistics.median(step_ms):.1f} ms, phases (median ms, share of mean step):")
    for p in PHASES:
        print(f"  {p:<10} {phase_median[p]:8.2f} ms  {100.0 * phase_mean[p] / total_mean:5.1f}%")

    if a.ops:
        from torch.autograd import profiler
        with profiler.profile() as prof:
            for _ in range(a.iters):
                step(False)
        print(f"top {a.ops} operators by self CPU time over {a.iters} profiled steps "
              "(the profiler adds overhead; shares, not absolute times):")
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=a.ops))

    print(json.dumps({
        "impl": "python", "arch": net.arch, "batch": a.batch, "threads": torch.get_num_threads(),
        "interop_threads": torch.get_num_interop_threads(), "torch": torch.__version__,
        "python": platform.python_version(), "warmup": a.warmup, "iters": a.iters, "reps": a.reps,
        "trainable_params": n_params, "macs": macs, "loadavg": loadavg(),
        "img_s": img_s, "img_s_min": lo, "img_s_median": med, "img_s_max": hi,
        "step_ms_median": statistics.median(step_ms),
        "phase_ms_median": phase_median, "phase_ms_mean": phase_mean,
    }, separators=(",", ":")))


if __name__ == "__main__":
    main()
