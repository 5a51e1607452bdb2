"""What the restoration comparisons (Figs. 14-16) share: our two models, the methods' parameter counts,
the results they return and what their tables say about our models."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..data import data_root, find_image, read_image
from ..evaluation import PUBLISHED_PARAMETERS, MetricsTable
from ..models import SHIPPED_RESTORATION, count_parameters, model_meta
from ..viz.compare import Panel
from .stages import TrainingSchedule, load_regressors, load_shipped, train_stages, training_note

OURS_L1, OURS_DSD = "ours (L1 only)", "ours (DSD)"
#: Our shipped CPU-trained pair per task, ``{task: {OURS_L1: stage-1 name, OURS_DSD: stage-2 name}}``.
OURS_SHIPPED: dict[str, dict[str, str]] = {
    task: dict(zip((OURS_L1, OURS_DSD), names)) for task, names in SHIPPED_RESTORATION.items()
}

#: Published 4x outputs under the data folder (``sr_results/``, see its MANIFEST.md), ``{label: folder}``
#: with ``{set}`` for the test set; a folder that does not exist means no outputs on that set. The
#: official SRGAN-VGG54 and SRResNet-MSE cover all of Set5 and Set14, nESRGAN+ Set5, ESRGAN Set14 baboon,
#: RCAN and RCAN+ Set5, the third-party SRGAN re-implementation all of Set14.
SR_OUTPUTS: dict[str, str] = {
    "SRResNet": "sr_results/SRResNet/{set}",
    "SRGAN": "sr_results/SRGAN/{set}",
    "ESRGAN": "sr_results/ESRGAN/{set}",
    "nESRGAN+": "sr_results/ESRGANplus/{set}",
    "RCAN": "sr_results/RCAN/{set}",
    "RCAN+": "sr_results/RCANplus/{set}",
    "SRGAN (re-impl., brade31919)": "sr_results/SRGAN_reimpl_brade31919/{set}",
}


def published_sr_outputs(
    methods: Sequence[str], set_name: str, name: str, size: tuple[int, int], root: str | os.PathLike | None = None
) -> dict[str, torch.Tensor]:
    """``{method: (1, 3, H, W)}``: the published output of image ``name`` of ``set_name`` for each of ``methods``
    (:data:`SR_OUTPUTS`) present in the data folder, cropped to the ground truth's ``size = (H, W)`` (top
    left); a method without the image, or with a smaller one, is left out."""
    found = {}
    for method in methods:
        folder = data_root(root) / SR_OUTPUTS[method].format(set=set_name)
        path = find_image(folder, name) if folder.is_dir() else None
        image = None if path is None else read_image(path)
        if image is not None and image.shape[-2] >= size[0] and image.shape[-1] >= size[1]:
            found[method] = image[..., : size[0], : size[1]]
    return found
#: The deblurring data under the data folder (see their MANIFEST.md): the two GoPro sample pairs
#: (``blur/``, ``sharp/``) and DeepDeblur's example frames with its official outputs (``blur_lin/``,
#: ``deblurred_lin/``: linear blur; ``*_gamma/``: gamma-corrected blur).
GOPRO_SAMPLES = "deblur/GoPro_samples"
DEEPDEBLUR_EXAMPLES = "deblur/DeepDeblur_examples"

#: The published methods drawn in Figs. 14-15 (all of :data:`SR_OUTPUTS` are scored in the tables).
SR_FIGURE_METHODS: tuple[str, ...] = ("SRResNet", "SRGAN", "ESRGAN", "nESRGAN+", "RCAN")

#: Where the Q_DSD columns come from (a note under every metrics table).
Q_DSD_NOTE = "Q_DSD uses the package's CPU-trained regressors (dsdviz/models/weights/README.md), not the paper's."


@dataclass
class Comparison:
    """Results of :func:`~dsdviz.experiments.sr_comparison.run_sr_comparison` and
    :func:`~dsdviz.experiments.deblur_comparison.run_deblur_comparison`.

    Attributes:
        tables: one :class:`~dsdviz.evaluation.MetricsTable` per test set (and subset).
        rows: the panels of each figure row (the baseline, ours, published, the reference), keyed by
            ``(set, image)`` (SR) or by the row's title (deblurring).
        params: parameter count per method.
        note: what the figures say about our models when they are not the paper's (shipped CPU-trained
            models, or a quick training run), or ``None``.
        notes: remarks for the table (models, data, fallbacks).
        folders: ``{set: (reference folder, {method: folder or None})}``: the scored images, to
            pass to :func:`dsdviz.evaluation.metrics_table` or
            :func:`dsdviz.experiments.staging.compare_folders`.
    """

    tables: list[MetricsTable]
    rows: dict[Any, list[Panel]]
    params: dict[str, int | None]
    note: str | None
    notes: list[str] = field(default_factory=list)
    folders: dict[str, tuple[Path | None, dict[str, Path | None]]] = field(default_factory=dict)


def compared_models(
    task: str, schedule: TrainingSchedule | None, runs: str | Path, models: Mapping[str, nn.Module] | None,
    regressors: Sequence[nn.Module] | None, baseline: str, progress: bool,
) -> tuple[Mapping[str, nn.Module], Sequence[nn.Module], dict[str, int | None], str | None, list[str]]:  # fmt: skip
    """Our two models (given as ``models``; else the shipped CPU-trained pair of
    :data:`dsdviz.models.SHIPPED_RESTORATION` when ``schedule`` is ``None``; else trained or resumed
    under ``runs``), the regressors for Q_DSD, every method's parameter count (``baseline``, the
    input: 0), and the note on our models and the stage-2 run's notes."""
    note, notes = None, []
    if models is None and schedule is None:
        models, note = load_shipped(OURS_SHIPPED[task])
        notes = [f"training note: {text}" for text in model_meta(OURS_SHIPPED[task][OURS_DSD])["notes"]]
    elif models is None:
        first, second = train_stages(task, schedule, runs, progress=progress)
        models = {OURS_L1: first.network, OURS_DSD: second["dsd"].network}
        note = training_note(schedule, first, second)
        notes = [f"training note: {text}" for text in second["dsd"].notes]
    regressors = load_regressors() if regressors is None else regressors
    params: dict[str, int | None] = {baseline: 0, **{m: count_parameters(net) for m, net in models.items()}}
    params.update(PUBLISHED_PARAMETERS)
    return models, regressors, params, note, notes


def ours_note(result: Comparison, network: str, data: str = "") -> str:
    """The table note on our models, e.g. ``'Our models (ours (L1 only): 1,111,299 parameters; ...): xSRResNet 4x,
    "ours (L1 only)" = stage 1 (L1 only), "ours (DSD)" = stage 2 from it (L1 + perceptual + 100 x DSD).'``"""
    ours = "; ".join(f"{m}: {result.params[m]:,} parameters" for m in result.params if m.startswith("ours"))
    return (
        f"Our models ({ours}): {network}, \"{OURS_L1}\" = stage 1 (L1 only), \"{OURS_DSD}\" = stage 2 from it "
        f"(L1 + perceptual + 100 x DSD){data}."
    )
