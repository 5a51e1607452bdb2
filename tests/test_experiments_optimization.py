"""The Fig. 11/12 experiments (fingerprint matching, DSD minimisation) and the figure registry's recipes."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from dsdviz.data import Box, load_input
from dsdviz.experiments.dsd_minimization import (
    TRUTH_SHAVE,
    DSDMinimizationSetup,
    crossing_step,
    fig12_lr_sweep,
    load_truth,
    lr_sweep,
    run_dsd_minimization,
    truth_path,
    versus_truth,
)
from dsdviz.experiments.fingerprint_matching import (
    FingerprintMatchingSetup,
    matching_distances,
    run_fingerprint_matching,
)
from dsdviz.experiments.fingerprints import fingerprint_images
from dsdviz.experiments.settings import SMOKE_ENV, SMOKE_SIZE, SMOKE_STEPS
from dsdviz.features import LAYER_PRESETS
from dsdviz.figures import FIGURES
from dsdviz.fingerprint import dsd
from dsdviz.metrics import dsd_distance, psnr, ssim
from dsdviz.sharpness import mean_gradient_magnitude


def test_recipes_are_registered_in_the_experiments():
    for recipe in FIGURES.values():
        assert recipe.target.startswith("dsdviz.experiments.") and callable(recipe.load())


def test_setups_run_small(vgg_weights, shared_data):
    small = FingerprintMatchingSetup(crop=32, steps=2, lr=1e-2, style_scales=(2,), dsd_scales=((1, 2),))
    content, reference, results = run_fingerprint_matching(small, device="cpu", progress=False)
    assert list(results) == ["style x1/2", "DSD_2(x)"] and content.shape == (1, 3, 32, 32)
    distances = matching_distances(content, reference, results, small)
    assert distances["DSD_2(x)"]["DSD_2(x)"] < distances["content"]["DSD_2(x)"]
    tiny = DSDMinimizationSetup(crop=Box.square(0, 280, 32), steps=3, lr=1e-2, shown=(0, 2, 3))
    result = run_dsd_minimization(tiny, device="cpu", progress=False)
    assert result.steps == [0, 1, 2, 3] and result.start.shape == (1, 3, 32, 32)
    assert torch.equal(result.start, load_input(tiny.image, tiny.crop))


@pytest.mark.parametrize("setup", [FingerprintMatchingSetup, DSDMinimizationSetup])
def test_quick_setups_shrink_to_the_smoke_size_only_when_asked(setup, monkeypatch):
    monkeypatch.delenv(SMOKE_ENV, raising=False)
    assert setup.quick().steps > SMOKE_STEPS
    monkeypatch.setenv(SMOKE_ENV, "1")
    small = setup.quick()
    assert small.steps == SMOKE_STEPS and SMOKE_SIZE in (small.crop if isinstance(small.crop, Box) else (small.crop,))
    assert max(getattr(small, "shown", (0,))) <= SMOKE_STEPS and setup.full() == setup()


def test_fingerprint_images_at_the_smoke_size(monkeypatch):
    monkeypatch.setenv(SMOKE_ENV, "1")
    (image,) = fingerprint_images(True).values()
    assert image.shape == (1, 3, SMOKE_SIZE, SMOKE_SIZE)


def test_truth_path_maps_sr_results_to_the_hr_folder():
    assert truth_path("sr_results/ESRGAN/Set14/baboon.png") == Path("Set14/HR/baboon.png")
    assert truth_path("/data/sr_results/RCAN/Set5/bird.png") == Path("/data/Set5/HR/bird.png")
    assert truth_path("Set14/HR/baboon.png") is None and truth_path("sr_results/ESRGAN/baboon.png") is None


def test_load_truth_crops_like_the_start(shared_data):
    setup = DSDMinimizationSetup(crop=Box.square(0, 300, 32))
    truth = load_truth(setup)
    assert torch.equal(truth, load_input("Set14/HR/baboon.png", Box.square(0, 300, 32)))
    assert load_truth(DSDMinimizationSetup(image="Set14/HR/baboon.png", crop=32)) is None


@pytest.mark.parametrize(
    ("values", "level", "expected"),
    [([3, 2, 1, 0], 1.5, 2), ([3, 2, 1.5, 0], 1.5, 2), ([1, 2, 3], 2, 1), ([1, 0.5, 0.2], 2, None), ([2, 1], 2, None)],
)
def test_crossing_step(values, level, expected):
    assert crossing_step(values, level) == expected
    assert crossing_step(torch.tensor(values, dtype=torch.float64), level) == expected


def test_versus_truth_at_snapshot_0_equals_the_metrics_of_the_start(vgg_weights, shared_data):
    setup = DSDMinimizationSetup(crop=Box.square(0, 280, 48), steps=3, lr=1e-2, shown=(0, 3))
    trajectory = run_dsd_minimization(setup, device="cpu", progress=False)
    truth = load_truth(setup)
    levels = versus_truth(trajectory, truth)
    start = trajectory.start
    assert levels.steps == trajectory.steps and len(levels.psnr) == len(levels.dsd_distance) == 4
    assert levels.psnr[0] == pytest.approx(float(psnr(start, truth, shave=TRUTH_SHAVE)[0]), abs=1e-9)
    assert levels.ssim[0] == pytest.approx(float(ssim(start, truth, shave=TRUTH_SHAVE)[0]), abs=1e-9)
    assert levels.dsd_distance[0] == pytest.approx(float(dsd_distance(start, truth)["mean"][0]), rel=1e-5)
    assert levels.snapshot_sharpness[0] == pytest.approx(float(mean_gradient_magnitude(start)[0]))
    level = dsd(truth, 4, LAYER_PRESETS["dsd"]).norms()["mean"]
    assert levels.objective == pytest.approx(float(level[0]), rel=1e-6)
    assert levels.sharpness == pytest.approx(float(mean_gradient_magnitude(truth)[0]))
    assert levels.crossing == crossing_step(trajectory.history["objective"], levels.objective)
    assert levels.psnr[0] < 40 and levels.dsd_distance[0] > 0  # an SR result, not its ground truth


def test_lr_sweep_rows(vgg_weights, shared_data):
    setup = DSDMinimizationSetup(crop=Box.square(0, 280, 32), steps=4, shown=(0, 4))
    rows = lr_sweep(setup, lrs=(1e-3, 3e-2), device="cpu", progress=False)
    assert [row.lr for row in rows] == [1e-3, 3e-2]
    for row in rows:
        assert row.peak_step in row.truth.steps and 0 <= row.peak_step <= 4
        assert row.peak_sharpness == max(row.truth.snapshot_sharpness)
        assert row.truth_sharpness == row.truth.sharpness and row.final_psnr == row.truth.psnr[-1]
        assert row.trajectory.settings["lr"] == row.lr and row.trajectory.steps == [0, 1, 2, 3, 4]
    assert rows[1].trajectory.value("objective", 4) < rows[0].trajectory.value("objective", 4)
    with pytest.raises(ValueError, match="no ground truth"):
        lr_sweep(DSDMinimizationSetup(image="Set14/HR/baboon.png", crop=32, steps=2), lrs=(1e-3,), progress=False)


def test_sweep_recipe_is_registered():
    assert FIGURES["fig12_lr_sweep"].load() is fig12_lr_sweep
