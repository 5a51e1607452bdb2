"""Supplementary Fig. 12: gradient descent on ``||DSD_4(x)||_1`` from an ESRGAN result.

:class:`DSDMinimizationSetup` has a ``quick()`` setting (a 96 px crop, tens of steps: well
under a minute on 2 CPU cores) and a ``full()`` one (the whole image and the paper's 5000
steps: a GPU). Both run the same code; the notebook ``fig12_dsd_minimization.ipynb`` calls
the same functions. Image paths are relative to the data folder (``$DSDVIZ_DATA``) unless
absolute.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from ..features import LAYER_PRESETS
from ..optimize import minimize_dsd
from ..precision import Precision
from ..trajectory import Trajectory, log_steps
from ..viz.layout import DETAIL_DPI, DPI
from ..viz.optimization import Box, plot_dsd_minimization
from .settings import SMOKE_SIZE, SMOKE_STEPS, smoke
from .test_sets import load_input


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
        """A 96 px crop around the right eye, 60 steps at a higher rate: well under a minute on 2 CPU cores
        (smoke size: a 32 px crop, 2 steps)."""
        if smoke():
            return cls(crop=(0, 300, SMOKE_SIZE), steps=SMOKE_STEPS, lr=1e-2, shown=(0, 1, SMOKE_STEPS))
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
    precision: Precision = "fp32",
) -> Trajectory:
    """Run Fig. 12's optimisation, with snapshots at :func:`~dsdviz.trajectory.log_steps` and at ``shown``.

    With ``checkpoint``, the trajectory is saved there as it runs; ``resume=True``
    continues from that file when it exists. ``precision``: the VGG19 passes' numeric path
    (:func:`dsdviz.minimize_dsd`; fp32 by default, so the figure's numbers are float32's).
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
        precision=precision,
    )


def fig12_figure(quick: bool, out_dir: Path) -> list[Path]:
    """``fig12_dsd_minimization.png`` (the ``dsdviz figures`` recipe)."""
    setup = DSDMinimizationSetup.quick() if quick else DSDMinimizationSetup.full()
    trajectory = run_dsd_minimization(setup)
    path = Path(out_dir) / "fig12_dsd_minimization.png"
    plot_dsd_minimization(trajectory, setup.shown).savefig(path, dpi=DPI if quick else DETAIL_DPI)
    return [path]
