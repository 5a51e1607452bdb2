"""Where is an image unnatural? Q_DSD maps (:func:`dsdviz.quality_map.q_dsd_map`) of Set14's baboon.

``figures/quality_maps.png`` (``dsdviz figures --only quality_maps``): the ground-truth baboon, its
MATLAB-bicubic 4x up-sampling (from the x4 LR file), the official ESRGAN result and our shipped
CPU-trained DSD xSRResNet's result on the LR file (:data:`OURS_MAPPED`), each mapped by the shipped
regressors psi_2 and psi_4 at
their training tile sizes (64 and 96 px, stride a quarter tile). Quick mode maps the central 256 px
(smoke size: one 96 px tile); full mode the whole 480 x 500 image. Image paths are relative to the
data folder (``$DSDVIZ_DATA``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import torch
from matplotlib.figure import Figure
from torch import nn

from ..data import bicubic_upsample, center_crop, load_input
from ..inference import restore
from ..models import load_model
from ..quality_map import QualityMap, q_dsd_map
from ..viz.layout import save_png
from ..viz.quality_map import plot_quality_maps
from .agreement import OURS
from .methods import OURS_DSD
from .settings import smoke
from .stages import load_regressors

#: The images mapped: ``{row name: path in the data folder}``; ``"bicubic"`` is made from the LR file.
BABOON = {
    "ground truth": "Set14/HR/baboon.png",
    "bicubic": "Set14/LR_bicubic/X4/baboon.png",
    "ESRGAN": "sr_results/ESRGAN/Set14/baboon.png",
}
#: Central crop (px) of quick mode, and of quick mode at the smoke size (the a = 4 tile).
QUICK_CROP, SMOKE_CROP = 256, 96
#: Our SR model whose baboon is mapped, ``{label: shipped model name}``: the DSD-trained stage 2.
OURS_MAPPED: dict[str, str] = {OURS_DSD: OURS[OURS_DSD]}


def baboon_images(crop: int | None = None, ours: Mapping[str, nn.Module] | None = None) -> dict[str, torch.Tensor]:
    """The ground-truth, bicubic (4x, MATLAB, from the LR file) and ESRGAN baboon, then each of ``ours``
    (``{label: 4x SR network}``, run on the LR file), ``(1, 3, H, W)`` in ``[0, 1]``, cropped to their
    central ``crop`` px after up-sampling (``None``: whole images)."""
    images = {name: load_input(path) for name, path in BABOON.items()}
    low = images["bicubic"]
    images["bicubic"] = bicubic_upsample(low, 4)
    images.update({label: restore(net, low) for label, net in (ours or {}).items()})
    return {name: center_crop(image, crop) for name, image in images.items()}


def quality_maps(
    images: dict[str, torch.Tensor],
    regressors: Sequence[nn.Module],
    tile: int | None = None,
    stride: int | None = None,
) -> dict[str, list[QualityMap]]:
    """``{name: [q_dsd_map(image, regressor, tile, stride) for each regressor]}`` (default tiles: each
    regressor's training size, stride a quarter of it)."""
    return {name: [q_dsd_map(image, r, tile, stride) for r in regressors] for name, image in images.items()}


def baboon_figure(quick: bool, regressors: Sequence[nn.Module], ours: Mapping[str, str] | None = None) -> Figure:
    """The maps of :func:`baboon_images` by ``regressors``, drawn (quick: the central 256 px; at the
    smoke size one 96 px tile; full: the whole image), with our shipped SR models ``ours`` (``{label:
    shipped model name}``; default :data:`OURS_MAPPED`), named in the title."""
    ours = dict(OURS_MAPPED if ours is None else ours)
    tiny = quick and smoke()
    networks = {label: load_model(name) for label, name in ours.items()}
    images = baboon_images((SMOKE_CROP if tiny else QUICK_CROP) if quick else None, networks)
    maps = quality_maps(images, regressors, *((SMOKE_CROP, SMOKE_CROP) if tiny else (None, None)))
    height, width = next(iter(images.values())).shape[-2:]
    title = f"Where is the baboon unnatural? Set14 baboon, {height} x {width} px"
    if ours:
        title += "; " + ", ".join(f"{label} = shipped {name} (CPU-trained)" for label, name in ours.items())
    return plot_quality_maps(images, maps, title=title)


def quality_maps_figure(quick: bool, out_dir: Path) -> list[Path]:
    """``figures/quality_maps.png``: :func:`baboon_figure` with the shipped psi_2 and psi_4 and SR model."""
    return [save_png(baboon_figure(quick, load_regressors()), Path(out_dir) / "quality_maps.png")]
