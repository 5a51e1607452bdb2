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
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # truncated zip (RuntimeError), random bytes (UnpicklingError), empty (EOFError), ...
        raise ValueError(
            f"{str(path)!r} is not a readable PyTorch file (truncated or another format; torch.load raised "
            f"{type(error).__name__}); expected {expected}"
        ) from None


__all__ = ["read_torch_file"]
