"""Training and validation data for the networks: folders of images turned into random crops.

Every training dataset here is an *infinite, indexable stream*: item ``k`` (a global
sample counter, 0, 1, 2, ...) is a deterministic function of ``(seed, k)`` only: which
image (a fresh permutation of the folder per pass), where to crop, which flips, the
dequantisation noise, the blur kernel. :class:`StepSampler` hands the counters of
global step ``s`` (``s * B`` to ``s * B + B - 1``) to the ranks of a distributed run.
Hence a batch does not depend on the number of DataLoader workers or processes, and a
resumed run continues the exact stream by starting the sampler at its step.

Common augmentation (as in the DSD authors' code): random crops, random horizontal and
vertical flips, and 8-bit dequantisation noise ``x = (v + u) / 256`` with ``v`` the 8-bit
value and ``u ~ U[0, 1)``, so that the network never sees the 256-level lattice.

* :class:`SRPairs`: 4x super-resolution pairs. LR crops come from an LR folder
  (``<name>`` matching the HR file name) when given, otherwise they are made on the fly
  with the MATLAB-exact bicubic downscale (:func:`dsdviz.downscale`) of the HR image
  and rounded to 8 bits, as an LR file would be. The crop is aligned to the scale grid
  and downscaled with a 2-LR-pixel margin of real context, so the on-the-fly LR crop
  equals the crop of the whole image's LR exactly.
* :class:`DeblurPairs`: deblurring pairs from aligned blur/sharp folders (e.g. GoPro),
  or synthesised from sharp images with random camera-shake kernels
  (:func:`camera_shake_kernel`) or kernels from a folder of ``.npy`` files, plus
  Gaussian noise, rounded to 8 bits.
* :class:`NaturalCrops`: crops of natural images, the DSD regressor's training data
  (the trainer computes ``y|a`` and the true DSD norms on the device).

Decoded images are cached per process (:data:`CACHE_IMAGES` most recent files).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Union

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import Dataset, Sampler

from .images import list_images
from .resize import downscale
from .validation import check_positive_int

Folder = Union[str, os.PathLike]

#: Decoded images kept in memory per process (BSDS500's 200 training images take about 90 MB).
CACHE_IMAGES = 256


@lru_cache(maxsize=CACHE_IMAGES)
def read_uint8(path: str) -> torch.Tensor:
    """An image file as a ``(3, H, W)`` uint8 tensor (grey is replicated, alpha dropped)."""
    with Image.open(path) as image:
        return torch.from_numpy(np.array(image.convert("RGB"))).permute(2, 0, 1).contiguous()


def item_generator(seed: int, index: int, stream: int = 0) -> torch.Generator:
    """A torch generator seeded from ``(seed, stream, index)`` (well mixed by numpy's SeedSequence).

    ``stream`` separates independent uses (0: items, 1: the per-pass permutations).
    """
    state = np.random.SeedSequence([seed & 0xFFFFFFFF, stream, index]).generate_state(1, dtype=np.uint64)[0]
    return torch.Generator().manual_seed(int(state) & 0x7FFF_FFFF_FFFF_FFFF)


def dequantize(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """``(v + U[0, 1)) / 256`` for 8-bit values ``v``: a float32 image in ``[0, 1)``."""
    return (x.float() + torch.rand(x.shape, generator=generator)) / 256


def to_unit(x: torch.Tensor) -> torch.Tensor:
    """8-bit values to float32 in ``[0, 1]`` (``v / 255``), for validation data."""
    return x.float() / 255


def quantize(x: torch.Tensor) -> torch.Tensor:
    """A float image in ``[0, 1]`` rounded to uint8 (``round(255 x)``, clipped)."""
    return torch.round(x.clamp(0, 1) * 255).to(torch.uint8)


def _randint(high: int, generator: torch.Generator) -> int:
    """Uniform integer in ``[0, high]``."""
    return int(torch.randint(0, high + 1, (1,), generator=generator))


def _flip(images: Sequence[torch.Tensor], generator: torch.Generator) -> list[torch.Tensor]:
    """The same random horizontal and vertical flips applied to every image."""
    dims = [d for d, flip in zip((-1, -2), torch.rand(2, generator=generator) < 0.5) if flip]
    return [image.flip(dims) if dims else image for image in images]


class StepSampler(Sampler[int]):
    """Infinite sample counters for one rank: global step ``s`` holds ``s * B ... s * B + B - 1``.

    Args:
        batch_size: the global batch size ``B`` (summed over ranks).
        start_step: the first step to produce (for resuming).
        rank, world_size: this process's slice of each global batch (contiguous,
            ``B / world_size`` items each).
    """

    def __init__(self, batch_size: int, start_step: int = 0, rank: int = 0, world_size: int = 1) -> None:
        check_positive_int(batch_size, "batch_size")
        if batch_size % world_size:
            raise ValueError(f"batch_size {batch_size} is not divisible by the number of processes {world_size}")
        self.batch_size, self.start_step, self.rank, self.world_size = batch_size, start_step, rank, world_size
        self.local_batch = batch_size // world_size

    def __iter__(self) -> Iterator[int]:
        step = self.start_step
        while True:
            first = step * self.batch_size + self.rank * self.local_batch
            yield from range(first, first + self.local_batch)
            step += 1


class _CropStream(Dataset):
    """Shared machinery: a folder of images, a per-pass permutation, per-item generators."""

    def __init__(self, folder: Folder | Sequence[Folder], seed: int) -> None:
        self.paths = _image_paths(folder)
        self.seed = seed

    def __len__(self) -> int:
        """Images per pass (the stream itself is infinite: any non-negative index is valid)."""
        return len(self.paths)

    def pick(self, index: int) -> tuple[int, torch.Generator]:
        """The image of item ``index`` and the generator for its random choices."""
        if index < 0:
            raise IndexError(f"sample index must be non-negative, got {index}")
        epoch, position = divmod(index, len(self.paths))
        order = torch.randperm(len(self.paths), generator=item_generator(self.seed, epoch, stream=1))
        return int(order[position]), item_generator(self.seed, index)


def _image_paths(folder: Folder | Sequence[Folder]) -> list[Path]:
    folders = [folder] if isinstance(folder, (str, os.PathLike)) else list(folder)
    return [path for item in folders for path in list_images(item)]


def _partner(path: Path, folder: Folder, role: str) -> Path:
    """The file in ``folder`` with the same stem as ``path`` (any image suffix)."""
    for candidate in list_images(folder):
        if candidate.stem == path.stem:
            return candidate
    raise ValueError(f"no {role} image named {path.stem}.* in {str(folder)!r} for {path.name}")


def _check_fits(path: Path, image: torch.Tensor, height: int, width: int, what: str) -> None:
    if image.shape[-2] < height or image.shape[-1] < width:
        raise ValueError(
            f"{path.name} is {image.shape[-2]} x {image.shape[-1]} px, smaller than the {height} x {width} {what}; "
            "use a smaller crop"
        )


class SRPairs(_CropStream):
    """Random ``scale``x super-resolution pairs ``{"input": (3, c, c), "target": (3, s*c, s*c)}``.

    Args:
        hr: folder(s) of HR images.
        scale: SR factor (4).
        crop: LR crop size ``c`` in pixels (40 in the paper).
        lr: optional folder of LR images with the same names (``LR size * scale == HR size``);
            otherwise the LR crop is the MATLAB-exact bicubic downscale, rounded to 8 bits.
        seed: the stream's seed.
        dequantize: add 8-bit dequantisation noise (training) or return ``v / 255``.
    """

    def __init__(
        self, hr: Folder | Sequence[Folder], scale: int = 4, crop: int = 40, lr: Folder | None = None,
        seed: int = 0, dequantize: bool = True,
    ) -> None:  # fmt: skip
        super().__init__(hr, seed)
        self.scale, self.crop = check_positive_int(scale, "scale"), check_positive_int(crop, "crop")
        self.lr_paths = [_partner(p, lr, "LR") for p in self.paths] if lr is not None else None
        self.noise = dequantize

    def lr_crop(self, hr: torch.Tensor, top: int, left: int) -> torch.Tensor:
        """The 8-bit LR crop at LR position ``(top, left)`` made from the whole HR image ``hr`` (uint8)."""
        s, c = self.scale, self.crop
        margin = 2 * s  # the antialiased bicubic kernel reaches 2 LR pixels
        y0, x0 = max(0, (top - 2) * s), max(0, (left - 2) * s)
        y1, x1 = min(hr.shape[-2], (top + c) * s + margin), min(hr.shape[-1], (left + c) * s + margin)
        region = downscale(hr[None, :, y0:y1, x0:x1].double() / 255, s)[0]
        dy, dx = top - y0 // s, left - x0 // s
        return quantize(region[:, dy : dy + c, dx : dx + c])

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        which, generator = self.pick(index)
        path, s, c = self.paths[which], self.scale, self.crop
        hr = read_uint8(str(path))
        if self.lr_paths is not None:
            lr_full = read_uint8(str(self.lr_paths[which]))
            if tuple(lr_full.shape[-2:]) != (hr.shape[-2] // s, hr.shape[-1] // s):
                raise ValueError(
                    f"LR image {self.lr_paths[which].name} is {tuple(lr_full.shape[-2:])}, expected the HR size "
                    f"{tuple(hr.shape[-2:])} / {s}"
                )
        _check_fits(path, hr, c * s, c * s, f"HR crop ({c} LR px x {s})")
        top = _randint(hr.shape[-2] // s - c, generator)
        left = _randint(hr.shape[-1] // s - c, generator)
        if self.lr_paths is not None:
            lr = lr_full[:, top : top + c, left : left + c]
        else:
            lr = self.lr_crop(hr, top, left)
        target = hr[:, top * s : (top + c) * s, left * s : (left + c) * s]
        lr, target = _flip([lr, target], generator)
        if not self.noise:
            return {"input": to_unit(lr), "target": to_unit(target)}
        return {"input": dequantize(lr, generator), "target": dequantize(target, generator)}


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


def load_kernels(folder: Folder) -> list[torch.Tensor]:
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


class DeblurPairs(_CropStream):
    """Random deblurring pairs ``{"input": blurred (3, c, c), "target": sharp (3, c, c)}``.

    Args:
        sharp: folder(s) of sharp images.
        crop: crop size ``c`` in pixels.
        blurred: optional folder of real blurred images aligned with ``sharp`` (same
            names, e.g. GoPro); otherwise blur is synthesised.
        kernels: for synthesis, a folder of ``.npy`` kernels (e.g. Levin et al.) or
            ``None`` for random camera-shake kernels (:func:`camera_shake_kernel`).
        kernel_size: side of the random kernels (odd).
        noise: maximum standard deviation of the added Gaussian noise (drawn uniformly
            in ``[0, noise]`` per item), on the ``[0, 1]`` scale.
        seed, dequantize: as in :class:`SRPairs`.
    """

    def __init__(
        self, sharp: Folder | Sequence[Folder], crop: int = 160, blurred: Folder | None = None,
        kernels: Folder | None = None, kernel_size: int = 31, noise: float = 0.01, seed: int = 0,
        dequantize: bool = True,
    ) -> None:  # fmt: skip
        super().__init__(sharp, seed)
        self.crop = check_positive_int(crop, "crop")
        self.blur_paths = [_partner(p, blurred, "blurred") for p in self.paths] if blurred is not None else None
        self.kernels = load_kernels(kernels) if kernels is not None else None
        self.kernel_size, self.noise_level, self.noise = kernel_size, noise, dequantize

    def kernel(self, generator: torch.Generator) -> torch.Tensor:
        """A kernel for one item: random camera shake, or one of the loaded kernels."""
        if self.kernels is None:
            return camera_shake_kernel(self.kernel_size, generator)
        return self.kernels[_randint(len(self.kernels) - 1, generator)]

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        which, generator = self.pick(index)
        path, c = self.paths[which], self.crop
        sharp = read_uint8(str(path))
        if self.blur_paths is not None:
            blurred = read_uint8(str(self.blur_paths[which]))
            if blurred.shape != sharp.shape:
                raise ValueError(
                    f"{path.name}: blurred image {tuple(blurred.shape)} and sharp {tuple(sharp.shape)} differ"
                )
            _check_fits(path, sharp, c, c, "crop")
            top, left = _randint(sharp.shape[-2] - c, generator), _randint(sharp.shape[-1] - c, generator)
            pair = [blurred[:, top : top + c, left : left + c], sharp[:, top : top + c, left : left + c]]
        else:
            kernel = self.kernel(generator)
            k = kernel.shape[-1]
            _check_fits(path, sharp, c + k - 1, c + k - 1, f"crop plus the {k} px kernel")
            top = _randint(sharp.shape[-2] - c - k + 1, generator)
            left = _randint(sharp.shape[-1] - c - k + 1, generator)
            region = sharp[:, top : top + c + k - 1, left : left + c + k - 1]
            sigma = self.noise_level * float(torch.rand(1, generator=generator))
            blurred = blur(region.double() / 255, kernel.double())
            blurred = blurred + sigma * torch.randn(blurred.shape, generator=generator, dtype=torch.float64)
            r = (k - 1) // 2
            pair = [quantize(blurred), region[:, r : r + c, r : r + c]]
        pair = _flip(pair, generator)
        if not self.noise:
            return {"input": to_unit(pair[0]), "target": to_unit(pair[1])}
        return {"input": dequantize(pair[0], generator), "target": dequantize(pair[1], generator)}


class NaturalCrops(_CropStream):
    """Random crops ``{"target": (3, c, c)}`` of natural images (the DSD regressor's ``y``).

    Args:
        folder: folder(s) of natural images.
        crop: crop size ``c`` in pixels (the regressor sees ``y|a``, ``ceil(c / a)`` px).
        seed, dequantize: as in :class:`SRPairs`.
    """

    def __init__(
        self, folder: Folder | Sequence[Folder], crop: int = 160, seed: int = 0, dequantize: bool = True
    ) -> None:
        super().__init__(folder, seed)
        self.crop, self.noise = check_positive_int(crop, "crop"), dequantize

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        which, generator = self.pick(index)
        path, c = self.paths[which], self.crop
        image = read_uint8(str(path))
        _check_fits(path, image, c, c, "crop")
        top, left = _randint(image.shape[-2] - c, generator), _randint(image.shape[-1] - c, generator)
        (crop,) = _flip([image[:, top : top + c, left : left + c]], generator)
        return {"target": dequantize(crop, generator) if self.noise else to_unit(crop)}


@dataclass(frozen=True)
class Example:
    """One validation example: ``input`` and ``target`` as ``(1, 3, H, W)`` in ``[0, 1]``."""

    name: str
    input: torch.Tensor
    target: torch.Tensor


def _centre(x: torch.Tensor, size: int | None, multiple: int = 1) -> torch.Tensor:
    """Central crop of ``(3, H, W)`` to at most ``size`` px, with start and size multiples of ``multiple``."""
    if size is None:
        return x
    h, w = x.shape[-2:]
    ch, cw = min(h, size) // multiple * multiple, min(w, size) // multiple * multiple
    top, left = (h - ch) // 2 // multiple * multiple, (w - cw) // 2 // multiple * multiple
    return x[..., top : top + ch, left : left + cw]


def sr_examples(
    hr: Folder, scale: int = 4, lr: Folder | None = None, crop: int | None = None, limit: int | None = None
) -> list[Example]:
    """SR validation pairs: LR from ``lr`` (same names) or the MATLAB-exact downscale rounded to 8 bits.

    ``crop`` takes a central HR crop of at most that many pixels (a multiple of the scale);
    ``limit`` keeps the first images by name.
    """
    examples = []
    for path in _image_paths(hr)[:limit]:
        target = read_uint8(str(path))
        target = target[:, : target.shape[-2] // scale * scale, : target.shape[-1] // scale * scale]
        if lr is not None:
            low = read_uint8(str(_partner(path, lr, "LR")))
            if tuple(low.shape[-2:]) != (target.shape[-2] // scale, target.shape[-1] // scale):
                raise ValueError(f"LR image for {path.name} is {tuple(low.shape[-2:])}, expected HR / {scale}")
        else:
            low = quantize(downscale(target[None].double() / 255, scale)[0])
        if crop is not None:
            h, w = target.shape[-2:]
            target = _centre(target, crop, scale)
            top = (h - target.shape[-2]) // 2 // scale
            left = (w - target.shape[-1]) // 2 // scale
            low = low[:, top : top + target.shape[-2] // scale, left : left + target.shape[-1] // scale]
        examples.append(Example(path.stem, to_unit(low)[None], to_unit(target)[None]))
    return examples


def deblur_examples(
    sharp: Folder, blurred: Folder | None = None, *, kernels: Folder | None = None, kernel_size: int = 31,
    noise: float = 0.01, crop: int | None = None, limit: int | None = None, seed: int = 0,
) -> list[Example]:  # fmt: skip
    """Deblurring validation pairs: real blurred images when ``blurred`` is given, else a fixed
    synthetic blur per image (kernel and noise drawn from ``(seed, image index)``, reflect-padded
    borders so the pair keeps the full size)."""
    examples = []
    loaded = load_kernels(kernels) if kernels is not None else None
    for index, path in enumerate(_image_paths(sharp)[:limit]):
        target = _centre(read_uint8(str(path)), crop)
        if blurred is not None:
            degraded = _centre(read_uint8(str(_partner(path, blurred, "blurred"))), crop)
        else:
            generator = item_generator(seed, index)
            if loaded is None:
                kernel = camera_shake_kernel(kernel_size, generator)
            else:
                kernel = loaded[index % len(loaded)]
            r = (kernel.shape[-1] - 1) // 2
            padded = F.pad(target[None].double() / 255, (r, r, r, r), mode="reflect")[0]
            out = blur(padded, kernel.double())
            sigma = noise * float(torch.rand(1, generator=generator))
            degraded = quantize(out + sigma * torch.randn(out.shape, generator=generator, dtype=torch.float64))
        examples.append(Example(path.stem, to_unit(degraded)[None], to_unit(target)[None]))
    return examples


def natural_examples(
    folder: Folder, crop: int, per_image: int = 1, limit: int | None = None, seed: int = 0
) -> list[Example]:
    """Fixed crops of natural images for validating the regressor (``input`` is ``target``).

    The first crop of each image is central, the others at positions drawn from ``(seed, image)``.
    """
    examples = []
    for index, path in enumerate(_image_paths(folder)[:limit]):
        image = read_uint8(str(path))
        _check_fits(path, image, crop, crop, "crop")
        generator = item_generator(seed, index)
        for k in range(per_image):
            if k == 0:
                top, left = (image.shape[-2] - crop) // 2, (image.shape[-1] - crop) // 2
            else:
                top, left = _randint(image.shape[-2] - crop, generator), _randint(image.shape[-1] - crop, generator)
            y = to_unit(image[:, top : top + crop, left : left + crop])[None]
            examples.append(Example(f"{path.stem}_{k}" if per_image > 1 else path.stem, y, y))
    return examples
