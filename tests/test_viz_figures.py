"""The figures say what they show and can be read: titles, axis labels, panel captions, parameter counts,
and no text smaller than 10 px at the resolution they are saved at (the README shows them at that size)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from matplotlib.text import Text

from dsdviz.experiments.noref import regressor_fit
from dsdviz.fingerprint import fingerprint_table
from dsdviz.models import dsd_regressor, network_caption, regressors_caption, xsrresnet_deblur, xsrresnet_sr
from dsdviz.optimize import optimize_image
from dsdviz.viz.compare import Panel
from dsdviz.viz.fingerprints import plot_fingerprints, spread_by_norm
from dsdviz.viz.optimization import curve_label, plot_dsd_minimization, plot_fingerprint_matching, value_label
from dsdviz.viz.training import plot_losses, plot_q_dsd, plot_regressor_fit, plot_restorations, plot_validation

MIN_TEXT_PX = 10


def texts(fig: Figure) -> list[Text]:
    """Every visible, non-empty text of a drawn figure (titles, labels, ticks, legends, colour bars)."""
    fig.canvas.draw()
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip() and t.get_figure() is fig]


def assert_legible(fig: Figure, dpi: float | None = None) -> None:
    """No text is smaller than :data:`MIN_TEXT_PX` pixels when the figure is saved at ``dpi`` (default: its own)."""
    dpi = fig.dpi if dpi is None else dpi
    small = sorted({(t.get_text(), round(t.get_fontsize() * dpi / 72, 1)) for t in texts(fig)
                    if t.get_fontsize() * dpi / 72 < MIN_TEXT_PX})  # fmt: skip
    assert not small, f"texts under {MIN_TEXT_PX} px: {small[:8]}"


def suptitle(fig: Figure) -> str:
    """The figure's title, its lines (wrapped to the figure's width) joined by spaces."""
    assert fig._suptitle is not None, "the figure has no title"
    return " ".join(fig._suptitle.get_text().split())


@pytest.fixture
def run(rng):
    start = torch.rand(1, 3, 24, 24, generator=rng)
    goal = torch.rand(1, 3, 24, 24, generator=rng)

    def objective(x):
        terms = {f"dsd/relu{i}_1": (x[:, i] - goal[:, i]).abs().mean() for i in range(3)}
        return {"objective": torch.stack(list(terms.values())).mean(), **terms}

    settings = {"objective": "minimise ||DSD_4(x)||_1"}
    return optimize_image(start, objective, steps=12, lr=0.02, settings=settings, progress=False)


def test_dsd_minimization_figure_is_labelled_and_legible(run):
    fig = plot_dsd_minimization(run, steps=(0, 2, 12))
    title = suptitle(fig)
    assert "12 steps" in title and "lr 0.02" in title and r"\mathrm{DSD}_{4}" in title
    curves = fig.axes[-1]
    assert curves.get_xlabel().startswith("step") and "DSD" in curves.get_ylabel()
    assert [t.get_text() for t in curves.get_legend().get_texts()] == ["objective", "relu0_1", "relu1_1", "relu2_1"]
    assert [int(t.get_text()) for t in curves.get_xticklabels()] == [0, 1, 2, 5, 12]
    assert fig.axes[1].get_ylabel() == "yellow box, enlarged"  # the first column's crop
    assert_legible(fig)


def test_fingerprint_matching_figure_is_labelled_and_legible(run, rng):
    content, reference = torch.rand(1, 3, 24, 24, generator=rng), torch.rand(1, 3, 24, 24, generator=rng)
    distances = {"content": {"DSD_2(x)": 0.1}, "DSD_2(x)": {"DSD_2(x)": 0.01}}
    fig = plot_fingerprint_matching(content, reference, {"style x1": run, "DSD_2(x)": run}, distances=distances)
    assert "12 Adam steps each" in suptitle(fig) and "distance" in suptitle(fig)
    assert fig.axes[0].get_ylabel() == "image" and fig.get_size_inches()[0] * fig.dpi <= 910
    assert_legible(fig)


def test_history_labels():
    assert curve_label("dsd/relu1_2") == "relu1_2" and curve_label("distance/relu3_1") == "relu3_1"
    assert curve_label("style@2/relu2_1") == "relu2_1 at 1/2" and curve_label("style@1/relu2_1") == "relu2_1"
    assert curve_label("objective") == "objective"
    assert "DSD" in value_label(["objective", "dsd/relu1_2"])
    assert value_label(["objective", "distance/relu1_2"]) == "distance to the reference's DSD"
    assert value_label(["objective", "style@2/relu1_2"]) == "distance to the reference's Gram"


def test_spread_by_norm_spans_the_range():
    rows = [{"image": name, "alpha": a, "mean": value * a}
            for name, value in zip("abcdefg", (5, 1, 7, 3, 2, 6, 4)) for a in (2, 4)]  # fmt: skip
    assert spread_by_norm(rows, 2, 3) == ["b", "g", "c"]  # lowest, median, highest
    assert spread_by_norm(rows, 4, 10) == list("bedgafc")  # all, sorted


def test_fingerprints_figure_is_labelled_and_legible(vgg_weights, rng):
    images = {f"im{i}": torch.rand(1, 3, 48, 48, generator=rng) * (i + 1) / 4 for i in range(4)}
    table = fingerprint_table(images)
    fig = plot_fingerprints(images, table, heatmap_channels=32)
    assert "fingerprints" in suptitle(fig)
    titles = [ax.get_title() for ax in fig.axes]
    assert sum("channels 1-32 of 128" in t for t in titles) == 3  # three heat-map rows at relu2_1
    assert sum("channels 1-32 of 256" in t for t in titles) == 3  # and at relu3_1
    assert fig.axes[0].get_xlabel() == "VGG19 layer l" and "DSD" in fig.axes[0].get_ylabel()
    assert_legible(fig)
    with pytest.raises(ValueError, match="heatmap_alpha 3"):
        plot_fingerprints(images, table, heatmap_alpha=3)


def test_network_captions():
    assert network_caption(xsrresnet_sr()) == "xSRResNet 4x, 1,111,299 parameters"
    assert network_caption(xsrresnet_deblur()) == "xSRResNet deblurring, 815,875 parameters"
    assert network_caption(dsd_regressor(alpha=4)) == "DSD regressor psi_4, 745,508 parameters"


def test_validation_curves_are_labelled_and_legible():
    history = [{"step": s, "split": "val", "rel_relu1_2": 0.5 - s / 4000, "rel_relu3_1": 0.3}
               for s in range(0, 1001, 250)] + [{"step": 10, "split": "train", "loss": 1.0}]  # fmt: skip
    metrics = {"rel_relu1_2": "relu1_2", "rel_relu3_1": "relu3_1", "rel_absent": "absent"}
    fig = plot_validation({"psi_2": history, "psi_4": history}, metrics, goal=0.15, title="relative validation error",
                          ylabel="error")  # fmt: skip
    first = fig.axes[0]
    assert [line.get_label() for line in first.get_lines()] == ["relu1_2", "relu3_1", "goal 0.15"]
    assert list(first.get_lines()[0].get_xdata()) == [0, 250, 500, 750, 1000]  # the "val" entries only
    assert suptitle(fig) == "relative validation error" and first.get_xlabel() == "training step"
    assert first.get_ylabel() == "error" and fig.axes[1].get_ylabel() == ""
    assert_legible(fig)


def test_training_figures_are_labelled_and_legible(vgg_weights, rng):
    history = [{"step": s, "split": "train", "loss": 1 / s, "l1": 0.5 / s} for s in range(1, 30)]
    losses = plot_losses({"stage 1 (L1)": history}, title="Training xSRResNet 4x")
    assert suptitle(losses).startswith("Training xSRResNet 4x faint:") and "running mean" in suptitle(losses)
    assert losses.axes[0].get_ylabel() and losses.axes[0].get_xlabel() == "training step"
    assert_legible(losses)

    panels = [Panel(name, torch.rand(1, 3, 40, 40, generator=rng), caption=f"{db} dB")
              for name, db in (("blurred input", 20), ("stage 1", 21), ("stage 2", 22))]  # fmt: skip
    panels.append(Panel("ground truth", torch.rand(1, 3, 40, 40, generator=rng)))
    networks = [network_caption(xsrresnet_deblur())] * 2
    restorations = plot_restorations([("noise", panels)], networks, shave=0, crop=32)
    assert suptitle(restorations).startswith("xSRResNet deblurring, 815,875 parameters central 32 px crops")
    assert "(shave 0 px)" in suptitle(restorations) and restorations.axes[0].images[0].get_array().shape[:2] == (32, 32)
    assert [ax.get_title() for ax in restorations.axes] == [
        "noise: blurred input\n20 dB", "stage 1\n21 dB", "stage 2\n22 dB", "ground truth"]  # fmt: skip
    assert_legible(restorations)

    regressor = dsd_regressor(alpha=2)
    versions = ("natural", "blurred", "gaussian 2 px")
    rows = [{"image": f"{i}", "version": v, "q_dsd_a2": float(q)}
            for i, q in enumerate(np.linspace(1e-4, 1e-3, 5)) for v in versions]  # fmt: skip
    scores = plot_q_dsd(rows, regressors_caption([regressor]))
    assert "of 5 natural images" in suptitle(scores)
    assert [t.get_text() for t in scores.axes[0].get_xticklabels()] == ["natural", "blurred", "gaussian\n2 px"]
    assert "regressors psi_2 (745,508 parameters)" in suptitle(scores)
    assert "Q_{2}" in scores.axes[0].get_ylabel()
    assert_legible(scores)

    fit = regressor_fit(regressor, [torch.rand(1, 3, 64, 64, generator=rng) for _ in range(3)])
    assert list(fit) == list(regressor.layers) and all(t.shape == p.shape == (3,) for t, p in fit.values())
    fit = plot_regressor_fit(fit, regressor.alpha, network_caption(regressor), "noise")
    assert suptitle(fit).startswith("DSD regressor psi_2, 745,508 parameters")
    assert "(3 images, noise)" in suptitle(fit)
    assert all(ax.get_xlabel() for ax in fit.axes) and fit.axes[0].get_ylabel()
    assert_legible(fit)


def test_titles_wrap_to_the_figure_width():
    from dsdviz.viz.layout import suptitle as set_title

    narrow, wide = Figure(figsize=(3, 2)), Figure(figsize=(12, 2))
    text = "a title long enough to need more than one line in a narrow figure, but one line in a wide one\nsecond"
    set_title(narrow, text)
    set_title(wide, text)
    assert wide._suptitle.get_text() == text
    lines = narrow._suptitle.get_text().split("\n")
    assert len(lines) > 2 and lines[-1] == "second" and " ".join(lines[:-1]) == text.split("\n")[0]
    narrow.canvas.draw()
    box = narrow._suptitle.get_window_extent()
    assert box.x0 >= 0 and box.x1 <= narrow.bbox.width  # inside the figure
