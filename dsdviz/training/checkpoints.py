"""Training checkpoints: what they hold, every RNG state, and reading them back with clear errors.

A checkpoint (``<out>/checkpoint.pt``, written atomically by
:func:`dsdviz.models.serialization.atomic_save`) is a model record (``kind``, ``config``,
``state_dict``: :func:`dsdviz.models.load_model` reads it) plus ``format``
(:data:`CHECKPOINT_FORMAT`), ``train_config`` (:meth:`TrainConfig.flat`), ``optimizer``,
``scheduler``, ``scaler``, ``step``, ``rng`` (:func:`rng_state`), ``history``, ``notes``, ``task_state``
(the critic of an adversarial term, or empty) and
``code`` (:func:`dsdviz.training.provenance.code_version`).
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..torchfiles import read_torch_file
from .config import TrainConfig

CHECKPOINT_FORMAT = "dsdviz-checkpoint-1"
#: The checkpoint before the last, kept so that a truncated ``checkpoint.pt`` can fall back to it.
PREVIOUS_CHECKPOINT = "checkpoint.prev.pt"
#: What a run writes in its folder (``--overwrite`` removes them); the first three mean the folder holds a run.
RUN_FILES = ("checkpoint.pt", PREVIOUS_CHECKPOINT, "model.pt", "log.jsonl", "samples")

#: What a training checkpoint holds besides the model record (``code`` is optional: older files lack it).
CHECKPOINT_KEYS = frozenset({"state_dict", "train_config", "optimizer", "scheduler", "scaler", "step", "rng",
                             "history", "notes"})  # fmt: skip

#: Settings that may change between a checkpoint and its resumption (they do not change the result).
RESUMABLE_CHANGES = frozenset(
    {"steps", "out", "checkpoint_every", "val_every", "log_every", "workers", "samples", "device", "init", "progress",
     "monitor_every", "monitor_batch"}
)


def read_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """A training checkpoint, checked to hold everything a resumption needs.

    Raises:
        ValueError: the file is unreadable (truncated, another format) or is not a dsdviz
            training checkpoint (e.g. an exported ``model.pt``); the message names the file.
    """
    expected = "a dsdviz training checkpoint (checkpoint.pt of dsdviz train)"
    record = read_torch_file(path, expected)
    missing = CHECKPOINT_KEYS - set(record) if isinstance(record, dict) else CHECKPOINT_KEYS
    if missing:
        raise ValueError(f"{str(path)!r} is not {expected}: it lacks {', '.join(sorted(missing))}")
    return record


def read_latest_checkpoint(folder: str | os.PathLike) -> dict[str, Any] | None:
    """The newest readable checkpoint of a run folder: ``checkpoint.pt``, else :data:`PREVIOUS_CHECKPOINT`
    (then with ``"fallback"``: a sentence saying why), or ``None`` when the folder has neither.

    Raises:
        ValueError: ``checkpoint.pt`` is unreadable and there is no readable previous checkpoint.
    """
    folder = Path(folder)
    latest, previous = folder / "checkpoint.pt", folder / PREVIOUS_CHECKPOINT
    if not latest.exists() and not previous.exists():
        return None
    try:
        return read_checkpoint(latest)
    except ValueError as error:
        if not previous.is_file():
            raise ValueError(f"{error}; there is no earlier checkpoint to fall back to: start again with "
                             "overwrite=True (--overwrite)") from None  # fmt: skip
        checkpoint = read_checkpoint(previous)
        checkpoint["fallback"] = (f"{latest} was unreadable ({str(error).split(': ', 1)[-1][:120]}); resumed from the "
                                  f"previous checkpoint {previous.name} at step {checkpoint['step']}")  # fmt: skip
        return checkpoint


def resumed_config(config: TrainConfig, checkpoint: dict[str, Any]) -> TrainConfig:
    """``config`` with the checkpoint's settings, except :data:`RESUMABLE_CHANGES`.

    Raises:
        ValueError: when ``config`` changes a setting that would change the result (named).
    """
    # settings added after a checkpoint was written take their defaults: what that run used
    saved = TrainConfig.from_record(checkpoint["train_config"]).flat()
    wanted = config.flat()
    if wanted["task"] != saved["task"]:
        raise ValueError(
            f"cannot resume {config.loop.out}: its checkpoint trains {saved['task']!r}, not {wanted['task']!r}"
        )
    changed = [name for name in wanted if name not in RESUMABLE_CHANGES and wanted[name] != saved[name]]
    if changed:
        detail = ", ".join(f"{name}: {saved[name]!r} -> {wanted[name]!r}" for name in changed)
        raise ValueError(
            f"cannot resume {config.loop.out}: the checkpoint was trained with other settings ({detail}); "
            "use another --out folder or the original settings"
        )
    kept = {name: value for name, value in wanted.items() if name in RESUMABLE_CHANGES}
    return TrainConfig.from_flat(**{**saved, **kept})


def rng_state() -> dict[str, Any]:
    """Every RNG state of the process (torch CPU and CUDA, numpy, Python), loadable with ``weights_only``."""
    kind, keys, position, has_gauss, cached = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": {
            "kind": kind,
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "pos": position,
            "has_gauss": has_gauss,
            "cached": cached,
        },  # fmt: skip
        "python": random.getstate(),
    }


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore :func:`rng_state`."""
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["cached"]))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))


__all__ = ["CHECKPOINT_FORMAT", "PREVIOUS_CHECKPOINT", "RESUMABLE_CHANGES", "RUN_FILES", "read_checkpoint",
           "read_latest_checkpoint", "resumed_config", "rng_state", "set_rng_state"]  # fmt: skip
