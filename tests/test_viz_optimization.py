"""Figures and the slider viewer of optimisation trajectories."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from matplotlib.figure import Figure

from dsdviz.data import Box, crop_box
from dsdviz.optimize import optimize_image
from dsdviz.trajectory import Trajectory
from dsdviz.viz.optimization import (
    TrajectoryViewer,
    default_zoom,
    difference_map,
    math_label,
    plot_dsd_minimization,
    plot_fingerprint_matching,
)
from dsdviz.viz.sweep import plot_lr_sweep


@pytest.fixture
def trajectory(rng, tmp_path) -> Trajectory:
    """A finished run, saved and loaded back (the viewer must work on a loaded file)."""
    start = torch.rand(1, 3, 24, 20, generator=rng)
    goal = torch.rand(1, 3, 24, 20, generator=rng)

    def objective(x: torch.Tensor) -> dict[str, torch.Tensor]:
        terms = {f"dsd/layer{i}": (x[:, i] - goal[:, i]).abs().mean() for i in range(3)}
        return {"objective": torch.stack(list(terms.values())).mean(), **terms}

    settings = {"objective": "minimise ||DSD_4(x)||_1"}
    run = optimize_image(start, objective, steps=30, lr=0.02, settings=settings, progress=False)
    return Trajectory.load(run.save(tmp_path / "run.pt"))


def test_viewer_slider_changes_the_displayed_step(trajectory):
    viewer = TrajectoryViewer(trajectory)
    assert [value for _, value in viewer.slider.options] == trajectory.steps == [0, 1, 2, 5, 10, 25, 30]
    assert viewer.step == 0 and viewer.displayed["objective"] == trajectory.value("objective", 0)
    assert "step 0</b> of 30" in viewer.label.value
    first = tuple(bytes(w.value) for w in (viewer.image, viewer.difference, viewer.curves))
    assert all(value.startswith(b"\x89PNG") for value in first)

    viewer.slider.value = 25
    assert viewer.step == 25
    assert viewer.displayed["objective"] == trajectory.value("objective", 25)
    assert viewer.displayed["dsd/layer2"] == trajectory.value("dsd/layer2", 25)
    assert "step 25</b> of 30" in viewer.label.value
    now = tuple(bytes(w.value) for w in (viewer.image, viewer.difference, viewer.curves))
    assert all(a != b for a, b in zip(first, now))  # snapshot, difference and marker all moved

    viewer.show(7)  # not a snapshot step: the nearest one
    assert viewer.slider.value == 5 and viewer.step == 5


def test_viewer_pieces_are_standard_widgets(trajectory):
    import ipywidgets as widgets

    viewer = TrajectoryViewer(trajectory, names=["objective"], zoom=Box.square(4, 4, 10), width=200)
    assert isinstance(viewer, widgets.VBox)
    assert isinstance(viewer.slider, widgets.SelectionSlider)
    assert isinstance(viewer.image, widgets.Image) and viewer.image.format == "png"
    assert viewer.image.layout.width == "200px" and viewer.scale == 20
    from io import BytesIO

    import numpy as np
    from PIL import Image

    from dsdviz.data import to_uint8

    shown = np.asarray(Image.open(BytesIO(bytes(viewer.image.value))))
    crop = to_uint8(crop_box(trajectory.start, Box.square(4, 4, 10)))
    assert shown.shape == (200, 200, 3)  # the zoomed 10 px crop, each pixel a 20 x 20 block
    assert np.array_equal(shown, crop.repeat(20, axis=0).repeat(20, axis=1))


def test_difference_map_scales_and_colours():
    start = torch.zeros(1, 3, 2, 2)
    x = start.clone()
    x[..., 0, 0] = 0.5
    out = difference_map(x, start, gain=2.0)
    assert out.shape == (2, 2, 3) and out.dtype.name == "uint8"
    assert out[0, 0].tolist() != out[1, 1].tolist()
    assert out[1, 1].tolist() == difference_map(start, start, 2.0)[0, 0].tolist()  # zero difference


def test_helpers():
    assert default_zoom(90, 120) == Box(30, 45, 30, 30)
    assert math_label("DSD_2(x|2)") == r"$\mathrm{DSD}_{2}(x|2)$"
    assert math_label("minimise ||DSD_4(x)||_1") == r"minimise $\|\mathrm{DSD}_{4}(x)\|_1$"
    assert math_label("style x1/2") == "style x1/2"


def test_plot_dsd_minimization(trajectory, tmp_path):
    fig = plot_dsd_minimization(trajectory, steps=(0, 4, 30), zoom=Box.square(2, 2, 8))
    assert isinstance(fig, Figure)
    titles = [ax.get_title() for ax in fig.axes]
    assert any(t.startswith("step 0\n") for t in titles) and any(t.startswith("step 5\n") for t in titles)
    assert len(fig.axes) == 7  # three images, three crops, the curves
    fig.savefig(tmp_path / "fig12.png", dpi=50)
    assert (tmp_path / "fig12.png").stat().st_size > 5_000


def test_plot_fingerprint_matching(rng, tmp_path, trajectory):
    content, reference = torch.rand(1, 3, 24, 20, generator=rng), torch.rand(1, 3, 30, 30, generator=rng)
    distances = {"content": {"DSD_2(x)": 0.1}, "DSD_2(x)": {"DSD_2(x)": 0.01}}
    results = {"style x1": trajectory.final, "DSD_2(x)": trajectory}
    fig = plot_fingerprint_matching(content, reference, results, distances=distances)
    assert len(fig.axes) == 8
    assert [ax.get_title() for ax in fig.axes[:4]] == ["content", "reference", "style x1", r"$\mathrm{DSD}_{2}(x)$"]
    assert "1.00e-02" in fig.axes[7].get_xlabel()
    fig.savefig(tmp_path / "fig11.png", dpi=50)


@pytest.fixture
def truth(trajectory, rng) -> SimpleNamespace:
    """Ground-truth levels as ``versus_truth`` returns them (synthetic numbers), crossing at step 5."""
    steps = trajectory.steps
    return SimpleNamespace(
        image=torch.rand(1, 3, 24, 20, generator=rng),
        objective=trajectory.value("objective", 5),
        sharpness=0.3,
        crossing=5,
        steps=steps,
        snapshot_sharpness=[0.2 + 0.01 * i for i in range(len(steps))],
        psnr=[20.0 - 0.5 * i for i in range(len(steps))],
        ssim=[0.5] * len(steps),
        dsd_distance=[0.01 * i for i in range(len(steps))],
    )


def test_plot_dsd_minimization_with_truth(trajectory, truth, tmp_path):
    fig = plot_dsd_minimization(trajectory, steps=(0, 4, 30), zoom=Box.square(2, 2, 8), truth=truth)
    titles = [ax.get_title() for ax in fig.axes]
    assert sum(t.startswith("ground truth\n") for t in titles) == 1
    assert len(fig.axes) == 8 + 4  # four images and crops; the objective, sharpness, PSNR and its twin axis
    history = fig.axes[8]
    lines = {line.get_label(): line for line in history.get_lines()}
    level = lines[f"ground truth ({truth.objective:.3e})"]
    assert level.get_linestyle() == "--" and list(level.get_ydata()) == [truth.objective] * 2
    crossing = lines["reaches it at step 5"]
    assert crossing.get_linestyle() == ":" and list(crossing.get_xdata()) == [5, 5]
    sharp = {line.get_label(): line for line in fig.axes[9].get_lines()}
    assert sharp["ground truth (0.3000)"].get_linestyle() == "--"
    assert list(sharp["snapshots"].get_ydata()) == truth.snapshot_sharpness
    assert list(fig.axes[10].get_lines()[0].get_ydata()) == truth.psnr
    assert list(fig.axes[11].get_lines()[0].get_ydata()) == truth.dsd_distance
    fig.savefig(tmp_path / "fig12.png", dpi=50)


def test_plot_dsd_minimization_without_truth_has_no_reference_lines(trajectory):
    fig = plot_dsd_minimization(trajectory, steps=(0, 30))
    assert not any("ground truth" in line.get_label() for ax in fig.axes for line in ax.get_lines())
    assert not any("sharpness" in ax.get_title() for ax in fig.axes)  # drawing computes nothing: none given
    given = plot_dsd_minimization(trajectory, steps=(0, 30), sharpness={0: 0.125})
    assert given.axes[0].get_title().endswith("\nsharpness 0.1250") and "sharpness" not in given.axes[2].get_title()


def test_viewer_with_truth(trajectory, truth):
    viewer = TrajectoryViewer(trajectory, truth=truth)
    assert bytes(viewer.truth_image.value).startswith(b"\x89PNG")
    assert viewer.displayed["psnr"] == 20.0 and "sharpness 0.2000 (ground truth 0.3000)" in viewer.label.value
    viewer.slider.value = 25
    at = truth.steps.index(25)
    assert viewer.displayed["psnr"] == truth.psnr[at] and viewer.displayed["dsd_distance"] == truth.dsd_distance[at]
    assert len(viewer._figure.axes) == 4 and all(list(c.get_xdata()) == [25, 25] for c in viewer._cursors)
    assert "ground truth" not in TrajectoryViewer(trajectory).label.value


def test_plot_lr_sweep(trajectory, truth, tmp_path):
    rows = [SimpleNamespace(lr=lr, trajectory=trajectory, truth=truth) for lr in (1e-3, 1e-2)]
    fig = plot_lr_sweep(rows)
    sharp, objective = fig.axes
    labels = [line.get_label() for line in objective.get_lines()]
    assert labels == ["lr 0.001", "lr 0.01", "ground truth"]
    assert objective.get_lines()[-1].get_linestyle() == "--" and sharp.get_lines()[-1].get_linestyle() == "--"
    assert list(sharp.get_lines()[-1].get_ydata()) == [0.3, 0.3]
    fig.savefig(tmp_path / "sweep.png", dpi=50)
