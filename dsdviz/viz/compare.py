"""Side-by-side comparison figures: one column per method, aligned zoom rectangles below.

``compare_figure`` lays out images that are already in memory; ``compare_rows`` stacks
several such comparisons (one per test image, each with its own methods and boxes) in
one figure; ``compare_images`` places the zoom on the most detailed region by itself
(:func:`dsdviz.experiments.staging.compare_folders` reads each method's output folder
for it, so comparing your own methods' output folders is one call). All boxes are given in the
pixel coordinates of the largest image; smaller images (e.g. a 4x low-resolution input)
are shown enlarged by nearest neighbour so that the boxes line up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from matplotlib.figure import Figure, SubFigure
from matplotlib.patches import Rectangle

from ..formats import format_params
from ..data import Box, to_numpy
from .layout import wrap_to_width

BOX_COLOURS = ("#e41a1c", "#377eb8", "#4daf4a", "#ff7f00")
#: Font size (points) of a stacked comparison's title (matplotlib's "large" at the default 10 pt).
TITLE_SIZE = 12.0


@dataclass(frozen=True)
class Panel:
    """One column of a comparison: a method's image with its title and an optional caption.

    Attributes:
        title: method name, e.g. ``"ESRGAN"``.
        image: ``(1, 3, H, W)`` in ``[0, 1]``, or ``None`` when the method's output is missing.
        params: parameter count, shown as ``(16.7M)`` after the title.
        caption: a line under the title, e.g. metrics.
    """

    title: str
    image: torch.Tensor | None
    params: int | None = None
    caption: str | None = None

    @property
    def label(self) -> str:
        if self.params is None:
            return self.title
        return f"{self.title} ({format_params(self.params)})"


def busiest_box(image: torch.Tensor, size: int | tuple[int, int]) -> Box:
    """The ``size`` window with the most fine detail (sum of squared gradients), for zooming.

    Args:
        image: ``(1, 3, H, W)``.
        size: window side in pixels, or ``(height, width)``.
    """
    height, width = (size, size) if isinstance(size, int) else size
    grey = image[0].double().mean(dim=0).cpu().numpy()
    if height > grey.shape[0] or width > grey.shape[1]:
        raise ValueError(f"zoom window {height} x {width} is larger than the image {grey.shape[0]} x {grey.shape[1]}")
    energy = np.zeros_like(grey)
    energy[:, :-1] += np.diff(grey, axis=1) ** 2
    energy[:-1, :] += np.diff(grey, axis=0) ** 2
    integral = np.pad(energy.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    sums = integral[height:, width:] - integral[:-height, width:]
    sums = sums - integral[height:, :-width] + integral[:-height, :-width]
    top, left = np.unravel_index(np.argmax(sums), sums.shape)
    return Box(int(top), int(left), height, width)


def _display(image: torch.Tensor, height: int, width: int) -> np.ndarray:
    """The image as ``(height, width, 3)``: enlarged by an integer factor (nearest) if smaller."""
    array = to_numpy(image)
    if array.shape[:2] == (height, width):
        return array
    fy, fx = height / array.shape[0], width / array.shape[1]
    if fy != fx or fy != int(fy):
        raise ValueError(
            f"cannot align a {array.shape[0]} x {array.shape[1]} image with {height} x {width}: "
            "sizes must differ by an integer factor"
        )
    factor = int(fy)
    return np.repeat(np.repeat(array, factor, axis=0), factor, axis=1)


def _frame(panels: Sequence[Panel], boxes: Sequence[Box]) -> tuple[int, int]:
    """The largest image's ``(height, width)``, after checking the panels and boxes."""
    if not panels:
        raise ValueError("compare_figure: expected at least one panel")
    present = [p.image for p in panels if p.image is not None]
    if not present:
        raise ValueError("compare_figure: every panel's image is missing")
    height = max(int(x.shape[-2]) for x in present)
    width = max(int(x.shape[-1]) for x in present)
    for top, left, box_h, box_w in boxes:
        if top < 0 or left < 0 or top + box_h > height or left + box_w > width or box_h <= 0 or box_w <= 0:
            raise ValueError(f"zoom box {(top, left, box_h, box_w)} lies outside the {height} x {width} image")
    return height, width


def _column_height(panels: Sequence[Panel], boxes: Sequence[Box]) -> float:
    """Height of one column in units of its width: the full image plus every zoom."""
    height, width = _frame(panels, boxes)
    return height / width + sum(b.height / b.width for b in boxes)


def _draw(target: Figure | SubFigure, panels: Sequence[Panel], boxes: Sequence[Box], title: str | None) -> None:
    """Draw one comparison (columns of full image and zooms) into a figure or subfigure."""
    height, width = _frame(panels, boxes)
    rows = 1 + len(boxes)
    grid = target.add_gridspec(rows, len(panels), height_ratios=[height / width, *(b.height / b.width for b in boxes)])
    for col, panel in enumerate(panels):
        top_ax = target.add_subplot(grid[0, col])
        label = panel.label if panel.caption is None else f"{panel.label}\n{panel.caption}"
        top_ax.set_title(label, fontsize="small")
        top_ax.set_xticks([])
        top_ax.set_yticks([])
        if panel.image is None:
            top_ax.text(0.5, 0.5, "not available", ha="center", va="center", transform=top_ax.transAxes, color="grey")
            for row in range(1, rows):
                target.add_subplot(grid[row, col]).axis("off")
            continue
        array = _display(panel.image, height, width)
        top_ax.imshow(array, interpolation="nearest")
        for k, (top, left, box_h, box_w) in enumerate(boxes):
            colour = BOX_COLOURS[k % len(BOX_COLOURS)]
            box = Rectangle((left - 0.5, top - 0.5), box_w, box_h, fill=False, edgecolor=colour, linewidth=1.5)
            top_ax.add_patch(box)
            ax = target.add_subplot(grid[1 + k, col])
            ax.imshow(array[top : top + box_h, left : left + box_w], interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_edgecolor(colour)
                spine.set_linewidth(2)
    if title:
        target.suptitle(title)


def compare_figure(
    panels: Sequence[Panel],
    boxes: Sequence[Box] = (),
    *,
    title: str | None = None,
    panel_width: float = 2.6,
) -> Figure:
    """A grid: one column per panel; the full image on top with coloured boxes, one zoom row per box.

    Args:
        panels: the methods, in display order. Missing images (``None``) show "not available".
        boxes: zoom rectangles (:class:`~dsdviz.data.Box`) in the largest image's pixels.
        title: figure title.
        panel_width: inches per column.

    Raises:
        ValueError: no panels, or a box outside the image.
    """
    fig = Figure(
        figsize=(panel_width * len(panels), panel_width * _column_height(panels, boxes) + 0.9),
        layout="constrained",
    )
    _draw(fig, panels, boxes, title)
    return fig


def compare_rows(
    rows: Sequence[tuple[str | None, Sequence[Panel], Sequence[Box]]],
    *,
    title: str | None = None,
    panel_width: float = 2.2,
) -> Figure:
    """Several comparisons stacked top to bottom, e.g. one per test image: ``[(row title, panels, boxes), ...]``.

    Each row is drawn as by :func:`compare_figure` (its own columns, sizes and boxes);
    the figure is as wide as the row with the most panels.
    """
    if not rows:
        raise ValueError("compare_rows: expected at least one row")
    columns = max(len(panels) for _, panels, _ in rows)
    width = panel_width * columns
    heights = [width / len(panels) * _column_height(panels, boxes) + 0.7 for _, panels, boxes in rows]
    title = wrap_to_width(title, width, TITLE_SIZE) if title else None
    title_height = 0.3 * title.count("\n") + 0.6 if title else 0
    fig = Figure(figsize=(width, sum(heights) + title_height), layout="constrained")
    subfigures = fig.subfigures(len(rows), 1, height_ratios=heights, squeeze=False)[:, 0]
    for subfigure, (row_title, panels, boxes) in zip(subfigures, rows):
        _draw(subfigure, panels, boxes, row_title)
    if title:
        fig.suptitle(title, fontsize=TITLE_SIZE)
    return fig


def compare_images(
    images: Mapping[str, torch.Tensor | None],
    boxes: Sequence[Box] | None = None,
    *,
    params: Mapping[str, int] | None = None,
    captions: Mapping[str, str] | None = None,
    zoom: int = 64,
    title: str | None = None,
) -> Figure:
    """Compare images of several methods (``{method: (1, 3, H, W) or None}``), in the given order.

    Missing images show as "not available". Without ``boxes``, one ``zoom`` px box is
    placed on the most detailed region of the largest image.
    """
    params, captions = params or {}, captions or {}
    panels = [Panel(method, image, params.get(method), captions.get(method)) for method, image in images.items()]
    if boxes is None:
        present = [p.image for p in panels if p.image is not None]
        if not present:
            raise ValueError("compare_images: every image is missing")
        largest = max(present, key=lambda x: x.shape[-1] * x.shape[-2])
        boxes = [busiest_box(largest, min(zoom, *largest.shape[-2:]))]
    return compare_figure(panels, boxes, title=title)


def zoomed_rows(rows: Mapping[str, Sequence[Panel]], title: str, zoom: int, note: str | None = None) -> Figure:
    """:func:`compare_rows` of ``{row title: panels}``, each row with one ``zoom`` px box on the most detailed
    region of its last panel (the reference); ``note`` (e.g. the quick-mode note) is added to the title."""
    boxed = []
    for label, panels in rows.items():
        truth = panels[-1].image
        boxed.append((label, panels, [busiest_box(truth, min(zoom, *truth.shape[-2:]))]))
    return compare_rows(boxed, title=f"{title}\n{note}" if note else title)
