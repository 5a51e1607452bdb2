"""Metrics tables over method folders: scores, missing and partial methods, files written, errors."""

from __future__ import annotations

import csv

import pytest
import torch
import torch.nn.functional as F

from dsdviz.evaluation import (
    MISSING,
    PUBLISHED_PARAMETERS,
    REFERENCE_NOTE,
    metrics_table,
    write_tables,
)
from dsdviz.formats import format_params
from dsdviz.data import load_image, save_image
from dsdviz.metrics import dsd_distance, psnr, q_dsd, ssim


@pytest.fixture
def folders(tmp_path, rng):
    """Ground truth (2 smooth 48 px images) and methods: full, partial, empty folder, no folder."""
    names = ("a", "b")
    for name in names:
        truth = F.interpolate(torch.rand(1, 3, 12, 12, generator=rng), size=(48, 48), mode="bicubic").clamp(0, 1)
        save_image(truth, tmp_path / "gt" / f"{name}.png")
        noisy = (truth + 0.03 * torch.randn(truth.shape, generator=rng)).clamp(0, 1)
        save_image(noisy, tmp_path / "full" / f"{name}.png")
    save_image(load_image(tmp_path / "full" / "a.png").flip(-1), tmp_path / "partial" / "a.png")
    (tmp_path / "empty").mkdir()
    return tmp_path


def test_scores_equal_the_metrics_and_missing_methods_say_so(vgg_weights, folders, regressor):
    methods = {
        "full": folders / "full", "partial": folders / "partial", "empty": folders / "empty",
        "absent": folders / "nowhere", "none": None,
    }  # fmt: skip
    table = metrics_table(
        methods, folders / "gt", test_set="toy", shave=4, regressors=[regressor], params={"full": 1234}, progress=False
    )
    assert table.names == ["a", "b"] and table.columns == ["psnr", "ssim", "dsd_distance", "q_dsd_a2", "niqe"]
    outputs = torch.cat([load_image(folders / "full" / f"{n}.png") for n in "ab"])
    truths = torch.cat([load_image(folders / "gt" / f"{n}.png") for n in "ab"])
    full = table.row("full")
    assert (full.scored, full.total, full.params, full.note) == (2, 2, 1234, "")
    assert full.means["psnr"] == pytest.approx(float(psnr(outputs, truths, shave=4).mean()))
    assert full.means["ssim"] == pytest.approx(float(ssim(outputs, truths, shave=4).mean()))
    assert full.means["dsd_distance"] == pytest.approx(float(dsd_distance(outputs, truths)["mean"].mean()), rel=1e-5)
    assert full.means["q_dsd_a2"] == pytest.approx(float(q_dsd(outputs, regressor).mean()), rel=1e-5)
    partial = table.row("partial")
    assert (partial.scored, partial.note) == (1, "scored on 1 of 2 images")
    flipped = load_image(folders / "partial" / "a.png")
    assert partial.means["psnr"] == pytest.approx(float(psnr(flipped, truths[:1], shave=4)))
    for name in ("empty", "absent", "none"):
        assert (table.row(name).scored, table.row(name).means, table.row(name).note) == (0, {}, MISSING)
    markdown = table.to_markdown()
    assert "| full | 1.2K | 2/2 |" in markdown
    assert "| none | ? | 0/2 | n/a | n/a | n/a | n/a | n/a | n/a (outputs" in markdown
    assert "PSNR (dB) ↑" in markdown and "DSD distance ↓" in markdown and "Q_DSD a=2 ↓" in markdown
    with pytest.raises(ValueError, match="no method 'other'"):
        table.row("other")


def test_subset_equals_scoring_the_subset(vgg_weights, folders, regressor):
    methods = {"full": folders / "full", "partial": folders / "partial", "none": None}
    options = {"shave": 4, "regressors": [regressor], "params": {"full": 1234}, "progress": False}
    whole = metrics_table(methods, folders / "gt", test_set="toy", **options)
    part = whole.subset(["b"], "toy: b")
    direct = metrics_table(methods, folders / "gt", test_set="toy: b", names=["b"], **options)
    assert part.to_markdown() == direct.to_markdown() and part.csv_rows() == direct.csv_rows()
    assert part.row("partial").note == MISSING  # its only image is "a"
    with pytest.raises(ValueError, match=r"\['c'\] are not images of the toy table"):
        whole.subset(["b", "c"], "toy: b, c")


def test_reference_row_scores_the_ground_truth_with_q_dsd_only(vgg_weights, folders, regressor, tmp_path):
    methods = {"full": folders / "full", "partial": folders / "partial"}
    options = {"shave": 4, "regressors": [regressor], "progress": False}
    table = metrics_table(methods, folders / "gt", test_set="toy", reference_row="ground truth", **options)
    assert [row.method for row in table.rows] == ["ground truth", "full", "partial"]
    truth = table.row("ground truth")
    truths = torch.cat([load_image(folders / "gt" / f"{n}.png") for n in "ab"])
    assert (truth.scored, truth.params, truth.is_reference, truth.note) == (2, None, True, REFERENCE_NOTE)
    assert truth.means == {"q_dsd_a2": pytest.approx(float(q_dsd(truths, regressor).mean()), rel=1e-5)}
    plain = metrics_table(methods, folders / "gt", test_set="toy", **options)
    assert [r.means for r in table.rows[1:]] == [r.means for r in plain.rows]  # the other rows are unchanged
    line = next(line for line in table.to_markdown().splitlines() if line.startswith("| ground truth"))
    assert line.startswith(f"| ground truth | – | 2/2 | – | – | – | {truth.means['q_dsd_a2']:.3g} |")
    assert table.subset(["b"], "toy: b").row("ground truth").is_reference
    paths = write_tables([table], tmp_path / "metrics", title="Toy")
    per_image = list(csv.DictReader(open(paths[2])))
    assert list(per_image[0]) == ["test_set", "method", "image", "psnr", "ssim", "dsd_distance", "q_dsd_a2", "niqe"]
    assert [(r["method"], r["psnr"] == "") for r in per_image[:3]] == [
        ("ground truth", True), ("full", False), ("partial", False)]  # fmt: skip
    with pytest.raises(ValueError, match="needs the reference folder and regressors"):
        metrics_table(methods, folders / "gt", reference_row="ground truth", progress=False)
    with pytest.raises(ValueError, match="'full' is also the name of a method"):
        metrics_table(methods, folders / "gt", reference_row="full", **options)


def test_no_reference_table_and_published_parameters(vgg_weights, folders, regressor):
    table = metrics_table({"SRGAN": folders / "full", "ESRGAN": None}, None, regressors=[regressor], progress=False)
    assert table.columns == ["q_dsd_a2", "niqe"] and table.names == ["a", "b"] and "no reference" in table.protocol
    assert table.row("SRGAN").params == PUBLISHED_PARAMETERS["SRGAN"] == 1_540_000
    assert table.row("ESRGAN").note == MISSING


def test_write_tables(vgg_weights, folders, tmp_path):
    table = metrics_table({"full": folders / "full", "none": None}, folders / "gt", test_set="toy", progress=False)
    paths = write_tables([table], tmp_path / "out" / "metrics.md", title="Toy", notes=["a remark"])
    assert [p.name for p in paths] == ["metrics.md", "metrics.csv", "metrics_per_image.csv"]
    text = paths[0].read_text()
    assert text.startswith("# Toy\n\n- a remark\n") and "### toy (2 images)" in text and "Y (BT.601" in text
    rows = list(csv.DictReader(open(paths[1])))
    assert [r["method"] for r in rows] == ["full", "none"] and rows[1]["note"] == MISSING
    assert "shave 4 px" in rows[0]["protocol"]
    assert float(rows[0]["psnr"]) == pytest.approx(table.row("full").means["psnr"])
    per_image = list(csv.DictReader(open(paths[2])))
    assert [(r["method"], r["image"]) for r in per_image] == [("full", "a"), ("full", "b")]


def test_errors(folders, rng):
    with pytest.raises(ValueError, match="only Q_DSD"):
        metrics_table({"full": folders / "full"}, None)
    with pytest.raises(ValueError, match="no ground truth for"):
        metrics_table({"full": folders / "full"}, folders / "gt", names=["a", "zzz"], progress=False)
    save_image(torch.rand(1, 3, 40, 48, generator=rng), folders / "wrong" / "a.png")
    with pytest.raises(ValueError, match=r"wrong: a.png is \(40, 48\) px but its ground truth \(48, 48\)"):
        metrics_table({"wrong": folders / "wrong"}, folders / "gt", progress=False)


def test_format_params():
    assert format_params(1_111_299) == "1.11M"
    assert format_params(815_875) == "0.82M"
    assert format_params(60_930_000) == "60.9M"
    assert format_params(40_000) == "40.0K"
    assert format_params(0) == "0"
