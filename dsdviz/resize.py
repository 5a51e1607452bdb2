"""MATLAB-compatible bicubic resizing (``imresize(x, scale, 'bicubic')``), in PyTorch.

DSD compares an image with a copy of itself downscaled by ``alpha``, and the paper
(like most super-resolution work) uses MATLAB's ``imresize`` for that copy. This module
reproduces it exactly, borders included:

* the cubic kernel of Keys with ``a = -0.5``; when shrinking, the kernel is stretched by
  ``1 / scale`` (antialiasing) and every output's weights are normalised to sum to 1;
* samples outside the image are taken from its symmetric extension, which repeats the
  edge pixel (``[a b c d]`` is read as ``... b a a b c d d c ...``);
* the output size is ``ceil(H * scale)`` x ``ceil(W * scale)``. For ``alpha = 1 / scale``
  this is ``ceil(H / alpha)``: an odd-sized image keeps its last, partial row/column
  (the DSD authors' code drops it; we follow MATLAB).

Why written here rather than imported: ``torch.nn.functional.interpolate(...,
mode="bicubic", antialias=True)`` uses the same kernel but renormalises truncated
weights at the borders instead of mirroring, so it differs from MATLAB in a band of
``2 * alpha`` pixels along every edge; and the available pure-PyTorch ports of
``imresize`` compute in float32 only or gather every tap with Python-level indexing.
Here each axis is one matrix product with a dense ``(out, in)`` weight matrix (mirrored
taps folded in), in the input's dtype (float64 stays float64). For integer factors on
axes longer than :data:`CONV_MIN_LENGTH` pixels, where the dense product's ``out x in``
cost outgrows a convolution's ``out x taps``, it is one index gather (the symmetric
padding) and one strided convolution instead. Both paths are exact, differentiable and
run on any device. ``benchmarks/bench_resize.py`` times this against a dense product and
torch's own kernel.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .validation import check_factor, describe


def cubic(x: np.ndarray) -> np.ndarray:
    """Keys' cubic convolution kernel with ``a = -0.5`` (MATLAB's ``'bicubic'``)."""
    ax = np.abs(x)
    ax2, ax3 = ax**2, ax**3
    inner = (1.5 * ax3 - 2.5 * ax2 + 1.0) * (ax <= 1)
    outer = (-0.5 * ax3 + 2.5 * ax2 - 4.0 * ax + 2.0) * ((ax > 1) & (ax <= 2))
    return inner + outer


class _Taps(NamedTuple):
    """Sampling of one axis: output ``i`` reads input ``indices[i, j]`` with ``weights[i, j]``.

    ``indices`` are 0-based positions on the unbounded axis (before mirroring).
    """

    indices: np.ndarray  # (out, P) int64
    weights: np.ndarray  # (out, P) float64, rows sum to 1


@lru_cache(maxsize=256)
def _taps(in_len: int, out_len: int, scale: float, antialias: bool) -> _Taps:
    """MATLAB's ``contributions``: taps and weights of the resampling of one axis."""
    if scale < 1 and antialias:
        width = 4.0 / scale

        def kernel(t: np.ndarray) -> np.ndarray:
            return scale * cubic(scale * t)

    else:
        width = 4.0
        kernel = cubic
    centre = np.arange(1, out_len + 1, dtype=np.float64) / scale + 0.5 * (1 - 1 / scale)
    left = np.floor(centre - width / 2)
    taps = int(math.ceil(width)) + 2
    indices = left[:, None] + np.arange(taps)[None, :]  # 1-based
    weights = kernel(centre[:, None] - indices)
    weights /= weights.sum(axis=1, keepdims=True)
    # Drop the tap columns that carry no weight in any row (as MATLAB does).
    used = np.flatnonzero(np.any(weights != 0, axis=0))
    indices, weights = indices[:, used[0] : used[-1] + 1], weights[:, used[0] : used[-1] + 1]
    return _Taps(indices.astype(np.int64) - 1, weights)


def _mirror(indices: np.ndarray, length: int) -> np.ndarray:
    """Map positions on the unbounded axis into ``[0, length)`` by symmetric extension."""
    period = np.concatenate([np.arange(length), np.arange(length)[::-1]])
    return period[np.mod(indices, 2 * length)]


class _Plan(NamedTuple):
    """How to resample one axis: a strided convolution or a dense matrix."""

    gather: torch.Tensor  # int64 indices into the input axis (padding by mirroring)
    weights: torch.Tensor  # conv kernel (K,) or dense matrix (out, in)
    stride: int  # > 0: convolution with this stride; 0: dense matrix


#: Axes at least this long are downscaled by an integer factor with a strided convolution
#: (one multiply per tap); shorter ones by a dense matrix product, faster there on CPU
#: (``benchmarks/bench_resize.py``: about 2-3x at 256 to 1024 px).
CONV_MIN_LENGTH = 1536


@lru_cache(maxsize=256)
def _plan(
    in_len: int, out_len: int, scale: float, antialias: bool, device: torch.device, dtype: torch.dtype
) -> _Plan:
    taps = _taps(in_len, out_len, scale, antialias)
    factor = round(1 / scale)
    shift_invariant = (
        in_len >= CONV_MIN_LENGTH
        and scale < 1
        and abs(1 / scale - factor) < 1e-12
        and np.all(np.diff(taps.indices[:, 0]) == factor)
        and np.allclose(taps.weights, taps.weights[0], rtol=0, atol=1e-14)
    )
    if shift_invariant:
        first = taps.indices[0, 0]
        span = np.arange(first, taps.indices[-1, -1] + 1)
        gather = torch.as_tensor(_mirror(span, in_len), device=device)
        kernel = torch.as_tensor(taps.weights[0], dtype=dtype, device=device)
        return _Plan(gather, kernel, factor)
    dense = np.zeros((out_len, in_len))
    rows = np.repeat(np.arange(out_len), taps.indices.shape[1])
    np.add.at(dense, (rows, _mirror(taps.indices, in_len).ravel()), taps.weights.ravel())
    gather = torch.arange(in_len, device=device)
    return _Plan(gather, torch.as_tensor(dense, dtype=dtype, device=device), 0)


def _resample(x: torch.Tensor, dim: int, plan: _Plan) -> torch.Tensor:
    """Resample ``x`` of shape ``(N, 1, H, W)`` along ``dim`` (2 for H, 3 for W)."""
    if plan.stride == 0:
        if dim == 2:
            return torch.matmul(plan.weights, x)
        return torch.matmul(x, plan.weights.T)
    padded = x.index_select(dim, plan.gather)
    shape = (1, 1, -1, 1) if dim == 2 else (1, 1, 1, -1)
    stride = (plan.stride, 1) if dim == 2 else (1, plan.stride)
    return F.conv2d(padded, plan.weights.view(shape), stride=stride)


def _output_len(in_len: int, scale: float) -> int:
    # MATLAB: ceil(scale * in). Guard against 9 * (1/3) = 3.0000000000000004 -> 4.
    return max(1, int(math.ceil(in_len * scale - 1e-9)))


def imresize(
    x: torch.Tensor,
    scale: float | tuple[float, float] | None = None,
    size: tuple[int, int] | None = None,
    *,
    antialias: bool = True,
) -> torch.Tensor:
    """Resize images exactly as MATLAB's ``imresize(x, ..., 'bicubic')``.

    Args:
        x: images ``(B, C, H, W)``, any floating dtype (computed in that dtype), any
            value range (the operation is linear), any device.
        scale: scale factor, or ``(scale_h, scale_w)``; ``0.5`` halves the size. The
            output size is then ``ceil(H * scale)`` x ``ceil(W * scale)``.
        size: output size ``(H_out, W_out)`` instead of ``scale``; the scale of each
            axis is then ``H_out / H`` (MATLAB's convention).
        antialias: stretch the kernel when shrinking (MATLAB's default, ``True``).

    Returns:
        The resized images ``(B, C, H_out, W_out)``, same dtype and device. Values may
        overshoot the input range slightly (bicubic ringing), as in MATLAB.

    Raises:
        ValueError: on a non-floating or non-4-D tensor, or when neither or both of
            ``scale`` and ``size`` are given, or on a non-positive scale or size.

    Examples:
        >>> x = torch.arange(16, dtype=torch.float64).view(1, 1, 4, 4)
        >>> imresize(x, size=(3, 3))[0, 0].numpy().round(4)
        array([[ 0.7506,  2.1004,  3.4503],
               [ 6.1501,  7.5   ,  8.8499],
               [11.5497, 12.8996, 14.2494]])
    """
    if not isinstance(x, torch.Tensor) or x.ndim != 4 or not x.is_floating_point():
        raise ValueError(f"x: expected a float tensor of shape (B, C, H, W), got {describe(x)}")
    if (scale is None) == (size is None):
        raise ValueError("imresize: give exactly one of scale and size")
    in_h, in_w = x.shape[-2:]
    if size is not None:
        out_h, out_w = (int(s) for s in size)
        if out_h <= 0 or out_w <= 0:
            raise ValueError(f"size: expected positive (H_out, W_out), got {size!r}")
        scale_h, scale_w = out_h / in_h, out_w / in_w
    else:
        scale_h, scale_w = scale if isinstance(scale, tuple) else (scale, scale)  # type: ignore[misc]
        if not (scale_h > 0 and scale_w > 0 and math.isfinite(scale_h) and math.isfinite(scale_w)):
            raise ValueError(f"scale: expected a positive finite number, got {scale!r}")
        out_h, out_w = _output_len(in_h, scale_h), _output_len(in_w, scale_w)
    batch, channels = x.shape[:2]
    y = x.reshape(batch * channels, 1, in_h, in_w)
    passes = [(2, in_h, out_h, scale_h), (3, in_w, out_w, scale_w)]
    if scale_w < scale_h:  # MATLAB resizes along the axis that shrinks most first
        passes.reverse()
    for dim, in_len, out_len, axis_scale in passes:
        if in_len == out_len and axis_scale == 1:
            continue
        y = _resample(y, dim, _plan(in_len, out_len, float(axis_scale), antialias, x.device, x.dtype))
    return y.reshape(batch, channels, out_h, out_w)


def downscaled_size(height: int, width: int, alpha: float) -> tuple[int, int]:
    """Size of an ``height x width`` image after :func:`downscale` by ``alpha``: ``ceil(. / alpha)``."""
    alpha = check_factor(alpha)
    return _output_len(height, 1 / alpha), _output_len(width, 1 / alpha)


def downscale(x: torch.Tensor, alpha: float) -> torch.Tensor:
    """Downscale images by ``alpha >= 1`` with MATLAB's antialiased bicubic: ``x|alpha``.

    Args:
        x: images ``(B, C, H, W)``, floating dtype, any device.
        alpha: downscaling factor, e.g. 2 or 4; 1 returns ``x`` itself.

    Returns:
        ``(B, C, ceil(H / alpha), ceil(W / alpha))`` in the dtype of ``x``.
    """
    alpha = check_factor(alpha)
    if alpha == 1:
        return x
    return imresize(x, scale=1 / alpha)


class Downscale(nn.Module):
    """Module form of :func:`downscale` with a fixed factor ``alpha``."""

    def __init__(self, alpha: float) -> None:
        super().__init__()
        self.alpha = check_factor(alpha)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return downscale(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha:g}"
