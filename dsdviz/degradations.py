"""Degradations: what the restoration networks undo and what a no-reference score should flag.

* bicubic resampling with MATLAB's ``imresize`` (:mod:`dsdviz.resize`): the LR image an SR
  test set stores (:func:`bicubic_downsample`) and the bicubic baseline every SR method is
  compared with (:func:`bicubic_upsample`);
* blur by a kernel (:func:`blur`, :func:`noisy_blur`): random camera shake
  (:func:`camera_shake_kernel`) or kernels from files (:func:`load_kernels`), e.g. Levin et al.'s;
* isotropic Gaussian blur of a given width (:func:`gaussian_blur`).

Every function works on tensors; :func:`dsdviz.scoring.degraded_versions` applies them to a
folder of natural images.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from .images import quantize
from .resize import downscale, imresize
from .validation import check_image


def bicubic_upsample(lr: torch.Tensor, scale: int) -> torch.Tensor:
    """The bicubic baseline of SR: MATLAB-exact bicubic up-sampling by ``scale``.

    Args:
        lr: images ``(B, 3, h, w)`` in ``[0, 1]``.
        scale: integer SR factor (4).

    Returns:
        ``(B, 3, scale * h, scale * w)`` float32 in ``[0, 1]`` (computed in float64, then clamped).
    """
    return imresize(lr.double(), scale=scale).float().clamp(0, 1)


def bicubic_downsample(hr: torch.Tensor, scale: int) -> torch.Tensor:
    """The LR image an SR test set stores: MATLAB's antialiased bicubic downscale, rounded to 8 bits.

    Args:
        hr: 8-bit images ``(B, C, H, W)`` or ``(C, H, W)`` (uint8).
        scale: integer SR factor (4).

    Returns:
        uint8 of the same rank, ``ceil(H / scale) x ceil(W / scale)`` px (computed in float64).
    """
    batch = hr.ndim == 4
    out = quantize(downscale((hr if batch else hr[None]).double() / 255, scale))
    return out if batch else out[0]


def camera_shake_kernel(
    size: int = 31, generator: torch.Generator | None = None, *, length: tuple[float, float] = (0.3, 1.0),
    samples: int = 64, inertia: float = 0.7, jerk_probability: float = 0.05,
) -> torch.Tensor:  # fmt: skip
    """A random camera-shake blur kernel ``(size, size)``, non-negative, summing to 1.

    Kernel model (written for dsdviz, in the spirit of the random-trajectory model of
    Boracchi & Foi, IEEE TIP 2012): the camera's image-plane position during the
    exposure is a 2-D random walk with inertia. Starting with a random velocity, at each
    of ``samples`` time steps the velocity becomes ``inertia * v + (1 - inertia) * n``
    with Gaussian ``n`` (smooth hand tremor) and, with probability ``jerk_probability``,
    a sudden jerk adds a large random velocity. The path is centred on its mean, scaled
    so that its largest extent is ``L * (size - 1)`` px with ``L ~ U(length)`` (blur
    lengths from about 9 to 30 px for ``size=31``), clipped to the kernel, and rasterised
    with bilinear weights, equal time per sample (constant exposure).

    Args:
        size: kernel side in pixels (odd).
        generator: source of randomness (default: torch's global generator).

    Returns:
        ``(size, size)`` float32 tensor, sums to 1.
    """
    if size < 3 or size % 2 != 1:
        raise ValueError(f"size: expected an odd kernel size >= 3, got {size}")

    def draw(*shape: int) -> np.ndarray:
        return torch.randn(*shape, generator=generator, dtype=torch.float64).numpy()

    start, tremor, jerks = draw(2), draw(samples, 2), 3 * draw(samples, 2)
    jerked = torch.rand(samples, generator=generator, dtype=torch.float64).numpy() < jerk_probability
    velocity, position = start, np.zeros(2)
    points = np.zeros((samples, 2))
    for t in range(1, samples):
        velocity = inertia * velocity + (1 - inertia) * tremor[t] + (jerks[t] if jerked[t] else 0.0)
        position = position + velocity
        points[t] = position
    path = torch.from_numpy(points)
    path -= path.mean(dim=0)
    extent = float((path.max(dim=0).values - path.min(dim=0).values).max())
    low, high = length
    target = (low + (high - low) * float(torch.rand(1, generator=generator, dtype=torch.float64))) * (size - 1)
    path = path * (target / max(extent, 1e-9)) + (size - 1) / 2
    path = path.clamp(0, size - 1 - 1e-9)
    kernel = torch.zeros(size, size, dtype=torch.float64)
    base = path.floor()
    frac = path - base
    rows, cols = base[:, 1].long(), base[:, 0].long()
    for dy in (0, 1):
        for dx in (0, 1):
            weight = (frac[:, 1] if dy else 1 - frac[:, 1]) * (frac[:, 0] if dx else 1 - frac[:, 0])
            kernel.index_put_(
                ((rows + dy).clamp(max=size - 1), (cols + dx).clamp(max=size - 1)), weight, accumulate=True
            )
    return (kernel / kernel.sum()).float()


def load_kernels(folder: str | os.PathLike) -> list[torch.Tensor]:
    """Blur kernels from ``*.npy`` files (2-D, non-negative), normalised to sum 1, sorted by name."""
    files = sorted(Path(folder).glob("*.npy"))
    if not files:
        raise ValueError(f"no kernel files (*.npy) in {str(folder)!r}")
    kernels = []
    for path in files:
        array = np.load(path)
        if array.ndim != 2 or (array < 0).any() or array.sum() <= 0:
            raise ValueError(f"{path.name}: expected a non-negative 2-D kernel, got shape {array.shape}")
        kernels.append(torch.from_numpy(array / array.sum()).float())
    return kernels


def blur(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Convolve ``(C, H, W)`` (or ``(B, C, H, W)``) with a ``(k, k)`` kernel, "valid" part only.

    The output is ``k - 1`` px smaller in each dimension: crop the sharp image with a
    ``(k - 1) / 2`` margin so that the blurred result aligns with its centre. Computed by
    FFT (circular convolution, whose wrapped-around rows and columns are exactly the
    ones the "valid" part drops), in the dtype of ``x``.
    """
    k = kernel.shape[-1]
    if kernel.ndim != 2 or kernel.shape[0] != k or x.shape[-1] < k or x.shape[-2] < k:
        raise ValueError(f"blur: expected a square (k, k) kernel no larger than the image, got {tuple(kernel.shape)}")
    size = x.shape[-2:]
    spectrum = torch.fft.rfft2(x, s=size) * torch.fft.rfft2(kernel.to(x.dtype), s=size)
    return torch.fft.irfft2(spectrum, s=size)[..., k - 1 :, k - 1 :]


def noisy_blur(x: torch.Tensor, kernel: torch.Tensor, noise: float, generator: torch.Generator) -> torch.Tensor:
    """Synthetic blur as the deblurring data makes it: :func:`blur` plus Gaussian noise, rounded to 8 bits.

    Args:
        x: float64 images ``(C, H, W)`` or ``(B, C, H, W)`` in ``[0, 1]``.
        kernel: ``(k, k)`` blur kernel (used in float64).
        noise: the noise's standard deviation is drawn uniformly in ``[0, noise]`` (``[0, 1]`` scale).
        generator: source of the noise level and the noise.

    Returns:
        uint8, ``k - 1`` px smaller than ``x`` in each dimension ("valid" part).
    """
    sigma = noise * float(torch.rand(1, generator=generator))
    out = blur(x, kernel.double())
    return quantize(out + sigma * torch.randn(out.shape, generator=generator, dtype=torch.float64))


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Isotropic Gaussian blur of standard deviation ``sigma`` px (kernel ``2 ceil(3 sigma) + 1``,
    reflected borders), rounded to 8 bits: ``(B, 3, H, W)`` in ``[0, 1]`` -> same shape."""
    from torchvision.transforms.functional import gaussian_blur as torchvision_blur

    check_image(x, "x")
    if not sigma > 0:
        raise ValueError(f"gaussian_blur: sigma must be positive (pixels), got {sigma!r}")
    size = 2 * int(np.ceil(3 * sigma)) + 1
    if size > min(x.shape[-2:]):
        raise ValueError(
            f"gaussian_blur: sigma {sigma:g} px needs a {size} px kernel; the image is {tuple(x.shape[-2:])} px"
        )
    return (torchvision_blur(x, kernel_size=size, sigma=sigma) * 255).round() / 255
