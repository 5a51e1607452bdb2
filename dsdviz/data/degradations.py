"""Degradations: what the restoration networks undo and what a no-reference score should flag.

* bicubic resampling with MATLAB's ``imresize`` (:mod:`dsdviz.resize`): the LR image an SR
  test set stores (:func:`bicubic_downsample`) and the bicubic baseline every SR method is
  compared with (:func:`bicubic_upsample`);
* blur by a kernel (:func:`blur`, :func:`noisy_blur`): random camera shake
  (:func:`camera_shake_kernel`) or kernels from files (:func:`load_kernels`), e.g. Levin et al.'s;
* isotropic Gaussian blur of a given width (:func:`gaussian_blur`);
* what a camera adds: sensor noise (:func:`sensor_noise`) and JPEG compression (:func:`jpeg`),
  drawn at random by :class:`RealisticDegradation` for a low-resolution photograph from a sharp
  image (blur, downscale, noise, JPEG) or for a coarse copy (noise, JPEG).

Every function works on tensors; :func:`dsdviz.data.degraded_versions` applies them to a
folder of natural images.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..resize import downscale, imresize
from ..validation import check_image
from .images import quantize


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


def sensor_noise(x: torch.Tensor, read: float, shot: float, generator: torch.Generator) -> torch.Tensor:
    """Poisson-Gaussian sensor noise (Foi et al., IEEE TIP 2008), Gaussian-approximated: each value gets
    noise of variance ``read**2 + shot * x``, independently per pixel and channel, then is clipped to ``[0, 1]``.

    Args:
        x: images ``(B, 3, H, W)`` or ``(3, H, W)`` in ``[0, 1]`` (any float dtype).
        read: standard deviation of the signal-independent (read) noise, ``[0, 1]`` scale (``2 / 255``: 2 grey levels).
        shot: variance per unit of signal of the signal-dependent (shot) noise (``1e-3``: at mid grey a standard
            deviation of about 0.022, 5.7 levels).
        generator: source of the noise.

    Returns:
        the noisy images, shape and dtype of ``x``, in ``[0, 1]``.
    """
    if read < 0 or shot < 0:
        raise ValueError(f"sensor_noise: read and shot must be non-negative, got {read!r} and {shot!r}")
    std = (read**2 + shot * x.clamp(0, 1)).sqrt()
    return (x + std * torch.randn(x.shape, generator=generator, dtype=x.dtype)).clamp(0, 1)


def jpeg(x: torch.Tensor, quality: int) -> torch.Tensor:
    """Compress with JPEG (Pillow's encoder: 4:2:0 chroma subsampling below quality 95, the
    standard quantisation tables scaled by ``quality``) and decode.

    Args:
        x: images ``(B, 3, H, W)`` or ``(3, H, W)`` in ``[0, 1]``; rounded to 8 bits first.
        quality: JPEG quality, 1 (worst) to 100.

    Returns:
        float32 of the same shape in ``[0, 1]`` (8-bit values / 255).
    """
    if not 1 <= int(quality) <= 100:
        raise ValueError(f"jpeg: quality must be an integer from 1 to 100, got {quality!r}")
    batch = x.ndim == 4
    out = []
    for image in quantize(x if batch else x[None]):
        buffer = io.BytesIO()
        Image.fromarray(image.permute(1, 2, 0).numpy()).save(buffer, format="JPEG", quality=int(quality))
        decoded = np.asarray(Image.open(buffer).convert("RGB"))
        out.append(torch.from_numpy(decoded.copy()).permute(2, 0, 1).float() / 255)
    return torch.stack(out) if batch else out[0]


@dataclass(frozen=True)
class RealisticDegradation:
    """Random degradations of the kind a photograph carries, in the style of the blind-SR literature
    (the first-order models of BSRGAN, Zhang et al. ICCV 2021, and Real-ESRGAN, Wang et al. ICCVW
    2021), with milder ranges: a camera, not a worst case. Each image draws its own parameters
    uniformly in the ranges below from the generator it is given, so a seed fixes everything.

    * :meth:`low_resolution`: Gaussian blur of ``blur`` px (at the sharp image's resolution), MATLAB
      bicubic downscale by the SR factor, :meth:`camera`.
    * :meth:`camera`: with probability ``noise_probability``, :func:`sensor_noise` with read noise in
      ``read`` and shot noise in ``shot``; then, with probability ``jpeg_probability``, :func:`jpeg`
      at a quality in ``quality``; the result is 8-bit.

    Ranges are ``(low, high)`` pairs; units as in :func:`sensor_noise` and :func:`gaussian_blur`.
    """

    blur: tuple[float, float] = (0.4, 1.6)
    read: tuple[float, float] = (1 / 255, 8 / 255)
    shot: tuple[float, float] = (0.0, 2e-3)
    quality: tuple[int, int] = (40, 95)
    noise_probability: float = 0.8
    jpeg_probability: float = 0.9

    def __post_init__(self) -> None:
        for name in ("blur", "read", "shot", "quality"):
            low, high = getattr(self, name)
            if not 0 <= low <= high:
                raise ValueError(f"RealisticDegradation.{name}: expected 0 <= low <= high, got {(low, high)}")
        if not 1 <= self.quality[0] <= self.quality[1] <= 100:
            raise ValueError(f"RealisticDegradation.quality: expected qualities from 1 to 100, got {self.quality}")
        for name in ("noise_probability", "jpeg_probability"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"RealisticDegradation.{name}: expected a probability, got {getattr(self, name)!r}")

    def camera(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Sensor noise and JPEG of one image ``(3, h, w)`` in ``[0, 1]``: float32, 8-bit values / 255."""
        check_image(x[None], "x")
        out = x.float()
        if _draw(generator) < self.noise_probability:
            out = sensor_noise(out, _uniform(self.read, generator), _uniform(self.shot, generator), generator)
        if _draw(generator) < self.jpeg_probability:
            return jpeg(out, round(_uniform(self.quality, generator)))
        return quantize(out).float() / 255

    def low_resolution(self, hr: torch.Tensor, scale: int, generator: torch.Generator) -> torch.Tensor:
        """A realistic LR photograph of one sharp image ``(3, H, W)`` in ``[0, 1]``: blur, MATLAB bicubic
        downscale by ``scale``, :meth:`camera`. Returns float32 ``(3, ceil(H / scale), ceil(W / scale))``."""
        check_image(hr[None], "hr")
        sigma = _uniform(self.blur, generator) if self.blur[1] > 0 else 0.0
        blurred = gaussian_blur(hr[None].float(), sigma) if sigma > 0 else hr[None]
        return self.camera(downscale(blurred.double(), scale).float().clamp(0, 1)[0], generator)


def _draw(generator: torch.Generator) -> float:
    return float(torch.rand(1, generator=generator, dtype=torch.float64))


def _uniform(bounds: tuple[float, float], generator: torch.Generator) -> float:
    low, high = bounds
    return low + (high - low) * _draw(generator)
