"""The training settings, one record per task x stage x setting, every value written out: :data:`PRESETS`.

Four settings share one code path; only sizes, step counts and precision differ:

* ``quick``: CI and the notebooks, seconds per step on 2 CPU cores; the runs show the loop at work
  and the figures draw the shipped networks.
* ``smoke``: ``make test-fast`` (``DSDVIZ_SMOKE=1``), 2 steps on 2 tiny crops: the code runs end to end.
* ``cpu``: a small CPU, an hour or so a run, bf16 autocast: what the shipped ``*_cpu`` models were
  trained with (stage 2 starts from the shipped stage-1 model).
* ``full``: the paper's setting, for a GPU.

:func:`preset` turns a record into a :class:`~dsdviz.training.TrainConfig` on a data folder. One rule
is written as code, because it follows a step count the caller may change: in the quick and smoke
settings the rate halves after 3/4 of the steps, validation runs at the end and the fixed-batch loss
is logged about 10 times (:func:`follow_steps`; each record holds these values for its own step count).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..data import data_root
from ..validation import check_choice
from .config import TASKS, TrainConfig

#: The settings, from the smallest to the paper's.
SETTINGS = ("smoke", "quick", "cpu", "full")
Setting = Literal["smoke", "quick", "cpu", "full"]
#: The regressor's natural images: both BSDS500 pools (400 images), less the last :data:`REGRESSOR_HOLDOUT`
#: of ``BSDS500_test`` (name order), kept unseen for the checks of :mod:`dsdviz.experiments.noref_checks`.
REGRESSOR_POOLS = ("BSDS500_train", "BSDS500_test")
REGRESSOR_HOLDOUT = 50
#: Fraction of the regressor's training coarse copies given a camera's noise and JPEG.
REGRESSOR_REALISTIC = 0.5
#: The regressor's data, the same in every setting.
_REGRESSOR_DATA = {"holdout": REGRESSOR_HOLDOUT, "realistic": REGRESSOR_REALISTIC}


@dataclass(frozen=True)
class Preset:
    """One training run's sizes: a task's stage at one setting. Fields are the
    :class:`~dsdviz.training.TrainConfig` settings of the same names; the loop's other settings
    (optimiser, seed, device) keep their defaults.

    Attributes:
        task, stage, setting: what the record is for (the regressor has one stage, ``"psnr"``).
        alpha: the regressor factor the record is for (``None``: any).
        crop: the network's input crop in px (LR for SR, ``y|a`` for the regressor).
        data: training folders, relative to the data folder.
        val_data, val_lr: validation ground truth and its LR files, relative to the data folder.
        task_options: the task's own settings (validation crops, blur kernel size, hold-out, ...).
    """

    task: str
    stage: str
    setting: str
    alpha: float | None
    crop: int
    batch_size: int
    steps: int
    decay_every: int
    val_every: int
    checkpoint_every: int
    log_every: int
    monitor_every: int | None
    monitor_batch: int
    workers: int
    samples: int
    precision: str | None
    init: str | None
    out: str
    data: tuple[str, ...]
    val_data: str
    val_lr: str | None
    task_options: Mapping[str, Any] = field(default_factory=dict)

    def settings(self, base: Path | None) -> dict[str, Any]:
        """The record as flat :class:`~dsdviz.training.TrainConfig` settings; folders under ``base``
        (``None``: no folders, the caller gives them)."""
        sizes = asdict(self)
        for name in ("task", "setting", "alpha", "data", "val_data", "val_lr", "task_options"):
            del sizes[name]
        if self.task == "regressor":
            del sizes["stage"]
        sizes.update(self.task_options)
        if base is not None:
            sizes["data"] = os.pathsep.join(str(base / folder) for folder in self.data)
            sizes["val_data"] = str(base / self.val_data)
            if self.val_lr is not None:
                sizes["val_lr"] = str(base / self.val_lr)
        return sizes


_SR_QUICK = {"data": ("BSDS500_train",), "val_data": "Set5/HR", "val_lr": "Set5/LR_bicubic/X4"}
_SR = {"data": ("BSDS500_train",), "val_data": "Set14/HR", "val_lr": "Set14/LR_bicubic/X4"}
_DEBLUR = {"data": ("BSDS500_train",), "val_data": "Set5/HR", "val_lr": None}
_REGRESSOR = {"data": REGRESSOR_POOLS, "val_data": "BSD100/HR", "val_lr": None}

#: Every preset. ``decay_every`` stays when a caller changes ``steps``, so that a resumed, extended run
#: keeps its schedule.
PRESETS: tuple[Preset, ...] = (
    # 4x super-resolution: LR crops of `crop` px, HR 4 x crop.
    Preset("sr", "psnr", "smoke", None, crop=8, batch_size=2, steps=2, decay_every=1, val_every=2,
           checkpoint_every=20, log_every=1, monitor_every=1, monitor_batch=2, workers=0, samples=2,
           precision=None, init=None, out="runs/sr_psnr", **_SR_QUICK, task_options={"val_crop": 32, "val_limit": 1}),
    Preset("sr", "dsd", "smoke", None, crop=8, batch_size=2, steps=2, decay_every=1, val_every=2,
           checkpoint_every=20, log_every=1, monitor_every=1, monitor_batch=2, workers=0, samples=2,
           precision=None, init=None, out="runs/sr_dsd", **_SR_QUICK, task_options={"val_crop": 32, "val_limit": 1}),
    Preset("sr", "psnr", "quick", None, crop=16, batch_size=8, steps=24, decay_every=18, val_every=24,
           checkpoint_every=20, log_every=1, monitor_every=2, monitor_batch=16, workers=0, samples=2,
           precision=None, init=None, out="runs/sr_psnr", **_SR_QUICK, task_options={"val_crop": 96, "val_limit": 2}),
    Preset("sr", "dsd", "quick", None, crop=16, batch_size=8, steps=12, decay_every=9, val_every=12,
           checkpoint_every=20, log_every=1, monitor_every=1, monitor_batch=16, workers=0, samples=2,
           precision=None, init=None, out="runs/sr_dsd", **_SR_QUICK, task_options={"val_crop": 96, "val_limit": 2}),
    Preset("sr", "psnr", "cpu", None, crop=24, batch_size=16, steps=7000, decay_every=5000, val_every=1000,
           checkpoint_every=500, log_every=50, monitor_every=500, monitor_batch=32, workers=1, samples=3,
           precision="bf16", init=None, out="runs/sr_psnr_cpu", **_SR),
    Preset("sr", "dsd", "cpu", None, crop=24, batch_size=16, steps=2500, decay_every=2000, val_every=500,
           checkpoint_every=250, log_every=50, monitor_every=500, monitor_batch=32, workers=0, samples=3,
           precision="bf16", init="xsrresnet_sr_x4_psnr_cpu", out="runs/sr_dsd_cpu", **_SR),
    Preset("sr", "psnr", "full", None, crop=40, batch_size=16, steps=200_000, decay_every=50_000, val_every=5000,
           checkpoint_every=1000, log_every=20, monitor_every=1000, monitor_batch=32, workers=4, samples=3,
           precision=None, init=None, out="runs/sr_psnr", **_SR),
    Preset("sr", "dsd", "full", None, crop=40, batch_size=16, steps=100_000, decay_every=25_000, val_every=5000,
           checkpoint_every=1000, log_every=20, monitor_every=1000, monitor_batch=32, workers=4, samples=3,
           precision=None, init=None, out="runs/sr_dsd", **_SR),
    # Deblurring: blurred crops of `crop` px at full resolution; quick runs blur with 15 px kernels.
    Preset("deblur", "psnr", "smoke", None, crop=32, batch_size=2, steps=2, decay_every=1, val_every=2,
           checkpoint_every=20, log_every=1, monitor_every=1, monitor_batch=2, workers=0, samples=2,
           precision=None, init=None, out="runs/deblur_psnr", **_DEBLUR,
           task_options={"val_crop": 32, "val_limit": 1, "kernel_size": 15}),
    Preset("deblur", "dsd", "smoke", None, crop=32, batch_size=2, steps=2, decay_every=1, val_every=2,
           checkpoint_every=20, log_every=1, monitor_every=1, monitor_batch=2, workers=0, samples=2,
           precision=None, init=None, out="runs/deblur_dsd", **_DEBLUR,
           task_options={"val_crop": 32, "val_limit": 1, "kernel_size": 15}),
    Preset("deblur", "psnr", "quick", None, crop=32, batch_size=8, steps=16, decay_every=12, val_every=16,
           checkpoint_every=20, log_every=1, monitor_every=1, monitor_batch=16, workers=0, samples=2,
           precision=None, init=None, out="runs/deblur_psnr", **_DEBLUR,
           task_options={"val_crop": 96, "val_limit": 1, "kernel_size": 15}),
    Preset("deblur", "dsd", "quick", None, crop=32, batch_size=8, steps=8, decay_every=6, val_every=8,
           checkpoint_every=20, log_every=1, monitor_every=1, monitor_batch=16, workers=0, samples=2,
           precision=None, init=None, out="runs/deblur_dsd", **_DEBLUR,
           task_options={"val_crop": 96, "val_limit": 1, "kernel_size": 15}),
    Preset("deblur", "psnr", "cpu", None, crop=48, batch_size=16, steps=2500, decay_every=2000, val_every=500,
           checkpoint_every=250, log_every=50, monitor_every=500, monitor_batch=32, workers=0, samples=3,
           precision="bf16", init=None, out="runs/deblur_psnr_cpu", **_DEBLUR),
    Preset("deblur", "dsd", "cpu", None, crop=48, batch_size=16, steps=1000, decay_every=750, val_every=250,
           checkpoint_every=250, log_every=50, monitor_every=500, monitor_batch=32, workers=0, samples=3,
           precision="bf16", init="xsrresnet_deblur_psnr_cpu", out="runs/deblur_dsd_cpu", **_DEBLUR),
    Preset("deblur", "psnr", "full", None, crop=160, batch_size=16, steps=200_000, decay_every=50_000,
           val_every=5000, checkpoint_every=1000, log_every=20, monitor_every=1000, monitor_batch=32, workers=4,
           samples=3, precision=None, init=None, out="runs/deblur_psnr", **_DEBLUR),
    Preset("deblur", "dsd", "full", None, crop=160, batch_size=16, steps=100_000, decay_every=25_000,
           val_every=5000, checkpoint_every=1000, log_every=20, monitor_every=1000, monitor_batch=32, workers=4,
           samples=3, precision=None, init=None, out="runs/deblur_dsd", **_DEBLUR),
    # The DSD regressor psi_alpha: coarse copies y|a of `crop` px (y is alpha x crop).
    Preset("regressor", "psnr", "smoke", None, crop=32, batch_size=2, steps=2, decay_every=1, val_every=2,
           checkpoint_every=20, log_every=1, monitor_every=1, monitor_batch=2, workers=0, samples=2,
           precision=None, init=None, out="runs/regressor", **_REGRESSOR,
           task_options={**_REGRESSOR_DATA, "val_limit": 1, "calibration_batches": 1}),
    Preset("regressor", "psnr", "quick", None, crop=32, batch_size=8, steps=40, decay_every=30, val_every=40,
           checkpoint_every=20, log_every=1, monitor_every=4, monitor_batch=16, workers=0, samples=2,
           precision=None, init=None, out="runs/regressor", **_REGRESSOR,
           task_options={**_REGRESSOR_DATA, "val_limit": 8, "calibration_batches": 2}),
    Preset("regressor", "psnr", "cpu", 2.0, crop=48, batch_size=16, steps=3000, decay_every=2000, val_every=500,
           checkpoint_every=250, log_every=50, monitor_every=500, monitor_batch=32, workers=0, samples=3,
           precision="bf16", init=None, out="runs/regressor_a2_cpu", **_REGRESSOR,
           task_options={**_REGRESSOR_DATA, "val_per_image": 1}),
    Preset("regressor", "psnr", "cpu", 4.0, crop=32, batch_size=16, steps=1500, decay_every=1000, val_every=500,
           checkpoint_every=250, log_every=50, monitor_every=500, monitor_batch=32, workers=0, samples=3,
           precision="bf16", init=None, out="runs/regressor_a4_cpu", **_REGRESSOR,
           task_options={**_REGRESSOR_DATA, "val_per_image": 1}),
    Preset("regressor", "psnr", "full", None, crop=80, batch_size=16, steps=100_000, decay_every=25_000,
           val_every=5000, checkpoint_every=1000, log_every=20, monitor_every=1000, monitor_batch=32, workers=4,
           samples=3, precision=None, init=None, out="runs/regressor", **_REGRESSOR,
           task_options={**_REGRESSOR_DATA, "val_per_image": 4}),
)  # fmt: skip


def follow_steps(steps: int) -> dict[str, int]:
    """Quick and smoke runs of ``steps`` steps: the rate halves after 3/4 of them, validation runs at the
    end, the loss on the fixed batch is logged about 10 times. :func:`preset` applies the last two to an
    overridden ``steps`` (not the decay, so that an extended run resumes with its schedule);
    :class:`dsdviz.experiments.stages.TrainingSchedule`, whose runs are new, all three."""
    return {"decay_every": max(1, steps * 3 // 4), "val_every": steps, "monitor_every": max(1, steps // 10)}


def find_preset(task: str, setting: str = "full", stage: str = "psnr", alpha: float = 2.0) -> Preset:
    """The record of ``task``'s ``stage`` at ``setting`` (the regressor's cpu records: per ``alpha``).

    Raises:
        ValueError: on an unknown task, setting or stage, or a factor the record does not have.
    """
    check_choice(task, TASKS, "task")
    check_choice(setting, SETTINGS, "setting")
    check_choice(stage, ("psnr",) if task == "regressor" else ("psnr", "dsd"), "stage")
    found = [p for p in PRESETS if (p.task, p.stage, p.setting) == (task, stage, setting)]
    for record in found:
        if record.alpha is None or record.alpha == alpha:
            return record
    factors = " and ".join(f"{p.alpha:g}" for p in found)
    raise ValueError(f"the {setting} setting of the {task} has sizes for alpha {factors}, not {alpha:g}")


def preset_fields() -> frozenset[str]:
    """The settings some preset sets (the others keep their dataclass defaults)."""
    return frozenset(name for record in PRESETS for name in record.settings(Path(".")))


def preset(
    task: str,
    setting: Setting = "full",
    *,
    stage: str = "psnr",
    root: str | os.PathLike | None = None,
    **overrides: Any,
) -> TrainConfig:
    """The settings of a training run: the :data:`PRESETS` record of ``task``, ``stage`` and ``setting``
    (default: the paper's, as ``dsdviz train``), on the data folder ``root``, with ``overrides``.

    Data (``root`` defaults to ``$DSDVIZ_DATA``): training on ``BSDS500_train`` (the regressor: also
    ``BSDS500_test`` less its last 50 images, half of its coarse copies with a camera's noise and JPEG);
    SR validation on Set5 (quick) or Set14 with their MATLAB-bicubic LR files; deblurring validation on
    Set5 blurred with fixed random camera-shake kernels; regressor validation on BSD100.

    Why the sizes are what they are:

    * full: batch 16, LR crop 40 (SR), 160 px (deblurring), ``y|a`` 80 px (regressor, as in the
      authors' code); 200k + 100k steps (the regressor 100k), the rate halved every quarter. The paper
      trains per epoch on DIV2K-sized data; these step counts are our equivalent. Throughput on a GPU:
      the README's "The full settings (GPU)".
    * cpu: SR LR crops of 24 px (HR 96, the smallest at which relu3_1 Gram matrices of the DSD term
      still average over 24 x 24 positions); deblurring 48 px (a step costs 4 SR steps; 48 px still
      spans the 31 px camera-shake kernels); psi_2 48 px, psi_4 32 px (at 48 px its 192 px DSD targets
      make a step 7 times dearer). Validation is sparse because it scores whole test images. The model
      card ``dsdviz/models/weights/README.md`` gives the wall times.
    * quick and smoke: validation and the monitor follow an overridden ``steps`` (:func:`follow_steps`); the
      decay stays, as in the other settings.

    ``overrides`` replace any setting by name (:meth:`TrainConfig.from_flat`), e.g.
    ``preset("sr", "quick", steps=10, out="runs/x")``. Giving ``data`` drops the regressor's hold-out
    (a slice of the default pools); giving ``val_data`` drops the default LR folder.

    Raises:
        ValueError: on an unknown task, setting or stage, or a cpu regressor factor other than 2 or 4.
    """
    record = find_preset(task, setting, stage, float(overrides.get("alpha", 2.0)))
    base = data_root(root, required="data" not in overrides)
    settings = record.settings(base)
    if "val_data" in overrides:  # the default LR / blurred folders belong to the default validation set
        settings.pop("val_lr", None)
    if "data" in overrides:  # the regressor's hold-out is a slice of the default pools
        settings.pop("holdout", None)
    if setting in ("smoke", "quick") and "steps" in overrides:  # the decay stays: an extended run resumes
        follows = follow_steps(overrides["steps"])
        settings.update(val_every=follows["val_every"], monitor_every=follows["monitor_every"])
    return TrainConfig.from_flat(task, **{**settings, **overrides})


__all__ = [
    "PRESETS", "Preset", "REGRESSOR_HOLDOUT", "REGRESSOR_POOLS", "REGRESSOR_REALISTIC", "SETTINGS", "Setting",
    "find_preset", "follow_steps", "preset", "preset_fields",
]  # fmt: skip
