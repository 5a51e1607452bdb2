"""The score registry (dsdviz.scores): entries, keys, headers, the protocol line, and what adding an entry does."""

from __future__ import annotations

import pytest
import torch

from dsdviz.evaluation import MetricsTable, _method_rows
from dsdviz.features import LAYER_PRESETS
from dsdviz.scores import SCORES, Score, ScoreInputs, default_scores, protocol_text, score_of
from dsdviz.scoring import Scorer
from dsdviz.sharpness import mean_gradient_magnitude


def test_every_entry_is_complete_and_keyed_by_its_name():
    assert list(SCORES) == ["psnr", "ssim", "dsd_distance", "grid_artifacts", "q_dsd", "excess", "niqe"]
    for name, score in SCORES.items():
        assert score.name == name and score.label and score.protocol and callable(score.compute)
        assert format(0.123456, score.format)  # a valid format spec
    assert [n for n, s in SCORES.items() if s.higher_is_better] == ["psnr", "ssim"]
    assert [n for n, s in SCORES.items() if s.reference] == ["psnr", "ssim", "dsd_distance", "grid_artifacts"]
    assert [n for n, s in SCORES.items() if s.per_regressor] == ["q_dsd", "excess"]


def test_keys_headers_and_protocol():
    assert score_of("psnr") == (SCORES["psnr"], None) and score_of("q_dsd_a4") == (SCORES["q_dsd"], 4.0)
    assert SCORES["q_dsd"].column(2) == "q_dsd_a2" and SCORES["niqe"].column() == "niqe"
    assert SCORES["psnr"].header() == "PSNR (dB) ↑" and SCORES["q_dsd"].header(4) == "Q_DSD a=4 ↓"
    with pytest.raises(KeyError, match="'lpips' is no score"):
        score_of("lpips")
    with pytest.raises(KeyError, match="'niqe_a2' is no score"):
        score_of("niqe_a2")  # niqe is not computed per regressor
    text = protocol_text(4)
    assert text.count("PSNR/SSIM on Y (BT.601, MATLAB rgb2ycbcr), 8-bit images, border shave 4 px") == 1
    assert ", ".join(LAYER_PRESETS["full_reference"]) in text and "NIQE" in text and "grid" not in text
    assert "grid artifacts" in protocol_text(4, columns=["psnr", "grid_artifacts"]) and "RGB" in protocol_text(0, False)


@pytest.mark.parametrize(("setting", "values"), [("shave", (4, 0)), ("y_channel", (True, False)),
                                                 ("grid_period", (4, 2))])  # fmt: skip
def test_every_setting_a_value_depends_on_is_declared(vgg_weights, regressor, setting, values):
    """The Scorer's memo keys a value by the settings its entry declares: one it reads but does not declare
    would hand out a value computed under another setting."""
    rng = torch.Generator().manual_seed(3)
    truth = torch.nn.functional.interpolate(torch.rand(1, 3, 24, 24, generator=rng), size=96, mode="bicubic")
    truth = truth.clamp(0, 1)
    image = (truth + 0.05 * torch.randn(truth.shape, generator=rng)).clamp(0, 1)
    for score in SCORES.values():
        computed = []
        for value in values:
            inputs = ScoreInputs(reference=truth, **{"grid_period": 4, setting: value}, regressor=regressor)
            computed.append(score.compute(image, inputs))
        assert computed[0] == computed[1] or setting in score.settings, f"{score.name} reads {setting}"
        assert computed[0] != computed[1] or setting not in score.settings, f"{score.name} ignores {setting}"


def _sharpness(image: torch.Tensor, inputs) -> float:
    return float(mean_gradient_magnitude(image)[0])


def test_adding_an_entry_is_all_it_takes(monkeypatch, rng):
    """One entry and its function: the scorer's rows, their order and a metrics table's header follow."""
    entry = Score("sharpness", "sharpness", True, False, ".4f", "sharpness: mean luminance gradient magnitude",
                  _sharpness)  # fmt: skip
    monkeypatch.setitem(SCORES, "sharpness", entry)
    image = torch.rand(1, 3, 32, 32, generator=rng)
    scorer = Scorer(scores=[name for name in default_scores() if name != "niqe"])  # the new entry is in
    assert scorer.columns() == ["psnr", "ssim", "dsd_distance", "sharpness"]
    assert scorer(image) == {"sharpness": pytest.approx(float(mean_gradient_magnitude(image)[0]))}  # no reference
    rows = _method_rows({"a": None}, [{"image": "x", "method": "a", "sharpness": 0.5}], 1, ["sharpness"])
    table = MetricsTable("set", rows, [], ["x"], "protocol", ["sharpness"])
    assert "| sharpness ↑ |" in table.to_markdown() and "| 0.5000 |" in table.to_markdown()
