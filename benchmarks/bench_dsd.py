"""Forward+backward of the DSD loss against a fixed target, dsdviz (float32, bf16) vs a straightforward baseline.

The baseline is the usual way to write the loss (and what the authors' training code
does): torchvision's VGG19 layers, a Gram matrix through autograd's ``bmm``, and four
feature passes at every step (output, output|a, target, target|a; the target ones
without gradient), in float32. dsdviz computes the target's fingerprint once and reuses
it, runs the convolutions channels-last, and uses a Gram matrix whose backward is one
product. ``dsdviz-bf16`` is the same with VGG19 under bfloat16 autocast and the Gram
matrices and L1 terms in float32 (:class:`dsdviz.precision.AutocastFeatures`; needs a
processor with native bfloat16, or a GPU). All use the same MATLAB-exact resize
(benchmarked separately in bench_resize.py). ``loss diff`` is the loss's relative
difference to dsdviz's float32 loss of the same images (the issue's bound: 1%).

Every configuration runs in its own process so that the peak memory (VmHWM, resident
set high-water mark, minus the resident set before the first step) is its own.

    python benchmarks/bench_dsd.py [--sizes 128 256 512] [--batches 1 8] [--steps 3] [--device cpu]
    python benchmarks/bench_dsd.py --quick     # 128 and 256 px, batch 1: the issue's rows

Needs VGG19 weights (``DSDVIZ_VGG19_WEIGHTS``; random weights with ``--random-weights``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import torch
from memory import rss_kib

LAYERS = ("relu2_1", "relu2_2", "relu3_1")  # the training preset
ALPHA = 2
#: method -> the precision of its VGG19 passes
METHODS = {"baseline": "fp32", "dsdviz": "fp32", "dsdviz-bf16": "bf16"}


def _baseline_step_fn(x: torch.Tensor, target: torch.Tensor, weights: str | None):
    from torchvision.models.vgg import cfgs, make_layers

    from dsdviz.features import IMAGENET_MEAN, IMAGENET_STD, VGG19_LAYERS, load_state_dict
    from dsdviz.resize import downscale

    depth = max(VGG19_LAYERS[name] for name in LAYERS) + 1
    body = make_layers(cfgs["E"])[:depth]
    state = load_state_dict(weights)
    if state is not None:
        body.load_state_dict({k: v for k, v in state.items() if k in body.state_dict()})
    body = body.eval().requires_grad_(False).to(x.device)
    taps = {VGG19_LAYERS[name]: name for name in LAYERS}
    mean = torch.tensor(IMAGENET_MEAN, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=x.device).view(1, 3, 1, 1)

    def features(img: torch.Tensor) -> dict[str, torch.Tensor]:
        out, h = {}, (img - mean) / std
        for index, module in enumerate(body):
            h = module(h)
            if index in taps:
                out[taps[index]] = h
        return out

    def gram(f: torch.Tensor) -> torch.Tensor:
        b, c, hh, ww = f.shape
        flat = f.reshape(b, c, hh * ww)
        return torch.bmm(flat, flat.transpose(1, 2)) / (c * hh * ww)

    def fingerprint(img: torch.Tensor) -> dict[str, torch.Tensor]:
        fine, coarse = features(img), features(downscale(img, ALPHA))
        return {k: gram(fine[k]) - gram(coarse[k]) for k in LAYERS}

    def step() -> torch.Tensor:
        fx, fxa = features(x), features(downscale(x, ALPHA))
        with torch.no_grad():
            ft, fta = features(target), features(downscale(target, ALPHA))
        loss = sum(
            ((gram(fx[k]) - gram(fxa[k])) - (gram(ft[k]) - gram(fta[k]))).abs().mean() for k in LAYERS
        )
        loss.backward()
        return loss

    return step, fingerprint


def _dsdviz_step_fn(x: torch.Tensor, target: torch.Tensor, weights: str | None, precision: str = "fp32"):
    from dsdviz.features import VGG19Features
    from dsdviz.fingerprint import dsd_unchecked
    from dsdviz.losses import dsd_loss, target_dsd
    from dsdviz.precision import AutocastFeatures, resolve_precision

    net = VGG19Features(LAYERS, weights=weights).to(x.device)
    fixed = target_dsd(target, LAYERS, ALPHA, extractor=net)  # the fixed target in float32, once
    if precision != "fp32":
        net = AutocastFeatures(net, resolve_precision(precision, x.device))

    def step() -> torch.Tensor:
        loss = dsd_loss(x, fixed, LAYERS, ALPHA, extractor=net)
        loss.backward()
        return loss

    def fingerprint(img: torch.Tensor) -> dict[str, torch.Tensor]:
        return dsd_unchecked(img, ALPHA, net).matrices

    return step, fingerprint


def conv_flops(height: int, width: int) -> float:
    """Forward FLOPs (2 x MACs) of VGG19 up to relu3_1 for one image, from the layer shapes."""
    from torchvision.models.vgg import cfgs

    flops, channels, h, w = 0.0, 3, height, width
    for item in cfgs["E"][:6]:  # conv1_1, conv1_2, M, conv2_1, conv2_2, M, then conv3_1 below
        if item == "M":
            h, w = h // 2, w // 2
        else:
            flops += 2 * 9 * channels * item * h * w
            channels = item
    return flops + 2 * 9 * channels * 256 * h * w


def worker(args: argparse.Namespace) -> None:
    torch.manual_seed(0)
    device = torch.device(args.device)
    weights = None if args.random_weights else "imagenet"
    x = torch.rand(args.batch, 3, args.size, args.size, device=device).requires_grad_()
    target = torch.rand(args.batch, 3, args.size, args.size, device=device)
    if args.method == "baseline":
        step, fingerprint = _baseline_step_fn(x, target, weights)
    else:
        step, fingerprint = _dsdviz_step_fn(x, target, weights, METHODS[args.method])
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    rss_before = rss_kib("VmRSS")
    step()  # warm-up
    times = []
    for _ in range(args.steps):
        x.grad = None
        start = time.perf_counter()
        loss = step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    if device.type == "cuda":
        peak_mib = torch.cuda.max_memory_allocated() / 2**20
    else:
        peak_mib = (rss_kib("VmHWM") - rss_before) / 1024
    # accuracy: this method's fingerprint against a float64 computation
    from dsdviz.features import VGG19Features
    from dsdviz.fingerprint import dsd_unchecked

    net64 = VGG19Features(LAYERS, weights=weights, channels_last=False).to(device).double()
    with torch.no_grad():
        ours, exact = fingerprint(x.detach()), dsd_unchecked(x.detach().double(), ALPHA, net64).matrices
    error = max(((ours[k].double() - exact[k]).abs().max() / exact[k].abs().max()).item() for k in LAYERS)
    print(
        json.dumps(
            {
                "seconds": statistics.median(times),
                "peak_mib": peak_mib,
                "loss": loss.item(),
                "fingerprint_rel_error": error,
            }
        )
    )


def matmul_gflops(device: torch.device, n: int = 2048, repeats: int = 5) -> float:
    a, b = torch.rand(n, n, device=device), torch.rand(n, n, device=device)
    a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    if device.type == "cuda":
        torch.cuda.synchronize()
    return 2 * n**3 * repeats / (time.perf_counter() - start) / 1e9


def run_worker(common: list[str], method: str, size: int, batch: int) -> dict[str, float]:
    """One configuration in its own process (its own peak memory)."""
    out = subprocess.run(
        [*common, "--worker", method, str(size), str(batch)], capture_output=True, text=True, env=os.environ
    )
    if out.returncode != 0:
        print(out.stderr, file=sys.stderr)
        raise SystemExit(f"worker {method} {size} {batch} failed")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 256, 512])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--methods", nargs="+", choices=tuple(METHODS), default=list(METHODS))
    parser.add_argument("--steps", type=int, default=3, help="timed steps per configuration (median reported)")
    parser.add_argument("--quick", action="store_true", help="128 and 256 px, batch 1 (the issue's rows)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--random-weights", action="store_true", help="run without VGG19 weights")
    parser.add_argument("--worker", nargs=3, metavar=("METHOD", "SIZE", "BATCH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        args.method, args.size, args.batch = args.worker[0], int(args.worker[1]), int(args.worker[2])
        worker(args)
        return
    if args.quick:
        args.sizes, args.batches = [128, 256], [1]

    from dsdviz.precision import probe_capability

    device = torch.device(args.device)
    print(f"DSD loss forward+backward, fixed target, layers {', '.join(LAYERS)}, alpha {ALPHA}, {device}")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {probe_capability(device).detail}")
    peak = matmul_gflops(device)
    print(f"plain float32 matmul (2048^3): {peak:.1f} GFLOP/s\n")
    header = (f"{'px':>5}{'B':>3} {'method':<12}{'s/step':>9}{'img/s':>8}{'ms/MPx':>8}{'GFLOP/s':>9}{'peak MiB':>10}"
              f"{'fp err':>10}{'loss diff':>11}{'speed-up':>10}")  # fmt: skip
    print(header)
    print("-" * len(header))
    common = [sys.executable, __file__, "--device", args.device, "--steps", str(args.steps)]
    if args.random_weights:
        common.append("--random-weights")
    methods = list(dict.fromkeys(["baseline", "dsdviz", *args.methods]))  # the ratios need both float32 rows
    for size in args.sizes:
        for batch in args.batches:
            results = {method: run_worker(common, method, size, batch) for method in methods}
            fwd = conv_flops(size, size) + conv_flops(-(-size // ALPHA), -(-size // ALPHA))
            # executed conv work per step: forward + input-gradient pass over output and output|a;
            # the baseline also runs the two target passes forward
            for method in args.methods:
                r = results[method]
                executed = (3 if method == "baseline" else 2) * fwd * batch
                ratio = results["baseline"]["seconds"] / r["seconds"]
                loss_diff = abs(r["loss"] - results["dsdviz"]["loss"]) / abs(results["dsdviz"]["loss"])
                print(
                    f"{size:>5}{batch:>3} {method:<12}{r['seconds']:>9.3f}{batch / r['seconds']:>8.2f}"
                    f"{r['seconds'] * 1e3 / (batch * size * size / 1e6):>8.0f}"
                    f"{executed / r['seconds'] / 1e9:>9.1f}{r['peak_mib']:>10.0f}"
                    f"{r['fingerprint_rel_error']:>10.1e}{loss_diff:>11.2%}{ratio:>9.2f}x",
                    flush=True,
                )
    print(
        "\nspeed-up: baseline s/step divided by this row's;"
        " fp err: max |DSD - DSD_float64| / max |DSD_float64| over layers;"
        "\nloss diff: |loss - loss of dsdviz float32| / loss of dsdviz float32, same images;"
        "\nms/MPx: time per megapixel of output (constant when cost grows linearly with pixel count);"
        "\nGFLOP/s: convolution FLOPs executed (forward, input-gradient, and the baseline's target passes) per second."
    )


if __name__ == "__main__":
    main()
