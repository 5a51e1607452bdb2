"""DSD-minimisation curves beside the ground truth, and the step-size sweep of Fig. 12.

* :func:`step_axis` is the step axis of every curve of an optimisation (symmetric-log).
* :func:`draw_truth_level` adds the ground truth's ``||DSD||_1`` to an objective plot (dashed)
  and marks the step where the objective reaches it; :func:`plot_truth_curves` draws the
  snapshots' sharpness beside the ground truth's (dashed) and their PSNR and DSD distance to it.
* :func:`plot_lr_sweep` draws a step-size sweep: sharpness and objective against the step,
  one line per learning rate, the ground truth's levels dashed.

What they draw comes from :mod:`dsdviz.experiments.dsd_minimization` (``GroundTruthLevels``,
``SweepRow``); any object with the attributes of :class:`TruthLevels` / :class:`SweepLine` works.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..trajectory import Trajectory, log_steps
from .layout import DPI, suptitle

TRUTH_COLOR = "tab:green"
TRUTH_LABEL = "ground truth"


class TruthLevels(Protocol):
    """The ground truth's levels beside a trajectory (``dsdviz.experiments.dsd_minimization.GroundTruthLevels``)."""

    crossing: int | None
    dsd_distance: list[float]
    image: torch.Tensor
    objective: float
    psnr: list[float]
    sharpness: float
    snapshot_sharpness: list[float]
    steps: list[int]


class SweepLine(Protocol):
    """One learning rate of a sweep (``dsdviz.experiments.dsd_minimization.SweepRow``)."""

    lr: float
    trajectory: Trajectory
    truth: TruthLevels


def step_axis(ax: Axes, last: int) -> None:
    """Steps ``0 .. last`` on the x axis: linear up to 10, logarithmic above, ticks 0, 1, 2, 5, 10, ..., last."""
    last = max(1, last)
    ax.set_xscale("symlog", linthresh=10)
    ticks = [t for t in log_steps(last, (1, 2, 5)) if t < 0.7 * last] + [last]
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.set_xticks([], minor=True)
    ax.set_xlim(0, last)
    ax.set_xlabel("step (linear up to 10, logarithmic above)", fontsize=8)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3)


def draw_truth_level(ax: Axes, truth: TruthLevels) -> None:
    """The ground truth's objective as a dashed line on an objective plot, and a dotted line at the
    step where the objective reaches it (if it does); redraws the legend."""
    ax.axhline(truth.objective, color=TRUTH_COLOR, ls="--", lw=1.2, label=f"{TRUTH_LABEL} ({truth.objective:.3e})")
    if truth.crossing is not None:
        ax.axvline(truth.crossing, color=TRUTH_COLOR, ls=":", lw=1.2, label=f"reaches it at step {truth.crossing}")
    ax.legend(fontsize=7.5, ncols=3)


def plot_truth_curves(sharpness: Axes, distances: Axes, truth: TruthLevels, last: int) -> Axes:
    """Snapshots' sharpness (the ground truth's dashed) on ``sharpness``; their PSNR (left axis) and
    DSD distance (right axis) to the ground truth on ``distances``. Returns the right axis."""
    steps = np.asarray(truth.steps)
    sharpness.plot(steps, truth.snapshot_sharpness, "o-", color="black", lw=1.5, ms=3, label="snapshots")
    level = f"{TRUTH_LABEL} ({truth.sharpness:.4f})"
    sharpness.axhline(truth.sharpness, color=TRUTH_COLOR, ls="--", lw=1.2, label=level)
    sharpness.set_ylabel("sharpness", fontsize=8)
    sharpness.legend(fontsize=7.5)
    step_axis(sharpness, last)
    distances.plot(steps, truth.psnr, "o-", color="tab:blue", lw=1.5, ms=3, label="PSNR to ground truth")
    distances.set_ylabel("PSNR to it (dB)", fontsize=8, color="tab:blue")
    step_axis(distances, last)
    right = distances.twinx()
    right.plot(steps, truth.dsd_distance, "s-", color="tab:red", lw=1.2, ms=3, label="DSD distance to ground truth")
    right.set_ylabel("DSD distance to it", fontsize=8, color="tab:red")
    right.tick_params(labelsize=8)
    lines = distances.get_lines() + right.get_lines()
    distances.legend(lines, [line.get_label() for line in lines], fontsize=7.5)
    return right


def plot_lr_sweep(rows: Sequence[SweepLine]) -> Figure:
    """A step-size sweep: snapshots' sharpness and ``||DSD||_1`` against the step, one line per learning rate.

    The ground truth's levels (of the first row: all rows start from the same image) are dashed;
    a circle marks each rate's sharpness peak.
    """
    fig = Figure(figsize=(9.1, 3.6), dpi=DPI, layout="constrained")
    sharp_ax, objective_ax = fig.subplots(1, 2)
    colors = [f"C{i}" for i in range(len(rows))]
    for row, color in zip(rows, colors):
        truth, label = row.truth, f"lr {row.lr:g}"
        sharp_ax.plot(truth.steps, truth.snapshot_sharpness, "-", color=color, lw=1.3, label=label)
        peak = int(np.argmax(truth.snapshot_sharpness))
        sharp_ax.plot(truth.steps[peak], truth.snapshot_sharpness[peak], "o", color=color, ms=5)
        objective = row.trajectory.history["objective"].numpy()
        objective_ax.plot(np.arange(len(objective)), objective, "-", color=color, lw=1.3, label=label)
    truth = rows[0].truth
    sharp_ax.axhline(truth.sharpness, color="black", ls="--", lw=1.2, label=TRUTH_LABEL)
    objective_ax.axhline(truth.objective, color="black", ls="--", lw=1.2, label=TRUTH_LABEL)
    last = max(row.trajectory.final_step for row in rows)
    for ax, ylabel in ((sharp_ax, "sharpness (mean gradient magnitude)"), (objective_ax, r"$\|\mathrm{DSD}\|_1$")):
        step_axis(ax, last)
        ax.set_ylabel(ylabel, fontsize=8)
        ax.legend(fontsize=7.5)
    objective_ax.set_yscale("log")
    suptitle(
        fig,
        "Minimising DSD at several learning rates (Adam, constant rate): sharpness (circles: peaks) and the "
        "objective\ndashed: the ground truth's own levels",
        fontsize=8.5,
    )
    return fig
