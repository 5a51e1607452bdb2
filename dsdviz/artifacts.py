"""A measure of periodic grid artifacts left by up-sampling layers.

Networks that up-sample with pixel shuffle or strided transposed convolutions, and
losses that match feature statistics (style, multi-scale style), tend to leave a faint
pattern that repeats every ``period`` pixels (2 or 4 for 2x/4x up-sampling). In the
Fourier domain such a pattern concentrates its energy on the *grid frequencies*
``(i / period, j / period)`` cycles per pixel, ``0 <= i, j < period``, not both zero,
while natural image content there is smooth across neighbouring frequencies.

:func:`grid_artifact_score` therefore compares, at each grid frequency, the power
spectrum of the image's error (output minus ground truth, or the output's own
high-pass residual when no ground truth is given) with the power at the surrounding
frequencies:

1. take the luminance (ITU-R BT.601) of the error, remove its mean, multiply by a
   2-D Hann window (to avoid leakage from the image borders);
2. compute the power spectrum ``P = |FFT|^2``;
3. for each grid frequency, ``peak`` = mean of ``P`` over the ``(2r+1) x (2r+1)`` bins
   around it (``r = 1`` absorbs the window's main lobe), ``background`` = median of
   ``P`` over the ring of bins at Chebyshev distance ``r+1 .. r+1+ring`` (robust to
   other peaks and edges);
4. the score is ``10 log10(mean over grid frequencies of peak / background)`` in dB.

A pattern-free error scores about 0 dB (its spectrum is locally flat; the median-based
background makes pure noise score slightly positive, around 1-2 dB); a visible grid
pattern scores well above (10-30 dB). Higher is worse.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .data import luma
from .validation import check_image, check_positive_int


@dataclass(frozen=True)
class GridArtifactScore:
    """Result of :func:`grid_artifact_score`.

    Attributes:
        score_db: ``10 log10`` of the mean peak-to-background power ratio (higher = stronger grid).
        ratios: ``{(i, j): peak / background}`` per grid frequency ``(i/period, j/period)``.
        period: the grid period in pixels.
    """

    score_db: float
    ratios: dict[tuple[int, int], float]
    period: int


def _luma(x: torch.Tensor) -> np.ndarray:
    return luma(x.detach().double().cpu())[0].numpy()


def _high_pass(image: np.ndarray) -> np.ndarray:
    """Residual of a 3x3 box blur (edge-replicated): keeps the fine, periodic content."""
    padded = np.pad(image, 1, mode="edge")
    blurred = sum(
        padded[1 + dy : 1 + dy + image.shape[0], 1 + dx : 1 + dx + image.shape[1]]
        for dy in (-1, 0, 1)
        for dx in (-1, 0, 1)
    ) / 9
    return image - blurred


def grid_min_side(period: int = 4, radius: int = 1, ring: int = 3) -> int:
    """The smallest image side (px) at which :func:`grid_artifact_score` separates the grid frequencies."""
    return period * (2 * (radius + 1 + ring) + 1)


def grid_artifact_score(
    output: torch.Tensor,
    reference: torch.Tensor | None = None,
    period: int = 4,
    *,
    radius: int = 1,
    ring: int = 3,
) -> GridArtifactScore:
    """Strength of a periodic pattern of ``period`` pixels in an image's error (see module docstring).

    Args:
        output: one RGB image ``(1, 3, H, W)`` in ``[0, 1]``, e.g. a network's restoration.
        reference: the ground truth of the same shape; without it the output's
            high-pass residual is analysed instead.
        period: grid period in pixels (4 for 4x up-sampling: it includes the period-2 harmonics).
        radius: half-width ``r`` of the peak window in frequency bins.
        ring: width of the background ring in bins.

    Returns:
        A :class:`GridArtifactScore`; ``score_db`` about 0 without a pattern.

    Raises:
        ValueError: bad images, mismatched shapes, ``period < 2``, or an image too small
            to separate the grid frequencies (each side needs ``period * (2 (r + 1 + ring) + 1)`` px).
    """
    check_image(output, "output")
    if output.shape[0] != 1:
        raise ValueError(f"output: expected one image (batch 1), got batch {output.shape[0]}")
    check_positive_int(period, "period")
    if period < 2:
        raise ValueError(f"period: expected at least 2 pixels, got {period}")
    height, width = output.shape[-2:]
    reach = radius + 1 + ring
    need = grid_min_side(period, radius, ring)
    if min(height, width) < need:
        raise ValueError(
            f"output: a {height} x {width} image is too small to measure a period-{period} grid "
            f"(needs at least {need} px per side)"
        )
    if reference is not None:
        check_image(reference, "reference")
        if reference.shape != output.shape:
            raise ValueError(f"reference: expected shape {tuple(output.shape)}, got {tuple(reference.shape)}")
        error = _luma(output) - _luma(reference)
    else:
        error = _high_pass(_luma(output))
    error = error - error.mean()
    window = np.outer(np.hanning(height), np.hanning(width))
    power = np.abs(np.fft.fft2(error * window)) ** 2
    ratios: dict[tuple[int, int], float] = {}
    for i in range(period):
        for j in range(period):
            if i == 0 and j == 0:
                continue
            cy, cx = round(i * height / period), round(j * width / period)
            offsets = np.arange(-reach, reach + 1)
            rows = (cy + offsets) % height
            cols = (cx + offsets) % width
            patch = power[np.ix_(rows, cols)]
            distance = np.maximum(np.abs(offsets)[:, None], np.abs(offsets)[None, :])
            peak = patch[distance <= radius].mean()
            background = np.median(patch[distance > radius])
            ratios[(i, j)] = float(peak / background) if background > 0 else (1.0 if peak == 0 else float("inf"))
    score = 10 * np.log10(np.mean(list(ratios.values())))
    return GridArtifactScore(float(score), ratios, period)
