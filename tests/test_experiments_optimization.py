"""The Fig. 11/12 experiments (fingerprint matching, DSD minimisation) and the figure registry's recipes."""

from __future__ import annotations

import pytest
import torch

from dsdviz.experiments.dsd_minimization import DSDMinimizationSetup, run_dsd_minimization
from dsdviz.experiments.fingerprint_matching import (
    FingerprintMatchingSetup,
    matching_distances,
    run_fingerprint_matching,
)
from dsdviz.experiments.fingerprints import fingerprint_images
from dsdviz.experiments.settings import SMOKE_ENV, SMOKE_SIZE, SMOKE_STEPS
from dsdviz.experiments.test_sets import load_input
from dsdviz.figures import FIGURES


def test_recipes_are_registered_in_the_experiments():
    for recipe in FIGURES.values():
        assert recipe.target.startswith("dsdviz.experiments.") and callable(recipe.load())


def test_setups_run_small(vgg_weights, shared_data):
    small = FingerprintMatchingSetup(crop=32, steps=2, lr=1e-2, style_scales=(2,), dsd_scales=((1, 2),))
    content, reference, results = run_fingerprint_matching(small, device="cpu", progress=False)
    assert list(results) == ["style x1/2", "DSD_2(x)"] and content.shape == (1, 3, 32, 32)
    distances = matching_distances(content, reference, results, small)
    assert distances["DSD_2(x)"]["DSD_2(x)"] < distances["content"]["DSD_2(x)"]
    tiny = DSDMinimizationSetup(crop=(0, 280, 32), steps=3, lr=1e-2, shown=(0, 2, 3))
    result = run_dsd_minimization(tiny, device="cpu", progress=False)
    assert result.steps == [0, 1, 2, 3] and result.start.shape == (1, 3, 32, 32)
    assert torch.equal(result.start, load_input(tiny.image, tiny.crop))


@pytest.mark.parametrize("setup", [FingerprintMatchingSetup, DSDMinimizationSetup])
def test_quick_setups_shrink_to_the_smoke_size_only_when_asked(setup, monkeypatch):
    monkeypatch.delenv(SMOKE_ENV, raising=False)
    assert setup.quick().steps == 60
    monkeypatch.setenv(SMOKE_ENV, "1")
    small = setup.quick()
    assert small.steps == SMOKE_STEPS and SMOKE_SIZE in (small.crop if isinstance(small.crop, tuple) else (small.crop,))
    assert max(getattr(small, "shown", (0,))) <= SMOKE_STEPS and setup.full() == setup()


def test_fingerprint_images_at_the_smoke_size(monkeypatch):
    monkeypatch.setenv(SMOKE_ENV, "1")
    (image,) = fingerprint_images(True).values()
    assert image.shape == (1, 3, SMOKE_SIZE, SMOKE_SIZE)
