"""What the trainer needs from a task (:class:`Task`), and the helpers the tasks share.

The tasks: :class:`~dsdviz.training.restoration.RestorationTask` (``"sr"``: 4x
super-resolution with xSRResNet on :class:`~dsdviz.data.SRPairs`; ``"deblur"``: the scale-1
xSRResNet on :class:`~dsdviz.data.DeblurPairs`) and
:class:`~dsdviz.training.regressor.RegressorTask` (``"regressor"``: the DSD regressor psi_a
on :class:`~dsdviz.data.NaturalCrops`). Each is built by its settings' ``make_task`` with the
run's :class:`~dsdviz.precision.PrecisionPlan`: its losses run the network and VGG19 under the
plan's autocast (:class:`~dsdviz.precision.AutocastFeatures`) and return float32 terms.
"""

from __future__ import annotations

from typing import Protocol

import torch
from torch import nn
from torch.utils.data import Dataset

from ..data import Example

#: A batch of the data stream: ``{"input": (B, 3, h, w), "target": (B, 3, H, W)}`` (the regressor: target only).
Batch = dict[str, torch.Tensor]


def on_device(batch: Batch, device: torch.device) -> Batch:
    """The batch's tensors on ``device`` (asynchronous copies from pinned memory)."""
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}


class Task(Protocol):
    """What :class:`dsdviz.training.Trainer` needs from a task."""

    notes: list[str]

    def build_model(self) -> nn.Module: ...

    def dataset(self, seed: int | None = None) -> Dataset: ...

    def prepare(self, model: nn.Module, dataset: Dataset) -> None: ...

    def losses(self, model: nn.Module, batch: Batch) -> dict[str, torch.Tensor]: ...

    def after_step(self) -> dict[str, torch.Tensor]: ...

    def state_dict(self) -> dict: ...

    def load_state_dict(self, state: dict) -> None: ...

    def examples(self) -> list[Example]: ...

    def validate(self, model: nn.Module) -> tuple[dict[str, float], list[tuple[str, torch.Tensor]]]: ...


__all__ = ["Batch", "Task", "on_device"]
