"""The comparison-figure composer on small images and folders."""

from __future__ import annotations

import pytest
import torch

from dsdviz.images import save_image
from dsdviz.viz.compare import Panel, busiest_box, compare_figure, compare_folders, compare_rows, format_params


def test_busiest_box_finds_the_textured_region(rng):
    image = torch.full((1, 3, 64, 80), 0.5)
    image[..., 30:46, 50:66] = torch.rand(1, 3, 16, 16, generator=rng)
    assert busiest_box(image, 16) == (30, 50, 16, 16)
    with pytest.raises(ValueError, match="larger than the image"):
        busiest_box(image, 100)


def test_format_params():
    assert format_params(1_111_299) == "1.11M"
    assert format_params(815_875) == "0.82M"
    assert format_params(60_930_000) == "60.9M"
    assert format_params(40_000) == "40.0K"


def test_compare_figure_layout(rng):
    big = torch.rand(1, 3, 32, 48, generator=rng)
    small = torch.rand(1, 3, 8, 12, generator=rng)
    panels = [Panel("LR", small), Panel("ours", big, params=1_111_299, caption="PSNR 30.1"), Panel("GAN", None)]
    fig = compare_figure(panels, [(0, 0, 8, 8), (16, 24, 16, 16)], title="test")
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
        compare_figure([Panel("a", big)], [(30, 0, 8, 8)])
    with pytest.raises(ValueError, match="integer factor"):
        compare_figure([Panel("a", big), Panel("b", big[..., :20, :30])])
    with pytest.raises(ValueError, match="at least one panel"):
        compare_figure([])


def test_compare_folders(tmp_path, rng):
    for method in ("a", "b"):
        save_image(torch.rand(1, 3, 32, 32, generator=rng), tmp_path / method / "img.png")
    (tmp_path / "c").mkdir()
    fig = compare_folders({"a": tmp_path / "a", "b": tmp_path / "b", "c": tmp_path / "c"}, "img", zoom=16)
    assert [ax.get_title() for ax in fig.axes[::2]] == ["a", "b", "c"]
    with pytest.raises(ValueError, match="no folder holds"):
        compare_folders({"c": tmp_path / "c"}, "img")


def test_compare_rows_stacks_comparisons_of_different_widths(rng):
    big = torch.rand(1, 3, 32, 48, generator=rng)
    first = [Panel("a", big), Panel("b", big), Panel("c", None)]
    second = [Panel("d", big[..., :16, :16]), Panel("e", torch.rand(1, 3, 4, 4, generator=rng))]
    fig = compare_rows([("row one", first, [(0, 0, 8, 8)]), ("row two", second, [])], title="both", panel_width=2.0)
    assert fig.get_figwidth() == pytest.approx(6.0)  # as wide as the widest row
    assert [sub._suptitle.get_text() for sub in fig.subfigs] == ["row one", "row two"]
    assert len(fig.subfigs[0].axes) == 3 * 2 and len(fig.subfigs[1].axes) == 2
    assert fig.subfigs[1].axes[1].images[0].get_array().shape[:2] == (16, 16)  # 4x enlarged to line up
    assert fig._suptitle.get_text() == "both"
    with pytest.raises(ValueError, match="at least one row"):
        compare_rows([])
