"""Test images of the experiments: reading them from the data folder, cropping, staging method outputs.

Image paths are relative to the data folder (``$DSDVIZ_DATA``), laid out as
``<set>/HR/<name>.png`` with the MATLAB-bicubic LR files in ``<set>/LR_bicubic/X4/``.
Crops are central boxes ``(top, left, height, width)`` aligned so that an HR crop and its
LR crop cover the same pixels.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from matplotlib.figure import Figure
from torch import nn

from ..data import data_root, read_uint8, to_unit
from ..images import center_box, center_crop, find_image, list_images, load_image, save_image
from ..scoring import score_image
from ..viz.compare import Box, Panel, compare_images
from ..viz.optimization import Box as SquareBox
from ..viz.optimization import crop_box

SRExample = tuple[str, torch.Tensor, torch.Tensor, Box]


def read_image(path: Path) -> torch.Tensor:
    """An 8-bit image file as ``(1, 3, H, W)`` in ``[0, 1]`` (grey replicated)."""
    return to_unit(read_uint8(str(path)))[None]


def load_input(path: str | os.PathLike, crop: int | SquareBox | None = None) -> torch.Tensor:
    """An image ``(1, 3, H, W)`` from a path relative to the data folder (or absolute).

    ``crop``: ``None`` (whole image), a side in px (central square crop) or a box
    ``(top, left, size)``.
    """
    path = Path(path)
    image = load_image(path if path.is_absolute() else data_root() / path)
    if crop is None:
        return image
    return center_crop(image, crop) if isinstance(crop, int) else crop_box(image, crop)


def cut(x: torch.Tensor, box: Box, factor: int = 1) -> torch.Tensor:
    """The part of ``x`` (``(..., H, W)``) in ``box``, given in pixels ``factor`` times larger than ``x``'s."""
    top, left, h, w = (v // factor for v in box)
    return x[..., top : top + h, left : left + w]


def slug(method: str) -> str:
    """A folder name for a method: ``"ours (L1 only)" -> "ours_L1_only"``."""
    return "_".join("".join(c if c.isalnum() or c == "+" else " " for c in method).split())


def image_names(set_name: str, limit: int | None = None) -> list[str]:
    """The first ``limit`` image names (file stems, sorted) of a test set's ``HR`` folder."""
    return [path.stem for path in list_images(data_root() / set_name / "HR")][:limit]


def sr_examples(set_name: str, names: Sequence[str], crop: int | None = None) -> list[SRExample]:
    """``(name, LR, HR, HR box)`` of test images under the data folder (MATLAB-bicubic LR files),
    optionally central HR crops of ``crop`` px (a multiple of 4) with the matching LR crops."""
    root = data_root() / set_name
    out = []
    for name in names:
        hr = read_image(root / "HR" / f"{name}.png")
        box = center_box(hr.shape[-2], hr.shape[-1], crop, multiple=4)
        out.append((name, cut(read_image(root / "LR_bicubic" / "X4" / f"{name}.png"), box, 4), cut(hr, box), box))
    return out


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
