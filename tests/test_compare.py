"""The comparison-figure composer on small images, and saving figures as PNG."""

from __future__ import annotations

import pytest
import torch
from PIL import Image

from dsdviz.data import Box
from dsdviz.viz.compare import Panel, busiest_box, compare_figure, compare_images, compare_rows, zoomed_rows
from dsdviz.viz.layout import save_png


def test_busiest_box_finds_the_textured_region(rng):
    image = torch.full((1, 3, 64, 80), 0.5)
    image[..., 30:46, 50:66] = torch.rand(1, 3, 16, 16, generator=rng)
    assert busiest_box(image, 16) == Box(30, 50, 16, 16)
    with pytest.raises(ValueError, match="larger than the image"):
        busiest_box(image, 100)


def test_compare_figure_layout(rng):
    big = torch.rand(1, 3, 32, 48, generator=rng)
    small = torch.rand(1, 3, 8, 12, generator=rng)
    panels = [Panel("LR", small), Panel("ours", big, params=1_111_299, caption="PSNR 30.1"), Panel("GAN", None)]
    fig = compare_figure(panels, [Box(0, 0, 8, 8), Box(16, 24, 16, 16)], title="test")
    axes = fig.axes
    assert len(axes) == 3 * 3  # one column per panel, one row for the image and one per box
    assert axes[3].get_title() == "ours (1.11M)\nPSNR 30.1"
    # the low-resolution image is enlarged 4x so that the boxes line up
    assert axes[0].images[0].get_array().shape[:2] == (32, 48)
    assert axes[1].images[0].get_array().shape[:2] == (8, 8)
    assert axes[4].images[0].get_array().shape[:2] == (8, 8)
    assert axes[6].texts[0].get_text() == "not available"


def test_compare_figure_errors(rng):
    big = torch.rand(1, 3, 32, 48, generator=rng)
    with pytest.raises(ValueError, match="outside"):
        compare_figure([Panel("a", big)], [Box(30, 0, 8, 8)])
    with pytest.raises(ValueError, match="integer factor"):
        compare_figure([Panel("a", big), Panel("b", big[..., :20, :30])])
    with pytest.raises(ValueError, match="at least one panel"):
        compare_figure([])


def test_compare_images_zooms_on_the_most_detailed_region(rng):
    flat = torch.full((1, 3, 32, 32), 0.5)
    flat[..., 8:24, 16:32] = torch.rand(1, 3, 16, 16, generator=rng)
    fig = compare_images({"a": flat, "b": None}, params={"a": 1_111_299}, captions={"a": "30 dB"}, zoom=16, title="t")
    assert [ax.get_title() for ax in fig.axes[::2]] == ["a (1.11M)\n30 dB", "b"]
    assert fig.axes[0].patches[0].get_xy() == (15.5, 7.5)  # the box on the textured 16 px square
    with pytest.raises(ValueError, match="every image is missing"):
        compare_images({"a": None})


def test_zoomed_rows_boxes_the_reference_and_adds_the_note(rng):
    truth = torch.full((1, 3, 24, 24), 0.5)
    truth[..., :8, :8] = torch.rand(1, 3, 8, 8, generator=rng)
    rows = {"row": [Panel("ours", torch.rand(1, 3, 24, 24, generator=rng)), Panel("truth", truth)]}
    fig = zoomed_rows(rows, "title", zoom=8, note="quick mode")
    assert fig._suptitle.get_text() == "title\nquick mode" and fig.subfigs[0]._suptitle.get_text() == "row"
    assert fig.subfigs[0].axes[0].patches[0].get_xy() == (-0.5, -0.5)
    assert zoomed_rows(rows, "title", zoom=8)._suptitle.get_text() == "title"
    long = zoomed_rows(rows, "title", zoom=8, note=" ".join(["xsrresnet5_sr_x4_style_cpu 300 steps (5 min),"] * 12))
    lines = long._suptitle.get_text().split("\n")
    assert len(lines) > 3 and max(map(len, lines)) < 12 * 46 / 3  # wrapped to the figure's width
    assert long.get_figheight() > fig.get_figheight()  # and the figure grows to hold it


def test_save_png_writes_rgb_or_a_256_colour_palette(tmp_path, rng):
    fig = compare_rows([("row", [Panel("a", torch.rand(1, 3, 32, 32, generator=rng))], [])])
    full = Image.open(save_png(fig, tmp_path / "full.png", dpi=50))
    small = Image.open(save_png(fig, tmp_path / "small.png", dpi=50, palette=True))
    assert (full.mode, small.mode) == ("RGB", "P") and full.size == small.size
    assert len(small.getcolors(256)) <= 256


def test_compare_rows_stacks_comparisons_of_different_widths(rng):
    big = torch.rand(1, 3, 32, 48, generator=rng)
    first = [Panel("a", big), Panel("b", big), Panel("c", None)]
    second = [Panel("d", big[..., :16, :16]), Panel("e", torch.rand(1, 3, 4, 4, generator=rng))]
    fig = compare_rows([("row one", first, [Box(0, 0, 8, 8)]), ("row two", second, [])], title="both", panel_width=2.0)
    assert fig.get_figwidth() == pytest.approx(6.0)  # as wide as the widest row
    assert [sub._suptitle.get_text() for sub in fig.subfigs] == ["row one", "row two"]
    assert len(fig.subfigs[0].axes) == 3 * 2 and len(fig.subfigs[1].axes) == 2
    assert fig.subfigs[1].axes[1].images[0].get_array().shape[:2] == (16, 16)  # 4x enlarged to line up
    assert fig._suptitle.get_text() == "both"
    with pytest.raises(ValueError, match="at least one row"):
        compare_rows([])
