"""The ``dsdviz minimize-dsd`` and ``dsdviz match-fingerprint`` commands."""

from __future__ import annotations

import torch

from dsdviz.cli import main
from dsdviz.data import center_crop, save_image
from dsdviz.samples import skimage_sample
from dsdviz.trajectory import Trajectory


def test_minimize_dsd_writes_a_resumable_trajectory(vgg_weights, tmp_path, capsys):
    image = save_image(center_crop(skimage_sample("chelsea"), 32), tmp_path / "start.png")
    out = tmp_path / "run.pt"
    args = ["minimize-dsd", str(image), "--layers", "relu1_2", "relu2_1", "--lr", "0.01", "--out", str(out), "--quiet"]
    assert main([*args, "--steps", "3", "--figure", str(tmp_path / "f.png")]) == 0
    printed = capsys.readouterr().out
    assert "relu2_1" in printed and "sharpness" in printed and "finished at step 3 of 3" in printed
    first = Trajectory.load(out)
    assert first.final_step == 3 and (tmp_path / "f.png").is_file()
    assert main([*args, "--steps", "6", "--resume"]) == 0  # a constant-rate run extends
    longer = Trajectory.load(out)
    assert longer.final_step == 6 and torch.equal(longer.snapshots[2], first.snapshots[2])
    assert longer.history["objective"][6] < longer.history["objective"][0]


def test_match_fingerprint_prints_distances(vgg_weights, tmp_path, capsys):
    content = save_image(center_crop(skimage_sample("chelsea"), 32), tmp_path / "content.png")
    reference = save_image(center_crop(skimage_sample("coffee"), 32), tmp_path / "reference.png")
    argv = ["match-fingerprint", str(content), str(reference), "--kind", "dsd", "--scales", "2", "4", "--steps", "2",
            "--lr", "0.01", "--layers", "relu1_2", "--quiet"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "DSD_2(x|2)" in printed and "match DSD_2(x|2)" in printed and "finished at step 2 of 2" in printed


def test_errors_exit_2(tmp_path, capsys):
    image = save_image(torch.rand(1, 3, 12, 12), tmp_path / "small.png")
    assert main(["minimize-dsd", str(image), "--steps", "2"]) == 2
    assert "too small" in capsys.readouterr().err
    assert main(["match-fingerprint", str(image), str(image), "--scales", "2", "1"]) == 2
    assert "coarse > fine" in capsys.readouterr().err
