"""Choosing the device a command runs on, checked before any work: ``auto``, ``cpu``, ``cuda``, ``cuda:N``, ``mps``."""

from __future__ import annotations

import torch

#: How a device may be named (``"auto"``: CUDA when available, else the CPU).
DEVICE_HELP = "cpu, cuda, cuda:N, mps, or auto (CUDA when available)"


def resolve_device(requested: str | torch.device | None = None) -> torch.device:
    """The device named by ``requested`` (``None`` or ``"auto"``: CUDA when available, else the CPU), checked to exist.

    Raises:
        ValueError: an unknown name, or a CUDA/MPS device this machine does not have (the message says
            what is available and to use ``cpu``).
    """
    if requested is None or requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(requested)
    except (RuntimeError, TypeError):
        raise ValueError(f"device: unknown device {str(requested)!r}; expected {DEVICE_HELP}") from None
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ValueError(f"device {str(requested)!r}: no CUDA device here (torch.cuda.is_available() is False); "
                             "use cpu")  # fmt: skip
        if device.index is not None and device.index >= count:
            raise ValueError(f"device {str(requested)!r}: this machine has {count} CUDA device(s), cuda:0 to "
                             f"cuda:{count - 1}")  # fmt: skip
    elif device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device {str(requested)!r}: no MPS device here; use cpu")
    elif device.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"device: {str(requested)!r} is not supported; expected {DEVICE_HELP}")
    return device


__all__ = ["DEVICE_HELP", "resolve_device"]
