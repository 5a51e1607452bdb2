"""Views of image optimisations: the DSD paper's Figs. 11 and 12, and a slider viewer.

* :func:`plot_fingerprint_matching` lays out fingerprint-matching results as Fig. 11:
  content, reference, then each optimised image, with zoomed crops below.
* :func:`plot_dsd_minimization` lays out a DSD-minimisation trajectory as Fig. 12: the
  image at a few steps with zoomed crops, and the per-layer ``||DSD||`` curves.
* :class:`TrajectoryViewer` is an ipywidgets viewer of a (possibly loaded) trajectory: a
  slider over the snapshot steps, the snapshot, its difference to the start, and the
  recorded curves with a marker at the step. Everything it shows is in standard
  ipywidgets 8 widgets (``Image``, ``HTML``, ``SelectionSlider``), and the displayed state
  is readable from Python (:attr:`TrajectoryViewer.displayed`).

The figures are laid out for :data:`~dsdviz.viz.layout.DPI`: no text is under 10 px.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from PIL import Image

from ..data import Box, crop_box, to_numpy, to_uint8
from ..trajectory import Trajectory
from .layout import DPI, suptitle
from .sweep import TRUTH_LABEL, TruthLevels, draw_truth_level, plot_truth_curves, step_axis

ZOOM_COLOR = "#ffcc00"


def default_zoom(height: int, width: int) -> Box:
    """A central square of a third of the shorter side of a ``height x width`` px image."""
    size = max(1, min(height, width) // 3)
    return Box.square((height - size) // 2, (width - size) // 2, size)


_DSD_TERM = re.compile(r"(\|\|)?DSD_([0-9.]+)\(([^)]*)\)(\|\|_1)?")


def math_label(label: str) -> str:
    """``DSD_2(x|2)`` and ``||DSD_4(x)||_1`` terms of a label as matplotlib mathtext (the rest unchanged)."""

    def term(match: re.Match) -> str:
        norm = match.group(1) is not None and match.group(4) is not None
        body = rf"\mathrm{{DSD}}_{{{match.group(2)}}}({match.group(3)})"
        return rf"$\|{body}\|_1$" if norm else f"${body}$"

    return _DSD_TERM.sub(term, label)


def _show(ax: Axes, x: torch.Tensor, title: str = "", box: Box | None = None) -> None:
    ax.imshow(to_numpy(x), interpolation="nearest" if x.shape[-1] < 200 else "antialiased")
    if box is not None:
        corner = (box.left - 0.5, box.top - 0.5)
        ax.add_patch(Rectangle(corner, box.width, box.height, fill=False, lw=1.2, ec=ZOOM_COLOR))
    ax.set_title(title, fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])


def curve_names(trajectory: Trajectory) -> list[str]:
    """The objective and its per-layer terms (``distance/``, ``style@``, else ``dsd/``)."""
    terms = [n for n in trajectory.history if n.startswith(("distance/", "style@"))]
    terms = terms or [n for n in trajectory.history if n.startswith("dsd/")]
    return ["objective", *terms]


def curve_label(name: str) -> str:
    """Legend text of a history entry: ``dsd/relu1_2`` and ``distance/relu1_2`` -> ``relu1_2``,
    ``style@2/relu1_2`` -> ``relu1_2 at 1/2``; other names unchanged."""
    kind, _, layer = name.partition("/")
    if kind in ("dsd", "distance") and layer:
        return layer
    if kind.startswith("style@") and layer:
        factor = kind.removeprefix("style@")
        return layer if factor == "1" else f"{layer} at 1/{factor}"
    return name


def value_label(names: Sequence[str]) -> str:
    """y-axis label for history entries: what their per-layer terms measure."""
    terms = {name.partition("/")[0].split("@")[0] for name in names if "/" in name}
    if terms == {"dsd"}:
        return r"$\|\mathrm{DSD}_l\|_1$ (mean |entry|)"
    if terms == {"distance"}:
        return "distance to the reference's DSD"
    if terms == {"style"}:
        return "distance to the reference's Gram"
    return "value"


def plot_history(
    ax: Axes, trajectory: Trajectory, names: Sequence[str] | None = None, marks: Sequence[int] = ()
) -> None:
    """Recorded values against the step (symmetric-log x, log y), with dashed lines at ``marks``.

    The objective is the thick black line; the legend names each layer's term.
    """
    names = curve_names(trajectory) if names is None else list(names)
    for name in names:
        values = trajectory.history[name].numpy()
        style = {"lw": 2.0, "color": "black"} if name == "objective" else {"lw": 1.0}
        ax.plot(np.arange(len(values)), values, label=curve_label(name), **style)
    for step in marks:
        ax.axvline(step, color="grey", ls="--", lw=0.8)
    step_axis(ax, trajectory.final_step)
    if all((trajectory.history[n] > 0).all() for n in names):
        ax.set_yscale("log")
    ax.set_ylabel(value_label(names), fontsize=8)
    ax.legend(fontsize=7.5, ncols=2 if len(names) < 6 else 3)


def plot_fingerprint_matching(
    content: torch.Tensor,
    reference: torch.Tensor,
    results: Mapping[str, Trajectory | torch.Tensor],
    zoom: Box | None = None,
    distances: Mapping[str, Mapping[str, float]] | None = None,
) -> Figure:
    """Supplementary Fig. 11: content, reference and matched images, with zoomed crops.

    Args:
        content: the start image ``(1, 3, H, W)``.
        reference: the image whose fingerprint or style was matched.
        results: ``{column title: trajectory or image}`` (the final image is shown), e.g.
            ``"style x1"``, ``"DSD_2(x)"``.
        zoom: the :class:`~dsdviz.data.Box` shown enlarged (default: :func:`default_zoom` of the
            content); the reference's crop is the same box, clipped.
        distances: ``{column title or "content": {"DSD_2(x)": d, ...}}`` written under the
            images (e.g. :func:`dsdviz.fingerprint.dsd_distances`).
    """
    zoom = default_zoom(*content.shape[-2:]) if zoom is None else zoom
    columns = {"content": content, "reference": reference}
    columns.update({k: v.final if isinstance(v, Trajectory) else v for k, v in results.items()})
    height, width = content.shape[-2:]
    side = 1.3  # inches per column: seven columns fit a 910 px wide page at 100 dpi
    fig = Figure(figsize=(side * len(columns), side * (height / width + 1) + 1.1), dpi=DPI, layout="constrained")
    axes = fig.subplots(2, len(columns), squeeze=False, height_ratios=[height / width, 1])
    for col, (title, image) in enumerate(columns.items()):
        _show(axes[0, col], image, math_label(title), zoom)
        _show(axes[1, col], crop_box(image, zoom))
        if distances and title in distances:
            text = "\n".join(f"{math_label(k)}: {v:.2e}" for k, v in distances[title].items())
            axes[1, col].set_xlabel(text, fontsize=7.5)
    axes[0, 0].set_ylabel("image", fontsize=8)
    axes[1, 0].set_ylabel("yellow box, enlarged", fontsize=8)
    steps = {v.final_step for v in results.values() if isinstance(v, Trajectory)}
    runs = f"{steps.pop()} Adam steps each" if len(steps) == 1 else "Adam on the pixels"
    suptitle(
        fig,
        f"Optimising the content image to match the reference's style (Gram matrices at one scale) or its DSD "
        f"fingerprint ({runs})\nunder the crops: distance of each image's DSD to the reference's (lower = closer)",
        fontsize=8.5,
    )
    return fig


def plot_dsd_minimization(
    trajectory: Trajectory, steps: Sequence[int] | None = None, zoom: Box | None = None,
    truth: TruthLevels | None = None, sharpness: Mapping[int, float] | None = None,
) -> Figure:  # fmt: skip
    """Supplementary Fig. 12: the image at a few steps of DSD minimisation, crops and curves.

    Args:
        trajectory: from :func:`dsdviz.optimize.minimize_dsd` (or a loaded file).
        steps: the steps to show (each replaced by the nearest snapshot); default: 0,
            about a tenth of the run (500 of 5000 in the paper) and the last.
        zoom: the :class:`~dsdviz.data.Box` shown enlarged; default: :func:`default_zoom`.
        truth: the ground truth's levels (``dsdviz.experiments.dsd_minimization.versus_truth``):
            adds its crop as a last column, its ``||DSD||_1`` (dashed) and the step the objective
            reaches it (dotted) to the curves, and a row with the snapshots' sharpness (the
            truth's dashed) and their PSNR and DSD distance to it. Without it, no such parts.

        sharpness: ``{step: mean gradient magnitude}`` of the snapshots
            (:func:`dsdviz.sharpness.mean_gradient_magnitude`); default: the truth's
            ``snapshot_sharpness`` when ``truth`` is given, else none shown.

    Each column's title gives ``||DSD||_1`` (the recorded objective) and, where known, the
    sharpness of that image; the title gives the objective, the number of steps and the
    learning rate.
    """
    last = trajectory.final_step
    wanted = (0, max(1, last // 10), last) if steps is None else steps
    shown = sorted({trajectory.nearest_step(s) for s in wanted})
    start = trajectory.start
    zoom = default_zoom(*start.shape[-2:]) if zoom is None else zoom
    height, width = start.shape[-2:]
    side = 2.1  # inches per column
    columns = len(shown) + (truth is not None)
    ratios = [height / width, 1, 1.1] + ([1.0] if truth is not None else [])
    extra = 2.6 if truth is not None else 0.0
    fig = Figure(figsize=(side * columns, side * (height / width + 1) + 3.3 + extra), dpi=DPI, layout="constrained")
    grid = fig.add_gridspec(len(ratios), columns, height_ratios=ratios)
    objective = trajectory.settings.get("objective", "objective").removeprefix("minimise ")
    if sharpness is None and truth is not None:
        sharpness = dict(zip(truth.steps, truth.snapshot_sharpness))
    sharp = dict(sharpness or {})
    images = [(f"step {step}", trajectory.snapshots[step], trajectory.value("objective", step), sharp.get(step))
              for step in shown]  # fmt: skip
    if truth is not None:
        images.append((TRUTH_LABEL, truth.image, truth.objective, truth.sharpness))
    for col, (name, image, value, level) in enumerate(images):
        title = f"{name}\n{math_label(objective)} = {value:.3e}"
        title += f"\nsharpness {level:.4f}" if level is not None else ""
        _show(fig.add_subplot(grid[0, col]), image, title, zoom)
        crop = fig.add_subplot(grid[1, col])
        _show(crop, crop_box(image, zoom))
        if col == 0:
            crop.set_ylabel("yellow box, enlarged", fontsize=8)
    history = fig.add_subplot(grid[2, :])
    plot_history(history, trajectory, marks=shown)
    if truth is not None:
        draw_truth_level(history, truth)
        lower = grid[3, :].subgridspec(1, 2, wspace=0.1)  # its own margins: the image columns keep their width
        plot_truth_curves(fig.add_subplot(lower[0]), fig.add_subplot(lower[1]), truth, last)
    lr = trajectory.settings.get("lr")
    run = f"{last} steps of Adam" + (f", lr {lr:g}" if lr is not None else "")
    suptitle(
        fig,
        f"Gradient descent on {math_label(objective)} from the start image ({run})\n"
        "sharpness: mean gradient magnitude of the luminance; dashed lines: the steps shown"
        + ("; green: the ground truth (dashed: its levels, dotted: where the objective reaches it)" if truth else ""),
        fontsize=8.5,
    )
    return fig


def _png(array: np.ndarray, scale: int = 1) -> bytes:
    """PNG of an ``(H, W, 3)`` uint8 image, enlarged ``scale`` times by pixel repetition (sharp pixels)."""
    buffer = io.BytesIO()
    Image.fromarray(array.repeat(scale, axis=0).repeat(scale, axis=1)).save(buffer, format="png")
    return buffer.getvalue()


def difference_map(x: torch.Tensor, start: torch.Tensor, gain: float) -> np.ndarray:
    """``|x - start|`` averaged over channels, times ``gain``, as an ``(H, W, 3)`` uint8 magma image."""
    diff = (x.float() - start.float()).abs().mean(dim=1)[0].clamp(min=0) * gain
    rgba = colormaps["magma"](diff.clamp(0, 1).numpy())
    return np.round(rgba[..., :3] * 255).astype(np.uint8)


class TrajectoryViewer(widgets.VBox):
    """Slider viewer of a trajectory: snapshot, difference to the start, curves with a marker.

    Works on a trajectory in memory or loaded with :meth:`Trajectory.load`; nothing is
    recomputed but the difference images and the PNG rendering.

    Args:
        trajectory: the run to show.
        names: history entries to plot (default: :func:`curve_names`).
        zoom: show only this :class:`~dsdviz.data.Box` of the images (enlarged).
        width: displayed width of each image, in CSS pixels. An image narrower than that
            is enlarged by the largest whole factor that fits (:attr:`scale`; each pixel
            becomes a ``scale x scale`` block, so that pixels stay sharp) and shown at
            that size; a wider one is shown ``width`` px wide.
        truth: the ground truth's levels (as in :func:`plot_dsd_minimization`): its crop is
            shown beside the snapshot, its levels on the curves, and a second row of curves
            has the sharpness and the distances to it; :attr:`displayed` gains ``sharpness``,
            ``psnr`` and ``dsd_distance`` at the step.

    Attributes:
        slider: ``ipywidgets.SelectionSlider`` over the snapshot steps; set ``value`` to move.
        label: ``HTML`` line with the step and the recorded values there.
        image, difference, curves: ``ipywidgets.Image`` (PNG) of the snapshot, of
            ``|x_k - x_0|`` (one gain for every step, mapping the largest 99th percentile
            over the snapshots to the top of the colour map; given in the caption) and of
            the curves (drawn at their displayed size, ``2 * width + 20`` px wide).
        truth_image: ``ipywidgets.Image`` of the ground truth (only with ``truth``).
        scale: the enlargement factor of the images' PNGs.
        displayed: what is shown now: ``{"step": k, <history name>: value at k}``.
    """

    def __init__(
        self,
        trajectory: Trajectory,
        names: Sequence[str] | None = None,
        zoom: Box | None = None,
        width: int = 320,
        truth: TruthLevels | None = None,
    ) -> None:
        self.trajectory = trajectory
        self.truth = truth
        self.names = curve_names(trajectory) if names is None else list(names)
        self.zoom = zoom
        steps = trajectory.steps
        start = self._view(trajectory.start).float()
        diffs = [(self._view(trajectory.snapshots[s]).float() - start).abs().mean(dim=1).flatten() for s in steps]
        self.gain = 1.0 / max(max(float(torch.quantile(d, 0.99)) for d in diffs), 1e-6)
        self.slider = widgets.SelectionSlider(
            options=[(str(s), s) for s in steps],
            value=steps[0],
            description="step",
            continuous_update=True,
            layout=widgets.Layout(width="95%"),
        )
        self.label = widgets.HTML()
        columns = start.shape[-1]
        self.scale = max(1, width // columns)
        image_layout = {"width": f"{columns * self.scale if columns <= width else width}px", "object_fit": "contain"}
        self.image = widgets.Image(format="png", layout=widgets.Layout(**image_layout))
        self.difference = widgets.Image(format="png", layout=widgets.Layout(**image_layout))
        self.curves = widgets.Image(format="png", layout=widgets.Layout(width=f"{2 * width + 20}px"))
        size = ((2 * width + 20) / DPI, 2.9 + 2.4 * (truth is not None))
        self._figure = Figure(figsize=size, dpi=DPI, layout="constrained")
        axes = self._figure.add_subplot(2 if truth is not None else 1, 1, 1)
        plot_history(axes, trajectory, self.names)
        axes.set_title(math_label(str(trajectory.settings.get("objective", ""))), fontsize=9)
        lower = []
        if truth is not None:
            draw_truth_level(axes, truth)
            lower = [self._figure.add_subplot(2, 2, 3), self._figure.add_subplot(2, 2, 4)]
            plot_truth_curves(*lower, truth, trajectory.final_step)
        # above the axes' spines, so that the marker shows at step 0 too
        self._cursors = [ax.axvline(0, color="crimson", lw=1.2, zorder=3, clip_on=False) for ax in (axes, *lower)]
        self._dots = axes.plot([], [], "o", color="crimson", ms=4, zorder=4, clip_on=False)[0]
        self.displayed: dict[str, float] = {}
        captions = [
            widgets.HTML("<b>snapshot</b>"),
            widgets.HTML(f"<b>|x<sub>k</sub> - x<sub>0</sub>|</b> (x{self.gain:.3g}, magma)"),
        ]
        shown = [self.image, self.difference]
        if truth is not None:
            self.truth_image = widgets.Image(format="png", layout=widgets.Layout(**image_layout))
            self.truth_image.value = _png(to_uint8(self._view(truth.image)), self.scale)
            captions.append(widgets.HTML(f"<b>{TRUTH_LABEL}</b>"))
            shown.append(self.truth_image)
        images = widgets.HBox([widgets.VBox([caption, image]) for caption, image in zip(captions, shown)])
        super().__init__([self.slider, self.label, images, self.curves])
        self.slider.observe(self._on_step, names="value")
        self._render(steps[0])

    def _view(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.zoom is None else crop_box(x, self.zoom)

    @property
    def step(self) -> int:
        """The step shown now."""
        return int(self.displayed["step"])

    def show(self, step: int) -> None:
        """Move the slider to the snapshot nearest to ``step``."""
        self.slider.value = self.trajectory.nearest_step(step)

    def _on_step(self, change: dict) -> None:
        self._render(int(change["new"]))

    def _render(self, step: int) -> None:
        trajectory = self.trajectory
        snapshot = self._view(trajectory.snapshots[step])
        self.image.value = _png(to_uint8(snapshot), self.scale)
        self.difference.value = _png(difference_map(snapshot, self._view(trajectory.start), self.gain), self.scale)
        values = {name: trajectory.value(name, step) for name in trajectory.history}
        for cursor in self._cursors:
            cursor.set_xdata([step, step])
        self._dots.set_data([step] * len(self.names), [values[n] for n in self.names])
        buffer = io.BytesIO()
        self._figure.savefig(buffer, format="png")
        self.curves.value = buffer.getvalue()
        shown = ", ".join(f"{name} {values[name]:.4g}" for name in self.names)
        if self.truth is not None:
            at = self.truth.steps.index(step)
            values |= {"sharpness": self.truth.snapshot_sharpness[at], "psnr": self.truth.psnr[at],
                       "dsd_distance": self.truth.dsd_distance[at]}  # fmt: skip
            shown += (
                f" &middot; sharpness {values['sharpness']:.4f} (ground truth {self.truth.sharpness:.4f}), "
                f"PSNR to it {values['psnr']:.2f} dB, DSD distance {values['dsd_distance']:.3g}"
            )
        self.label.value = f"<b>step {step}</b> of {trajectory.final_step} &middot; {shown}"
        self.displayed = {"step": step, **values}
