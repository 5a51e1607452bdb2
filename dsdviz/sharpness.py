"""How sharp an image is: mean gradient magnitude of its luminance.

Used to follow DSD minimisation (supplementary Fig. 12 of the DSD paper), where the image
first sharpens and later grows artifacts: both raise the measure, so read it beside the
images and ``||DSD||``, not as a quality score.
"""

from __future__ import annotations

import torch

from .data import luma
from .validation import check_image


def mean_gradient_magnitude(x: torch.Tensor) -> torch.Tensor:
    """Mean magnitude of the luminance gradient, per image.

    With ``Y`` the grey level (:func:`dsdviz.data.luma`, about ``0.299 R + 0.587 G + 0.114 B``) and
    forward differences ``dx = Y[i, j + 1] - Y[i, j]``, ``dy = Y[i + 1, j] - Y[i, j]``, the measure is the mean
    of ``sqrt(dx^2 + dy^2)`` over the ``(H - 1) x (W - 1)`` pixels where both exist.

    Args:
        x: RGB images ``(B, 3, H, W)`` in ``[0, 1]``, ``H, W >= 2``.

    Returns:
        ``(B,)`` in luminance units per pixel (``[0, 1]`` range; 0 for a flat image, 1 for
        a black/white checkerboard along one axis). Same dtype as ``x``.

    Examples:
        >>> ramp = torch.linspace(0, 1, 11).expand(1, 3, 5, 11)
        >>> round(float(mean_gradient_magnitude(ramp)[0]), 6)
        0.1
    """
    check_image(x, "x", min_size=2)
    y = luma(x)
    dx = y[:, :-1, 1:] - y[:, :-1, :-1]
    dy = y[:, 1:, :-1] - y[:, :-1, :-1]
    return torch.sqrt(dx**2 + dy**2).mean(dim=(1, 2))
