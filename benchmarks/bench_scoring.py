"""Scoring the same images in two recipes: the Scorer's process-wide memo vs computing every value again.

The figure recipes score the ground truth, bicubic and the official SRGAN / SRResNet results of Set5 (and
Set14) several times over (the SR tables, the agreement table, the no-reference checks, the equal-budget
tables). Two passes over the same images, as two recipes make them, every score of a metrics table plus the
excess, with the default regressor pair:

* baseline: :func:`dsdviz.scoring.clear_memo` before each pass, so the second pass computes everything again
  (what the recipes did before the memo);
* memo: the second pass finds every value of the first.

Also printed: the memo's own cost on a first pass (hashing each image and the regressors' weights), its
entries and the process's peak memory. The values of both passes are checked equal.

    python benchmarks/bench_scoring.py [--sets Set5 Set14]
"""

from __future__ import annotations

import argparse
import platform
import time

import torch
from memory import rss_kib

from dsdviz.data import bicubic_upsample, sr_examples, sr_folders
from dsdviz.experiments.methods import published_sr_outputs
from dsdviz.models import DEFAULT_REGRESSORS, load_model
from dsdviz.scoring import _MEMO, Scorer, clear_memo, content_key


def cpu_name() -> str:
    """The CPU's model name (Linux ``/proc/cpuinfo``), else what :mod:`platform` says."""
    try:
        with open("/proc/cpuinfo") as handle:
            return next(line.split(":", 1)[1].strip() for line in handle if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def images(sets: list[str]) -> list[tuple[torch.Tensor, dict[str, torch.Tensor]]]:
    """``(ground truth, {method: output})`` per image: bicubic, SRGAN and SRResNet where the data has them."""
    found = []
    for set_name in sets:
        hr_folder, lr_folder = sr_folders(set_name, 4)
        for example in sr_examples(hr_folder, 4, lr_folder):
            size = example.target.shape[-2:]
            outputs = {"bicubic": bicubic_upsample(example.input, 4)}
            outputs.update(published_sr_outputs(("SRGAN", "SRResNet"), set_name, example.name, size))
            found.append((example.target, outputs))
    return found


def one_pass(pairs: list[tuple[torch.Tensor, dict[str, torch.Tensor]]], regressors: list) -> tuple[float, list]:
    """Seconds to score every image as a metrics table does, and the rows."""
    scorer = Scorer(regressors, scores=("psnr", "ssim", "dsd_distance", "q_dsd", "excess", "niqe"), shave=4)
    rows, start = [], time.perf_counter()
    for truth, outputs in pairs:
        scorer.set_reference(truth)
        rows.append(scorer(truth, full_reference=False))
        rows += [scorer(output) for output in outputs.values()]
    return time.perf_counter() - start, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", nargs="+", default=["Set5"])
    args = parser.parse_args()
    regressors = [load_model(name) for name in DEFAULT_REGRESSORS]
    pairs = images(args.sets)
    count = sum(1 + len(outputs) for _, outputs in pairs)
    print(f"scoring {count} images of {', '.join(args.sets)} twice (PSNR, SSIM, DSD distance, Q_DSD and excess "
          f"with {', '.join(DEFAULT_REGRESSORS)}, NIQE); {cpu_name()}, {torch.get_num_threads()} threads")  # fmt: skip
    one_pass(pairs[:1], regressors)  # warm-up: VGG weights, extractor

    clear_memo()
    first, base_rows = one_pass(pairs, regressors)
    clear_memo()
    second, again = one_pass(pairs, regressors)
    assert again == base_rows
    baseline = first + second
    print(f"baseline (recomputed):  pass 1 {first:7.2f} s, pass 2 {second:7.2f} s, total {baseline:7.2f} s")

    clear_memo()
    first, rows = one_pass(pairs, regressors)
    second, again = one_pass(pairs, regressors)
    assert rows == again == base_rows, "the memo changed a value"
    print(f"memo:                   pass 1 {first:7.2f} s, pass 2 {second:7.2f} s, total {first + second:7.2f} s")
    print(f"two passes: {baseline / (first + second):.2f}x faster with the memo; the second pass "
          f"{(baseline / 2) / max(second, 1e-9):.0f}x")  # fmt: skip

    start = time.perf_counter()
    for truth, outputs in pairs:
        for image in (truth, *outputs.values()):
            content_key(image)
            for psi in regressors:
                content_key(*psi.state_dict().values())
    hashing = time.perf_counter() - start
    print(f"the memo's cost on a first pass (hashing images and weights): {hashing:.3f} s, "
          f"{100 * hashing / first:.1f}% of the pass; {len(_MEMO)} values kept")  # fmt: skip
    print(f"peak resident memory: {rss_kib('VmHWM') / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
