"""The no-reference/full-reference agreement table (dsdviz.experiments.agreement)."""

from __future__ import annotations

import numpy as np
import pytest

from dsdviz.experiments.agreement import (
    NO_REFERENCE,
    OURS,
    agreement,
    agreement_markdown,
    method_means,
    ranked_above,
    score_pairs,
    spearman,
)
from dsdviz.models import SHIPPED_RESTORATION, load_model, shipped_models


def test_spearman_hand_computed():
    # ranks x: 1 2 3 4 5, y: 2 1 4 3 5 -> d^2 = 1+1+1+1+0 = 4, rho = 1 - 6*4/(5*24) = 0.8
    assert spearman([10, 20, 30, 40, 50], [2.0, 1.0, 4.0, 3.0, 9.0]) == pytest.approx(0.8)
    assert spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    # ties take the average rank: x ranks 1.5 1.5 3, y ranks 1 2 3 -> Pearson of the ranks
    assert spearman([1, 1, 2], [1, 2, 3]) == pytest.approx(np.corrcoef([1.5, 1.5, 3], [1, 2, 3])[0, 1])


def synthetic_rows() -> list[dict[str, float | str]]:
    """Two images of a set "S": a ground-truth, bicubic and "GAN" row each (a row's no-reference scores all equal)."""
    rows = []
    for i, (truth, bicubic, gan) in enumerate([(1.0, 3.0, 2.0), (2.0, 1.0, 3.0)]):
        scores = {c: truth for c in NO_REFERENCE}
        rows.append({"set": "S", "image": f"im{i}", "method": "ground truth", **scores})
        for method, value, dsd, psnr in (("bicubic", bicubic, 0.3, 25.0 - i), ("GAN", gan, 0.1 + i, 24.0)):
            rows.append({"set": "S", "image": f"im{i}", "method": method, "psnr": psnr, "dsd_distance": dsd,
                         **{c: value for c in NO_REFERENCE}})  # fmt: skip
    return rows


def test_agreement_of_synthetic_rows():
    rows = synthetic_rows()
    entry = agreement(rows)["niqe"]
    assert entry["pairs"] == 4 and entry["images"] == 2
    assert entry["gt_above_bicubic"] == 0.5  # image 0: 1 < 3; image 1: 2 > 1
    assert entry["rho_dsd"] == pytest.approx(spearman([3, 2, 1, 3], [0.3, 0.1, 0.3, 1.1]))


def test_srgan_over_srresnet_counts_only_images_with_both():
    rows = synthetic_rows()
    official = [("im0", 2.0, 5.0), ("im1", 4.0, 3.0), ("im2", 1.0, None), ("im3", float("nan"), 1.0)]
    for image, srgan, srresnet in official:  # im2 has no SRResNet, im3 no finite SRGAN score: not counted
        for method, value in (("SRGAN", srgan), ("SRResNet", srresnet)):
            if value is not None:
                rows.append({"set": "S", "image": image, "method": method, "psnr": 25.0, "dsd_distance": 0.1,
                             **{c: value for c in NO_REFERENCE}})  # fmt: skip
    assert ranked_above(rows, "SRGAN", "SRResNet", "niqe") == [True, False]
    entry = agreement(rows)["niqe"]
    assert entry["srgan_above_srresnet"] == 0.5 and entry["official_images"] == 2
    assert np.isnan(agreement(synthetic_rows())["niqe"]["srgan_above_srresnet"])
    text = agreement_markdown(rows)
    assert "official SRGAN ranked above official SRResNet |" in text and "| 0.50 (2 images) |" in text


def test_method_means_and_the_note_on_our_models():
    rows = synthetic_rows()
    means = method_means(rows)
    assert list(means) == ["ground truth", "bicubic", "GAN"]
    assert means["bicubic"]["q_dsd_a4"] == pytest.approx(2.0) and means["GAN"]["psnr"] == pytest.approx(24.0)
    assert means["bicubic"]["images"] == 2 and np.isnan(means["ground truth"]["psnr"])
    text = agreement_markdown(rows, {"ours (L1 only)": "xsrresnet_sr_x4_psnr_cpu"})
    assert '"ours (L1 only)" = xsrresnet_sr_x4_psnr_cpu' in text
    assert "| ground truth | 2 | - | - | 1.5 | 1.5 |" in text and "| GAN | 2 | 24.00 | 0.6 |" in text
    assert "None of our SR models" in agreement_markdown(rows)


def test_our_models_are_the_shipped_sr_pair():
    assert list(OURS) == ["ours (L1 only)", "ours (DSD)"] and tuple(OURS.values()) == SHIPPED_RESTORATION["sr"]
    assert set(OURS.values()) <= set(shipped_models())


@pytest.mark.slow  # seconds; make test runs it, make test-fast leaves it out
def test_table_on_one_image(shared_data, vgg_weights):
    from dsdviz.experiments.stages import load_regressors

    ours = {"ours (L1 only)": load_model("xsrresnet_sr_x4_psnr_cpu")}
    rows = score_pairs(["Set5"], load_regressors(), root=shared_data, methods=("RCAN",), networks=ours, limit=1,
                       progress=False)  # fmt: skip
    assert [r["method"] for r in rows] == ["ground truth", "bicubic", "ours (L1 only)", "RCAN"]
    assert "psnr" not in rows[0]
    assert rows[1]["psnr"] + 1.0 < rows[2]["psnr"] < rows[3]["psnr"]  # measured on baby: 31.79 < 33.09 < 33.95 dB
    assert all(np.isfinite(rows[1][c]) and np.isfinite(rows[2][c]) for c in NO_REFERENCE)
    text = agreement_markdown(rows, {"ours (L1 only)": "xsrresnet_sr_x4_psnr_cpu"})
    assert text.count("\n| ") == 5 + 1 + 4 and "| NIQE |" in text and "RCAN on Set5 (1)" in text
    official = score_pairs(["Set5"], load_regressors(), root=shared_data, methods=("SRResNet", "SRGAN"), limit=1,
                           progress=False)  # fmt: skip
    assert [r["method"] for r in official] == ["ground truth", "bicubic", "SRResNet", "SRGAN"]
    assert official[2]["psnr"] > official[3]["psnr"] + 1.0  # the MSE network is well above the GAN in PSNR
    assert "ours (L1 only) on Set5 (1)" in text and f"\n| ours (L1 only) | 1 | {rows[2]['psnr']:.2f} |" in text
