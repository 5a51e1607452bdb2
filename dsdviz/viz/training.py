"""Figures of training runs: loss curves, before/after restorations, Q_DSD of natural vs degraded images.

The recipes at the end (``make(quick, out_dir)``, registered in :mod:`dsdviz.figures`) run the
quick (CPU) or full training through :mod:`dsdviz.training` and draw the figures the
notebooks ``train_sr``, ``train_deblur`` and ``noref_regressor`` show.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import nn

from ..data import Example
from ..images import center_crop, to_numpy
from ..inference import restore
from ..losses import FEATURE_LOSS_LABELS
from ..metrics import psnr
from ..models import count_parameters
from ..resize import imresize
from ..training import TrainConfig, Trainer, history_table, preset, train
from .layout import DPI, suptitle

History = Sequence[Mapping[str, Any]]


def network_caption(model: nn.Module) -> str:
    """``"xSRResNet 4x, 1,111,299 parameters"``, ``"xSRResNet deblurring, ..."``, ``"DSD regressor psi_2, ..."``."""
    if hasattr(model, "alpha"):
        name = f"DSD regressor psi_{model.alpha:g}"
    elif getattr(model, "scale", 1) > 1:
        name = f"xSRResNet {model.scale}x"
    else:
        name = "xSRResNet deblurring"
    return f"{name}, {count_parameters(model):,} parameters"


def plot_losses(
    runs: Mapping[str, History], terms: Sequence[str] | None = None, smooth: int = 8, title: str = ""
) -> Figure:
    """Training loss terms against steps, one panel per run (log scale), with a running mean.

    Where the run logged the loss on its fixed monitor batch (``monitor_every``), those
    values are drawn as well (circles, same colour): free of the batch-to-batch variation
    of the training values, they show whether the network is learning.

    Args:
        runs: ``{label: Trainer.history}``.
        terms: loss terms to draw (default: every term the run logged, e.g. loss, l1, dsd).
        smooth: window of the running mean drawn over the raw values.
        title: first line of the figure's title (e.g. the :func:`network_caption`); the
            second says what the curves are.
    """
    fig = Figure(figsize=(4.2 * len(runs), 3.2), dpi=DPI, layout="constrained")
    for index, (label, history) in enumerate(runs.items()):
        ax = fig.add_subplot(1, len(runs), index + 1)
        table = history_table(list(history), "train")
        names = terms or [k for k in table if k not in ("step", "lr", "seconds")]
        if terms is None and len(names) == 2 and "loss" in names:  # a single term: the loss is that term
            names.remove("loss")
        for name in names:
            values = table[name]
            line = ax.plot(table["step"], values, alpha=0.3, lw=1)[0]
            if len(values) >= smooth:
                kernel = np.ones(smooth) / smooth
                ax.plot(
                    table["step"][smooth - 1 :],
                    np.convolve(values, kernel, "valid"),
                    color=line.get_color(),
                    label=name,
                )
            else:
                line.set_label(name)
            monitor = history_table(list(history), "monitor")
            if name in monitor:
                ax.plot(monitor["step"], monitor[name], "o-", ms=3, color=line.get_color(), label=f"{name}, fixed batch")
        ax.set_yscale("log")
        ax.set_xlabel("training step", fontsize=8)
        ax.set_ylabel("loss term (log scale)" if index == 0 else "", fontsize=8)
        ax.tick_params(labelsize=8)
        ax.set_title(label, fontsize=9)
        ax.legend(fontsize=7.5)
    note = f"faint: logged values; solid: running mean over {smooth} logs"
    suptitle(fig, f"{title}\n{note}" if title else note)
    return fig


def first_last(history: History, term: str = "loss", fraction: float = 0.2, split: str = "train") -> tuple[float, float]:
    """Mean of ``term`` over the first and the last ``fraction`` of the logged entries of ``split``.

    ``split="train"``: the random training batches; ``"monitor"``: the fixed batch
    (``fraction=0`` gives its first and last values).
    """
    values = history_table(list(history), split)[term]
    n = max(1, int(len(values) * fraction))
    return float(values[:n].mean()), float(values[-n:].mean())


def baseline_of(example: Example, scale: int) -> torch.Tensor:
    """What a restoration network improves on: MATLAB bicubic up-sampling (SR) or the input itself."""
    return imresize(example.input.double(), scale=scale).float().clamp(0, 1) if scale > 1 else example.input


def plot_restorations(
    examples: Sequence[Example], models: Mapping[str, nn.Module], scale: int, crop: int | None = 96
) -> Figure:
    """Rows of ``baseline | each model's output | ground truth`` (central ``crop`` px), PSNR (Y, shave) in titles.

    The figure's title names the networks and their parameter counts (:func:`network_caption`).
    """
    baseline_name = "bicubic" if scale > 1 else "blurred input"
    shave = scale if scale > 1 else 0
    columns = 2 + len(models)
    fig = Figure(figsize=(1.9 * columns, 2.1 * len(examples) + 0.5), dpi=DPI, layout="constrained")
    for row, example in enumerate(examples):
        images = {baseline_name: baseline_of(example, scale)}
        images.update({name: restore(model, example.input) for name, model in models.items()})
        for col, (name, image) in enumerate([*images.items(), ("ground truth", example.target)]):
            ax = fig.add_subplot(len(examples), columns, row * columns + col + 1)
            ax.imshow(to_numpy(center_crop(image, crop) if crop else image), interpolation="nearest")
            title = name
            if name != "ground truth":
                title += f"\n{float(psnr(image, example.target, shave=shave)[0]):.2f} dB"
            ax.set_title(f"{example.name}: {title}" if col == 0 else title, fontsize=8)
            ax.axis("off")
    captions = list(dict.fromkeys(network_caption(model) for model in models.values()))
    where = f"central {crop} px crops" if crop else "whole images"
    suptitle(fig, f"{'; '.join(captions)}\n{where}; PSNR on the Y channel (shave {shave} px)")
    return fig


def validation_table(history: History) -> list[dict[str, Any]]:
    """The validation entries of a run (step 0 = before training), as rows."""
    return [dict(e) for e in history if e["split"] == "val"]


def plot_q_dsd(rows: Sequence[Mapping[str, Any]], regressors: Sequence[nn.Module] = ()) -> Figure:
    """Q_DSD per version (natural, bicubic, blurred, ...) for each regressor column ``q_dsd_a*``: strip + box plots.

    ``regressors``: the networks that scored the rows, named (with their parameter counts)
    in the title.
    """
    columns = sorted({k for r in rows for k in r if k.startswith("q_dsd_a")})
    versions = list(dict.fromkeys(r["version"] for r in rows))
    fig = Figure(figsize=(max(3.8, 0.8 * len(versions)) * len(columns), 3.4), dpi=DPI, layout="constrained")
    rng = np.random.default_rng(0)
    for index, column in enumerate(columns):
        ax = fig.add_subplot(1, len(columns), index + 1)
        data = [np.array([r[column] for r in rows if r["version"] == v]) for v in versions]
        ax.boxplot(data, showfliers=False)
        ax.set_xticks(range(1, len(versions) + 1), [str(v).replace(" ", "\n", 1) for v in versions], fontsize=8)
        for position, values in enumerate(data, start=1):
            ax.scatter(position + rng.uniform(-0.15, 0.15, len(values)), values, s=8, alpha=0.6)
        alpha = column.removeprefix("q_dsd_a")
        ax.set_ylabel(rf"$Q_{{{alpha}}}$ (log scale; lower = more natural)", fontsize=8)
        ax.set_title(rf"a = {alpha}", fontsize=9)
        ax.tick_params(labelsize=8)
        ax.set_yscale("log")
    count = sum(r["version"] == versions[0] for r in rows) if rows else 0
    sizes = " / ".join(f"{n:,}" for n in sorted({count_parameters(r) for r in regressors}))
    scorers = f"regressors {', '.join(f'psi_{r.alpha:g}' for r in regressors)} ({sizes} parameters)"
    suptitle(
        fig,
        f"No-reference DSD score (Eq. 5) of {count} {versions[0] if versions else ''} images and degraded versions\n"
        + (f"{scorers}; " if regressors else "")
        + "boxes: quartiles and median; dots: images",
    )
    return fig


def loss_caption(config: TrainConfig) -> str:
    """The loss of a restoration run as a sum, e.g. ``"L1"`` (stage 1), ``"L1 + perceptual + 100 DSD"`` (stage 2)."""
    if config.stage == "psnr":
        return "L1"
    terms = [("L1", config.l1_weight), ("perceptual", config.perceptual_weight),
             (FEATURE_LOSS_LABELS[config.feature_loss], config.dsd_weight)]  # fmt: skip
    return " + ".join(name if weight == 1 else f"{weight:g} {name}" for name, weight in terms if weight)


def restoration_figures(first: Trainer, second: Trainer) -> tuple[Figure, Figure]:
    """``(loss curves, restorations)`` of a two-stage SR or deblurring run (stage 1, then stage 2 from it).

    The loss curves show both stages (:func:`plot_losses`); the restorations show both
    stages' outputs on the first two of the task's validation examples
    (:func:`plot_restorations`). ``dsdviz figures`` and the notebooks ``train_sr`` and
    ``train_deblur`` draw their figures with it.
    """
    losses = plot_losses(
        {f"stage {i} ({loss_caption(run.config)})": run.history for i, run in ((1, first), (2, second))},
        title=f"Training {network_caption(first.network)}",
    )
    scale = first.config.scale if first.config.task == "sr" else 1
    images = plot_restorations(first.task.examples()[:2], stage_models(first, second), scale)
    return losses, images


def stage_models(first: Trainer, second: Trainer) -> dict[str, nn.Module]:
    """The two stages' networks, labelled by what stage 2 adds: ``{"stage 1 (L1)": ..., "stage 2 (+ DSD)": ...}``."""
    added = FEATURE_LOSS_LABELS[second.config.feature_loss]
    return {"stage 1 (L1)": first.network, f"stage 2 (+ {added})": second.network}


def restoration_figure(task: str, quick: bool, out_dir: Path) -> list[Path]:
    """Train both stages of ``task`` (``"sr"`` or ``"deblur"``); save ``train_<task>{_losses,}.png``.

    Quick runs live in a temporary folder; full runs in ``runs/<task>_{psnr,dsd}`` beside ``out_dir``.
    """
    with tempfile.TemporaryDirectory(prefix=f"dsdviz_{task}_") as tmp:
        runs = Path(tmp) if quick else Path(out_dir).resolve().parent / "runs"
        first = train(preset(task, quick, out=str(runs / f"{task}_psnr")), resume=True)
        init = str(runs / f"{task}_psnr" / "model.pt")
        second = train(preset(task, quick, stage="dsd", init=init, out=str(runs / f"{task}_dsd")), resume=True)
    paths = [Path(out_dir) / f"train_{task}_losses.png", Path(out_dir) / f"train_{task}.png"]
    for figure, path in zip(restoration_figures(first, second), paths):
        figure.savefig(path)
    return paths


def sr_figure(quick: bool, out_dir: Path) -> list[Path]:
    """``figures/train_sr*.png``: xSRResNet 4x loss curves and before/after on Set5."""
    return restoration_figure("sr", quick, out_dir)


def deblur_figure(quick: bool, out_dir: Path) -> list[Path]:
    """``figures/train_deblur*.png``: deblurring xSRResNet loss curves and before/after."""
    return restoration_figure("deblur", quick, out_dir)


#: Widths (px) of the Gaussian blurs of the Q_DSD comparison (:func:`noref_versions`).
NOREF_GAUSSIAN_SIGMAS = (1.0, 2.0, 4.0)


def noref_versions(quick: bool, root: str | os.PathLike | None = None) -> dict[str, list[tuple[str, torch.Tensor]]]:
    """The images of the Q_DSD comparison: BSD100 ground truth (quick: the first 10 images), bicubic-up-sampled
    from its x4 LR files, camera-shake blurred, and Gaussian-blurred with :data:`NOREF_GAUSSIAN_SIGMAS`
    (:func:`dsdviz.inference.degraded_versions`; ``root``: the data folder, default ``$DSDVIZ_DATA``)."""
    from ..inference import degraded_versions
    from ..samples import data_root

    bsd100 = data_root(root) / "BSD100"
    return degraded_versions(bsd100 / "HR", bsd100 / "LR_bicubic" / "X4", limit=10 if quick else None,
                             gaussian_sigmas=NOREF_GAUSSIAN_SIGMAS)  # fmt: skip


def noref_figure(quick: bool, out_dir: Path) -> list[Path]:
    """``figures/noref_regressor.png``: Q_DSD of BSD100 images and their degraded versions (:func:`noref_versions`).

    Quick mode scores them with the shipped CPU-trained regressors
    (:data:`dsdviz.models.DEFAULT_REGRESSORS`); the full mode trains both regressors with the paper's settings first.
    """
    from ..inference import q_dsd_table
    from ..models import DEFAULT_REGRESSORS, load_model

    if quick:
        regressors = [load_model(name) for name in DEFAULT_REGRESSORS]
    else:
        runs = Path(out_dir).resolve().parent / "runs"
        regressors = [
            train(preset("regressor", False, alpha=a, out=str(runs / f"regressor_a{a}")), resume=True).network
            for a in (2, 4)
        ]
    fig = plot_q_dsd(q_dsd_table(noref_versions(quick), regressors), regressors)
    path = Path(out_dir) / "noref_regressor.png"
    fig.savefig(path)
    return [path]


def plot_regressor_fit(regressor: nn.Module, images: Sequence[torch.Tensor], title: str = "") -> Figure:
    """Predicted ``psi_l(y|a)`` against the true ``||DSD_{l,a}(y)||_1``, one panel per layer.

    Args:
        regressor: a :class:`~dsdviz.models.DSDRegressor`.
        images: natural images ``(1, 3, H, W)`` (scored on the regressor's tiles, as Q_DSD does).
        title: what the images are (added to the figure's title, which names the
            regressor and its parameter count).
    """
    from ..metrics import q_dsd

    scores = [q_dsd(image, regressor, per_layer=True) for image in images]
    fig = Figure(figsize=(2.3 * len(regressor.layers), 2.7), dpi=DPI, layout="constrained")
    for index, layer in enumerate(regressor.layers):
        ax = fig.add_subplot(1, len(regressor.layers), index + 1)
        true = np.array([float(s[f"true_{layer}"][0]) for s in scores])
        predicted = np.array([float(s[f"pred_{layer}"][0]) for s in scores])
        ax.scatter(true, predicted, s=8)
        low, high = float(min(true.min(), predicted.min())), float(max(true.max(), predicted.max()))
        ax.plot([low, high], [low, high], "k--", lw=0.8)
        r = np.corrcoef(true, predicted)[0, 1] if len(true) > 1 else float("nan")
        ax.set_title(f"{layer}: r = {r:.2f}", fontsize=9)
        ax.set_xlabel(r"true $\|\mathrm{DSD}_l\|_1$", fontsize=8)
        ax.tick_params(labelsize=7.5)
        ax.ticklabel_format(style="sci", scilimits=(-2, 2))
        ax.xaxis.get_offset_text().set_fontsize(7.5)
        ax.yaxis.get_offset_text().set_fontsize(7.5)
        if index == 0:
            ax.set_ylabel(rf"predicted $\psi_l(y|{regressor.alpha:g})$", fontsize=8)
    about = f"{len(images)} images" + (f", {title}" if title else "")
    suptitle(fig, f"{network_caption(regressor)}: predicted vs true norms ({about}); dashed: y = x")
    return fig
