"""The no-reference/full-reference agreement table (dsdviz.experiments.agreement)."""

from __future__ import annotations

import numpy as np
import pytest

from dsdviz.experiments.agreement import NO_REFERENCE, agreement, agreement_markdown, score_pairs, spearman


def test_spearman_hand_computed():
    # ranks x: 1 2 3 4 5, y: 2 1 4 3 5 -> d^2 = 1+1+1+1+0 = 4, rho = 1 - 6*4/(5*24) = 0.8
    assert spearman([10, 20, 30, 40, 50], [2.0, 1.0, 4.0, 3.0, 9.0]) == pytest.approx(0.8)
    assert spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    # ties take the average rank: x ranks 1.5 1.5 3, y ranks 1 2 3 -> Pearson of the ranks
    assert spearman([1, 1, 2], [1, 2, 3]) == pytest.approx(np.corrcoef([1.5, 1.5, 3], [1, 2, 3])[0, 1])


def test_agreement_of_synthetic_rows():
    rows = []
    for i, (truth, bicubic, gan) in enumerate([(1.0, 3.0, 2.0), (2.0, 1.0, 3.0)]):
        scores = {c: truth for c in NO_REFERENCE}
        rows.append({"set": "S", "image": f"im{i}", "method": "ground truth", **scores})
        for method, value, dsd, psnr in (("bicubic", bicubic, 0.3, 25.0 - i), ("GAN", gan, 0.1 + i, 24.0)):
            rows.append({"set": "S", "image": f"im{i}", "method": method, "psnr": psnr, "dsd_distance": dsd,
                         **{c: value for c in NO_REFERENCE}})  # fmt: skip
    entry = agreement(rows)["niqe"]
    assert entry["pairs"] == 4 and entry["images"] == 2
    assert entry["gt_above_bicubic"] == 0.5  # image 0: 1 < 3; image 1: 2 > 1
    assert entry["rho_dsd"] == pytest.approx(spearman([3, 2, 1, 3], [0.3, 0.1, 0.3, 1.1]))


def test_table_on_one_image(shared_data, vgg_weights):
    from dsdviz.experiments.stages import load_regressors

    rows = score_pairs(["Set5"], load_regressors(), root=shared_data, methods=("RCAN",), limit=1, progress=False)
    assert [r["method"] for r in rows] == ["ground truth", "bicubic", "RCAN"]
    assert "psnr" not in rows[0] and rows[2]["psnr"] > rows[1]["psnr"]
    assert all(np.isfinite(rows[1][c]) for c in NO_REFERENCE)
    text = agreement_markdown(rows)
    assert text.count("\n| ") == 5 and "| NIQE |" in text and "RCAN on Set5 (1)" in text
