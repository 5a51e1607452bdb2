"""The ``dsdviz`` command: help, fingerprint table and CSV, figures, errors."""

from __future__ import annotations

import csv
import subprocess
import sys

import pytest
import torch

from dsdviz.cli import main
from dsdviz.data import save_image


@pytest.mark.slow  # seconds; make test runs it, make test-fast leaves it out
def test_help_runs_as_a_command():
    out = subprocess.run([sys.executable, "-m", "dsdviz.cli", "--help"], capture_output=True, text=True, check=True)
    assert "fingerprint" in out.stdout and "figures" in out.stdout and "DSDVIZ_VGG19_WEIGHTS" in out.stdout


def test_fingerprint_table_csv_and_figure(vgg_weights, tmp_path, capsys, rng):
    paths = [save_image(torch.rand(1, 3, 40, 48, generator=rng), tmp_path / f"im{i}.png") for i in range(2)]
    outputs = ["--csv", str(tmp_path / "t.csv"), "--figure", str(tmp_path / "f.png")]
    assert main(["fingerprint", *map(str, paths), *outputs]) == 0
    printed = capsys.readouterr().out
    assert "relu3_1" in printed and "im0.png" in printed and "40x48" in printed
    rows = list(csv.DictReader(open(tmp_path / "t.csv")))
    expected = [("im0.png", 2), ("im0.png", 4), ("im1.png", 2), ("im1.png", 4)]
    assert [(r["image"], float(r["alpha"])) for r in rows] == expected
    assert all(float(r["relu3_1"]) > 0 for r in rows)
    assert (tmp_path / "f.png").stat().st_size > 10_000


def test_errors_exit_2_with_message(capsys, tmp_path):
    assert main(["fingerprint", str(tmp_path / "none.png")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["figures", "--only", "nonexistent"]) == 2
    assert "unknown figure" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["figures", "--quick", "--full"])


def test_figures_list(capsys):
    assert main(["figures", "--list"]) == 0
    assert "fingerprints" in capsys.readouterr().out


@pytest.mark.slow
def test_figures_quick_writes_png(vgg_weights, tmp_path):
    assert main(["figures", "--quick", "--only", "fingerprints", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "dsd_fingerprints.png").stat().st_size > 50_000
