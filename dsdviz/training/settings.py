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

from ..validation import check_positive_int


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
    amp: bool = setting(True, "mixed precision on GPU")
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


__all__ = ["LoopSettings", "TaskSettings", "setting"]
