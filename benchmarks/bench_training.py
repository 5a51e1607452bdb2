"""One xSRResNet stage-2 training step (L1 + perceptual + 100 x DSD), dsdviz's trainer vs a straightforward baseline.

The baseline is the obvious way to write the step with the library's public losses:
``l1 + perceptual_loss(out, hr) + 100 * dsd_loss(out, hr)``: six VGG19 passes per step
(the perceptual loss and the DSD loss each run the output and the target), plus the input
checks of every public call. The trainer's :func:`dsdviz.losses.restoration_loss` shares
one VGG19 pass per image and scale (four passes) and skips the checks (its data are valid
by construction); ``tests/test_training.py`` checks that both give the same loss and
gradient. Each configuration runs in its own process so that its peak memory is its own.

    python benchmarks/bench_training.py [--batch 16] [--crop 40] [--steps 5] [--device cpu]

Needs VGG19 weights (``DSDVIZ_VGG19_WEIGHTS``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as F
from memory import rss_kib


def worker(method: str, batch: int, crop: int, steps: int, device: torch.device) -> dict[str, float]:
    from dsdviz.features import VGG19Features
    from dsdviz.losses import dsd_loss, perceptual_loss
    from dsdviz.models import xsrresnet_sr
    from dsdviz.losses import available_perceptual_layer, restoration_loss

    torch.manual_seed(0)
    layer, _ = available_perceptual_layer("conv5_4")
    net = xsrresnet_sr().to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=2e-4, betas=(0.9, 0.99))
    extractor = VGG19Features(["relu2_1", "relu2_2", "relu3_1", layer]).to(device)
    lr = torch.rand(batch, 3, crop, crop, device=device)
    hr = torch.rand(batch, 3, 4 * crop, 4 * crop, device=device)

    def step() -> float:
        optimizer.zero_grad(set_to_none=True)
        out = net(lr)
        if method == "dsdviz":
            loss = restoration_loss(out, hr, extractor, perceptual_weight=1, dsd_weight=100, perceptual_layer=layer)["loss"]
        else:
            loss = (
                F.l1_loss(out, hr)
                + perceptual_loss(out, hr, layer, extractor=extractor)
                + 100 * dsd_loss(out, hr, "training", 2, extractor=extractor)
            )
        loss.backward()
        optimizer.step()
        return float(loss)

    step()  # warm-up
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    rss_before = rss_kib("VmRSS")
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    peak = torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda" else (rss_kib("VmHWM") - rss_before) / 1024
    return {"seconds": statistics.median(times), "peak_mib": peak}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--crop", type=int, default=40, help="LR crop in px (HR = 4x)")
    parser.add_argument("--steps", type=int, default=5, help="timed steps (median reported)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    device = torch.device(args.device)
    if args.worker:
        print(json.dumps(worker(args.worker, args.batch, args.crop, args.steps, device)))
        return
    print(f"xSRResNet 4x stage-2 step, batch {args.batch}, LR crop {args.crop}, {device}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")  # fmt: skip
    results = {}
    for method in ("baseline", "dsdviz"):
        command = [sys.executable, __file__, "--worker", method, "--batch", str(args.batch), "--crop", str(args.crop),
                   "--steps", str(args.steps), "--device", args.device]  # fmt: skip
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        results[method] = json.loads(output.strip().splitlines()[-1])
        r = results[method]
        print(f"{method:<9} {r['seconds']:8.3f} s/step {args.batch / r['seconds']:8.2f} img/s {r['peak_mib']:9.0f} MiB peak")
    ratio = results["baseline"]["seconds"] / results["dsdviz"]["seconds"]
    print(f"speed-up of dsdviz over the baseline: {ratio:.2f}x")


if __name__ == "__main__":
    main()
