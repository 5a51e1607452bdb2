"""Supplementary Figs. 11 and 12 of the DSD paper: their settings, runs and figure recipes.

Each figure has a settings class with a ``quick()`` setting (small crops, tens of steps:
minutes on 2 CPU cores, what CI and ``dsdviz figures --quick`` run) and a ``full()`` one
(whole images, the paper's step counts: meant for a GPU). Both run the same code. The
notebooks ``fig11_fingerprint_matching.ipynb`` and ``fig12_dsd_minimization.ipynb`` call
the same functions. Image paths are relative to the data folder (``$DSDVIZ_DATA``) unless
absolute.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from ..data import data_root
from ..features import LAYER_PRESETS
from ..images import center_crop, load_image
from ..optimize import dsd_distances, dsd_label, match_fingerprint, minimize_dsd
from ..trajectory import Trajectory, log_steps
from .layout import DPI
from .optimization import Box, crop_box, plot_dsd_minimization, plot_fingerprint_matching

#: Full-mode figures are saved at twice the layout's resolution, so that whole images keep their detail.
FULL_DPI = 2 * DPI


def load_input(path: str | Path, crop: int | Box | None = None) -> torch.Tensor:
    """An image ``(1, 3, H, W)`` from a path relative to the data folder (or absolute).

    ``crop``: ``None`` (whole image), a side in px (central square crop) or a box
    ``(top, left, size)``.
    """
    path = Path(path)
    image = load_image(path if path.is_absolute() else data_root() / path)
    if crop is None:
        return image
    return center_crop(image, crop) if isinstance(crop, int) else crop_box(image, crop)


@dataclass(frozen=True)
class FingerprintMatchingSetup:
    """Settings of Fig. 11: a content image optimised toward a reference's style or DSD.

    The default images are the BSD100 pair of the authors' experiment scripts (108082
    as content, 123074 as reference); ``lr``, ``steps`` and the step schedule (halved
    after each third) are shared by every run.
    """

    content: str = "BSD100/HR/108082.png"
    reference: str = "BSD100/HR/123074.png"
    crop: int | Box | None = None
    steps: int = 3000
    lr: float = 5e-4
    layers: tuple[str, ...] = LAYER_PRESETS["dsd"]
    style_scales: tuple[float, ...] = (1, 2, 4)
    dsd_scales: tuple[tuple[float, float], ...] = ((1, 2), (2, 4))

    @classmethod
    def quick(cls) -> FingerprintMatchingSetup:
        """96 px central crops, 60 steps at a higher rate: about a minute on 2 CPU cores."""
        return cls(crop=96, steps=60, lr=2e-2)

    @classmethod
    def full(cls) -> FingerprintMatchingSetup:
        """Whole 480 x 320 images, 3000 steps at 5e-4 halved after each third (the authors' scripts); GPU."""
        return cls()


def style_label(factor: float) -> str:
    """Column title of style matching at scale ``1/factor``: ``"style x1"``, ``"style x1/2"``."""
    return "style x1" if factor == 1 else f"style x1/{factor:g}"


def run_fingerprint_matching(
    setup: FingerprintMatchingSetup, device: torch.device | str | None = None, progress: bool = True
) -> tuple[torch.Tensor, torch.Tensor, dict[str, Trajectory]]:
    """Run every column of Fig. 11: style matching at each scale, then DSD matching at each scale pair.

    Returns:
        ``(content, reference, {column title: trajectory})``.
    """
    content, reference = load_input(setup.content, setup.crop), load_input(setup.reference, setup.crop)
    common = {"layers": setup.layers, "steps": setup.steps, "lr": setup.lr, "device": device, "progress": progress}
    results = {
        style_label(f): match_fingerprint(content, reference, "style", (f,), **common) for f in setup.style_scales
    }
    for fine, coarse in setup.dsd_scales:
        results[dsd_label(coarse / fine, fine)] = match_fingerprint(content, reference, "dsd", (fine, coarse), **common)
    return content, reference, results


def matching_distances(
    content: torch.Tensor, reference: torch.Tensor, results: dict[str, Trajectory], setup: FingerprintMatchingSetup
) -> dict[str, dict[str, float]]:
    """DSD distance to the reference of the content and of each result's final image, per scale pair."""
    images = {"content": content, **{name: result.final for name, result in results.items()}}
    return dsd_distances(images, reference, setup.dsd_scales, setup.layers)


def fig11_figure(quick: bool, out_dir: Path) -> list[Path]:
    """``fig11_fingerprint_matching.png`` (the ``dsdviz figures`` recipe)."""
    setup = FingerprintMatchingSetup.quick() if quick else FingerprintMatchingSetup.full()
    content, reference, results = run_fingerprint_matching(setup)
    distances = matching_distances(content, reference, results, setup)
    path = Path(out_dir) / "fig11_fingerprint_matching.png"
    figure = plot_fingerprint_matching(content, reference, results, distances=distances)
    figure.savefig(path, dpi=DPI if quick else FULL_DPI)
    return [path]


@dataclass(frozen=True)
class DSDMinimizationSetup:
    """Settings of Fig. 12: gradient descent on ``||DSD_alpha(x)||_1`` from a 4x SR result.

    The default start is the official ESRGAN output for Set14 ``baboon`` (the paper's
    example). ``shown`` are the steps drawn in the figure (the paper: 0, 500, 5000). The
    paper does not state its learning rate; at the default 2e-4 (constant), a 256 px crop
    of that image has its ``||DSD_4||_1`` lowered 4.8x after 500 steps and 9.2x after 1000.
    """

    image: str = "sr_results/ESRGAN/Set14/baboon.png"
    crop: int | Box | None = None
    alpha: float = 4
    layers: tuple[str, ...] = LAYER_PRESETS["dsd"]
    steps: int = 5000
    lr: float = 2e-4
    shown: tuple[int, ...] = (0, 500, 5000)

    @classmethod
    def quick(cls) -> DSDMinimizationSetup:
        """A 96 px crop around the right eye, 60 steps at a higher rate: well under a minute on 2 CPU cores."""
        return cls(crop=(0, 300, 96), steps=60, lr=1e-2, shown=(0, 6, 60))

    @classmethod
    def full(cls) -> DSDMinimizationSetup:
        """The whole 500 x 480 image and 5000 steps, as in the paper; meant for a GPU."""
        return cls()


def run_dsd_minimization(
    setup: DSDMinimizationSetup,
    device: torch.device | str | None = None,
    progress: bool = True,
    checkpoint: str | Path | None = None,
    resume: bool = False,
) -> Trajectory:
    """Run Fig. 12's optimisation, with snapshots at :func:`~dsdviz.trajectory.log_steps` and at ``shown``.

    With ``checkpoint``, the trajectory is saved there as it runs; ``resume=True``
    continues from that file when it exists.
    """
    image = load_input(setup.image, setup.crop)
    snapshots = sorted(set(log_steps(setup.steps)) | {s for s in setup.shown if s <= setup.steps})
    previous = checkpoint if resume and checkpoint is not None and Path(checkpoint).is_file() else None
    return minimize_dsd(
        image,
        setup.alpha,
        setup.layers,
        steps=setup.steps,
        lr=setup.lr,
        snapshots=snapshots,
        device=device,
        progress=progress,
        checkpoint=checkpoint,
        resume=previous,
    )


def fig12_figure(quick: bool, out_dir: Path) -> list[Path]:
    """``fig12_dsd_minimization.png`` (the ``dsdviz figures`` recipe)."""
    setup = DSDMinimizationSetup.quick() if quick else DSDMinimizationSetup.full()
    trajectory = run_dsd_minimization(setup)
    path = Path(out_dir) / "fig12_dsd_minimization.png"
    plot_dsd_minimization(trajectory, setup.shown).savefig(path, dpi=DPI if quick else FULL_DPI)
    return [path]
