"""dsdviz.ranking and ``dsdviz rank``: two folders of restorations, which one each no-reference score prefers."""

from __future__ import annotations

import math

import pytest
import torch

from dsdviz.cli import main
from dsdviz.data import bicubic_upsample, list_images, load_image, save_image
from dsdviz.evaluation import read_csv
from dsdviz.metrics import q_dsd
from dsdviz.models import DEFAULT_REGRESSORS, load_model
from dsdviz.niqe import niqe
from dsdviz.ranking import central_crop, paired_names, rank_folders, rank_summary, sign_test


def test_sign_test_reference_values_and_symmetry():
    assert sign_test(9, 18) == 1.0 and sign_test(0, 0) == 1.0
    assert sign_test(5, 5) == pytest.approx(2 / 32) and sign_test(0, 5) == sign_test(5, 5)
    assert sign_test(14, 18) == pytest.approx(2 * (1 + 18 + 153 + 816 + 3060) / 2**18)  # 0.0309
    assert sign_test(10, 18) == pytest.approx(sign_test(8, 18)) and sign_test(10, 18) > 0.6  # chance level
    with pytest.raises(ValueError, match="wins must lie in"):
        sign_test(6, 5)


def test_central_crop():
    x = torch.arange(5 * 7, dtype=torch.float32).view(1, 1, 5, 7)
    assert torch.equal(central_crop(x, 3), x[..., 1:4, 2:5]) and central_crop(x, None) is x
    assert torch.equal(central_crop(x, 4), x[..., 0:4, 1:5])  # odd margin: half a pixel up and left
    with pytest.raises(ValueError, match="too small"):
        central_crop(x, 6)
    with pytest.raises(ValueError, match="crop"):
        central_crop(x, 0)


def _row(image, first, second, pair="p"):
    return {"pair": pair, "image": image, "q_dsd_a4_first": first, "q_dsd_a4_second": second}


def test_summary_counts_wins_ties_and_skips_nan():
    rows = [_row("a", 0.1, 0.2), _row("b", 0.3, 0.2), _row("c", 0.2, 0.2), _row("d", math.nan, 0.1),
            _row("e", 0.1, 0.5), _row("a", 0.9, 0.1, pair="q")]  # fmt: skip
    entry = rank_summary(rows)["p"]["q_dsd_a4"]
    assert entry["images"] == 4 and entry["first_better"] == 2 and entry["fraction"] == 0.5
    assert entry["p_value"] == pytest.approx(sign_test(2, 3))  # the tie is left out of the test
    assert entry["mean_first"] == pytest.approx(0.175) and entry["mean_second"] == pytest.approx(0.275)
    assert rank_summary(rows)["q"]["q_dsd_a4"]["first_better"] == 0


@pytest.fixture
def bicubic_set5(shared_data, tmp_path):
    """Set5 up-sampled x4 with MATLAB bicubic from its stored LR files, named like the ground truth."""
    folder = tmp_path / "bicubic"
    folder.mkdir()
    for path in list_images(shared_data / "Set5" / "LR_bicubic" / "X4"):
        save_image(bicubic_upsample(load_image(path), 4), folder / f"{path.stem.removesuffix('x4')}.png")
    return shared_data / "Set5" / "HR", folder


def test_rank_scores_both_folders_and_swapping_them_swaps_the_counts(vgg_weights, bicubic_set5):
    truth, bicubic = bicubic_set5
    pairs = {"default": [load_model(name) for name in DEFAULT_REGRESSORS]}
    rows = rank_folders(truth, bicubic, pairs, crop=96, progress=False)
    assert [r["image"] for r in rows] == ["baby", "bird", "butterfly", "head", "woman"]
    crop = central_crop(load_image(truth / "bird.png"), 96)
    assert rows[1]["q_dsd_a4_first"] == pytest.approx(float(q_dsd(crop, pairs["default"][1])[0]), rel=1e-6)
    assert rows[1]["niqe_first"] == pytest.approx(float(niqe(crop)[0]), rel=1e-6)
    swapped = rank_summary(rank_folders(bicubic, truth, pairs, crop=96, progress=False))["default"]
    for column, entry in rank_summary(rows)["default"].items():
        assert entry["images"] == 5 and entry["first_better"] + swapped[column]["first_better"] == 5, column
        assert entry["mean_first"] == pytest.approx(swapped[column]["mean_second"])


def test_rank_command_prints_counts_and_writes_csv(vgg_weights, bicubic_set5, tmp_path, capsys):
    truth, bicubic = bicubic_set5
    (bicubic / "extra.png").write_bytes((bicubic / "baby.png").read_bytes())
    assert main(["rank", str(truth), str(bicubic), "--crop", "128", "--csv", str(tmp_path / "r.csv")]) == 0
    out, err = capsys.readouterr()
    assert "dsdviz rank: warning: 1 image(s) in only one folder, left out: extra" in err
    rows = read_csv(tmp_path / "r.csv")
    assert len(rows) == 5 and {r["height"] for r in rows} == {"128"}
    wins = sum(float(r["excess_a4_first"]) < float(r["excess_a4_second"]) for r in rows)
    assert any(line.split()[:3] == ["excess", "a=4", f"{wins}/5"] for line in out.splitlines()), out


def test_rank_errors(vgg_weights, bicubic_set5, tmp_path, capsys):
    truth, bicubic = bicubic_set5
    other = tmp_path / "other"
    other.mkdir()
    save_image(torch.zeros(1, 3, 100, 100), other / "unrelated.png")
    with pytest.raises(ValueError, match="share no image name"):
        paired_names(truth, other)
    save_image(torch.zeros(1, 3, 100, 100), other / "baby.png")
    with pytest.raises(ValueError, match=r"baby: \(512, 512\) px in .* but \(100, 100\) px"):
        rank_folders(truth, other, {}, progress=False)
    assert main(["rank", str(truth), str(bicubic), "--crop", "4096"]) == 2
    assert "too small" in capsys.readouterr().err
    assert main(["rank", str(truth), str(bicubic), "--all-pairs", "--regressor", "x"]) == 2
    assert "not both" in capsys.readouterr().err
