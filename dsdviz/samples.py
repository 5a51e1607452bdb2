"""Where example images come from: scikit-image's bundled samples and a data folder.

The data folder (benchmark sets, method outputs, training images) is given by the
environment variable :data:`DATA_ENV` (``DSDVIZ_DATA``) or passed explicitly; it is laid
out as ``<root>/Set14/HR/<name>.png``, ``<root>/Set14/LR_bicubic/X4/<name>.png``,
``<root>/sr_results/<method>/<set>/<name>.png``, ``<root>/BSDS500_train/*.jpg``, ...
The library never downloads images.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from .images import load_image

DATA_ENV = "DSDVIZ_DATA"

#: scikit-image samples shipped inside the package (no download needed).
SKIMAGE_SAMPLES = ("astronaut", "coffee", "chelsea", "rocket")


def data_root(root: str | os.PathLike | None = None, *, required: bool = True) -> Path | None:
    """The data folder: ``root`` if given, else ``$DSDVIZ_DATA``.

    Returns ``None`` when neither is set and ``required`` is false.

    Raises:
        ValueError: when required and not set, or when the folder does not exist.
    """
    chosen = root if root is not None else os.environ.get(DATA_ENV, "").strip() or None
    if chosen is None:
        if required:
            raise ValueError(
                f"no data folder: pass one explicitly or set the environment variable {DATA_ENV} "
                "(a folder with Set5/, Set14/, BSD100/, sr_results/, ...)"
            )
        return None
    path = Path(chosen).expanduser()
    if not path.is_dir():
        raise ValueError(f"data folder {str(path)!r} (from {DATA_ENV} or the argument) does not exist")
    return path


def skimage_sample(name: str) -> torch.Tensor:
    """A scikit-image sample (e.g. ``"astronaut"``) as a ``(1, 3, H, W)`` tensor in ``[0, 1]``."""
    import skimage.data

    if name not in SKIMAGE_SAMPLES and not hasattr(skimage.data, name):
        raise ValueError(f"unknown scikit-image sample {name!r}; try one of {', '.join(SKIMAGE_SAMPLES)}")
    return load_image(getattr(skimage.data, name)())
