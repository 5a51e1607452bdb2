"""NIQE, the "completely blind" natural image quality evaluator (Mittal, Soundararajan and Bovik,
*Making a "Completely Blind" Image Quality Analyzer*, IEEE Signal Processing Letters 20(3), 2013).

An established no-reference score to read Q_DSD against. Lower is better (more natural). The steps
follow the authors' MATLAB release (``computequality.m``):

1. grey level as MATLAB's ``rgb2gray`` of the image as doubles in ``[0, 255]`` (no rounding);
2. the image cropped to whole 96 x 96 blocks;
3. at two scales (the image, then MATLAB's ``imresize(im, 0.5)``, antialiased bicubic, with
   blocks of 48 px): MSCN coefficients ``(I - mu) / (sigma + 1)`` with a 7 x 7 Gaussian window of
   standard deviation 7/6 and replicated borders, and per block 18 features: the AGGD fit
   ``(alpha, (beta_l + beta_r) / 2)`` of the coefficients and, for the products with the
   neighbour at shifts (0, 1), (1, 0), (1, 1), (1, -1) (circular within the block),
   ``(alpha, mean, beta_l, beta_r)``;
4. the distance ``sqrt(d^T pinv((S_pris + S) / 2) d)`` between the mean ``mu`` and covariance ``S``
   of the 36 features over every block and the pristine model ``(mu_pris, S_pris)``. Blocks whose
   features are undefined (a flat block: no negative or no positive value) are left out, as
   MATLAB's ``nanmean``/``nancov`` do.

The pristine model is the MATLAB release's ``modelparameters.mat`` (``mu_prisparam``,
``cov_prisparam``), the one the IQA literature reports NIQE with, shipped with dsdviz as
``dsdviz/niqe_pristine.npz`` (:data:`PRISTINE_FILE`). Provenance: the 36 means and the 36 x 36
covariance of the LIVE NIQE release (Mittal, Soundararajan and Bovik, UT Austin; research use, cite
the paper above), as converted to NumPy by BasicSR v1.4.2 (``basicsr/metrics/niqe_pris_params.npz``,
Apache License 2.0), stored unchanged in float64.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import torch
from scipy.ndimage import correlate
from scipy.special import gamma

from .data import luma
from .resize import imresize
from .validation import check_image

#: Side of the square blocks at the first scale, in pixels (the MATLAB release's 96).
BLOCK = 96

#: Neighbour shifts ``(rows, columns)`` of the paired products (horizontal, vertical, two diagonals).
SHIFTS = ((0, 1), (1, 0), (1, 1), (1, -1))

#: The MATLAB release's search grid of the AGGD shape ``alpha``, ``0.2:0.001:10``, and its ratio function.
_ALPHAS = 0.2 + 0.001 * np.arange(9801)
_RATIOS = gamma(2 / _ALPHAS) ** 2 / (gamma(1 / _ALPHAS) * gamma(3 / _ALPHAS))

#: The pristine model's file, package data (provenance in the module docstring).
PRISTINE_FILE = Path(__file__).with_name("niqe_pristine.npz")


@functools.lru_cache(maxsize=1)
def pristine_model() -> tuple[np.ndarray, np.ndarray]:
    """The MATLAB release's pristine MVG: ``mu_prisparam`` ``(36,)`` and ``cov_prisparam`` ``(36, 36)``, float64."""
    with np.load(PRISTINE_FILE) as params:
        return params["mu_prisparam"].copy(), params["cov_prisparam"].copy()


def gaussian_window(size: int = 7, sigma: float = 7 / 6) -> np.ndarray:
    """MATLAB's ``fspecial('gaussian', size, sigma)``: a normalised ``(size, size)`` float64 window."""
    t = np.arange(size, dtype=np.float64) - (size - 1) / 2
    window = np.exp(-(t[:, None] ** 2 + t[None, :] ** 2) / (2 * sigma**2))
    return window / window.sum()


def mscn(gray: np.ndarray) -> np.ndarray:
    """Mean-subtracted contrast-normalised coefficients ``(H, W)`` of a grey image ``(H, W)`` on the 0-255 scale."""
    window = gaussian_window()
    mu = correlate(gray, window, mode="nearest")
    sigma = np.sqrt(np.abs(correlate(gray * gray, window, mode="nearest") - mu * mu))
    return (gray - mu) / (sigma + 1)


def aggd_fit(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Asymmetric generalised Gaussian fit of each row of ``values`` ``(N, M)`` (MATLAB ``estimateaggdparam``).

    Returns ``(alpha, beta_l, beta_r)``, each ``(N,)``: shape (on the grid ``0.2:0.001:10``) and the
    left and right scales. NaN for a row without negative or without positive values.
    """
    negative, positive = values < 0, values > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        left = np.sqrt((values**2 * negative).sum(1) / negative.sum(1))
        right = np.sqrt((values**2 * positive).sum(1) / positive.sum(1))
        g = left / right
        r = np.abs(values).mean(1) ** 2 / (values**2).mean(1)
        r_norm = r * (g**3 + 1) * (g + 1) / (g**2 + 1) ** 2
    defined = np.isfinite(r_norm)
    alpha = np.full(len(values), np.nan)
    alpha[defined] = _ALPHAS[np.argmin((_RATIOS[None, :] - r_norm[defined, None]) ** 2, axis=1)]
    scale = np.sqrt(gamma(1 / alpha) / gamma(3 / alpha))
    return alpha, left * scale, right * scale


def block_features(coefficients: np.ndarray, block: int) -> np.ndarray:
    """The 18 NIQE features ``(N, 18)`` of each ``block`` x ``block`` block of MSCN ``coefficients``
    ``(H, W)`` (whole blocks only), blocks in row-major order."""
    rows, cols = coefficients.shape[0] // block, coefficients.shape[1] // block
    blocks = coefficients[: rows * block, : cols * block].reshape(rows, block, cols, block).swapaxes(1, 2)
    blocks = blocks.reshape(rows * cols, block, block)
    alpha, left, right = aggd_fit(blocks.reshape(len(blocks), -1))
    features = [alpha, (left + right) / 2]
    for shift in SHIFTS:
        products = blocks * np.roll(blocks, shift, axis=(1, 2))
        alpha, left, right = aggd_fit(products.reshape(len(blocks), -1))
        mean = (right - left) * gamma(2 / alpha) / gamma(1 / alpha)
        features += [alpha, mean, left, right]
    return np.stack(features, axis=1)


def niqe_gray(gray: np.ndarray) -> float:
    """NIQE of one grey image ``(H, W)`` on the 0-255 scale, at least 96 px a side (see the module doc).

    NaN when no block has defined features (e.g. a constant image). With a single block, the
    image's own covariance is zero.
    """
    rows, cols = gray.shape[0] // BLOCK, gray.shape[1] // BLOCK
    if rows == 0 or cols == 0:
        raise ValueError(f"NIQE needs an image of at least {BLOCK} x {BLOCK} px, got {gray.shape[0]} x {gray.shape[1]}")
    image = np.asarray(gray, dtype=np.float64)[: rows * BLOCK, : cols * BLOCK]
    half = imresize(torch.from_numpy(image)[None, None], 0.5)[0, 0].numpy()
    features = np.concatenate([block_features(mscn(image), BLOCK), block_features(mscn(half), BLOCK // 2)], axis=1)
    features = features[np.isfinite(features).all(axis=1)]
    if len(features) == 0:
        return float("nan")
    mu_pris, cov_pris = pristine_model()
    cov = np.cov(features, rowvar=False) if len(features) > 1 else np.zeros_like(cov_pris)
    d = mu_pris - features.mean(axis=0)
    return float(np.sqrt(d @ np.linalg.pinv((cov_pris + cov) / 2) @ d))


def to_gray(images: torch.Tensor) -> np.ndarray:
    """Grey levels ``(B, H, W)`` float64 on the 0-255 scale of RGB ``(B, 3, H, W)`` in ``[0, 1]``
    (MATLAB ``rgb2gray``)."""
    return (255 * luma(images.detach().cpu().to(torch.float64))).numpy()


def niqe(images: torch.Tensor) -> torch.Tensor:
    """NIQE of each image (lower is more natural).

    Args:
        images: RGB ``(B, 3, H, W)`` in ``[0, 1]``, any floating dtype and device, ``H, W >= 96``;
            computed in float64 on the CPU.

    Returns:
        ``(B,)`` float64 scores (about 2-6 for natural photographs, higher for distorted ones).

    Example::

        niqe(skimage_sample("astronaut"))  # tensor([...], dtype=torch.float64)
    """
    check_image(images, "images", min_size=BLOCK)
    return torch.tensor([niqe_gray(gray) for gray in to_gray(images)], dtype=torch.float64)
