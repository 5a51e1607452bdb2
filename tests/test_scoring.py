"""The Scorer and what uses it: score_image, q_dsd_table/summary."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from dsdviz.metrics import dsd_distance, dsd_distance_to, psnr, q_dsd, reference_dsd, ssim
from dsdviz import scoring
from dsdviz.scoring import Scorer, clear_memo, content_key, q_dsd_summary, q_dsd_table, score_image


def _smooth(rng: torch.Generator, size: int = 48) -> torch.Tensor:
    return F.interpolate(torch.rand(1, 3, 12, 12, generator=rng), size=(size, size), mode="bicubic").clamp(0, 1)


def test_scorer_rows_equal_the_metric_functions(vgg_weights, regressor, rng):
    truth = _smooth(rng)
    outputs = [(truth + 0.03 * torch.randn(truth.shape, generator=rng)).clamp(0, 1), truth.flip(-1)]
    scorer = Scorer([regressor], shave=4, y_channel=True)
    assert scorer.columns() == ["psnr", "ssim", "dsd_distance", "q_dsd_a2", "niqe"]
    assert scorer.columns(full_reference=False) == ["q_dsd_a2", "niqe"]
    scorer.set_reference(truth)
    for output in outputs:
        row = scorer(output)
        assert list(row) == scorer.columns()[:-1]  # niqe: left out under 96 px
        assert row["psnr"] == float(psnr(output, truth, shave=4)[0])
        assert row["ssim"] == float(ssim(output, truth, shave=4)[0])
        assert row["dsd_distance"] == float(dsd_distance(output, truth)["mean"][0])
        assert row["q_dsd_a2"] == float(q_dsd(output, regressor)[0])
        assert score_image(output, truth, [regressor], shave=4) == row
    assert scorer(truth, full_reference=False) == {"q_dsd_a2": float(q_dsd(truth, regressor)[0])}
    rgb = Scorer(shave=0, y_channel=False)
    rgb.set_reference(truth)
    assert rgb(outputs[0])["psnr"] == float(psnr(outputs[0], truth, y_channel=False)[0])
    excess = Scorer([regressor], scores=("q_dsd", "excess", "niqe"))
    assert excess.columns(False) == ["q_dsd_a2", "excess_a2", "niqe"]
    assert excess(truth)["excess_a2"] == float(q_dsd(truth, regressor, per_layer=True)["excess"][0])
    with pytest.raises(ValueError, match="sharpness are no scores"):
        Scorer(scores=("psnr", "sharpness"))
    with pytest.raises(ValueError, match="grid_artifacts needs the grid_period"):
        Scorer(scores=("grid_artifacts",))
    assert Scorer(scores=("grid_artifacts",), grid_period=4).columns() == ["grid_artifacts"]


def test_score_image_without_reference_and_errors(vgg_weights, regressor, rng):
    image = _smooth(rng)
    assert score_image(image) == {}
    assert score_image(image, regressors=[regressor]) == {"q_dsd_a2": float(q_dsd(image, regressor)[0])}
    with pytest.raises(ValueError, match=r"the reference is \(40, 48\) px but the image \(48, 48\) px"):
        score_image(image, _smooth(rng)[..., :40, :])
    with pytest.raises(ValueError, match="image: expected"):
        Scorer()(image[0].numpy())  # checked before the memo hashes it


def test_content_key_sees_values_dtype_and_shape_not_storage():
    x = torch.arange(24, dtype=torch.float32).view(2, 3, 4)
    assert content_key(x.transpose(1, 2).contiguous().transpose(1, 2)) == content_key(x.clone())
    changed = x.clone()
    changed[1, 2, 3] += 1e-6
    keys = {content_key(y) for y in (x, changed, x.double(), x.view(4, 3, 2), x[:1])}
    assert len(keys) == 5 and content_key(x, x) != content_key(x)


def test_the_memo_returns_each_value_once_computed_and_never_a_stale_one(vgg_weights, regressor, rng):
    clear_memo()
    truth, output = _smooth(rng), _smooth(rng)
    scorer = Scorer([regressor], scores=("psnr", "dsd_distance", "q_dsd", "excess"))
    scorer.set_reference(truth)
    first = scorer(output)
    assert len(scoring._MEMO) == 4
    assert Scorer([regressor], scores=("excess",))(output) == {"excess_a2": first["excess_a2"]}
    assert Scorer([regressor], scores=("q_dsd",))(truth)["q_dsd_a2"] == float(q_dsd(truth, regressor)[0])
    assert len(scoring._MEMO) == 6  # the truth's Q_DSD kept its excess too
    again = Scorer([regressor], scores=("psnr", "dsd_distance", "q_dsd", "excess"))
    again.set_reference(truth.clone())
    assert again(output.clone()) == first and len(scoring._MEMO) == 6  # the same contents: the memo's values
    again.set_reference(output)  # another ground truth: new full-reference values, the same no-reference ones
    other = again(output)
    assert other["psnr"] == float("inf") and other["dsd_distance"] == 0 and other["q_dsd_a2"] == first["q_dsd_a2"]
    with torch.no_grad():
        next(regressor.parameters()).mul_(1.5)  # new weights: a new key, the new model's value
    assert scorer(output)["q_dsd_a2"] == float(q_dsd(output, regressor)[0]) != first["q_dsd_a2"]
    clear_memo()
    assert not scoring._MEMO


def test_dsd_distance_to_a_precomputed_reference(vgg_weights, rng):
    truth, output = _smooth(rng), _smooth(rng)
    reference = reference_dsd(truth)
    assert reference.layers == ("relu1_2", "relu2_1", "relu3_1") and reference.alpha == 2
    distance = dsd_distance_to(output, reference)
    assert distance.keys() == dsd_distance(output, truth).keys()
    assert float(distance["mean"][0]) == float(dsd_distance(output, truth)["mean"][0]) > 0
    assert float(dsd_distance_to(truth, reference)["mean"][0]) == 0
    with pytest.raises(ValueError, match="output"):
        dsd_distance_to(output[0], reference)


def test_q_dsd_table_and_summary(vgg_weights, regressor, rng):
    clean = [(f"i{k}", torch.rand(1, 3, 32, 32, generator=rng)) for k in range(3)]
    shifted = [(name, (image + 0.2).clamp(0, 1)) for name, image in clean]
    rows = q_dsd_table({"natural": clean, "shifted": shifted}, [regressor], progress=False)
    assert [(r["image"], r["version"]) for r in rows] == [(n, v) for v in ("natural", "shifted") for n, _ in clean]
    for row, (_, image) in zip(rows, clean + shifted):
        out = q_dsd(image, regressor, per_layer=True)
        assert list(row) == ["image", "version", "q_dsd_a2", "excess_a2"]
        assert row["q_dsd_a2"] == pytest.approx(float(out["q_dsd"][0]))
        assert row["excess_a2"] == pytest.approx(float(out["excess"][0]))
    summary = q_dsd_summary(rows)
    assert list(summary) == ["q_dsd_a2", "excess_a2"]
    for column, entry in summary.items():
        values = {v: [r[column] for r in rows if r["version"] == v] for v in ("natural", "shifted")}
        assert entry["natural"] == pytest.approx(sum(values["natural"]) / 3)
        worse = sum(d > c for c, d in zip(values["natural"], values["shifted"])) / 3
        assert entry["shifted worse"] == pytest.approx(worse)
