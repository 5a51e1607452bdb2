"""Training steps of SR stage 1 and 2 and the regressor: float32 vs bfloat16, contiguous vs channels-last.

Each step is the trainer's: the task's network and loss (``Task.losses`` of
:mod:`dsdviz.training`, under the precision plan as :class:`dsdviz.training.Trainer` runs
it; the trainer itself is always channels-last) on random batches, and Adam, betas (0.9, 0.99):

* ``sr1``: xSRResNet 4x, L1 (stage 1);
* ``sr2``: xSRResNet 4x, L1 + perceptual + 100 x DSD through the trainer's
  :func:`dsdviz.losses.restoration_loss` (one VGG19 pass per image and scale);
* ``sr2-baseline``: the obvious way to write stage 2 with the library's public losses,
  ``l1 + perceptual_loss(out, hr) + 100 * dsd_loss(out, hr)``: six VGG19 passes per step
  plus the input checks of every public call (float32, contiguous network);
  ``tests/test_training.py`` checks that both give the same loss and gradient;
* ``regressor``: psi_2 on ``y|2``, normalised MSE to the true DSD norms of ``y``.

``bf16`` runs the networks and VGG19 under bfloat16 autocast (:mod:`dsdviz.precision`),
with the Gram matrices, L1 and MSE terms in float32 (the trainer's ``precision="bf16"``);
the regressor's training targets are computed that way too. ``channels-last`` moves the trained
network to channels-last (VGG19 always runs channels-last). Speed-up: against float32
contiguous of the same task. Each configuration runs in its own process so that its peak
memory (CPU: VmHWM minus the resident set before the timed steps) is its own.

    python benchmarks/bench_training.py [--tasks sr1 sr2 regressor] [--batch 16] [--steps 5] [--device cpu]
    python benchmarks/bench_training.py --quick     # the CPU quick-mode sizes, 2 timed steps

Sizes: batch 16, LR crop 24 px (SR; ``--crop``), ``y|a`` 80 px (regressor; ``--regressor-crop``).
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

TASKS = ("sr1", "sr2", "sr2-baseline", "regressor")
PRECISIONS = ("fp32", "bf16")


def _trainer_step(task: str, batch: int, crop: int, device: torch.device, plan):
    """The trainer's network and loss of ``task`` (:meth:`Task.losses`, as in ``Trainer.train_step``) on random data."""
    from dsdviz.training import LoopSettings, RegressorSettings, SRSettings

    loop = LoopSettings(batch_size=batch, device=str(device), precision=plan.requested)
    if task == "regressor":
        settings = RegressorSettings(data="(random)", crop=crop, alpha=2)
        data = {"target": torch.rand(batch, 3, 2 * crop, 2 * crop)}
    else:
        settings = SRSettings(data="(random)", crop=crop, stage="psnr" if task == "sr1" else "dsd")
        data = {"input": torch.rand(batch, 3, crop, crop), "target": torch.rand(batch, 3, 4 * crop, 4 * crop)}
    trainer_task = settings.make_task(loop, device, plan)
    net = trainer_task.build_model().to(device)
    return net, lambda: trainer_task.losses(net, data)["loss"]


def _baseline_step(batch: int, crop: int, device: torch.device):
    """Stage 2 written with the library's public losses: six VGG19 passes and the input checks of each call."""
    from dsdviz.features import VGG19Features
    from dsdviz.losses import available_perceptual_layer, dsd_loss, perceptual_loss
    from dsdviz.models import xsrresnet_sr

    layer, _ = available_perceptual_layer("conv5_4")
    extractor = VGG19Features(["relu2_1", "relu2_2", "relu3_1", layer]).to(device)
    lr = torch.rand(batch, 3, crop, crop, device=device)
    hr = torch.rand(batch, 3, 4 * crop, 4 * crop, device=device)
    net = xsrresnet_sr().to(device)

    def loss() -> torch.Tensor:
        out = net(lr)
        return (F.l1_loss(out, hr) + perceptual_loss(out, hr, layer, extractor=extractor)
                + 100 * dsd_loss(out, hr, "training", 2, extractor=extractor))  # fmt: skip

    return net, loss


def worker(args: argparse.Namespace, task: str, precision: str, channels_last: bool) -> dict[str, float]:
    import warnings

    from dsdviz.precision import channels_last as to_channels_last
    from dsdviz.precision import resolve_precision

    warnings.simplefilter("ignore")  # the perceptual-layer note of stage 2
    torch.manual_seed(0)
    device = torch.device(args.device)
    plan = resolve_precision(precision, device)
    if task == "sr2-baseline":
        net, loss = _baseline_step(args.batch, args.crop, device)
    else:
        crop = args.regressor_crop if task == "regressor" else args.crop
        net, loss = _trainer_step(task, args.batch, crop, device, plan)
    if channels_last:
        net = to_channels_last(net)
    optimizer = torch.optim.Adam(net.parameters(), lr=2e-4, betas=(0.9, 0.99))

    def step() -> float:
        optimizer.zero_grad(set_to_none=True)
        value = loss()
        value.backward()
        optimizer.step()
        return float(value)

    step()  # warm-up
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    rss_before = rss_kib("VmRSS")
    times = []
    for _ in range(args.steps):
        start = time.perf_counter()
        step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    if device.type == "cuda":
        peak = torch.cuda.max_memory_allocated() / 2**20
    else:
        peak = (rss_kib("VmHWM") - rss_before) / 1024
    return {"seconds": statistics.median(times), "peak_mib": peak}


def configurations(tasks: list[str]) -> list[tuple[str, str, bool]]:
    """(task, precision, channels_last) to run; the baseline only in float32, contiguous."""
    rows = []
    for task in tasks:
        if task == "sr2-baseline":
            rows.append((task, "fp32", False))
        else:
            rows.extend((task, precision, layout) for precision in PRECISIONS for layout in (False, True))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", nargs="+", choices=TASKS, default=list(TASKS))
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--crop", type=int, default=24, help="SR: LR crop in px (HR = 4x)")
    parser.add_argument("--regressor-crop", type=int, default=80, help="regressor: side of y|a in px")
    parser.add_argument("--steps", type=int, default=5, help="timed steps (median reported)")
    parser.add_argument("--quick", action="store_true", help="batch 8, crops 16 / 32 px, 2 timed steps")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--worker", nargs=3, metavar=("TASK", "PRECISION", "CHANNELS_LAST"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.batch, args.crop, args.regressor_crop, args.steps = 8, 16, 32, 2
    if args.worker:
        task, precision, layout = args.worker
        print(json.dumps(worker(args, task, precision, layout == "1")))
        return

    from dsdviz.precision import probe_capability

    device = torch.device(args.device)
    print(f"training steps, batch {args.batch}, SR LR crop {args.crop} px, regressor y|a {args.regressor_crop} px, "
          f"{device} ({probe_capability(device).detail}), torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")  # fmt: skip
    header = (f"{'task':<13}{'precision':<10}{'layout':<15}{'s/step':>8}{'steps/s':>9}{'img/s':>8}{'peak MiB':>10}"
              f"{'speed-up':>10}")  # fmt: skip
    print(header)
    print("-" * len(header))
    reference: dict[str, float] = {}
    for task, precision, layout in configurations(args.tasks):
        command = [sys.executable, __file__, "--worker", task, precision, str(int(layout)), "--batch", str(args.batch),
                   "--crop", str(args.crop), "--regressor-crop", str(args.regressor_crop), "--steps", str(args.steps),
                   "--device", args.device]  # fmt: skip
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        r = json.loads(output.strip().splitlines()[-1])
        base = reference.setdefault(task.removesuffix("-baseline"), r["seconds"])
        print(f"{task:<13}{precision:<10}{'channels-last' if layout else 'contiguous':<15}{r['seconds']:>8.3f}"
              f"{1 / r['seconds']:>9.2f}{args.batch / r['seconds']:>8.1f}{r['peak_mib']:>10.0f}"
              f"{base / r['seconds']:>9.2f}x", flush=True)  # fmt: skip
    print("\nspeed-up: float32 contiguous s/step of the same task (sr2-baseline: of sr2) divided by this row's")


if __name__ == "__main__":
    main()
