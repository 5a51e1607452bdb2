"""Whole-image examples for validation and figures: an input and its ground truth.

Unlike the training streams of :mod:`dsdviz.data` (random crops), these are fixed: the
same images in the same order every time, so validation scores compare across runs.
* :func:`sr_examples`: HR images and their LR (from a folder, or the MATLAB-exact x4
  downscale rounded to 8 bits, as an LR file would be).
* :func:`deblur_examples`: sharp images and real blurred ones, or a fixed synthetic
  blur per image.
* :func:`natural_examples`: fixed crops of natural images (the regressor's validation).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .data import Folder, check_fits, image_paths, partner_path, random_index, item_generator, read_uint8, to_unit
from .degradations import bicubic_downsample, camera_shake_kernel, load_kernels, noisy_blur
from .images import center_box, center_crop


@dataclass(frozen=True)
class Example:
    """One validation example: ``input`` and ``target`` as ``(1, 3, H, W)`` in ``[0, 1]``."""

    name: str
    input: torch.Tensor
    target: torch.Tensor


def sr_examples(
    hr: Folder, scale: int = 4, lr: Folder | None = None, crop: int | None = None, limit: int | None = None
) -> list[Example]:
    """SR validation pairs: LR from ``lr`` (same names) or the MATLAB-exact downscale rounded to 8 bits.

    ``crop`` takes a central HR crop of at most that many pixels (a multiple of the scale);
    ``limit`` keeps the first images by name.
    """
    examples = []
    for path in image_paths(hr)[:limit]:
        target = read_uint8(str(path))
        target = target[:, : target.shape[-2] // scale * scale, : target.shape[-1] // scale * scale]
        if lr is not None:
            low = read_uint8(str(partner_path(path, lr, "LR")))
            if tuple(low.shape[-2:]) != (target.shape[-2] // scale, target.shape[-1] // scale):
                raise ValueError(f"LR image for {path.name} is {tuple(low.shape[-2:])}, expected HR / {scale}")
        else:
            low = bicubic_downsample(target, scale)
        top, left, height, width = (v // scale for v in center_box(*target.shape[-2:], crop, multiple=scale))
        target = target[:, top * scale : (top + height) * scale, left * scale : (left + width) * scale]
        low = low[:, top : top + height, left : left + width]
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
    for index, path in enumerate(image_paths(sharp)[:limit]):
        target = center_crop(read_uint8(str(path)), crop)
        if blurred is not None:
            degraded = center_crop(read_uint8(str(partner_path(path, blurred, "blurred"))), crop)
        else:
            generator = item_generator(seed, index)
            kernel = camera_shake_kernel(kernel_size, generator) if loaded is None else loaded[index % len(loaded)]
            r = (kernel.shape[-1] - 1) // 2
            padded = F.pad(target[None].double() / 255, (r, r, r, r), mode="reflect")[0]
            degraded = noisy_blur(padded, kernel, noise, generator)
        examples.append(Example(path.stem, to_unit(degraded)[None], to_unit(target)[None]))
    return examples


def natural_examples(
    folder: Folder, crop: int, per_image: int = 1, limit: int | None = None, seed: int = 0
) -> list[Example]:
    """Fixed crops of natural images for validating the regressor (``input`` is ``target``).

    The first crop of each image is central, the others at positions drawn from ``(seed, image)``.
    """
    examples = []
    for index, path in enumerate(image_paths(folder)[:limit]):
        image = read_uint8(str(path))
        check_fits(path, image, crop, crop, "crop")
        generator = item_generator(seed, index)
        for k in range(per_image):
            if k == 0:
                y = to_unit(center_crop(image, crop))[None]
            else:
                top = random_index(image.shape[-2] - crop, generator)
                left = random_index(image.shape[-1] - crop, generator)
                y = to_unit(image[:, top : top + crop, left : left + crop])[None]
            examples.append(Example(f"{path.stem}_{k}" if per_image > 1 else path.stem, y, y))
    return examples
