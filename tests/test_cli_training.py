"""``dsdviz train``, ``restore`` and ``score``: help texts and a tiny end-to-end run (train -> restore -> score)."""

from __future__ import annotations

import csv

import pytest
import torch
import torch.nn.functional as F

from dsdviz.cli import build_parser, main
from dsdviz.data import load_image, save_image
from dsdviz.models import load_model, shipped_models


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


@pytest.mark.parametrize(("options", "precision"), [
    ([], None), (["--precision", "bf16"], "bf16"), (["--precision", "fp32"], "fp32"), (["--precision", "auto"], "auto"),
])  # fmt: skip
def test_train_precision_options(options, precision):
    assert build_parser().parse_args(["train", "sr", *options]).precision == precision


def test_train_restore_score_end_to_end(vgg_weights, tmp_path, capsys):
    generator = torch.Generator().manual_seed(0)
    for index in range(3):
        hr = F.interpolate(torch.rand(1, 3, 16, 20, generator=generator), size=(64, 80), mode="bicubic").clamp(0, 1)
        save_image(hr, tmp_path / "hr" / f"im{index}.png")
        save_image(F.avg_pool2d(hr, 4), tmp_path / "lr" / f"im{index}.png")
    common = ["--data", str(tmp_path / "hr"), "--quick", "--steps", "2", "--no-progress"]
    sr = ["--blocks", "1", "--crop", "8", "--val-data", str(tmp_path / "hr"), "--out", str(tmp_path / "sr")]
    assert main(["train", "sr", *common, *sr]) == 0
    assert "validation at step 2: psnr" in capsys.readouterr().out
    regressor = ["--crop", "16", "--alpha", "2", "--calibration-batches", "1", "--out", str(tmp_path / "psi")]
    assert main(["train", "regressor", *common, "--blocks", "1", *regressor]) == 2
    assert "not settings of task 'regressor': num_blocks (a setting of sr, deblur)" in capsys.readouterr().err
    assert main(["train", "regressor", *common, *regressor]) == 0
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
    common = ["--data", str(tmp_path / "hr"), "--quick", "--steps", "1", "--blocks", "1", "--crop", "8"]
    common.append("--no-progress")
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


def test_corrupt_files_and_wrong_paths_are_one_line_errors(tmp_path, capsys, monkeypatch):
    generator = torch.Generator().manual_seed(0)
    save_image(torch.rand(1, 3, 32, 32, generator=generator), tmp_path / "a.png")
    shipped = shipped_models()["dsd_regressor_a2_cpu"].read_bytes()
    (tmp_path / "truncated.pt").write_bytes(shipped[: len(shipped) // 2])
    random_bytes = torch.randint(0, 256, (999,), generator=generator, dtype=torch.uint8).numpy().tobytes()
    (tmp_path / "random.pt").write_bytes(random_bytes)
    image = str(tmp_path / "a.png")
    train = ["train", "sr", "--quick", "--data", str(tmp_path), "--steps", "1", "--crop", "8", "--no-progress"]
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "checkpoint.pt").write_bytes(shipped)  # a model file where a checkpoint should be
    cases = [
        (["restore", str(tmp_path / "truncated.pt"), image, "--out", str(tmp_path / "out")],
         "truncated.pt' is a truncated PyTorch file"),
        (["score", image, "--regressor", str(tmp_path / "random.pt")], "random.pt' is not a PyTorch file"),
        (["score", image, "--regressor", "dsd_regressor_a9"], "nor is it a shipped model (dsd_regressor_a2_blur_cpu, dsd_regressor_a2_cpu, "),
        (["score", image, "--ref", image], "a.png' is a file; expected a folder of ground-truth images"),
        ([*train, "--init", str(tmp_path / "truncated.pt"), "--out", str(tmp_path / "init")],
         "truncated.pt' is a truncated PyTorch file"),
        ([*train, "--resume", "--out", str(tmp_path / "run")], "checkpoint.pt' is not a dsdviz training checkpoint"),
    ]  # fmt: skip
    for args, message in cases:
        assert main(args) == 2, args
        err = capsys.readouterr().err
        assert err.startswith(f"dsdviz {args[0]}: error: ") and message in err and err.count("\n") == 1, err
    monkeypatch.setenv("DSDVIZ_VGG19_WEIGHTS", str(tmp_path / "random.pt"))
    assert main(["fingerprint", image]) == 2
    err = capsys.readouterr().err
    assert "random.pt' is not a PyTorch file" in err and "VGG19" in err and err.count("\n") == 1


def test_score_with_the_shipped_regressors_by_name(vgg_weights, tmp_path, capsys):
    save_image(torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0)), tmp_path / "a.png")
    assert main(["score", str(tmp_path / "a.png"), "--regressor"]) == 0  # alone: the shipped pair
    pair = capsys.readouterr().out
    assert "q_dsd_a2" in pair and "q_dsd_a4" in pair
    assert main(["score", str(tmp_path / "a.png"), "--regressor", "dsd_regressor_a2_cpu"]) == 0
    single = capsys.readouterr().out
    assert "q_dsd_a2" in single and "q_dsd_a4" not in single
    assert pair.splitlines()[1].split()[1] == single.splitlines()[1].split()[1]  # the same Q_2 either way
