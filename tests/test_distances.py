"""The fingerprint distances, against explicit loops over the entries of tiny tensors."""

from __future__ import annotations

import pytest
import torch

from dsdviz.distances import (
    feature_distance,
    layer_distances,
    mean_abs_difference,
    multiscale_distance,
    summed_distance,
)
from dsdviz.fingerprint import dsd_of_grams, feature_grams, gram


def gram_by_loops(f: torch.Tensor) -> torch.Tensor:
    """``G[b, i, j] = sum_{y, x} F[b, i, y, x] F[b, j, y, x] / (C H W)``, one entry at a time."""
    batch, channels, height, width = f.shape
    g = torch.zeros(batch, channels, channels, dtype=torch.float64)
    for b in range(batch):
        for i in range(channels):
            for j in range(channels):
                total = sum(float(f[b, i, y, x]) * float(f[b, j, y, x]) for y in range(height) for x in range(width))
                g[b, i, j] = total / (channels * height * width)
    return g


def l1_by_loops(a: torch.Tensor, b: torch.Tensor) -> list[float]:
    """Mean absolute difference per item, summing entries one by one."""
    return [sum(abs(float(u) - float(v)) for u, v in zip(a[i].flatten(), b[i].flatten())) / a[i].numel()
            for i in range(a.shape[0])]  # fmt: skip


@pytest.fixture
def features(rng) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    shapes = {"relu1_2": (2, 3, 4, 5), "relu2_1": (2, 4, 2, 3)}
    mine = {name: torch.randn(shape, generator=rng, dtype=torch.float64) for name, shape in shapes.items()}
    target = {name: torch.randn(shape, generator=rng, dtype=torch.float64) for name, shape in shapes.items()}
    return mine, target


def test_gram_equals_the_definition(features):
    f = features[0]["relu1_2"]
    torch.testing.assert_close(gram(f), gram_by_loops(f))


def test_style_distance_equals_loops(features):
    mine, target = features
    layers = tuple(mine)
    ours = summed_distance(feature_grams(mine), feature_grams(target), layers)
    expected = [sum(l1_by_loops(gram_by_loops(mine[n]), gram_by_loops(target[n]))[b] for n in layers) for b in range(2)]
    assert ours.shape == (2,)
    torch.testing.assert_close(ours, torch.tensor(expected, dtype=torch.float64))
    per_layer = layer_distances(feature_grams(mine), feature_grams(target), layers)
    torch.testing.assert_close(per_layer["relu2_1"], torch.tensor(l1_by_loops(
        gram_by_loops(mine["relu2_1"]), gram_by_loops(target["relu2_1"])), dtype=torch.float64))  # fmt: skip


def test_dsd_distance_equals_loops(features, rng):
    mine, target = features
    layers = tuple(mine)
    coarse = {n: torch.randn(f.shape[0], f.shape[1], 2, 2, generator=rng, dtype=torch.float64) for n, f in mine.items()}
    their_coarse = {n: torch.randn(c.shape, generator=rng, dtype=torch.float64) for n, c in coarse.items()}
    mine_dsd = dsd_of_grams(feature_grams(mine), feature_grams(coarse), alpha=2)
    their_dsd = dsd_of_grams(feature_grams(target), feature_grams(their_coarse), alpha=2)
    expected = [
        sum(l1_by_loops(gram_by_loops(mine[n]) - gram_by_loops(coarse[n]),
                        gram_by_loops(target[n]) - gram_by_loops(their_coarse[n]))[b] for n in layers)
        for b in range(2)
    ]  # fmt: skip
    torch.testing.assert_close(
        summed_distance(mine_dsd.matrices, their_dsd.matrices, layers), torch.tensor(expected, dtype=torch.float64)
    )
    torch.testing.assert_close(mine_dsd.distance(their_dsd)["mean"], torch.tensor(expected, dtype=torch.float64) / 2)


def test_multiscale_sums_scales_and_features_compare_maps(features):
    mine, target = features
    layers = tuple(mine)
    swapped = {name: f.flip(-1) for name, f in target.items()}
    both = multiscale_distance([mine, target], [target, swapped], layers)
    torch.testing.assert_close(both, summed_distance(mine, target, layers) + summed_distance(target, swapped, layers))
    torch.testing.assert_close(
        feature_distance(mine, target, "relu2_1"),
        torch.tensor(l1_by_loops(mine["relu2_1"], target["relu2_1"]), dtype=torch.float64),
    )
    with pytest.raises(ValueError, match="as many target scales"):
        multiscale_distance([mine], [target, target], layers)


def test_batch_pooling_and_broadcasting(rng):
    a = torch.rand(4, 8, 8, generator=rng, dtype=torch.float64)
    b = torch.rand(1, 8, 8, generator=rng, dtype=torch.float64)
    per_item = mean_abs_difference(a, b)
    assert per_item.shape == (4,)
    torch.testing.assert_close(per_item[2], mean_abs_difference(a[2:3], b)[0])
    torch.testing.assert_close(mean_abs_difference(a, b.expand(4, -1, -1), per_item=False), per_item.mean())
    assert mean_abs_difference(a, a).abs().max() == 0


def test_half_precision_features_give_float32_grams_and_distances(rng):
    mine = {"relu1_2": torch.randn(2, 8, 6, 6, generator=rng).bfloat16()}
    target = {"relu1_2": torch.randn(2, 8, 6, 6, generator=rng).bfloat16()}
    grams_mine, grams_target = feature_grams(mine), feature_grams(target)
    assert grams_mine["relu1_2"].dtype == torch.float32
    # the product of the bfloat16 values is accumulated in float32: equal to float32 features' Gram
    torch.testing.assert_close(grams_mine["relu1_2"], gram(mine["relu1_2"].float()), rtol=0, atol=0)
    distance = summed_distance(grams_mine, grams_target, ["relu1_2"])
    assert distance.dtype == torch.float32 and distance.shape == (2,)
    assert feature_distance(mine, target, "relu1_2").dtype == torch.float32
    assert mean_abs_difference(mine["relu1_2"].half(), target["relu1_2"].half()).dtype == torch.float32
    # autocast does not lower the Gram product either
    features = torch.randn(2, 8, 6, 6, generator=rng)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        inside = gram(features)
    assert inside.dtype == torch.float32
    torch.testing.assert_close(inside, gram(features), rtol=0, atol=0)


def test_half_precision_gram_gradient_reaches_the_features(rng):
    f = torch.randn(1, 4, 3, 3, generator=rng).bfloat16().requires_grad_()
    gram(f).sum().backward()
    assert f.grad is not None and f.grad.dtype == torch.bfloat16 and f.grad.abs().sum() > 0
