"""Figures of training runs: loss curves, restorations beside their baseline, Q_DSD of natural vs degraded images.

Drawing only: the runs, the restored images and the scores come from
:mod:`dsdviz.experiments` (``restoration_training``, ``noref``) or from the caller.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from ..data import center_crop, to_numpy
from .compare import Panel
from .layout import DPI, suptitle

History = Sequence[Mapping[str, Any]]


def _columns(history: History, split: str) -> dict[str, np.ndarray]:
    """The log entries of one split as columns ``{"step": (N,), "<name>": (N,)}`` (NaN where missing)."""
    entries = [e for e in history if e["split"] == split]
    names = [k for k in dict.fromkeys(k for e in entries for k in e) if k != "split"]
    return {name: np.array([e.get(name, np.nan) for e in entries], dtype=float) for name in names}


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
        title: first line of the figure's title (e.g. :func:`dsdviz.models.network_caption`); the
            second says what the curves are.
    """
    fig = Figure(figsize=(4.2 * len(runs), 3.2), dpi=DPI, layout="constrained")
    for index, (label, history) in enumerate(runs.items()):
        ax = fig.add_subplot(1, len(runs), index + 1)
        table = _columns(history, "train")
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
            monitor = _columns(history, "monitor")
            if name in monitor:
                label = f"{name}, fixed batch"
                ax.plot(monitor["step"], monitor[name], "o-", ms=3, color=line.get_color(), label=label)
        ax.set_yscale("log")
        ax.set_xlabel("training step", fontsize=8)
        ax.set_ylabel("loss term (log scale)" if index == 0 else "", fontsize=8)
        ax.tick_params(labelsize=8)
        ax.set_title(label, fontsize=9)
        ax.legend(fontsize=7.5)
    note = f"faint: logged values; solid: running mean over {smooth} logs"
    suptitle(fig, f"{title}\n{note}" if title else note)
    return fig


def plot_validation(
    runs: Mapping[str, History], metrics: Mapping[str, str], goal: float | None = None, title: str = "",
    ylabel: str = "",
) -> Figure:
    """Validation scores against training steps, one panel per run, one line per metric.

    Args:
        runs: ``{label: history}`` (a :class:`~dsdviz.training.Trainer`'s history or a shipped log).
        metrics: ``{key in the "val" entries: legend label}``, e.g. ``{"rel_relu1_2": "relu1_2"}``.
        goal: a level to draw as a dashed line (e.g. the target error), or ``None``.
        title: the figure's title.
        ylabel: the first panel's y label (what the metrics measure).
    """
    fig = Figure(figsize=(4.2 * len(runs), 3.2), dpi=DPI, layout="constrained")
    for index, (label, history) in enumerate(runs.items()):
        ax = fig.add_subplot(1, len(runs), index + 1)
        table = _columns(history, "val")
        for key, name in metrics.items():
            if key in table:
                ax.plot(table["step"], table[key], "o-", ms=3, label=name)
        if goal is not None:
            ax.axhline(goal, color="0.4", ls="--", lw=1, label=f"goal {goal:g}")
        ax.set_xlabel("training step", fontsize=8)
        ax.set_ylabel(ylabel if index == 0 else "", fontsize=8)
        ax.tick_params(labelsize=8)
        ax.set_title(label, fontsize=9)
        ax.legend(fontsize=7.5)
    suptitle(fig, title)
    return fig


def plot_restorations(
    rows: Sequence[tuple[str, Sequence[Panel]]], networks: Sequence[str], shave: int, crop: int | None = 96
) -> Figure:
    """Rows of ``baseline | each model's output | ground truth`` panels (central ``crop`` px), captions
    (e.g. PSNR) under the titles; the first title of a row names its image.

    Args:
        rows: ``[(image name, panels)]``, e.g. from
            :func:`dsdviz.experiments.restoration_training.restoration_rows`.
        networks: what the title says about the networks (:func:`dsdviz.models.network_caption`; repeats shown once).
        shave: the border shave (px) of the PSNR in the captions, said in the title.
        crop: side of the central crops drawn; ``None``: whole images.
    """
    columns = max(len(panels) for _, panels in rows)
    fig = Figure(figsize=(1.9 * columns, 2.1 * len(rows) + 0.5), dpi=DPI, layout="constrained")
    for row, (name, panels) in enumerate(rows):
        for col, panel in enumerate(panels):
            ax = fig.add_subplot(len(rows), columns, row * columns + col + 1)
            ax.imshow(to_numpy(center_crop(panel.image, crop) if crop else panel.image), interpolation="nearest")
            title = panel.title if panel.caption is None else f"{panel.title}\n{panel.caption}"
            ax.set_title(f"{name}: {title}" if col == 0 else title, fontsize=8)
            ax.axis("off")
    where = f"central {crop} px crops" if crop else "whole images"
    suptitle(fig, f"{'; '.join(dict.fromkeys(networks))}\n{where}; PSNR on the Y channel (shave {shave} px)")
    return fig


def plot_q_dsd(rows: Sequence[Mapping[str, Any]], scorers: str = "") -> Figure:
    """Q_DSD per version (natural, bicubic, blurred, ...) for each regressor column ``q_dsd_a*``: strip + box plots.

    ``scorers``: what scored the rows, for the title (e.g. :func:`dsdviz.models.regressors_caption`).
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
    suptitle(
        fig,
        f"No-reference DSD score (Eq. 5) of {count} {versions[0] if versions else ''} images and degraded versions\n"
        + (f"{scorers}; " if scorers else "")
        + "boxes: quartiles and median; dots: images",
    )
    return fig


def plot_regressor_fit(
    fit: Mapping[str, tuple[np.ndarray, np.ndarray]], alpha: float, caption: str, title: str = ""
) -> Figure:
    """Predicted ``psi_l(y|a)`` against the true ``||DSD_{l,a}(y)||_1``, one panel per layer.

    Args:
        fit: ``{layer: (true, predicted)}``, arrays ``(N,)`` over N images
            (:func:`dsdviz.experiments.noref.regressor_fit`).
        alpha: the regressor's factor a.
        caption: the regressor, for the title (e.g. :func:`dsdviz.models.network_caption`).
        title: what the images are (added to the figure's title).
    """
    fig = Figure(figsize=(2.3 * len(fit), 2.7), dpi=DPI, layout="constrained")
    for index, (layer, (true, predicted)) in enumerate(fit.items()):
        ax = fig.add_subplot(1, len(fit), index + 1)
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
            ax.set_ylabel(rf"predicted $\psi_l(y|{alpha:g})$", fontsize=8)
    count = len(next(iter(fit.values()))[0]) if fit else 0
    about = f"{count} images" + (f", {title}" if title else "")
    suptitle(fig, f"{caption}: predicted vs true norms ({about}); dashed: y = x")
    return fig