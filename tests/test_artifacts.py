"""Grid-artifact measure on synthetic images with and without a periodic pattern."""

from __future__ import annotations

import pytest
import torch

from dsdviz.artifacts import grid_artifact_score
from dsdviz.resize import downscale, imresize


def _smooth_image(rng: torch.Generator, size: int = 192) -> torch.Tensor:
    """A natural-looking test image: random low-frequency colour field plus fine noise."""
    coarse = torch.rand(1, 3, size // 16, size // 16, generator=rng, dtype=torch.float64)
    field = imresize(coarse, size=(size, size)).clamp(0, 1)
    return (0.8 * field + 0.1 + 0.02 * torch.rand(field.shape, generator=rng, dtype=torch.float64)).clamp(0, 1)


def _grid(size: int, period: int, amplitude: float, phase: int = 0) -> torch.Tensor:
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    lines = (((yy + phase) % period) == 0) | (((xx + phase) % period) == 0)
    return amplitude * lines.to(torch.float64).expand(1, 3, size, size)


def test_clean_restoration_scores_near_zero_and_grid_scores_high(rng):
    truth = _smooth_image(rng)
    clean = imresize(downscale(truth, 4), scale=4).clamp(0, 1)
    clean_score = grid_artifact_score(clean, truth).score_db
    gridded = (clean + _grid(192, 4, 0.01)).clamp(0, 1)
    grid_score = grid_artifact_score(gridded, truth).score_db
    assert abs(clean_score) < 3
    assert grid_score > clean_score + 8


def test_score_grows_with_amplitude_and_ignores_phase(rng):
    truth = _smooth_image(rng)
    restored = imresize(downscale(truth, 4), scale=4)
    amplitudes = (0.002, 0.01, 0.05)
    scores = [grid_artifact_score((restored + _grid(192, 4, a)).clamp(0, 1), truth).score_db for a in amplitudes]
    assert scores[0] < scores[1] < scores[2]
    shifted = grid_artifact_score((restored + _grid(192, 4, 0.01, phase=2)).clamp(0, 1), truth).score_db
    assert shifted == pytest.approx(scores[1], abs=1.0)


def test_period_two_pattern_is_seen_at_the_nyquist_frequencies(rng):
    truth = _smooth_image(rng)
    result = grid_artifact_score((truth + _grid(192, 2, 0.01)).clamp(0, 1), truth, period=2)
    assert set(result.ratios) == {(0, 1), (1, 0), (1, 1)}
    assert min(result.ratios.values()) > 10


def test_white_noise_error_has_no_grid(rng):
    truth = _smooth_image(rng)
    noisy = (truth + 0.02 * torch.randn(truth.shape, generator=rng, dtype=torch.float64)).clamp(0, 1)
    assert abs(grid_artifact_score(noisy, truth).score_db) < 3


def test_no_reference_mode_detects_the_pattern(rng):
    truth = _smooth_image(rng)
    gridded = (truth + _grid(192, 4, 0.01)).clamp(0, 1)
    assert grid_artifact_score(gridded).score_db > grid_artifact_score(truth).score_db + 8


def test_identical_images_score_zero(rng):
    truth = _smooth_image(rng)
    assert grid_artifact_score(truth, truth).score_db == 0


def test_errors(rng):
    truth = _smooth_image(rng)
    with pytest.raises(ValueError, match="too small"):
        grid_artifact_score(truth[..., :40, :40])
    with pytest.raises(ValueError, match="expected shape"):
        grid_artifact_score(truth, truth[..., :96])
    with pytest.raises(ValueError, match="at least 2"):
        grid_artifact_score(truth, period=1)
    with pytest.raises(ValueError, match="batch 1"):
        grid_artifact_score(truth.expand(2, -1, -1, -1))
