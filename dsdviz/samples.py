"""Example images shipped with scikit-image (no download, no data folder needed).

Benchmark sets and training images come from the data folder instead: :func:`dsdviz.data.data_root`.
"""

from __future__ import annotations

import torch

from .data import load_image

#: scikit-image samples shipped inside the package (no download needed).
SKIMAGE_SAMPLES = ("astronaut", "coffee", "chelsea", "rocket")


def skimage_sample(name: str) -> torch.Tensor:
    """A scikit-image sample (e.g. ``"astronaut"``) as a ``(1, 3, H, W)`` tensor in ``[0, 1]``."""
    import skimage.data

    if name not in SKIMAGE_SAMPLES and not hasattr(skimage.data, name):
        raise ValueError(f"unknown scikit-image sample {name!r}; try one of {', '.join(SKIMAGE_SAMPLES)}")
    return load_image(getattr(skimage.data, name)())
