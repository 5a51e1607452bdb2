"""Where is an image unnatural? Overlays of :class:`dsdviz.quality_map.QualityMap` (the drawing only).

:func:`plot_quality_maps` draws one row per image: the image, then for each regressor its signed
excess (diverging colours centred at 0, symmetric limits) and its Eq. 5 score (sequential colours,
from 0), each semi-transparent over the image in grey. A column shares its colour limits over the
rows, so images compare. A square in the corner of each map is the tile size, and the caption states
tile and stride: every value is a tile's score, so the map is smoothed at the tile's scale.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ..data import luma, to_numpy
from ..quality_map import QualityMap
from .layout import DPI, suptitle

#: Opacity of the score colours over the grey image.
OVERLAY_ALPHA = 0.7
#: Colour maps: the signed excess (diverging, centred at 0) and Eq. 5 (sequential, 0 = natural).
EXCESS_CMAP, Q_DSD_CMAP = "RdBu_r", "magma"
#: Width (inches) of one panel at :data:`dsdviz.viz.layout.DPI`.
PANEL_INCHES = 2.6


def _tile_square(ax: Axes, qmap: QualityMap) -> None:
    """The tile's size as a square in the top-left corner (white, outlined in black to show on any colour)."""
    inset = max(2, qmap.size[1] // 60)
    for colour, width in (("black", 2.6), ("white", 1.2)):
        square = Rectangle((inset - 0.5, inset - 0.5), qmap.tile, qmap.tile, fill=False, edgecolor=colour, lw=width)
        ax.add_patch(square)
    ax.text(inset + qmap.tile + 3, inset + qmap.tile / 2, f"tile {qmap.tile} px", va="center", fontsize=7.5,
            color="white", bbox={"facecolor": "black", "alpha": 0.55, "pad": 1.5, "lw": 0})  # fmt: skip


def _bare(ax: Axes) -> None:
    ax.set_xticks([])
    ax.set_yticks([])


def caption(maps: Sequence[QualityMap], labels: Sequence[str]) -> str:
    """The figure's note: tile and stride of each map, and what one value means."""
    grids = "; ".join(f"{label}: tile {m.tile} px, stride {m.stride} px" for label, m in zip(labels, maps))
    return (
        f"{grids} (squares: the tile). Each value is one tile's score, averaged over the tiles covering a pixel: "
        "a smoothed, tile-scale map, not per-pixel truth. Excess = (measured - predicted) / predicted ||DSD_l||, "
        "mean over layers: 0 is what psi expects of a natural image with this coarse copy, red above it, blue "
        "below. Eq. 5 = mean_l |predicted - measured|, lower is more natural."
    )


def plot_quality_maps(
    images: Mapping[str, torch.Tensor],
    maps: Mapping[str, Sequence[QualityMap]],
    labels: Sequence[str] | None = None,
    title: str | None = None,
) -> Figure:
    """One row per image: the image, then per regressor its excess and Eq. 5 maps as overlays.

    Args:
        images: ``{row name: (1, 3, H, W) in [0, 1]}``.
        maps: ``{row name: [QualityMap, ...]}``, the same regressors in the same order on every row
            (:func:`dsdviz.quality_map.q_dsd_map` of that image).
        labels: a name per regressor in the caption (default ``"a = <alpha>"``); the maps' headings are the
            score registry's labels (:meth:`~dsdviz.quality_map.QualityMap.label`).
        title: optional figure title.

    Returns:
        The figure: ``rows x (1 + 2 * regressors)`` image axes, a horizontal colour bar under each
        map column (limits shared by the column; the excess limits symmetric about 0) and the
        :func:`caption` at the bottom.
    """
    names = list(images)
    if not names or sorted(names) != sorted(maps):
        raise ValueError(f"images and maps must have the same, non-empty row names, got {names} and {list(maps)}")
    per_row = [list(maps[name]) for name in names]
    count = len(per_row[0])
    if count == 0 or any(len(row) != count for row in per_row):
        raise ValueError("maps: every row needs the same, non-zero number of quality maps")
    labels = [f"a = {m.alpha:g}" for m in per_row[0]] if labels is None else list(labels)
    height, width = images[names[0]].shape[-2:]
    columns = 1 + 2 * count
    fig = Figure(figsize=(PANEL_INCHES * columns, PANEL_INCHES * len(names) * height / width + 1.7),
                 dpi=DPI, layout="constrained")  # fmt: skip
    axes = np.asarray(fig.subplots(len(names), columns, squeeze=False))
    for row, name in enumerate(names):
        axes[row, 0].imshow(to_numpy(images[name]), interpolation="lanczos")
        axes[row, 0].set_ylabel(name, fontsize=9)
    for index, first in enumerate(per_row[0]):
        pixels = {key: [row[index].pixel_map(key).numpy() for row in per_row] for key in ("excess", "q_dsd")}
        limit = max(float(np.nanmax(np.abs(p))) for p in pixels["excess"]) or 1.0
        top = max(float(np.nanmax(p)) for p in pixels["q_dsd"]) or 1.0
        for key, column, cmap, low, heading, cbar in (
            ("excess", 1 + 2 * index, EXCESS_CMAP, -limit, first.label("excess"), "signed, relative (0: natural)"),
            ("q_dsd", 2 + 2 * index, Q_DSD_CMAP, 0.0, f"{first.label('q_dsd')} (Eq. 5)", "lower is more natural"),
        ):
            for row, name in enumerate(names):
                ax = axes[row, column]
                grey = luma(images[name].detach().float().clamp(0, 1))[0].cpu().numpy()
                ax.imshow(grey, cmap="gray", vmin=0, vmax=1)
                shown = ax.imshow(pixels[key][row], cmap=cmap, vmin=low, vmax=limit if key == "excess" else top,
                                  alpha=OVERLAY_ALPHA, interpolation="bilinear")  # fmt: skip
                _tile_square(ax, per_row[row][index])
                if row == 0:
                    ax.set_title(heading, fontsize=9)
            bar = fig.colorbar(shown, ax=list(axes[:, column]), location="bottom", shrink=0.9, aspect=25)
            bar.set_label(f"{heading}: {cbar}", fontsize=8)
            bar.ax.tick_params(labelsize=7.5)
    axes[0, 0].set_title("image", fontsize=9)
    for ax in axes.flat:
        _bare(ax)
    chars = max(40, int(fig.get_figwidth() * 72 / (0.55 * 8)))
    fig.supxlabel(textwrap.fill(caption(per_row[0], labels), chars), fontsize=8)
    if title:
        suptitle(fig, title)
    return fig


__all__ = ["caption", "plot_quality_maps"]
