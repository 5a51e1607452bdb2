"""Reading PyTorch files (``torch.save`` output) with errors that name the file and what it should hold."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch


def read_torch_file(path: str | os.PathLike, expected: str, map_location: str | torch.device = "cpu") -> Any:
    """``torch.load(path, weights_only=True)``, with one clear error for every way the file can be unreadable.

    Args:
        path: the file.
        expected: what it should hold, for the message (e.g. ``"a dsdviz model file or checkpoint"``).

    Raises:
        ValueError: the file does not exist, is a folder, or is not a readable PyTorch file of
            tensors (truncated, random bytes, another format, pickled objects other than tensors
            and containers); the message names ``path`` and ``expected``.
    """
    path = Path(path)
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "does not exist"
        raise ValueError(f"{str(path)!r} {what}; expected {expected}")
    try:
        record = torch.load(path, map_location="cpu", weights_only=True)  # then moved: a device error is the device's
    except Exception as error:  # truncated zip (RuntimeError), random bytes (UnpicklingError), empty (EOFError), ...
        raise ValueError(f"{str(path)!r} {_load_failure(path, error)}; expected {expected}") from None
    return record if torch.device(map_location).type == "cpu" else _to_device(record, torch.device(map_location))


def _load_failure(path: Path, error: Exception) -> str:
    """Why ``torch.load`` failed, in words: empty, truncated, pickled objects, or another format."""
    text = str(error)
    if path.stat().st_size == 0:
        return "is empty"
    if "failed finding central directory" in text or "PytorchStreamReader" in text or isinstance(error, EOFError):
        return "is a truncated PyTorch file (an interrupted copy or save?)"
    if "Unsupported global" in text:
        return "holds pickled Python objects, not only tensors (refused: loading them could run code)"
    return f"is not a PyTorch file (another format; torch.load raised {type(error).__name__})"


def _to_device(value: Any, device: torch.device) -> Any:
    """Every tensor of a loaded record moved to ``device``."""
    if isinstance(value, torch.Tensor):
        return value.to(device)
    if isinstance(value, dict):
        return {key: _to_device(item, device) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_to_device(item, device) for item in value)
    return value


__all__ = ["read_torch_file"]
