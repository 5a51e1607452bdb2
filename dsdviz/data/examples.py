"""Whole-image examples for validation, figures and tables: an input and its ground truth.

Unlike the training streams of :mod:`dsdviz.data.streams` (random crops), these are fixed: the
same images in the same order every time, so validation scores compare across runs.
* :func:`sr_examples`: HR images and their LR (from a folder, or the MATLAB-exact x4
  downscale rounded to 8 bits, as an LR file would be), e.g. of a benchmark set
  (:func:`dsdviz.data.benchmarks.sr_folders`).
* :func:`deblur_examples`: sharp images and real blurred ones, or a fixed synthetic
  blur per image.
* :func:`natural_examples`: fixed crops of natural images (the regressor's validation).
* :func:`degraded_versions`: natural images and degraded copies of each (for testing a
  no-reference score).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from .boxes import Box, center_box, center_crop, crop_box
from .degradations import (
    bicubic_downsample, bicubic_upsample, camera_shake_kernel, gaussian_blur, load_kernels, noisy_blur,
)  # fmt: skip
from .folders import Folder, check_fits, image_paths, partner_path, read_uint8, to_unit
from .streams import item_generator, random_index


@dataclass(frozen=True)
class Example:
    """One example: ``input`` and ``target`` as ``(1, 3, H, W)`` float32 in ``[0, 1]``, and ``box``: where
    ``target`` lies in its source image, in that image's pixels (``None`` for an example made by hand)."""

    name: str
    input: torch.Tensor
    target: torch.Tensor
    box: Box | None = None


def _named(paths: list[Path], names: Sequence[str] | None) -> list[Path]:
    """The paths of the images called ``names`` (file stems), in that order; all of ``paths`` when ``None``."""
    if names is None:
        return paths
    found = {path.stem: path for path in paths}
    missing = [name for name in names if name not in found]
    if missing:
        raise ValueError(f"no image named {', '.join(missing)} among the {len(paths)} of {paths[0].parent}")
    return [found[name] for name in names]


def sr_examples(
    hr: Folder | Sequence[Folder], scale: int = 4, lr: Folder | None = None, crop: int | None = None,
    limit: int | None = None, *, names: Sequence[str] | None = None,
) -> list[Example]:  # fmt: skip
    """SR pairs: ``input`` the LR image ``(1, 3, h, w)``, ``target`` the HR image ``(1, 3, scale h, scale w)``,
    float32 in ``[0, 1]``; LR from ``lr`` (files with the HR files' names) or the MATLAB-exact downscale rounded
    to 8 bits, as an LR file would be.

    The HR image is first cut to a multiple of ``scale`` (its last rows and columns). ``crop`` takes a central HR
    crop of at most that many px (offset and size multiples of ``scale``) and the LR crop of the same pixels;
    ``box`` is the HR crop's :class:`~dsdviz.data.boxes.Box` (the whole image without ``crop``). ``names``
    picks images by file stem, in that order (default: all, by name); ``limit`` keeps the first ones.
    """
    examples = []
    for path in _named(image_paths(hr), names)[:limit]:
        target = read_uint8(str(path))
        target = target[:, : target.shape[-2] // scale * scale, : target.shape[-1] // scale * scale]
        if lr is not None:
            low = read_uint8(str(partner_path(path, lr, "LR")))
            if tuple(low.shape[-2:]) != (target.shape[-2] // scale, target.shape[-1] // scale):
                raise ValueError(f"LR image for {path.name} is {tuple(low.shape[-2:])}, expected HR / {scale}")
        else:
            low = bicubic_downsample(target, scale)
        box = center_box(*target.shape[-2:], crop, multiple=scale)
        low, target = crop_box(low, box.downscaled(scale)), crop_box(target, box)
        examples.append(Example(path.stem, to_unit(low)[None], to_unit(target)[None], box))
    return examples


def deblur_examples(
    sharp: Folder, blurred: Folder | None = None, *, kernels: Folder | None = None, kernel_size: int = 31,
    noise: float = 0.01, crop: int | None = None, limit: int | None = None, seed: int = 0,
) -> list[Example]:  # fmt: skip
    """Deblurring pairs ``(1, 3, H, W)`` float32 in ``[0, 1]``: real blurred images when ``blurred`` is given
    (central crops of their own), else a fixed synthetic blur per image (kernel and noise drawn from
    ``(seed, image index)``, reflect-padded borders so the pair keeps the full size); ``crop``: central crops
    of at most that many px."""
    examples = []
    loaded = load_kernels(kernels) if kernels is not None else None
    for index, path in enumerate(image_paths(sharp)[:limit]):
        image = read_uint8(str(path))
        box = center_box(*image.shape[-2:], crop)
        target = crop_box(image, box)
        if blurred is not None:
            degraded = center_crop(read_uint8(str(partner_path(path, blurred, "blurred"))), crop)
        else:
            generator = item_generator(seed, index)
            kernel = camera_shake_kernel(kernel_size, generator) if loaded is None else loaded[index % len(loaded)]
            r = (kernel.shape[-1] - 1) // 2
            padded = F.pad(target[None].double() / 255, (r, r, r, r), mode="reflect")[0]
            degraded = noisy_blur(padded, kernel, noise, generator)
        examples.append(Example(path.stem, to_unit(degraded)[None], to_unit(target)[None], box))
    return examples


def natural_examples(
    folder: Folder, crop: int, per_image: int = 1, limit: int | None = None, seed: int = 0
) -> list[Example]:
    """Fixed ``crop`` px crops ``(1, 3, crop, crop)`` float32 in ``[0, 1]`` of natural images for validating
    the regressor (``input`` is ``target``).

    The first crop of each image is central, the others at positions drawn from ``(seed, image)``.
    """
    examples = []
    for index, path in enumerate(image_paths(folder)[:limit]):
        image = read_uint8(str(path))
        check_fits(path, image, crop, crop, "crop")
        generator = item_generator(seed, index)
        for k in range(per_image):
            if k == 0:
                box = center_box(*image.shape[-2:], crop)
            else:
                top = random_index(image.shape[-2] - crop, generator)
                left = random_index(image.shape[-1] - crop, generator)
                box = Box.square(top, left, crop)
            y = to_unit(crop_box(image, box))[None]
            examples.append(Example(f"{path.stem}_{k}" if per_image > 1 else path.stem, y, y, box))
    return examples


def degraded_versions(
    hr: Folder, lr: Folder | None = None, *, scale: int = 4, limit: int | None = None, kernel_size: int = 21,
    seed: int = 0, gaussian_sigmas: Sequence[float] = (),
) -> dict[str, list[tuple[str, torch.Tensor]]]:  # fmt: skip
    """Natural images and unnatural versions of each, for testing a no-reference score.

    Returns ``{"natural": [...], "bicubic": [...], "blurred": [...], "gaussian <sigma> px": [...]}``,
    lists of ``(name, (1, 3, H, W))`` in ``[0, 1]``: the ground truth (cropped to a multiple of
    ``scale``), its LR image (from ``lr`` or the MATLAB-exact downscale, 8-bit) up-sampled
    back with MATLAB bicubic, the ground truth blurred by a fixed random camera-shake kernel
    of ``kernel_size`` px per image (:func:`deblur_examples`, no noise), and one version per
    ``gaussian_sigmas`` entry: an isotropic Gaussian blur of that standard deviation in pixels
    (:func:`dsdviz.data.degradations.gaussian_blur`), e.g. ``(1, 2, 4)`` to see which blur scales
    a score flags.
    """
    pairs = sr_examples(hr, scale, lr, limit=limit)
    blurred = deblur_examples(hr, kernel_size=kernel_size, noise=0.0, limit=limit, seed=seed)
    versions = {
        "natural": [(p.name, p.target) for p in pairs],
        "bicubic": [(p.name, bicubic_upsample(p.input, scale)) for p in pairs],
        "blurred": [(b.name, b.input[..., : p.target.shape[-2], : p.target.shape[-1]]) for b, p in zip(blurred, pairs)],
    }
    for sigma in gaussian_sigmas:
        versions[f"gaussian {sigma:g} px"] = [(p.name, gaussian_blur(p.target, sigma)) for p in pairs]
    return versions
