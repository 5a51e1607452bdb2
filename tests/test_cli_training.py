"""``dsdviz train``, ``restore`` and ``score``: help texts and a tiny end-to-end run (train -> restore -> score)."""

from __future__ import annotations

import csv

import pytest
import torch
import torch.nn.functional as F

from dsdviz.cli import main
from dsdviz.images import load_image, save_image
from dsdviz.models import load_model


@pytest.mark.parametrize(("command", "words"), [
    ("train", ["--quick", "--resume", "--stage", "torchrun", "--init", "--feature-loss"]),
    ("restore", ["--out", "model.pt"]),
    ("score", ["--ref", "--regressor", "--shave", "--csv"]),
])  # fmt: skip
def test_help(command, words, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert all(word in text for word in words)


def test_train_restore_score_end_to_end(vgg_weights, tmp_path, capsys):
    generator = torch.Generator().manual_seed(0)
    for index in range(3):
        hr = F.interpolate(torch.rand(1, 3, 16, 20, generator=generator), size=(64, 80), mode="bicubic").clamp(0, 1)
        save_image(hr, tmp_path / "hr" / f"im{index}.png")
        save_image(F.avg_pool2d(hr, 4), tmp_path / "lr" / f"im{index}.png")
    common = ["--data", str(tmp_path / "hr"), "--quick", "--steps", "2", "--blocks", "1", "--no-progress"]
    assert (
        main(["train", "sr", *common, "--crop", "8", "--val-data", str(tmp_path / "hr"), "--out", str(tmp_path / "sr")])
        == 0
    )
    assert "validation at step 2: psnr" in capsys.readouterr().out
    assert main(["train", "regressor", *common, "--crop", "16", "--alpha", "2", "--out", str(tmp_path / "psi")]) == 0
    capsys.readouterr()

    lr_files = sorted(str(p) for p in (tmp_path / "lr").iterdir())
    assert main(["restore", str(tmp_path / "sr" / "model.pt"), *lr_files, "--out", str(tmp_path / "restored")]) == 0
    restored = sorted((tmp_path / "restored").iterdir())
    assert [p.name for p in restored] == ["im0.png", "im1.png", "im2.png"]
    assert load_image(restored[0]).shape == (1, 3, 64, 80)

    table = tmp_path / "scores.csv"
    regressor = str(tmp_path / "psi" / "model.pt")
    args = ["score", *map(str, restored), "--ref", str(tmp_path / "hr"), "--regressor", regressor, "--csv", str(table)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "q_dsd_a2" in printed and "mean" in printed and "border shave 4 px" in printed
    rows = list(csv.DictReader(open(table)))
    assert [r["image"] for r in rows] == ["im0.png", "im1.png", "im2.png", "mean"]
    assert 10 < float(rows[0]["psnr"]) < 60 and 0 < float(rows[0]["ssim"]) <= 1 and float(rows[0]["q_dsd_a2"]) >= 0
    mean_psnr = sum(float(r["psnr"]) for r in rows[:3]) / 3
    assert float(rows[3]["psnr"]) == pytest.approx(mean_psnr)
    assert all("Y (BT.601" in r["protocol"] for r in rows)
    assert load_model(regressor).crop == 16


def test_score_errors(tmp_path, capsys):
    save_image(torch.rand(1, 3, 32, 32), tmp_path / "a.png")
    assert main(["score", str(tmp_path / "a.png")]) == 2
    assert "nothing to score" in capsys.readouterr().err
    (tmp_path / "ref").mkdir()
    save_image(torch.rand(1, 3, 32, 32), tmp_path / "ref" / "b.png")
    assert main(["score", str(tmp_path / "a.png"), "--ref", str(tmp_path / "ref")]) == 2
    assert "no reference image named a" in capsys.readouterr().err
    assert main(["restore", str(tmp_path / "none.pt"), str(tmp_path / "a.png"), "--out", str(tmp_path)]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_train_stage_two_with_another_feature_loss(vgg_weights, tmp_path, capsys):
    generator = torch.Generator().manual_seed(0)
    for index in range(2):
        hr = F.interpolate(torch.rand(1, 3, 16, 20, generator=generator), size=(64, 80), mode="bicubic").clamp(0, 1)
        save_image(hr, tmp_path / "hr" / f"im{index}.png")
    common = ["--data", str(tmp_path / "hr"), "--quick", "--steps", "1", "--blocks", "1", "--crop", "8", "--no-progress"]
    assert main(["train", "sr", *common, "--out", str(tmp_path / "psnr")]) == 0
    init = str(tmp_path / "psnr" / "model.pt")
    stage2 = ["--stage", "dsd", "--feature-loss", "multiscale_style", "--init", init, "--out", str(tmp_path / "ms")]
    assert main(["train", "sr", *common, *stage2]) == 0
    meta = torch.load(tmp_path / "ms" / "model.pt", weights_only=True)["meta"]
    assert meta["train_config"]["feature_loss"] == "multiscale_style"
    logged = [line for line in open(tmp_path / "ms" / "log.jsonl") if '"split": "train"' in line]
    assert '"multiscale_style"' in logged[0]
    with pytest.raises(SystemExit):
        main(["train", "sr", *common, "--feature-loss", "gram"])
    capsys.readouterr()
