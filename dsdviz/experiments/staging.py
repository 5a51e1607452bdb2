"""Staging the experiments' method outputs: folders of images written, read back and compared.

The comparisons write each method's outputs on a test set under one folder per method
(:func:`slug`, :func:`save_all`), score them (:func:`scored_panels`, :func:`truth_row`, :func:`set_label`)
and read folders of outputs back for a figure (:func:`read_folders`, :func:`compare_folders`). The test
images themselves come from :mod:`dsdviz.data` (:func:`~dsdviz.data.sr_examples`,
:func:`~dsdviz.data.image_names`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from matplotlib.figure import Figure
from torch import nn

from ..data import Box, find_image, load_image, save_image
from ..scoring import score_image
from ..viz.compare import Panel, compare_images


def slug(method: str) -> str:
    """A folder name for a method: ``"ours (L1 only)" -> "ours_L1_only"``."""
    return "_".join("".join(c if c.isalnum() or c == "+" else " " for c in method).split())


def set_label(set_name: str, limit: int | None, total: int, crop: int | None) -> str:
    """How a table names its test set, e.g. ``"BSD100, first 10 of 100 images, central 128 px crops"``."""
    parts = [set_name]
    if limit is not None and limit < total:
        parts.append(f"first {limit} of {total} images")
    if crop is not None:
        parts.append(f"central {crop} px crops")
    return ", ".join(parts)


def save_all(images: Mapping[str, torch.Tensor], folder: Path) -> Path:
    """Write ``{name: (1, 3, H, W)}`` as ``folder/<name>.png``; returns ``folder``."""
    for name, image in images.items():
        save_image(image, folder / f"{name}.png")
    return folder


def truth_row(regressors: Sequence[nn.Module]) -> str | None:
    """The tables' ground-truth row (its Q_DSD: how natural images score), when there are regressors."""
    return "ground truth" if regressors else None


def scored_panels(
    images: Mapping[str, torch.Tensor | None], reference: torch.Tensor | None, params: Mapping[str, int | None],
    shave: int, reference_label: str,
) -> list[Panel]:  # fmt: skip
    """One panel per method (PSNR and DSD distance in the caption when there is a reference), then the reference."""
    panels = []
    for method, image in images.items():
        caption = None
        if image is None:
            caption = "outputs not available"
        elif reference is not None and image.shape == reference.shape:
            scores = score_image(image, reference, shave=shave)
            caption = f"{scores['psnr']:.2f} dB, DSD {scores['dsd_distance']:.2g}"
        panels.append(Panel(method, image, params.get(method) or None, caption))
    if reference is not None:
        panels.append(Panel(reference_label, reference))
    return panels


def read_folders(folders: Mapping[str, str | os.PathLike | None], name: str) -> dict[str, torch.Tensor | None]:
    """The image ``name`` of each method folder (``{method: folder}``), ``None`` where it is missing."""
    images: dict[str, torch.Tensor | None] = {}
    for method, folder in folders.items():
        path = find_image(folder, name) if folder is not None else None
        images[method] = load_image(path) if path is not None else None
    return images


def compare_folders(
    folders: Mapping[str, str | os.PathLike], name: str, boxes: Sequence[Box] | None = None, **options: Any
) -> Figure:
    """Compare the image ``name`` across method folders (``{method: folder}``), in the given order.

    Missing files show as "not available". ``options`` as :func:`dsdviz.viz.compare.compare_images`
    (``params``, ``captions``, ``zoom``: without ``boxes``, one ``zoom`` px box on the most detailed
    region of the largest image; ``title``, default ``name``).
    """
    images = read_folders(folders, name)
    if all(image is None for image in images.values()):
        raise ValueError(f"no folder holds an image named {name!r}")
    return compare_images(images, boxes, **{"title": name, **options})
