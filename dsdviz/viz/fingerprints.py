"""Figures of DSD fingerprints: per-layer norms as bars, difference matrices as heat maps."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import numpy as np
import torch
from matplotlib.figure import Figure

from ..data import to_numpy
from .layout import DPI, suptitle


class Fingerprint(Protocol):
    """One image's DSD at one factor (a :class:`dsdviz.fingerprint.DSD`): ``{layer: (1, C, C)}`` matrices."""

    matrices: Mapping[str, torch.Tensor]


def spread_by_norm(rows: Sequence[Mapping[str, float | str]], alpha: float, count: int) -> list[str]:
    """``count`` images of :func:`dsdviz.fingerprint.fingerprint_table` rows spanning the range of their mean
    ``||DSD_{l,alpha}||_1``, from the lowest to the highest (all of them, sorted, if fewer)."""
    ranked = sorted((r for r in rows if r["alpha"] == alpha), key=lambda r: float(r["mean"]))
    picks = np.linspace(0, len(ranked) - 1, min(count, len(ranked))).round().astype(int)
    return [str(ranked[i]["image"]) for i in picks]


def plot_fingerprints(
    images: Mapping[str, torch.Tensor],
    table: tuple[Sequence[Mapping[str, float | str]], Mapping[tuple[str, float], Fingerprint]],
    heatmap_layers: Sequence[str] = ("relu2_1", "relu3_1"),
    heatmap_alpha: float | None = None,
    max_heatmap_rows: int = 3,
    heatmap_channels: int | None = 64,
) -> Figure:
    """Bars of ``||DSD_{l,a}||_1`` per layer and image, and heat maps of ``DSD_{l,a}`` matrices.

    ``images`` are the images ``{name: (1, 3, H, W)}`` and ``table`` their
    :func:`dsdviz.fingerprint.fingerprint_table` (rows and fingerprints); the factors and
    layers drawn are the table's.

    The heat maps are drawn for ``max_heatmap_rows`` images that span the range of the
    mean ``||DSD||_1`` (:func:`spread_by_norm`), from the smoothest to the most textured.
    The heat maps of one layer share a symmetric colour scale (99th percentile of
    ``|entry|`` over the shown images), so images can be compared by eye; their factor
    is ``heatmap_alpha`` (default: the first of ``alphas``). They show the entries of the
    first ``heatmap_channels`` channels (``None``: all), so that each entry is a few
    pixels wide rather than a fraction of one. Laid out for :data:`~dsdviz.viz.layout.DPI`,
    about 840 px wide.
    """
    rows, fingerprints = table
    alphas = list(dict.fromkeys(float(r["alpha"]) for r in rows))
    names = list(next(iter(fingerprints.values())).matrices)
    heatmap_alpha = alphas[0] if heatmap_alpha is None else heatmap_alpha
    if heatmap_alpha not in alphas:
        raise ValueError(f"heatmap_alpha {heatmap_alpha:g} is not one of the factors {alphas}")
    shown = spread_by_norm(rows, heatmap_alpha, max_heatmap_rows)
    n_cols = max(1 + len(heatmap_layers), len(alphas) + 1)
    fig = Figure(figsize=(2.8 * n_cols, 2.9 + 2.6 * len(shown)), dpi=DPI, layout="constrained")
    grid = fig.add_gridspec(1 + len(shown), n_cols, height_ratios=[1.2] + [1] * len(shown))
    width = 0.8 / len(images)
    for col, alpha in enumerate(alphas):
        ax = fig.add_subplot(grid[0, col])
        for k, name in enumerate(images):
            values = [r[layer] for r in rows if r["image"] == name and r["alpha"] == alpha for layer in names]
            ax.bar(np.arange(len(names)) + (k - (len(images) - 1) / 2) * width, values, width, label=name)
        ax.set_xticks(range(len(names)), names, fontsize=8)
        ax.tick_params(axis="y", labelsize=8)
        ax.set_xlabel("VGG19 layer l", fontsize=8)
        ax.set_ylabel(rf"$\|\mathrm{{DSD}}_{{l,{alpha:g}}}\|_1$ (mean |entry|)", fontsize=8)
        ax.set_title(f"DSD norms, a = {alpha:g}", fontsize=9)
    legend = fig.add_subplot(grid[0, len(alphas) :])
    legend.legend(*ax.get_legend_handles_labels(), loc="center", fontsize=8, title="image", title_fontsize=8)
    legend.axis("off")
    block = slice(0, heatmap_channels)
    matrices = {(n, layer): fingerprints[(n, heatmap_alpha)].matrices[layer][0, block, block].numpy()
                for n in shown for layer in heatmap_layers}  # fmt: skip
    scales = {
        layer: float(np.percentile(np.abs(np.concatenate([matrices[(n, layer)].ravel() for n in shown])), 99))
        for layer in heatmap_layers
    }
    means = {str(r["image"]): float(r["mean"]) for r in rows if r["alpha"] == heatmap_alpha}
    for row, name in enumerate(shown, start=1):
        ax = fig.add_subplot(grid[row, 0])
        x = images[name]
        ax.imshow(to_numpy(x))
        norm = rf"$\|\mathrm{{DSD}}_{{{heatmap_alpha:g}}}\|_1$"
        ax.set_title(f"{name} ({x.shape[-2]}x{x.shape[-1]})\nmean {norm} = {means[name]:.2e}", fontsize=8)
        ax.axis("off")
        for col, layer in enumerate(heatmap_layers, start=1):
            ax = fig.add_subplot(grid[row, col])
            matrix = matrices[(name, layer)]
            vmax = scales[layer] or 1.0
            im = ax.imshow(matrix, cmap="RdBu_r", vmin=-vmax, vmax=vmax, interpolation="nearest")
            total = fingerprints[(name, heatmap_alpha)].matrices[layer].shape[-1]
            part = f"channels 1-{len(matrix)} of {total}" if len(matrix) < total else f"{total} channels"
            ax.set_title(rf"$\mathrm{{DSD}}_{{{heatmap_alpha:g}}}$, {layer} ({part})", fontsize=7.5)
            ax.set_xticks([])
            ax.set_yticks([])
            if row == len(shown):
                bar = fig.colorbar(im, ax=ax, orientation="horizontal", fraction=0.05, ticks=[-vmax, 0, vmax])
                bar.ax.set_xticklabels([f"{-vmax:.2g}", "0", f"{vmax:.2g}"])
                bar.set_label(rf"entry of $G_l(x) - G_l(x|{heatmap_alpha:g})$", fontsize=8)
                bar.ax.tick_params(labelsize=7.5)
    suptitle(fig, "Deep self-dissimilarity fingerprints (VGG19 ImageNet features, MATLAB bicubic downscale)", 10)
    return fig
