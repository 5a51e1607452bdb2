"""Spatial Q_DSD maps: the tile grid, coverage and per-pixel averaging, agreement with q_dsd per tile,
a half-blurred image, the overlay figure and ``dsdviz score --map``."""

from __future__ import annotations

import itertools

import matplotlib.pyplot as plt
import pytest
import torch

from dsdviz.cli import main
from dsdviz.data import center_crop, gaussian_blur, load_image, save_image
from dsdviz.metrics import q_dsd
from dsdviz.models import load_model
from dsdviz.metrics import tile_starts
from dsdviz.quality_map import QualityMap, check_tiling, default_tile, min_tile, q_dsd_map
from dsdviz.viz.quality_map import plot_quality_maps


@pytest.fixture(scope="module")
def psi2():
    return load_model("dsd_regressor_a2_cpu")


@pytest.fixture(scope="module")
def psi4():
    return load_model("dsd_regressor_a4_cpu")


def random_map(size: tuple[int, int], tile: int, stride: int, seed: int = 0, alpha: float = 2.0) -> QualityMap:
    """A QualityMap with random tile values (excess in [-0.5, 0.5], Eq. 5 in [0, 1]; no network)."""
    tops, lefts = tile_starts(size[0], tile, stride), tile_starts(size[1], tile, stride)
    values = torch.rand(len(tops), len(lefts), generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return QualityMap({"excess": values - 0.5, "q_dsd": values}, tops, lefts, tile, stride, alpha, size, ("relu1_2",))


def test_tile_starts_reach_the_far_edge():
    assert tile_starts(100, 32).tolist() == [0, 23, 45, 68]  # no stride: the fewest tiles, evenly spread
    assert tile_starts(96, 32).tolist() == [0, 32, 64] and tile_starts(20, 20).tolist() == [0]
    assert tile_starts(70, 32, 12).tolist() == [0, 12, 24, 36, 38]
    assert tile_starts(100, 32, 12).tolist() == [0, 12, 24, 36, 48, 60, 68]
    assert tile_starts(96, 32, 32).tolist() == [0, 32, 64]  # divides: no extra tile
    assert tile_starts(32, 32, 8).tolist() == [0]


def test_grid_shape_and_keys(regressor, vgg_weights):
    image = torch.rand(1, 3, 70, 100, generator=torch.Generator().manual_seed(0))
    qmap = q_dsd_map(image, regressor, tile=32, stride=12)
    assert qmap.grid_shape == (5, 7) and qmap.size == (70, 100) and (qmap.tile, qmap.stride) == (32, 12)
    assert {"q_dsd", "excess", "relu3_1", "excess_relu1_2", "pred_relu2_2", "true_relu2_1"} <= set(qmap.values)
    assert all(v.shape == (5, 7) and v.dtype == torch.float64 for v in qmap.values.values())
    assert qmap.boxes()[-1, -1].tolist() == [38, 68, 70, 100]
    assert qmap.centres()[0, 0].tolist() == [15.5, 15.5]
    assert qmap.pixel_map("q_dsd").shape == (70, 100)
    assert default_tile(regressor) == 32 and q_dsd_map(image, regressor).stride == 8  # crop 16 * alpha 2, tile / 4


@pytest.mark.parametrize("size, tile, stride", [((70, 100), 32, 12), ((64, 64), 64, 16), ((50, 81), 20, 7)])
def test_every_pixel_covered_and_the_pixel_map_averages_its_tiles(size, tile, stride):
    qmap = random_map(size, tile, stride)
    coverage = qmap.coverage()
    brute = torch.zeros(size, dtype=torch.int64)
    total = torch.zeros(size, dtype=torch.float64)
    for (i, top), (j, left) in itertools.product(enumerate(qmap.tops), enumerate(qmap.lefts)):
        brute[top : top + tile, left : left + tile] += 1
        total[top : top + tile, left : left + tile] += qmap.values["excess"][i, j]
    assert torch.equal(coverage, brute)
    assert int(coverage.min()) >= 1 and int(coverage[0, 0]) == int(coverage[-1, -1]) == 1
    assert torch.allclose(qmap.pixel_map("excess"), total / brute, rtol=1e-12)


def test_pixel_map_leaves_nan_tiles_out():
    qmap = random_map((40, 40), 20, 20)
    qmap.values["excess"][0, 0] = torch.nan
    pixels = qmap.pixel_map("excess")
    assert torch.isnan(pixels[:20, :20]).all() and torch.isfinite(pixels[20:, 20:]).all()
    with pytest.raises(ValueError, match="'excess'"):
        qmap.pixel_map("psnr")


def test_stride_equal_to_tile_gives_q_dsd_of_each_tile(psi2, psi4, vgg_weights):
    image = torch.rand(1, 3, 96, 160, generator=torch.Generator().manual_seed(1))  # a = 2: 2 x 3 tiles, a = 4: 1 x 2
    for psi, tile in ((psi2, 64), (psi4, 96)):
        qmap = q_dsd_map(image, psi, tile=tile, stride=tile, batch_size=4)
        for i, j in itertools.product(range(qmap.grid_shape[0]), range(qmap.grid_shape[1])):
            top, left, bottom, right = qmap.boxes()[i, j].tolist()
            alone = q_dsd(image[..., top:bottom, left:right], psi, per_layer=True)
            for key in ("q_dsd", "excess", "relu2_1", "excess_relu3_1"):
                assert qmap.values[key][i, j].item() == pytest.approx(alone[key].item(), rel=1e-4, abs=1e-9)


def test_bad_tiles_and_images(psi2, psi4):
    image = torch.rand(1, 3, 100, 120)
    assert (min_tile(psi2), min_tile(psi4)) == (15, 29)  # y|a needs 8 px (the regressor's three stride-2 stages)
    with pytest.raises(ValueError, match="at least 15 px"):
        q_dsd_map(image, psi2, tile=14)
    with pytest.raises(ValueError, match="at least 29 px"):
        check_tiling(psi4, 28, None, (100, 120))
    with pytest.raises(ValueError, match="larger than the 100 x 120 image"):
        q_dsd_map(image, psi4, tile=128)
    with pytest.raises(ValueError, match="leave pixels uncovered"):
        q_dsd_map(image, psi2, tile=32, stride=33)
    with pytest.raises(ValueError, match="one image"):
        q_dsd_map(torch.rand(2, 3, 64, 64), psi2)
    with pytest.raises(ValueError, match=r"values in \[0, 1\]"):
        q_dsd_map(image * 255, psi2)
    with pytest.raises(ValueError, match="regressor"):
        q_dsd_map(image, torch.nn.Conv2d(3, 3, 1))


def test_half_blurred_image_shows_on_its_blurred_half(psi2, psi4, shared_data, vgg_weights):
    """A 128 x 192 crop of BSD100 101085, its right half blurred (Gaussian, sigma 4 px, wider than a = 2).

    The signed excess is higher on the blurred half with both shipped regressors (measured: a = 2
    -0.16 sharp vs 0.12 blurred; a = 4 0.03 vs 0.31). Eq. 5 itself ranks the blurred half *better*
    at a = 2 (5.0e-4 sharp vs 4.3e-4 blurred) and worse at a = 4 (9e-4 vs 1.2e-3), as the model card
    says of blur wider than the factor a: psi predicts the low norms of a smooth natural image.
    """
    path = shared_data / "BSD100" / "HR" / "101085.png"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    sharp = center_crop(load_image(path), (128, 192))
    image = torch.cat([sharp[..., :96], gaussian_blur(sharp, 4.0)[..., 96:]], dim=-1)
    means = {}
    for psi in (psi2, psi4):
        qmap = q_dsd_map(image, psi)
        for key in ("excess", "q_dsd"):
            pixels = qmap.pixel_map(key)
            means[key, psi.alpha] = (pixels[:, :96].mean().item(), pixels[:, 96:].mean().item())
    for alpha in (2, 4):
        sharp_half, blurred_half = means["excess", alpha]
        assert blurred_half > sharp_half + 0.1, means
    assert means["q_dsd", 2][1] < means["q_dsd", 2][0], means  # Eq. 5 at a = 2 misses this blur
    assert means["q_dsd", 4][1] > means["q_dsd", 4][0], means


def test_overlay_figure_has_image_maps_and_colour_bars():
    images = {"a": torch.rand(1, 3, 48, 64), "b": torch.rand(1, 3, 48, 64)}
    maps = {"a": [random_map((48, 64), 32, 8), random_map((48, 64), 40, 10, seed=1, alpha=4)],
            "b": [random_map((48, 64), 32, 8, seed=2), random_map((48, 64), 40, 10, seed=3, alpha=4)]}  # fmt: skip
    fig = plot_quality_maps(images, maps, labels=["psi_2", "psi_4"], title="t")
    image_axes = [ax for ax in fig.axes if ax.images]
    bars = [ax for ax in fig.axes if not ax.images]
    assert len(image_axes) == 2 * 5 and len(bars) == 4
    assert [ax.get_title() for ax in image_axes[:5]] == [
        "image", "excess a=2", "Q_DSD a=2 (Eq. 5)", "excess a=4", "Q_DSD a=4 (Eq. 5)",
    ]  # the score registry's labels  # fmt: skip
    assert [ax.get_ylabel() for ax in image_axes[::5]] == ["a", "b"]
    largest = max(maps[row][0].pixel_map("excess").abs().max().item() for row in maps)
    for ax in (image_axes[1], image_axes[6]):  # one colour scale per column, symmetric about 0
        assert ax.images[1].get_clim() == pytest.approx((-largest, largest))
    assert image_axes[2].images[1].get_clim()[0] == 0
    assert all(ax.get_xticks().size == 0 and ax.get_yticks().size == 0 for ax in image_axes)
    assert [len(ax.patches) for ax in image_axes] == [0, 2, 2, 2, 2] * 2  # the tile squares
    caption = fig.get_supxlabel()
    assert "psi_2: tile 32 px, stride 8 px" in caption and "tile 40 px, stride 10 px" in caption
    assert "not per-pixel truth" in caption
    with pytest.raises(ValueError, match="same"):
        plot_quality_maps(images, {"a": maps["a"]})
    plt.close("all")


def test_cli_score_map_writes_png_and_rejects_small_tiles(tmp_path, capsys, vgg_weights):
    path = save_image(torch.rand(1, 3, 96, 112, generator=torch.Generator().manual_seed(2)), tmp_path / "noise.png")
    out = tmp_path / "map.png"
    assert main(["score", str(path), "--map", str(out), "--stride", "48"]) == 0
    assert load_image(out).shape[-1] > 500
    printed = capsys.readouterr().out
    assert "q_dsd_a2" in printed and "q_dsd_a4" in printed and f"wrote {out}" in printed  # the shipped pair
    assert main(["score", str(path), "--map", str(tmp_path / "x.png"), "--tile", "20"]) == 2
    assert "tile must be at least 29 px" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()
    assert main(["score", str(path), "--regressor", "--tile", "64"]) == 2
    assert "give --map too" in capsys.readouterr().err


@pytest.mark.slow  # seconds; make test runs it, make test-fast leaves it out
def test_baboon_maps_recipe_at_the_smoke_size(shared_data, vgg_weights, tmp_path, monkeypatch, psi2, psi4):
    from dsdviz.experiments.quality_maps import BABOON, OURS_MAPPED, baboon_figure, baboon_images, quality_maps_figure
    from dsdviz.figures import FIGURES

    if not all((shared_data / path).is_file() for path in BABOON.values()):
        pytest.skip("Set14 baboon (HR, LR x4) or the ESRGAN result missing from the data folder")
    ours = {"ours (L1 only)": load_model("xsrresnet_sr_x4_psnr_cpu")}
    images = baboon_images(crop=128, ours=ours)
    assert list(images) == ["ground truth", "bicubic", "ESRGAN", "ours (L1 only)"]
    assert all(image.shape == (1, 3, 128, 128) for image in images.values())
    for name in ("bicubic", "ours (L1 only)"):  # aligned: the same crop of baboon
        assert (images[name] - images["ground truth"]).abs().mean() < 0.15
    assert OURS_MAPPED == {"ours (DSD)": "xsrresnet_sr_x4_dsd_cpu"}
    monkeypatch.setenv("DSDVIZ_SMOKE", "1")
    fig = baboon_figure(True, [psi2, psi4], {"ours (L1 only)": "xsrresnet_sr_x4_psnr_cpu"})
    image_axes = [ax for ax in fig.axes if ax.images]
    assert len(image_axes) == 4 * 5  # four rows: image, then excess and Eq. 5 per regressor
    assert [ax.get_ylabel() for ax in image_axes[::5]] == ["ground truth", "bicubic", "ESRGAN", "ours (L1 only)"]
    assert "ours (L1 only) = shipped xsrresnet_sr_x4_psnr_cpu" in fig.get_suptitle().replace("\n", " ")
    plt.close(fig)
    assert FIGURES["quality_maps"].load() is quality_maps_figure
    [path] = quality_maps_figure(True, tmp_path)
    assert path.name == "quality_maps.png" and load_image(path).shape[-1] > 900
