"""Settings of a training run: the loop's (:class:`LoopSettings`) and what every task shares (:class:`TaskSettings`).

Each task adds its own fields in its module (:mod:`dsdviz.training.restoration`,
:mod:`dsdviz.training.regressor`). Every field carries its help text in
``metadata["help"]`` (:func:`setting`), from which ``dsdviz train`` builds its options;
``metadata["flags"]`` adds other spellings of an option (``--blocks`` for ``num_blocks``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from ..precision import PRECISIONS, Precision
from ..validation import check_choice, check_positive, check_positive_int

#: The precision of a run whose ``precision`` is ``None``, per device type (others: ``"fp32"``).
#: CUDA: mixed precision, bf16 where supported, else fp16 with loss scaling (what ``amp=True`` did);
#: CPU: float32, so that a run's numbers do not depend on the processor; bf16 passed the convergence check
#: (500 SR steps: loss 0.07%, Set5 PSNR 0.01 dB from float32, :mod:`dsdviz.precision`) and is one option away.
DEFAULT_PRECISION: dict[str, Precision] = {"cuda": "auto", "cpu": "fp32"}


def setting(default: Any, help: str, *flags: str) -> Any:
    """A dataclass field with its help text (and other option spellings) for the command line."""
    return field(default=default, metadata={"help": help, "flags": flags})


def _check_positive(settings: object, names: tuple[str, ...]) -> None:
    for name in names:
        value = getattr(settings, name)
        if value is not None:
            check_positive_int(value, name)


def _paths_as_str(settings: object) -> None:
    for item in fields(settings):  # type: ignore[arg-type]
        value = getattr(settings, item.name)
        if isinstance(value, os.PathLike):
            setattr(settings, item.name, os.fspath(value))


@dataclass
class LoopSettings:
    """How the trainer runs, whatever the task: optimiser, schedule, cadence, devices, output.

    ``batch_size`` is global (split across DDP processes). ``monitor_every`` (``None``: off)
    logs the loss terms on a fixed batch of ``monitor_batch`` pairs (see :mod:`dsdviz.training.loop`).

    ``precision`` (:func:`dsdviz.precision.resolve_precision`) runs the trained network and
    the VGG19 of the losses under autocast; Gram matrices, L1 and MSE terms stay float32, as
    do the optimiser, the weights and validation. ``"fp32"``; ``"bf16"`` (CPUs with native
    bfloat16, CUDA sm_80+); ``"fp16"`` (CUDA, with loss scaling); ``"auto"`` (bf16 where
    native, else fp16 on CUDA, else fp32); ``None`` (default): :data:`DEFAULT_PRECISION` of
    the device, i.e. mixed precision on CUDA as ``amp=True`` had it, float32 on CPU. A
    request the device cannot honour is an error. Networks train channels-last. Accuracy and
    speed of bf16 against float32: :mod:`dsdviz.precision`, ``benchmarks/bench_training.py``.
    """

    out: str = setting("runs/train", "run folder: checkpoint.pt, model.pt, log.jsonl, samples/")
    init: str | None = setting(None, "start from these weights (e.g. the psnr stage's model.pt)")
    steps: int = setting(1000, "optimisation steps of the run")
    batch_size: int = setting(16, "global batch size")
    lr: float = setting(2e-4, "Adam learning rate")
    betas: tuple[float, float] = setting((0.9, 0.99), "Adam betas")
    decay_every: int = setting(100_000, "steps between learning-rate decays")
    decay_gamma: float = setting(0.5, "learning-rate factor at each decay")
    seed: int = setting(0, "seed of the weights, the data stream and the validation crops")
    device: str = setting("auto", "cpu, cuda, cuda:1, or auto: cuda if available")
    precision: Precision | None = setting(
        None, "numeric path: fp32, bf16, fp16 (CUDA) or auto (default: mixed precision on CUDA, fp32 on CPU)"
    )
    workers: int = setting(4, "DataLoader worker processes")
    checkpoint_every: int = setting(1000, "steps between checkpoints")
    val_every: int = setting(5000, "steps between validations")
    log_every: int = setting(10, "steps between log entries")
    monitor_every: int | None = setting(None, "steps between losses on a fixed batch (default: off)")
    monitor_batch: int = setting(32, "pairs in the fixed monitor batch")
    samples: int = setting(3, "validation outputs saved as images")
    progress: bool = setting(True, "progress bar")

    def __post_init__(self) -> None:
        _check_positive(self, ("steps", "batch_size", "decay_every", "checkpoint_every", "val_every", "log_every",
                               "monitor_every", "monitor_batch"))  # fmt: skip
        self.betas = tuple(self.betas)  # type: ignore[assignment]
        check_positive(self.lr, "lr")
        if not (isinstance(self.decay_gamma, (int, float)) and 0 < self.decay_gamma <= 1):
            raise ValueError(f"decay_gamma: expected a factor in (0, 1] (0.5 halves the rate), got {self.decay_gamma!r}")
        if len(self.betas) != 2 or not all(isinstance(b, (int, float)) and 0 <= b < 1 for b in self.betas):
            raise ValueError(f"betas: expected two Adam coefficients in [0, 1), got {self.betas!r}")
        if self.precision is not None:
            check_choice(self.precision, PRECISIONS, "precision")
        _paths_as_str(self)


@dataclass
class TaskSettings:
    """What every task needs: training and validation images and the crop size.

    ``crop`` is the side of the network's *input* crop in pixels (the LR crop for SR, the
    blurred crop for deblurring, ``y|a`` for the regressor).
    """

    #: The task's name in presets, command lines and checkpoints.
    name: ClassVar[str] = ""

    data: str = setting(None, "training images (HR / sharp / natural)")
    crop: int = setting(40, "network input crop in px (LR for SR, y|a for the regressor)")
    val_data: str | None = setting(None, "validation ground truth (HR / sharp / natural)")
    val_limit: int | None = setting(None, "validate on the first N images only")

    def __post_init__(self) -> None:
        if self.data is None:
            raise ValueError(f"{self.name}: the training images (data) are required")
        _check_positive(self, ("crop", "val_limit"))
        _paths_as_str(self)

    @property
    def label(self) -> str:
        """How progress bars name a run of these settings."""
        return self.name


__all__ = ["DEFAULT_PRECISION", "LoopSettings", "TaskSettings", "setting"]
