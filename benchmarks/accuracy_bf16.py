"""bfloat16 against float32: DSD norms, Fig. 12's optimisation and SR training (issue 13's accuracy checks).

``norms``: for every Set14 HR image and ``a`` in ``--alphas``, ``||DSD_l,a||_1`` from VGG19 in
float32 and from VGG19 under bfloat16 autocast, relative difference per layer (mean and max
over the images). Two bf16 variants: the library's (:class:`dsdviz.precision.AutocastFeatures`:
VGG19 in bf16, the MATLAB resize and the Gram products in float32), and the whole computation
under autocast, so that the downscaled copy is resized in bf16 too (Gram products stay float32
in :func:`dsdviz.fingerprint.gram` either way): it shows why the resize stays float32.

``trajectory``: Fig. 12's quick setting (:meth:`DSDMinimizationSetup.quick`) run in fp32 and
in bf16 from the same start; the objective ``||DSD_4(x)||_1`` at every snapshot.

``training``: SR stage 1 (L1) for ``--steps`` steps from the same seed in fp32 and in bf16
(batch 16, LR crops 24 px, the quick preset otherwise); the loss on the fixed monitor batch and
the Set5 PSNR/SSIM (whole images, Y, 4 px shave) at the end, and the wall time of each.

    python benchmarks/accuracy_bf16.py norms|trajectory|training [--data DIR]

Needs VGG19 weights (``DSDVIZ_VGG19_WEIGHTS``) and the data folder (``--data`` or ``DSDVIZ_DATA``).
Runs on the CPU; bf16 needs a processor with native bfloat16 (``--device cuda`` on a GPU).

Last results (2 threads, a CPU with ``avx512_bf16``, torch 2.14.1):

* ``norms``: relative error of ``||DSD_l,a||_1`` against float32 on the 14 Set14 HR images,
  mean / max over the images. The library's path (VGG19 in bf16 through
  :class:`AutocastFeatures`; the MATLAB resize and the Gram products in float32) against the
  whole computation under autocast, where the downscaled copy is resized in bf16 too::

                    VGG19 in bf16 (AutocastFeatures)    resize in bf16 too
    layer           a = 2           a = 4               a = 2           a = 4
    relu1_2         0.10% / 0.25%   0.08% / 0.20%       1.82% / 6.2%    1.24% / 3.0%
    relu2_1         0.07% / 0.18%   0.08% / 0.18%       0.51% / 1.0%    0.64% / 1.4%
    relu2_2         0.07% / 0.17%   0.07% / 0.15%       0.66% / 1.2%    0.73% / 1.0%
    relu3_1         0.07% / 0.21%   0.07% / 0.21%       0.36% / 0.8%    0.46% / 0.8%

  The DSD is a small difference between an image and its downscaled copy, so the resize
  must stay float32 (an order of magnitude less error); only the convolutions are lowered.
* ``trajectory``: Fig. 12's quick setting (96 px crop, 60 steps, lr 1e-2) in bf16 follows the
  float32 objective within 0.4% at every snapshot (0.39% at step 60).
* ``training``: 500 steps of SR stage 1 from the same seed (batch 16, LR crops 24 px): the
  fixed-batch loss 0.04242 vs 0.04239 (0.07% apart) and Set5 PSNR 29.946 vs 29.957 dB
  (-0.011 dB), within the 0.1 dB / 2% that would allow bf16 as a CPU default.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import torch

from dsdviz.data import data_root, load_image
from dsdviz.experiments.dsd_minimization import DSDMinimizationSetup, run_dsd_minimization
from dsdviz.features import LAYER_PRESETS, VGG19Features
from dsdviz.fingerprint import dsd_unchecked
from dsdviz.precision import AutocastFeatures, autocast, resolve_precision
from dsdviz.training import preset, train

VARIANTS = ("VGG19 in bf16", "resize too")


def norms(args: argparse.Namespace) -> None:
    paths = sorted((data_root(args.data) / "Set14" / "HR").glob("*.png"))[: args.limit]
    device = torch.device(args.device)
    net = VGG19Features(LAYER_PRESETS["dsd"]).to(device)
    plan = resolve_precision("bf16", device)
    wrapped = AutocastFeatures(net, plan)
    errors: dict[tuple[str, float], list[torch.Tensor]] = {(v, a): [] for v in VARIANTS for a in args.alphas}
    start = time.perf_counter()
    with torch.no_grad():
        for path in paths:
            x = load_image(path).to(device)
            for alpha in args.alphas:
                exact = dsd_unchecked(x, alpha, net).norms()
                with autocast(plan):
                    everything = dsd_unchecked(x, alpha, net).norms()
                low = (dsd_unchecked(x, alpha, wrapped).norms(), everything)
                for variant, values in zip(VARIANTS, low):
                    rows = [(values[k].float() - exact[k]).abs() / exact[k] for k in net.layers]
                    errors[variant, alpha].append(torch.stack(rows, dim=-1).reshape(-1, len(rows)))
    table = {key: torch.cat(rows).cpu() for key, rows in errors.items()}
    print(f"relative error of ||DSD_l,a||_1, bf16 autocast vs float32, {len(paths)} Set14 images, "
          f"{device}, torch {torch.__version__} ({time.perf_counter() - start:.0f} s)")  # fmt: skip
    for variant in VARIANTS:
        print(f"\n{variant:<13}" + "".join(f"{f'a = {a:g}: mean':>16}{'max':>8}" for a in args.alphas))
        for i, layer in enumerate([*LAYER_PRESETS["dsd"], "all"]):
            cells = [table[variant, a][:, i] if layer != "all" else table[variant, a] for a in args.alphas]
            print(f"{layer:<13}" + "".join(f"{c.mean():>16.2%}{c.max():>8.2%}" for c in cells))


def trajectory(args: argparse.Namespace) -> None:
    runs = {}
    for precision in ("fp32", "bf16"):
        setup = DSDMinimizationSetup.quick()
        start = time.perf_counter()
        runs[precision] = run_dsd_minimization(setup, device=args.device, progress=False, precision=precision)
        print(f"{precision}: {setup.steps} steps on a {setup.crop[2]} px crop, lr {setup.lr:g}, "
              f"{time.perf_counter() - start:.1f} s")  # fmt: skip
    exact, low = runs["fp32"], runs["bf16"]
    print(f"\n{'step':>6}{'fp32 ||DSD_4||':>16}{'bf16':>12}{'rel. diff':>11}{'image diff / move':>19}")
    for step in exact.steps:
        a, b = exact.value("objective", step), low.value("objective", step)
        moved = (exact.snapshot(step) - exact.start).abs().mean()
        apart = (exact.snapshot(step) - low.snapshot(step)).abs().mean()
        ratio = f"{apart / moved:.3f}" if moved > 0 else "-"
        print(f"{step:>6}{a:>16.6g}{b:>12.6g}{abs(b - a) / a:>11.3%}{ratio:>19}")


def training(args: argparse.Namespace) -> None:
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for precision in ("fp32", "bf16"):
            config = preset(
                "sr", "quick", root=args.data, out=f"{folder}/{precision}", steps=args.steps, batch_size=16, crop=24,
                decay_every=args.steps * 3 // 4, val_every=args.steps, val_crop=None, val_limit=None,
                monitor_every=args.steps, checkpoint_every=args.steps, precision=precision, progress=False,
            )  # fmt: skip
            start = time.perf_counter()
            run = train(config)
            seconds = time.perf_counter() - start
            monitor = [e for e in run.history if e["split"] == "monitor"][-1]
            val = [e for e in run.history if e["split"] == "val"][-1]
            results[precision] = (seconds, monitor["loss"], val["psnr"], val["ssim"])
    print(f"SR stage 1, {args.steps} steps, batch 16, LR crop 24 px, seed 0; Set5 whole images (Y, shave 4)")
    print(f"{'precision':<10}{'wall (s)':>10}{'monitor loss':>14}{'Set5 PSNR':>11}{'SSIM':>8}")
    for precision, (seconds, loss, value, sim) in results.items():
        print(f"{precision:<10}{seconds:>10.0f}{loss:>14.5f}{value:>11.3f}{sim:>8.4f}")
    (t32, l32, p32, _), (t16, l16, p16, _) = results["fp32"], results["bf16"]
    print(f"bf16 vs fp32: loss {abs(l16 - l32) / l32:.2%} apart, PSNR {p16 - p32:+.3f} dB, {t32 / t16:.2f}x faster")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("check", choices=["norms", "trajectory", "training"])
    parser.add_argument("--data", help="data folder (default: $DSDVIZ_DATA)")
    parser.add_argument("--alphas", type=float, nargs="+", default=[2.0, 4.0], help="norms: the factors")
    parser.add_argument("--limit", type=int, help="norms: the first N images only")
    parser.add_argument("--steps", type=int, default=500, help="training: steps per run")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    {"norms": norms, "trajectory": trajectory, "training": training}[args.check](args)


if __name__ == "__main__":
    main()
