"""The three training settings, one code path: quick (CI, minutes), cpu (hours; the shipped models) and
full (the paper's, a GPU): :func:`preset`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from ..data import data_root
from ..validation import check_choice
from .config import TASKS, TrainConfig

#: Quick mode (CPU, seconds per notebook cell): sizes and step counts per task and stage (``steps``: psnr, dsd).
#: These runs show the loop at work; the figures draw the shipped networks.
QUICK: dict[str, dict[str, Any]] = {
    "sr": {"crop": 16, "batch_size": 8, "steps": (24, 12), "val_crop": 96, "val_limit": 2},
    "deblur": {"crop": 32, "batch_size": 8, "steps": (16, 8), "val_crop": 96, "val_limit": 1, "kernel_size": 15},
    "regressor": {"crop": 32, "batch_size": 8, "steps": (40, 40), "val_limit": 8, "calibration_batches": 2},
}
#: The paper's setting (a GPU): input crop and steps per stage (psnr, dsd) per task.
FULL: dict[str, dict[str, Any]] = {
    "sr": {"crop": 40, "steps": (200_000, 100_000)},
    "deblur": {"crop": 160, "steps": (200_000, 100_000)},
    "regressor": {"crop": 80, "steps": (100_000, 100_000), "val_per_image": 4},
}
#: The CPU setting (a small CPU, bf16 autocast, an hour or so per run): what the shipped ``*_cpu`` models were
#: trained with. A pair is ``(stage 1, stage 2)``; stage 2 starts from the shipped stage-1 model. The
#: regressor's sizes depend on its factor: ``{alpha: value}``.
CPU: dict[str, dict[str, Any]] = {
    "sr": {
        "crop": 24, "steps": (7000, 2500), "decay_every": (5000, 2000), "val_every": (1000, 500),
        "checkpoint_every": (500, 250), "workers": (1, 0), "init": (None, "xsrresnet_sr_x4_psnr_cpu"),
    },
    "deblur": {
        "crop": 48, "steps": (2500, 1000), "decay_every": (2000, 750), "val_every": (500, 250),
        "checkpoint_every": (250, 250), "workers": (0, 0), "init": (None, "xsrresnet_deblur_psnr_cpu"),
    },
    "regressor": {
        "crop": {2: 48, 4: 32}, "steps": {2: 3000, 4: 1500}, "decay_every": {2: 2000, 4: 1000}, "val_every": 500,
        "checkpoint_every": 250, "workers": 0, "val_per_image": 1,
    },
}  # fmt: skip
#: The regressor's natural images: both BSDS500 pools (400 images), less the last :data:`REGRESSOR_HOLDOUT`
#: of ``BSDS500_test`` (name order), kept unseen for the checks of :mod:`dsdviz.experiments.agreement`.
REGRESSOR_POOLS = ("BSDS500_train", "BSDS500_test")
REGRESSOR_HOLDOUT = 50
#: Fraction of the regressor's training coarse copies given a camera's noise and JPEG.
REGRESSOR_REALISTIC = 0.5
#: The settings: ``"quick"``, ``"cpu"``, ``"full"``.
SETTINGS = ("quick", "cpu", "full")
Setting = Literal["quick", "cpu", "full"]


def _data(task: str, quick: bool, base: Path) -> dict[str, Any]:
    """The training and validation folders under the data folder ``base``."""
    if task == "regressor":
        pools = os.pathsep.join(str(base / pool) for pool in REGRESSOR_POOLS)
        return {"data": pools, "holdout": REGRESSOR_HOLDOUT, "realistic": REGRESSOR_REALISTIC,
                "val_data": str(base / "BSD100" / "HR")}  # fmt: skip
    settings = {"data": str(base / "BSDS500_train")}
    if task == "sr":
        benchmark = base / ("Set5" if quick else "Set14")
        settings.update(val_data=str(benchmark / "HR"), val_lr=str(benchmark / "LR_bicubic" / "X4"))
    else:
        settings["val_data"] = str(base / ("Set5" if task == "deblur" else "BSD100") / "HR")
    return settings


def _pick(value: Any, stage: str, alpha: float) -> Any:
    """A setting's value for this stage (``(stage 1, stage 2)`` pairs) and regressor factor (``{alpha: value}``)."""
    if isinstance(value, tuple):
        return value[0 if stage == "psnr" else 1]
    if isinstance(value, dict):
        if alpha not in value:
            raise ValueError(f"the cpu setting of the regressor has sizes for alpha {' and '.join(map(str, value))}")
        return value[alpha]
    return value


def _sizes(task: str, setting: str, stage: str, alpha: float = 2.0) -> dict[str, Any]:
    """Crops, batches, step counts, schedule and cadence of a preset, and its output folder."""
    table = {"quick": QUICK, "cpu": CPU, "full": FULL}[setting]
    sizes = {k: _pick(v, stage, alpha) for k, v in table[task].items()}
    if setting == "quick":
        sizes.update(decay_every=sizes["steps"] * 3 // 4, workers=0, checkpoint_every=20, log_every=1, samples=2)
    elif setting == "cpu":
        sizes.update(batch_size=16, precision="bf16", monitor_every=500, log_every=50)
    else:
        sizes.update(batch_size=16, val_every=5000, checkpoint_every=1000, log_every=20, monitor_every=1000,
                     decay_every=sizes["steps"] // 4)  # fmt: skip
    if task != "regressor":
        sizes["stage"] = stage
    if setting == "cpu":
        sizes["out"] = f"runs/{task}_" + (f"a{alpha:g}" if task == "regressor" else stage) + "_cpu"
    else:
        sizes["out"] = f"runs/{task}" + ("" if task == "regressor" else f"_{stage}")
    return {k: v for k, v in sizes.items() if v is not None}


def _follow_steps(steps: int) -> dict[str, int]:
    """Quick mode: validate before and after only; the loss on a fixed batch of 16 about 10 times."""
    return {"val_every": steps, "monitor_every": max(1, steps // 10), "monitor_batch": 16}


def preset_fields() -> frozenset[str]:
    """The settings some preset sets (the others keep their dataclass defaults)."""
    found = set(_follow_steps(1))
    for task in TASKS:
        for setting in SETTINGS:
            for stage in ("psnr",) if task == "regressor" else ("psnr", "dsd"):
                found |= set(_sizes(task, setting, stage)) | set(_data(task, setting == "quick", Path(".")))
    return frozenset(found)


def preset(
    task: str,
    quick: bool = True,
    *,
    setting: Setting | None = None,
    stage: str = "psnr",
    root: str | os.PathLike | None = None,
    **overrides: Any,
) -> TrainConfig:
    """The settings of a training run: quick, cpu or full (the paper's), on the data folder ``root``.

    ``setting`` chooses; without it ``quick`` does (``True``: quick, ``False``: full).

    Data (``root`` defaults to ``$DSDVIZ_DATA``): training on ``BSDS500_train`` (the regressor:
    also ``BSDS500_test`` less its last 50 images, and half of its coarse copies with a camera's
    noise and JPEG: :data:`REGRESSOR_POOLS`); SR validation on Set5 (quick: 2 central 96 px crops)
    or Set14 with their MATLAB-bicubic LR files; deblurring validation on Set5 blurred with fixed
    random camera-shake kernels (quick: 1 crop of 96 px); regressor validation on BSD100 (quick:
    the first 8 images, one central crop each; full: all 100, 4 crops each).

    **full** (a GPU): batch 16, LR crop 40 (SR), 160 px (deblurring), ``y|a`` 80 px (regressor,
    as in the authors' code); SR/deblurring stage 1 for 200k steps and stage 2 for 100k
    (lr halved every 50k / 25k); regressor 100k steps (halved every 25k). The paper trains
    per epoch on DIV2K-sized data; these step counts are our equivalent, stated here. The
    loss on a fixed batch of 32 is logged every 1000 steps. Throughput on a GPU: the README's "The full
    settings (GPU)" and ``benchmarks/bench_full_training.py``.

    **cpu** (a small CPU, an hour or so a run; the shipped ``*_cpu`` models, whose wall times the
    model card ``dsdviz/models/weights/README.md`` gives): the full setting's losses, optimiser,
    data and validation, in bf16 autocast (faster where the CPU has native bfloat16; its accuracy:
    the README's "Precision and speed on a CPU"), batch 16, and sizes cut to the hour:

    * SR: LR crop 24 px (HR 96, the smallest at which relu3_1 Gram matrices of the DSD term still
      average over 24 x 24 positions), stage 1 7000 steps (the lr halved at 5000), stage 2 2500
      steps from the shipped ``xsrresnet_sr_x4_psnr_cpu`` (halved at 2000; a step runs VGG19 on
      the HR crops).
    * deblurring: 48 px crops (the network works at full resolution, so a step costs 4 times an
      SR step at 24 px; 48 px still spans the 31 px camera-shake kernels), stage 1 2500 steps,
      stage 2 1000 from the shipped ``xsrresnet_deblur_psnr_cpu``.
    * regressor: psi_2 sees 48 px (``y`` 96 px) for 3000 steps, psi_4 32 px (``y`` 128 px; at 48 px the
      DSD targets of 192 px crops make a step 7 times dearer) for 1500 steps: larger crops than the
      shipped pair (32 and 24 px, trained before this setting existed), since the target ``||DSD_l||``
      of a small crop is a noisy label. No shipped regressor has been trained with these sizes yet.

    Validation is sparse (every 400 to 1000 steps) because it scores whole test images.

    **quick** (CI, minutes): the sizes of :data:`QUICK`; the rate halves after 3/4 of the steps;
    the loss on a fixed batch of 16 is logged about 10 times per run.

    ``decay_every`` follows the setting's step count, not an overridden ``steps`` (so that a
    resumed, extended run keeps its schedule). ``overrides`` replace any setting of the loop or the
    task by name (see :meth:`TrainConfig.from_flat`), e.g. ``preset("sr", steps=10, out="runs/x")``.
    The regressor has one stage (``"psnr"``).

    Raises:
        ValueError: on an unknown task, setting or stage, or a setting that is not the task's.
    """
    check_choice(task, TASKS, "task")
    setting = setting or ("quick" if quick else "full")
    check_choice(setting, SETTINGS, "setting")
    check_choice(stage, ("psnr",) if task == "regressor" else ("psnr", "dsd"), "stage")
    base = data_root(root, required="data" not in overrides)
    settings: dict[str, Any] = {} if base is None else _data(task, setting == "quick", base)
    if "val_data" in overrides:  # the default LR / blurred folders belong to the default validation set
        settings.pop("val_lr", None)
    if "data" in overrides:  # the regressor's hold-out is a slice of the default pools
        settings.pop("holdout", None)
    settings.update(_sizes(task, setting, stage, float(overrides.get("alpha", 2.0))))
    settings.update(overrides)
    if setting == "quick":  # these follow the step count, overridden or not
        settings = {**_follow_steps(settings["steps"]), **settings}
    return TrainConfig.from_flat(task, **settings)


__all__ = ["CPU", "FULL", "QUICK", "SETTINGS", "Setting", "preset", "preset_fields"]
