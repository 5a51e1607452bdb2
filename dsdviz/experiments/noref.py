"""The no-reference score Q_DSD (Eq. 5): the DSD regressors, their fit, and natural vs degraded images.

``figures/noref_regressor*.png`` (the notebook ``noref_regressor`` and ``dsdviz figures``):
Q_DSD of BSD100 ground-truth images against their bicubic-up-sampled, camera-shake blurred
and Gaussian-blurred versions, scored by the CPU-trained regressors shipped with the package
(quick) or by regressors trained with the paper's settings (full).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..data import data_root, degraded_versions, image_paths, natural_examples, read_image, sr_folders
from ..features import resolve_layers
from ..models import regressors_caption, shipped_log
from ..metrics import q_dsd
from ..scoring import q_dsd_table
from ..training import TrainConfig, train
from ..viz.training import plot_q_dsd, plot_validation
from .settings import smoke
from .stages import load_regressors, quick_preset, recipe_folders

#: Widths (px) of the Gaussian blurs of the Q_DSD comparison (:func:`noref_versions`).
NOREF_GAUSSIAN_SIGMAS = (1.0, 2.0, 4.0)
#: The regressors' factors alpha (Q_2 and Q_4).
ALPHAS = (2, 4)


def _limit(quick: bool, count: int) -> int | None:
    """How many BSD100 images a run uses: ``count`` (quick), 1 (quick at the smoke size) or all (full)."""
    return (1 if smoke() else count) if quick else None


def regressor_config(quick: bool, alpha: float, runs: str | Path, prefix: str = "a") -> TrainConfig:
    """The settings of the DSD regressor ``psi_alpha`` (quick: at the smoke size when ``DSDVIZ_SMOKE`` is
    set), trained into ``<runs>/<prefix><alpha>``."""
    return quick_preset("regressor", quick, alpha=alpha, out=str(Path(runs) / f"{prefix}{alpha:g}"))


def noref_regressors(quick: bool, runs: str | Path, prefix: str = "a") -> list[nn.Module]:
    """psi_2 and psi_4: the shipped CPU-trained ones (quick), or trained (resumed) with the paper's settings
    into ``<runs>/<prefix><alpha>`` (full)."""
    if quick:
        return load_regressors()
    return [train(regressor_config(False, a, runs, prefix), resume=True).network for a in ALPHAS]


def fit_images(quick: bool, crop: int = 256) -> list[torch.Tensor]:
    """Central ``crop`` px crops of BSD100 ground-truth images (quick: the first 12) for the regressor fit."""
    folder = data_root() / "BSD100" / "HR"
    return [e.target for e in natural_examples(folder, crop=crop, limit=_limit(quick, 12))]


def noref_versions(quick: bool, root: str | os.PathLike | None = None) -> dict[str, list[tuple[str, torch.Tensor]]]:
    """The images of the Q_DSD comparison: BSD100 ground truth (quick: the first 6 images), bicubic-up-sampled
    from its x4 LR files, camera-shake blurred, and Gaussian-blurred with :data:`NOREF_GAUSSIAN_SIGMAS`
    (:func:`dsdviz.data.degraded_versions`; ``root``: the data folder, default ``$DSDVIZ_DATA``)."""
    return degraded_versions(*sr_folders("BSD100", root=root), limit=_limit(quick, 6),
                             gaussian_sigmas=NOREF_GAUSSIAN_SIGMAS)  # fmt: skip


def noref_figure(quick: bool, out_dir: Path) -> list[Path]:
    """``figures/noref_regressor.png``: Q_DSD of BSD100 images and their degraded versions (:func:`noref_versions`).

    Quick mode scores them with the shipped CPU-trained regressors; the full mode trains both
    regressors with the paper's settings first (``runs/regressor_a<alpha>`` beside ``out_dir``).
    """
    with recipe_folders(quick, out_dir, "") as (runs, _):
        regressors = noref_regressors(quick, runs, prefix="regressor_a")
    fig = plot_q_dsd(q_dsd_table(noref_versions(quick), regressors), regressors_caption(regressors))
    path = Path(out_dir) / "noref_regressor.png"
    fig.savefig(path)
    return [path]


#: The regressors whose shipped training logs :func:`regressor_validation_figure` draws.
LOGGED_REGRESSORS = ("dsd_regressor_a2_realistic_cpu", "dsd_regressor_a4_realistic_cpu", "dsd_regressor_a2_blur_cpu",
                     "dsd_regressor_a4_blur_cpu")  # fmt: skip


def regressor_validation_figure(quick: bool, out_dir: Path) -> list[Path]:
    """``figures/regressor_validation.png``: the relative validation error per layer of the shipped realistic
    regressors against their training steps, from their shipped logs (nothing is computed; ``quick`` is unused)."""
    logs = {name: shipped_log(name) for name in LOGGED_REGRESSORS}
    layers = {f"rel_{name}": name for name in resolve_layers("no_reference")}
    title = "relative validation error per layer, |psi_l - ||DSD_l||_1| / mean ||DSD_l||_1 (BSD100, one crop each)"
    path = Path(out_dir) / "regressor_validation.png"
    plot_validation(logs, layers, goal=0.15, title=title, ylabel="relative error").savefig(path)
    return [path]


def regressor_fit(regressor: nn.Module, images: Sequence[torch.Tensor]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{layer: (true, predicted)}``: the DSD norms of each image ``(1, 3, H, W)`` and psi's prediction from its
    coarse copy, as Q_DSD uses them (tile means of :func:`dsdviz.metrics.q_dsd`), arrays ``(N,)``."""
    scores = [q_dsd(image, regressor, per_layer=True) for image in images]
    return {
        layer: (np.array([float(s[f"true_{layer}"][0]) for s in scores]),
                np.array([float(s[f"pred_{layer}"][0]) for s in scores]))  # fmt: skip
        for layer in regressor.layers
    }


def whole_image_errors(regressor: nn.Module, folder: str | os.PathLike, limit: int | None = None) -> dict[str, float]:
    """How well psi predicts the DSD norms of whole images (:func:`regressor_fit` on the images of ``folder``):
    per layer the relative error ``mean |predicted - true| / mean true`` (``rel_<layer>``) and Pearson's r
    (``r_<layer>``)."""
    fit = regressor_fit(regressor, [read_image(path) for path in image_paths(folder)[:limit]])
    errors = {f"rel_{layer}": float(np.abs(p - t).mean() / t.mean()) for layer, (t, p) in fit.items()}
    return errors | {f"r_{layer}": float(np.corrcoef(p, t)[0, 1]) for layer, (t, p) in fit.items()}
