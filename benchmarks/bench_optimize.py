"""Fingerprint-matching optimisation speed: dsdviz's engine against a straightforward loop.

Both optimise the pixels of a content image with Adam (projected onto [0, 1]) toward a
reference's DSD fingerprint (``--kind dsd``: DSD_2 at relu1_2, relu2_1, relu2_2, relu3_1)
or style (``--kind style``: Gram matrices at full resolution).

* baseline: the loop one writes first, ``loss = dsd_loss(x, reference)`` (or
  ``style_loss``) at every step, which recomputes the reference's fingerprint (two VGG19
  passes without gradient; one for style) every step;
* dsdviz: :func:`dsdviz.optimize.match_fingerprint`, which computes the reference's
  fingerprint once, validates the inputs once, and records every layer's term at every
  step and snapshots (its time also includes one final evaluation, for the record of
  the last image).

Every configuration runs in its own process, so the peak memory (VmHWM, resident-set
high-water mark, minus the resident set before the first step) is its own.

    python benchmarks/bench_optimize.py [--sizes 256] [--steps 30] [--kinds dsd style] [--device cpu]

Needs VGG19 weights (``DSDVIZ_VGG19_WEIGHTS``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import torch
from memory import rss_kib

LAYERS = "dsd"


def _images(size: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Two natural images (scikit-image samples), center-cropped to ``size``."""
    from dsdviz.data import center_crop
    from dsdviz.samples import skimage_sample

    content = center_crop(skimage_sample("chelsea"), size).to(device)
    reference = center_crop(skimage_sample("coffee"), size).to(device)
    return content, reference


def _baseline(content: torch.Tensor, reference: torch.Tensor, kind: str, steps: int, lr: float) -> float:
    from dsdviz.losses import dsd_loss, style_loss

    x = content.clone().requires_grad_(True)
    optimizer = torch.optim.Adam([x], lr=lr)

    def step() -> None:
        optimizer.zero_grad()
        loss = dsd_loss(x, reference, LAYERS, 2) if kind == "dsd" else style_loss(x, reference, LAYERS)
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            x.clamp_(0, 1)

    step()  # warm-up (weights, allocator)
    _sync(x.device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    _sync(x.device)
    return time.perf_counter() - start


def _dsdviz(content: torch.Tensor, reference: torch.Tensor, kind: str, steps: int, lr: float) -> float:
    from dsdviz.optimize import match_fingerprint

    options = {"layers": LAYERS, "lr": lr, "device": content.device, "progress": False}
    match_fingerprint(content, reference, kind, steps=1, **options)  # warm-up (weights, allocator)
    _sync(content.device)
    start = time.perf_counter()
    match_fingerprint(content, reference, kind, steps=steps, **options)
    _sync(content.device)
    return time.perf_counter() - start


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def worker(args: argparse.Namespace) -> None:
    device = torch.device(args.device)
    content, reference = _images(args.size, device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    rss_before = rss_kib("VmRSS")
    run = _baseline if args.method == "baseline" else _dsdviz
    seconds = run(content, reference, args.kind, args.steps, 5e-3)
    if device.type == "cuda":
        peak_mib = torch.cuda.max_memory_allocated() / 2**20
    else:
        peak_mib = (rss_kib("VmHWM") - rss_before) / 1024
    print(json.dumps({"steps_per_s": args.steps / seconds, "peak_mib": peak_mib}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[256])
    parser.add_argument("--steps", type=int, default=30, help="timed optimisation steps per configuration")
    parser.add_argument("--kinds", nargs="+", choices=("dsd", "style"), default=["dsd", "style"])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--worker", nargs=3, metavar=("METHOD", "KIND", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        args.method, args.kind, args.size = args.worker[0], args.worker[1], int(args.worker[2])
        worker(args)
        return

    print(f"fingerprint matching: Adam on the pixels, layers relu1_2 relu2_1 relu2_2 relu3_1, float32, {args.device}")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.steps} timed steps per row\n")
    header = f"{'px':>5} {'kind':<6}{'method':<10}{'steps/s':>9}{'peak MiB':>10}{'speed-up':>10}"
    print(header)
    print("-" * len(header))
    common = [sys.executable, __file__, "--device", args.device, "--steps", str(args.steps)]
    for size in args.sizes:
        for kind in args.kinds:
            results = {}
            for method in ("baseline", "dsdviz"):
                out = subprocess.run(
                    [*common, "--worker", method, kind, str(size)], capture_output=True, text=True, env=os.environ
                )
                if out.returncode != 0:
                    print(out.stderr, file=sys.stderr)
                    raise SystemExit(f"worker {method} {kind} {size} failed")
                results[method] = json.loads(out.stdout.strip().splitlines()[-1])
            for method, r in results.items():
                ratio = r["steps_per_s"] / results["baseline"]["steps_per_s"]
                row = f"{size:>5} {kind:<6}{method:<10}{r['steps_per_s']:>9.3f}{r['peak_mib']:>10.0f}{ratio:>9.2f}x"
                print(row, flush=True)
    print(
        "\nbaseline: dsd_loss / style_loss against the reference image at every step (its fingerprint recomputed);"
        "\ndsdviz: match_fingerprint (reference fingerprint computed once, every step recorded, one final evaluation);"
        "\nspeed-up: steps/s over the baseline's; peak MiB: resident-set high-water mark minus the RSS before the run."
    )


if __name__ == "__main__":
    main()
