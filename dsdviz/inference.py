"""Applying trained restoration networks to images (scores: :mod:`dsdviz.scoring`)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn
from tqdm.auto import tqdm

from .data import load_image, save_image
from .devices import resolve_device
from .models import XSRResNet, load_model
from .validation import check_image


def restore(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Run a restoration network (xSRResNet) on images, in eval mode and without gradient.

    Args:
        model: e.g. from :func:`dsdviz.models.load_model`.
        x: images ``(B, 3, H, W)`` in ``[0, 1]`` (moved to the model's device and dtype).

    Returns:
        ``(B, 3, scale * H, scale * W)`` clamped to ``[0, 1]``, on the device of ``x``.
    """
    check_image(x, "x")
    parameter = next(model.parameters())
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(x.to(parameter.device, parameter.dtype))
    finally:
        model.train(was_training)
    return out.clamp(0, 1).to(x.device, x.dtype)


def restore_files(
    model_path: str | os.PathLike, images: Sequence[str | os.PathLike], out_dir: str | os.PathLike,
    device: str = "cpu", progress: bool = True,
) -> list[Path]:  # fmt: skip
    """Restore image files with a saved network; writes ``<out_dir>/<name>.png`` for each and returns the paths.

    ``progress``: show a progress bar (a widget in Jupyter, text in a terminal).
    """
    device = str(resolve_device(device))
    model = load_model(model_path, map_location=device)
    if getattr(model, "kind", None) != XSRResNet.kind:
        raise ValueError(
            f"{str(model_path)!r} is a {getattr(model, 'kind', type(model).__name__)} network, not a restoration "
            "network: restore needs an xSRResNet (e.g. xsrresnet_sr_x4_dsd_cpu); score with regressors via "
            "dsdviz score --regressor"
        )
    written = []
    for path in tqdm(images, desc="restore", unit="image", disable=not progress):
        x = load_image(path).to(device)
        written.append(save_image(restore(model, x), Path(out_dir) / f"{Path(path).stem}.png"))
    return written
