"""Training throughput in the paper's settings, mixed precision vs float32, and where a short run gets to.

The check to run on a GPU before committing hours to a full run: steps per second of the full
setting and the validation PSNR/SSIM against bicubic, in a few minutes. For each precision (the
trainer's ``precision``: ``fp32``, the baseline, and ``auto``: mixed precision on CUDA, bfloat16 on
a CPU with native bfloat16; ``auto`` is left out where it resolves to float32) it runs
:class:`dsdviz.training.Trainer` with ``preset(task, "full")`` for about ``--seconds`` of
training, then validates (SR: Set14 whole images; deblurring: Set5 with synthetic camera shake;
regressor: BSD100 crops) and prints steps/s, images/s, peak memory and the validation scores
beside their baseline (bicubic or the blurred input). The last line is the speed-up of mixed
precision over float32 on the same machine and run.

    python benchmarks/bench_full_training.py [--task sr] [--stage psnr] [--seconds 120] [--data DIR]
    python benchmarks/bench_full_training.py --quick --seconds 5     # the CPU quick mode, to try it

Needs VGG19 weights (``DSDVIZ_VGG19_WEIGHTS``) and the data folder (``--data`` or ``DSDVIZ_DATA``).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch
from memory import rss_kib

from dsdviz.precision import resolve_precision
from dsdviz.training import Trainer, preset


def measure(args: argparse.Namespace, precision: str, out: Path) -> dict[str, float]:
    """Train one configuration for about ``args.seconds`` and validate it; throughput and scores."""
    config = preset(
        args.task, "quick" if args.quick else "full", stage=args.stage, root=args.data, out=str(out), precision=precision, steps=10**7,
        checkpoint_every=10**7, val_every=10**7, log_every=10, monitor_every=None, progress=False,
        device=args.device, **({} if args.workers is None else {"workers": args.workers}),
    )  # fmt: skip
    trainer = Trainer(config)
    try:
        trainer.run(until=20)  # step-0 validation, warm-up (cuDNN autotuning, data workers)
        cuda = trainer.device.type == "cuda"
        if cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        rss_before = rss_kib("VmRSS")
        first = len(trainer.history)
        start = time.perf_counter()
        trainer.run(until=40)
        if cuda:
            torch.cuda.synchronize()
        per_step = (time.perf_counter() - start) / 20
        trainer.run(until=40 + max(20, int(args.seconds / per_step)))
        if cuda:
            torch.cuda.synchronize()
        seconds = [e["seconds"] for e in trainer.history[first:] if e["split"] == "train"]
        scores = trainer.validate()
        peak = torch.cuda.max_memory_allocated() / 2**20 if cuda else (rss_kib("VmHWM") - rss_before) / 1024
        return {"step_seconds": statistics.median(seconds), "steps": trainer.step, "batch": config.loop.batch_size,
                "peak_mib": peak, "precision": trainer.plan.precision,
                **scores}  # fmt: skip
    finally:
        trainer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", choices=("sr", "deblur", "regressor"), default="sr")
    parser.add_argument("--stage", choices=("psnr", "dsd"), default="psnr", help="SR/deblurring stage")
    parser.add_argument("--seconds", type=float, default=120.0, help="training time per precision")
    parser.add_argument("--data", help="data folder (default: $DSDVIZ_DATA)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--workers", type=int, help="DataLoader workers (default: the preset's, 4 in full mode)")
    parser.add_argument("--quick", action="store_true", help="the CPU quick-mode sizes instead of the paper's")
    args = parser.parse_args()
    device = torch.device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    what = args.task if args.task == "regressor" else f"{args.task} stage {args.stage}"
    print(f"{what}, {'quick' if args.quick else 'full'} settings, {name}, torch {torch.__version__}")
    results = {}
    with tempfile.TemporaryDirectory(prefix="dsdviz_bench_") as tmp:
        mixed = resolve_precision("auto", device).enabled
        for precision in ("fp32", "auto") if mixed else ("fp32",):
            r = results[precision] = measure(args, precision, Path(tmp) / precision)
            scores = "  ".join(f"{k} {v:.4g}" for k, v in r.items() if k.startswith(("psnr", "ssim", "rel_")))
            print(f"precision {r['precision']:<9} {1 / r['step_seconds']:7.2f} steps/s "
                  f"{r['batch'] / r['step_seconds']:8.1f} img/s {r['peak_mib']:8.0f} MiB peak; "
                  f"after {r['steps']} steps: {scores}")  # fmt: skip
    if "auto" in results:
        speed_up = results["fp32"]["step_seconds"] / results["auto"]["step_seconds"]
        print(f"speed-up of {results['auto']['precision']} over float32: {speed_up:.2f}x")


if __name__ == "__main__":
    main()
