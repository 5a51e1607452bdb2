"""DSD norms in bfloat16 autocast against float32: relative error per layer on Set14.

For every Set14 HR image and ``a`` in ``--alphas``, ``||DSD_l,a||_1`` from VGG19 run in
float32 and from VGG19 under bfloat16 autocast, and the relative difference
``|bf16 - fp32| / fp32`` per layer: mean and max over the images. Two bf16 variants: the
Gram matrices of float32 copies of the features (:class:`dsdviz.precision.AutocastFeatures`,
what the losses use), and everything under autocast (Gram products in bf16 too). The
numbers quoted in :mod:`dsdviz.precision`'s docstring come from this script.

    python benchmarks/accuracy_bf16.py [--data DIR] [--alphas 2 4] [--limit N]

Needs VGG19 weights (``DSDVIZ_VGG19_WEIGHTS``) and the data folder (``--data`` or ``DSDVIZ_DATA``).
Runs on the CPU; bf16 needs a processor with native bfloat16 (``--device cuda`` on a GPU).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from dsdviz.data import data_root
from dsdviz.features import LAYER_PRESETS, VGG19Features
from dsdviz.fingerprint import dsd_unchecked
from dsdviz.images import load_image
from dsdviz.precision import AutocastFeatures, autocast, resolve_precision


VARIANTS = ("float32 Gram", "bf16 Gram")


def relative_errors(paths: list[Path], alphas: list[float], device: torch.device) -> dict[tuple[str, float], torch.Tensor]:
    """``{(variant, alpha): (images, layers)}`` relative errors of the bf16 DSD norms against float32."""
    net = VGG19Features(LAYER_PRESETS["dsd"]).to(device)
    plan = resolve_precision("bf16", device)
    wrapped = AutocastFeatures(net, plan)
    errors: dict[tuple[str, float], list[torch.Tensor]] = {(v, a): [] for v in VARIANTS for a in alphas}
    with torch.no_grad():
        for path in paths:
            x = load_image(path).to(device)
            for alpha in alphas:
                exact = dsd_unchecked(x, alpha, net).norms()
                with autocast(plan):
                    in_bf16 = dsd_unchecked(x, alpha, net).norms()
                for variant, low in zip(VARIANTS, (dsd_unchecked(x, alpha, wrapped).norms(), in_bf16)):
                    rows = [(low[k].float() - exact[k]).abs() / exact[k] for k in net.layers]
                    errors[variant, alpha].append(torch.stack(rows, dim=1))
    return {key: torch.cat(rows).cpu() for key, rows in errors.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="data folder (default: $DSDVIZ_DATA)")
    parser.add_argument("--alphas", type=float, nargs="+", default=[2.0, 4.0])
    parser.add_argument("--limit", type=int, help="first N images only")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    paths = sorted((data_root(args.data) / "Set14" / "HR").glob("*.png"))[: args.limit]
    device = torch.device(args.device)
    start = time.perf_counter()
    errors = relative_errors(paths, args.alphas, device)
    print(f"relative error of ||DSD_l,a||_1, bf16 autocast vs float32, {len(paths)} Set14 images, "
          f"{device}, torch {torch.__version__} ({time.perf_counter() - start:.0f} s)")  # fmt: skip
    for variant in VARIANTS:
        print(f"\n{variant:<13}" + "".join(f"{f'a = {a:g}: mean':>16}{'max':>8}" for a in args.alphas))
        for i, layer in enumerate([*LAYER_PRESETS["dsd"], "all"]):
            cells = [errors[variant, a][:, i] if layer != "all" else errors[variant, a] for a in args.alphas]
            print(f"{layer:<13}" + "".join(f"{c.mean():>16.2%}{c.max():>8.2%}" for c in cells))


if __name__ == "__main__":
    main()
