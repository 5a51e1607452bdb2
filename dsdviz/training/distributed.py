"""Processes of a run: PyTorch DDP set-up from torchrun's variables, and stopping on a signal.

Launched by ``torchrun``, each process joins one group (NCCL on GPUs, gloo on CPU) and
takes its share of every global batch. A first SIGINT/SIGTERM asks the run to stop after
the current step (every process stops at the same step); a second one interrupts at once.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Sequence
from typing import Any

import torch
import torch.distributed as dist

from ..devices import resolve_device


def distributed_setup(requested: str) -> tuple[int, int, torch.device, bool]:
    """``(rank, world_size, device, initialised_here)`` from torchrun's environment variables.

    ``requested``: ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ...
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    device = resolve_device(requested)
    if device.type == "cuda" and world > 1:
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    initialised = False
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        initialised = True
    return rank, world, device, initialised


class StopOnSignal:
    """Turn the first SIGINT/SIGTERM into a request to stop after the current step (main thread only).

    A second signal interrupts at once.
    """

    def __init__(self) -> None:
        self.requested: int | None = None
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested is not None:
            raise KeyboardInterrupt
        self.requested = signum

    def __enter__(self) -> StopOnSignal:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)


def any_process(flags: Sequence[bool], world: int, device: torch.device) -> tuple[bool, ...]:
    """For each flag, whether it holds in any of the ``world`` processes: one all-reduce for all of them
    (none for a single process)."""
    values = torch.tensor([float(flag) for flag in flags])
    if world > 1:
        if device.type == "cuda":
            values = values.to(device)
        dist.all_reduce(values)
    return tuple(bool(value > 0) for value in values.tolist())


__all__ = ["StopOnSignal", "any_process", "distributed_setup"]
