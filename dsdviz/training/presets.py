"""The paper's training settings and the CPU quick mode: :func:`preset`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..data import data_root
from ..validation import check_choice
from .config import TASKS, TrainConfig

#: Quick mode (CPU, minutes): sizes and step counts per task and stage (``steps``: psnr, dsd).
QUICK: dict[str, dict[str, Any]] = {
    "sr": {"crop": 16, "batch_size": 8, "steps": (100, 60), "val_crop": 128, "val_limit": 3},
    "deblur": {"crop": 32, "batch_size": 8, "steps": (80, 40), "val_crop": 96, "val_limit": 2, "kernel_size": 15},
    "regressor": {"crop": 32, "batch_size": 8, "steps": (200, 200), "val_limit": 24, "calibration_batches": 2},
}
#: The paper's setting (a GPU): input crop and steps per stage (psnr, dsd) per task.
FULL: dict[str, dict[str, Any]] = {
    "sr": {"crop": 40, "steps": (200_000, 100_000)},
    "deblur": {"crop": 160, "steps": (200_000, 100_000)},
    "regressor": {"crop": 80, "steps": (100_000, 100_000), "val_per_image": 4},
}


def _data(task: str, quick: bool, base: Path) -> dict[str, str]:
    """The training and validation folders under the data folder ``base``."""
    settings = {"data": str(base / "BSDS500_train")}
    if task == "sr":
        benchmark = base / ("Set5" if quick else "Set14")
        settings.update(val_data=str(benchmark / "HR"), val_lr=str(benchmark / "LR_bicubic" / "X4"))
    else:
        settings["val_data"] = str(base / ("Set5" if task == "deblur" else "BSD100") / "HR")
    return settings


def _sizes(task: str, quick: bool, stage: str) -> dict[str, Any]:
    """Crops, batches, step counts, schedule and cadence of a preset, and its output folder."""
    sizes = dict((QUICK if quick else FULL)[task])
    sizes["steps"] = sizes["steps"][0 if stage == "psnr" else 1]
    if quick:
        sizes.update(decay_every=sizes["steps"] * 3 // 4, workers=0, checkpoint_every=20, log_every=1, samples=2)
    else:
        sizes.update(batch_size=16, val_every=5000, checkpoint_every=1000, log_every=20, monitor_every=1000,
                     decay_every=sizes["steps"] // 4)  # fmt: skip
    if task != "regressor":
        sizes["stage"] = stage
    sizes["out"] = f"runs/{task}" + ("" if task == "regressor" else f"_{stage}")
    return sizes


def _follow_steps(steps: int) -> dict[str, int]:
    """Quick mode: validate before and after only; the loss on a fixed batch of 16 about 10 times."""
    return {"val_every": steps, "monitor_every": max(1, steps // 10), "monitor_batch": 16}


def preset_fields() -> frozenset[str]:
    """The settings some preset sets (the others keep their dataclass defaults)."""
    found = set(_follow_steps(1))
    for task in TASKS:
        for quick in (True, False):
            for stage in ("psnr",) if task == "regressor" else ("psnr", "dsd"):
                found |= set(_sizes(task, quick, stage)) | set(_data(task, quick, Path(".")))
    return frozenset(found)


def preset(
    task: str, quick: bool = True, *, stage: str = "psnr", root: str | os.PathLike | None = None, **overrides: Any
) -> TrainConfig:
    """The paper's settings (``quick=False``) or the CPU quick mode, on the data folder ``root``.

    Data (``root`` defaults to ``$DSDVIZ_DATA``): training on ``BSDS500_train``; SR
    validation on Set5 (quick: 3 central 128 px crops) or Set14 with their MATLAB-bicubic
    LR files; deblurring validation on Set5 blurred with fixed random camera-shake
    kernels (quick: 2 crops of 128 px); regressor validation on BSD100 (quick: the first
    24 images, one central crop each; full: all 100, 4 crops each).

    Full settings: batch 16, LR crop 40 (SR), 160 px (deblurring), ``y|a`` 80 px (regressor,
    as in the authors' code); SR/deblurring stage 1 for 200k steps and stage 2 for 100k
    (lr halved every 50k / 25k); regressor 100k steps (halved every 25k). The paper trains
    per epoch on DIV2K-sized data; these step counts are our equivalent, stated here. Quick
    mode halves the rate after 3/4 of its steps. ``decay_every`` follows the preset's step
    count, not an overridden ``steps`` (so that a resumed, extended run keeps its schedule).
    The loss on a fixed batch is logged every 1000 steps (full; 32 pairs) or about 10 times
    per run (quick; 16 pairs).

    ``overrides`` replace any setting of the loop or the task by name (see
    :meth:`TrainConfig.from_flat`), e.g. ``preset("sr", steps=10, out="runs/x")``. The regressor
    has one stage (``"psnr"``).

    Raises:
        ValueError: on an unknown task or stage, or a setting that is not the task's.
    """
    check_choice(task, TASKS, "task")
    check_choice(stage, ("psnr",) if task == "regressor" else ("psnr", "dsd"), "stage")
    base = data_root(root, required="data" not in overrides)
    settings: dict[str, Any] = {} if base is None else _data(task, quick, base)
    if "val_data" in overrides:  # the default LR / blurred folders belong to the default validation set
        settings.pop("val_lr", None)
    settings.update(_sizes(task, quick, stage))
    settings.update(overrides)
    if quick:  # these follow the step count, overridden or not
        settings = {**_follow_steps(settings["steps"]), **settings}
    return TrainConfig.from_flat(task, **settings)


__all__ = ["FULL", "QUICK", "preset", "preset_fields"]
