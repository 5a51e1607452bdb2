"""Training data for the networks: folders of images (:mod:`dsdviz.data.folders`) turned into random crops.

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
  with the MATLAB-exact bicubic downscale of the HR image rounded to 8 bits, as an LR file
  would be (:func:`~dsdviz.data.degradations.bicubic_downsample`). The crop is aligned to the scale grid
  and downscaled with a 2-LR-pixel margin of real context, so the on-the-fly LR crop
  equals the crop of the whole image's LR exactly.
* :class:`DeblurPairs`: deblurring pairs from aligned blur/sharp folders (e.g. GoPro),
  or synthesised from sharp images with random camera-shake kernels
  (:func:`~dsdviz.data.degradations.camera_shake_kernel`) or kernels from a folder of ``.npy`` files, plus
  Gaussian noise, rounded to 8 bits.
* :class:`NaturalCrops`: crops of natural images, the DSD regressor's training data
  (the trainer computes ``y|a`` and the true DSD norms on the device).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from ..resize import downscale
from ..validation import check_positive_int
from .degradations import RealisticDegradation, bicubic_downsample, camera_shake_kernel, load_kernels, noisy_blur
from .folders import Folder, check_fits, image_paths, partner_path, read_uint8, to_unit


def item_generator(seed: int, index: int, stream: int = 0) -> torch.Generator:
    """A torch generator seeded from ``(seed, stream, index)`` (well mixed by numpy's SeedSequence).

    ``stream`` separates independent uses (0: items, 1: the per-pass permutations).
    """
    state = np.random.SeedSequence([seed & 0xFFFFFFFF, stream, index]).generate_state(1, dtype=np.uint64)[0]
    return torch.Generator().manual_seed(int(state) & 0x7FFF_FFFF_FFFF_FFFF)


def dequantize(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """``(v + U[0, 1)) / 256`` for 8-bit values ``v``: a float32 image in ``[0, 1)``."""
    return (x.float() + torch.rand(x.shape, generator=generator)) / 256


def random_index(high: int, generator: torch.Generator) -> int:
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

    def __init__(self, folder: Folder | Sequence[Folder], seed: int, holdout: int = 0) -> None:
        self.paths = image_paths(folder, holdout)
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
        self.lr_paths = [partner_path(p, lr, "LR") for p in self.paths] if lr is not None else None
        self.noise = dequantize

    def lr_crop(self, hr: torch.Tensor, top: int, left: int) -> torch.Tensor:
        """The 8-bit LR crop at LR position ``(top, left)`` made from the whole HR image ``hr`` (uint8)."""
        s, c = self.scale, self.crop
        margin = 2 * s  # the antialiased bicubic kernel reaches 2 LR pixels
        y0, x0 = max(0, (top - 2) * s), max(0, (left - 2) * s)
        y1, x1 = min(hr.shape[-2], (top + c) * s + margin), min(hr.shape[-1], (left + c) * s + margin)
        region = bicubic_downsample(hr[:, y0:y1, x0:x1], s)
        dy, dx = top - y0 // s, left - x0 // s
        return region[:, dy : dy + c, dx : dx + c]

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
        check_fits(path, hr, c * s, c * s, f"HR crop ({c} LR px x {s})")
        top = random_index(hr.shape[-2] // s - c, generator)
        left = random_index(hr.shape[-1] // s - c, generator)
        if self.lr_paths is not None:
            lr = lr_full[:, top : top + c, left : left + c]
        else:
            lr = self.lr_crop(hr, top, left)
        target = hr[:, top * s : (top + c) * s, left * s : (left + c) * s]
        lr, target = _flip([lr, target], generator)
        if not self.noise:
            return {"input": to_unit(lr), "target": to_unit(target)}
        return {"input": dequantize(lr, generator), "target": dequantize(target, generator)}


class DeblurPairs(_CropStream):
    """Random deblurring pairs ``{"input": blurred (3, c, c), "target": sharp (3, c, c)}``.

    Args:
        sharp: folder(s) of sharp images.
        crop: crop size ``c`` in pixels.
        blurred: optional folder of real blurred images aligned with ``sharp`` (same
            names, e.g. GoPro); otherwise blur is synthesised.
        kernels: for synthesis, a folder of ``.npy`` kernels (e.g. Levin et al.) or
            ``None`` for random camera-shake kernels (:func:`~dsdviz.data.degradations.camera_shake_kernel`).
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
        self.blur_paths = [partner_path(p, blurred, "blurred") for p in self.paths] if blurred is not None else None
        self.kernels = load_kernels(kernels) if kernels is not None else None
        self.kernel_size, self.noise_level, self.noise = kernel_size, noise, dequantize

    def kernel(self, generator: torch.Generator) -> torch.Tensor:
        """A kernel for one item: random camera shake, or one of the loaded kernels."""
        if self.kernels is None:
            return camera_shake_kernel(self.kernel_size, generator)
        return self.kernels[random_index(len(self.kernels) - 1, generator)]

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
            check_fits(path, sharp, c, c, "crop")
            top, left = random_index(sharp.shape[-2] - c, generator), random_index(sharp.shape[-1] - c, generator)
            pair = [blurred[:, top : top + c, left : left + c], sharp[:, top : top + c, left : left + c]]
        else:
            kernel = self.kernel(generator)
            k = kernel.shape[-1]
            check_fits(path, sharp, c + k - 1, c + k - 1, f"crop plus the {k} px kernel")
            top = random_index(sharp.shape[-2] - c - k + 1, generator)
            left = random_index(sharp.shape[-1] - c - k + 1, generator)
            region = sharp[:, top : top + c + k - 1, left : left + c + k - 1]
            r = (k - 1) // 2
            blurred = noisy_blur(region.double() / 255, kernel, self.noise_level, generator)
            pair = [blurred, region[:, r : r + c, r : r + c]]
        pair = _flip(pair, generator)
        if not self.noise:
            return {"input": to_unit(pair[0]), "target": to_unit(pair[1])}
        return {"input": dequantize(pair[0], generator), "target": dequantize(pair[1], generator)}


class NaturalCrops(_CropStream):
    """Random crops ``{"target": (3, c, c)}`` of natural images (the DSD regressor's ``y``), with
    ``coarse`` also ``"input"``: the coarse copy ``y|a`` (MATLAB bicubic), which with probability
    ``realistic`` carries the sensor noise and JPEG of :meth:`RealisticDegradation.camera`, and with
    ``blur`` also a Gaussian blur before the downscale (:meth:`RealisticDegradation.low_resolution`),
    as a photograph's own optics and motion give it.

    Args:
        folder: folder(s) of natural images.
        crop: crop size ``c`` in pixels (the regressor sees ``y|a``, ``ceil(c / a)`` px).
        seed, dequantize: as in :class:`SRPairs`.
        coarse: the factor ``a`` of the ``"input"`` coarse copy (``None``: no ``"input"``).
        realistic: fraction of coarse copies given noise and JPEG, in ``[0, 1]``.
        blur: the largest standard deviation (px at ``y``'s resolution) of the Gaussian blur of those
            coarse copies, each drawn uniformly in ``[0, blur]`` (``0``: no blur).
        holdout: the last images of the folders (name order) not drawn from (:func:`image_paths`).
    """

    def __init__(
        self, folder: Folder | Sequence[Folder], crop: int = 160, seed: int = 0, dequantize: bool = True,
        coarse: float | None = None, realistic: float = 0.0, holdout: int = 0, blur: float = 0.0,
    ) -> None:  # fmt: skip
        super().__init__(folder, seed, holdout)
        self.crop, self.noise = check_positive_int(crop, "crop"), dequantize
        if not 0 <= realistic <= 1 or (realistic and coarse is None):
            raise ValueError(f"realistic: expected a fraction in [0, 1] of the coarse copies, got {realistic!r}")
        if not blur >= 0 or (blur and not realistic):
            raise ValueError(f"blur: expected a standard deviation >= 0 px for realistic coarse copies, got {blur!r}")
        kernel = 2 * math.ceil(3 * blur) + 1
        if kernel > self.crop:
            raise ValueError(f"blur: {blur:g} px needs a {kernel} px kernel, more than the {crop} px crop")
        self.coarse, self.realistic, self.blur = coarse, realistic, blur
        self.degradation = RealisticDegradation(blur=(0.0, blur))

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        which, generator = self.pick(index)
        path, c = self.paths[which], self.crop
        image = read_uint8(str(path))
        check_fits(path, image, c, c, "crop")
        top, left = random_index(image.shape[-2] - c, generator), random_index(image.shape[-1] - c, generator)
        (crop,) = _flip([image[:, top : top + c, left : left + c]], generator)
        target = dequantize(crop, generator) if self.noise else to_unit(crop)
        if self.coarse is None:
            return {"target": target}
        if float(torch.rand(1, generator=generator, dtype=torch.float64)) >= self.realistic:
            return {"input": downscale(target[None], self.coarse)[0], "target": target}
        return {"input": self.degradation.low_resolution(target.clamp(0, 1), self.coarse, generator), "target": target}
