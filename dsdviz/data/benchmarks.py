"""The benchmark test sets of the data folder (:func:`~dsdviz.data.folders.data_root`, ``$DSDVIZ_DATA``).

A set is laid out as ``<set>/HR/<name>.png`` with its MATLAB-bicubic LR files in
``<set>/LR_bicubic/X<scale>/<name>.png`` (Set5, Set14, BSD100): :func:`sr_folders` gives the two
folders, for :func:`~dsdviz.data.examples.sr_examples`; :func:`image_names` lists a set's images,
:func:`load_input` reads any image of the data folder by its relative path, whole or cropped.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from .boxes import Box, center_crop, crop_box
from .folders import Folder, data_root
from .images import list_images, load_image


def sr_folders(set_name: str, scale: int = 4, root: Folder | None = None) -> tuple[Path, Path]:
    """``(HR folder, LR folder)`` of a test set: ``<data>/<set>/HR`` and ``<data>/<set>/LR_bicubic/X<scale>``
    (``root``: the data folder, default ``$DSDVIZ_DATA``)."""
    base = data_root(root) / set_name
    return base / "HR", base / "LR_bicubic" / f"X{scale}"


def image_names(set_name: str, limit: int | None = None, root: Folder | None = None) -> list[str]:
    """The first ``limit`` image names (file stems, sorted; ``None``: all) of a test set's ``HR`` folder."""
    return [path.stem for path in list_images(sr_folders(set_name, root=root)[0])][:limit]


def load_input(path: str | os.PathLike, crop: int | Box | None = None) -> torch.Tensor:
    """An image ``(1, 3, H, W)`` float32 in ``[0, 1]`` from a path relative to the data folder (or absolute).

    ``crop``: ``None`` (whole image), a side in px (central square crop) or a :class:`~dsdviz.data.boxes.Box`.
    """
    path = Path(path)
    image = load_image(path if path.is_absolute() else data_root() / path)
    if crop is None:
        return image
    return center_crop(image, crop) if isinstance(crop, int) else crop_box(image, crop)
