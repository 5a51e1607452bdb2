"""The data folder and folders of 8-bit images: where the benchmark sets, method outputs and training
images live, and how their files are listed, paired and read.

The data folder is :func:`data_root` (``$DSDVIZ_DATA``); the library never downloads images. Files
are read as ``(3, H, W)`` uint8 tensors (:func:`read_uint8`, cached per process: the
:data:`CACHE_IMAGES` most recent files) and turned into float32 in ``[0, 1]`` by :func:`to_unit`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Union

import numpy as np
import torch

from ..validation import check_positive_int
from .images import find_image, list_images, open_image

Folder = Union[str, os.PathLike]

DATA_ENV = "DSDVIZ_DATA"

#: Decoded images kept in memory per process (BSDS500's 200 training images take about 90 MB).
CACHE_IMAGES = 256


def data_root(root: Folder | None = None, *, required: bool = True) -> Path | None:
    """The data folder: ``root`` if given, else ``$DSDVIZ_DATA`` (:data:`DATA_ENV`); ``None`` when neither is
    set and ``required`` is false. It holds ``Set14/HR/<name>.png``, ``Set14/LR_bicubic/X4/<name>.png``,
    ``sr_results/<method>/<set>/<name>.png``, ``BSDS500_train/*.jpg``, ... (the library never downloads images).

    Raises:
        ValueError: when required and not set, or when the folder does not exist.
    """
    chosen = root if root is not None else os.environ.get(DATA_ENV, "").strip() or None
    if chosen is None and required:
        raise ValueError(
            f"no data folder: pass one explicitly or set the environment variable {DATA_ENV} "
            "(a folder with Set5/, Set14/, BSD100/, sr_results/, ...)"
        )
    if chosen is None:
        return None
    path = Path(chosen).expanduser()
    if not path.is_dir():
        raise ValueError(f"data folder {str(path)!r} (from {DATA_ENV} or the argument) does not exist")
    return path


#: Pillow modes of 8-bit data (what :func:`read_uint8` converts to RGB without losing range).
EIGHT_BIT_MODES = frozenset({"1", "L", "LA", "P", "PA", "RGB", "RGBA", "RGBX", "CMYK", "YCbCr", "LAB", "HSV"})


@lru_cache(maxsize=CACHE_IMAGES)
def read_uint8(path: str) -> torch.Tensor:
    """An 8-bit image file as a ``(3, H, W)`` uint8 tensor (grey is replicated, alpha dropped).

    Raises:
        ValueError: the file is missing, unreadable, or holds 16-bit, 32-bit or float data (which a
            conversion to 8 bits would clip: read it with :func:`dsdviz.data.load_image`).
    """
    with open_image(path) as image:
        if image.mode not in EIGHT_BIT_MODES:
            raise ValueError(
                f"{str(path)!r} holds {image.mode}-mode data, not 8-bit: read it with dsdviz.data.load_image "
                "(which scales 16-bit and [0, 1] float data) or convert it to 8 bits"
            )
        return torch.from_numpy(np.array(image.convert("RGB"))).permute(2, 0, 1).contiguous()


def to_unit(x: torch.Tensor) -> torch.Tensor:
    """8-bit values to float32 in ``[0, 1]`` (``v / 255``), for validation data."""
    return x.float() / 255


def read_image(path: str | os.PathLike) -> torch.Tensor:
    """An 8-bit image file as ``(1, 3, H, W)`` float32 in ``[0, 1]`` (:func:`read_uint8`, then :func:`to_unit`)."""
    return to_unit(read_uint8(str(path)))[None]


def image_paths(folder: Folder | Sequence[Folder], holdout: int = 0) -> list[Path]:
    """The images of one folder or several (or image files given one by one), in name order per folder,
    without the last ``holdout`` of them (a fixed slice kept for validation: :func:`heldout_paths`)."""
    folders = [folder] if isinstance(folder, (str, os.PathLike)) else list(folder)
    paths = [path for item in folders for path in ([Path(item)] if Path(item).is_file() else list_images(item))]
    if not 0 <= holdout < len(paths):
        raise ValueError(f"holdout: expected 0 to {len(paths) - 1} of the {len(paths)} images, got {holdout!r}")
    return paths[: len(paths) - holdout]


def heldout_paths(folder: Folder | Sequence[Folder], holdout: int) -> list[Path]:
    """The last ``holdout`` images of :func:`image_paths` (name order): the slice a run with ``holdout``
    did not train on."""
    paths = image_paths(folder)
    check_positive_int(holdout, "holdout")
    return paths[len(paths) - holdout :]


def split_folders(folders: str) -> list[str]:
    """Several folders written as one setting, separated by ``os.pathsep`` (``:`` on Linux and macOS)."""
    return [item for item in str(folders).split(os.pathsep) if item]


def partner_path(path: Path, folder: Folder, role: str) -> Path:
    """The file in ``folder`` with the same stem as ``path`` (any image suffix)."""
    if not Path(folder).is_dir():
        raise ValueError(f"{role} image folder {str(folder)!r} does not exist")
    found = find_image(folder, path.stem)
    if found is not None:
        return found
    raise ValueError(f"no {role} image named {path.stem}.* in {str(folder)!r} for {path.name}")


def check_fits(path: Path, image: torch.Tensor, height: int, width: int, what: str) -> None:
    """Raise a ``ValueError`` naming ``path`` when ``image`` is smaller than ``height x width``."""
    if image.shape[-2] < height or image.shape[-1] < width:
        raise ValueError(
            f"{path.name} is {image.shape[-2]} x {image.shape[-1]} px, smaller than the {height} x {width} {what}; "
            "use a smaller crop"
        )
