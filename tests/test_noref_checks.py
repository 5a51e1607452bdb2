"""The no-reference checks: pairs of images whose order is known, scored by each shipped regressor pair."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from dsdviz.data import RealisticDegradation, image_paths, load_image, split_folders
from dsdviz.experiments.noref_checks import (
    CAMERA,
    CHECKS,
    GOPRO,
    HOLDOUT,
    REGRESSOR_PAIRS,
    SCORES,
    available_pairs,
    check_csv_rows,
    check_examples,
    check_fractions,
    check_images,
    check_rows,
    checks_markdown,
    lr_blur_page,
    lr_blur_rows,
    realistic_lr,
)
from dsdviz.experiments.noref import regressor_fit, regressor_validation_figure, whole_image_errors
from dsdviz.metrics import q_dsd
from dsdviz.models import DEFAULT_REGRESSORS, load_model
from dsdviz.resize import downscale
from dsdviz.training import preset


def _stored_lr(hr):
    """The x4 LR an SR test set stores: MATLAB bicubic in float64, rounded to 8 bits, as float32 in [0, 1]."""
    return ((downscale(hr.double(), 4).clamp(0, 1) * 255).round() / 255).float()


def _row(pair, set_name, image, method, value):
    return {"pair": pair, "set": set_name, "image": image, "method": method, **{c: value for c in SCORES}}


def test_fractions_of_synthetic_rows():
    rows = [
        _row("p", "BSD100", "1", "ground truth", 0.1), _row("p", "BSD100", "1", "bicubic, realistic LR", 0.3),
        _row("p", "BSD100", "2", "ground truth", 0.5), _row("p", "BSD100", "2", "bicubic, realistic LR", 0.2),
        _row("p", HOLDOUT, "3", "ground truth", 0.1), _row("p", HOLDOUT, "3", "bicubic, realistic LR", 0.4),
        _row("p", "Set5", "4", "SRGAN", 0.1), _row("p", "Set5", "4", "SRResNet", 0.2),
        _row("p", "Set5", "4", "ground truth", 0.3), _row("p", "Set5", "4", "bicubic, clean LR", float("nan")),
        _row("q", "BSD100", "1", "ground truth", 0.9), _row("q", "BSD100", "1", "bicubic, realistic LR", 0.3),
    ]  # fmt: skip
    table = check_fractions(rows, "p")
    assert table["a"]["images"] == 3 and table["a"]["q_dsd_a4"] == pytest.approx(2 / 3)
    assert table["b"] == {**{c: 1.0 for c in SCORES}, "images": 1.0}
    assert table["c"]["images"] == 0 and math.isnan(table["c"]["niqe"])  # a NaN score is no comparison
    assert table["d"]["images"] == 0  # SRGAN against the same NaN bicubic
    assert check_fractions(rows, "q")["a"]["niqe"] == 0.0
    assert [(r["pair"], r["check"]) for r in check_csv_rows(rows)] == [(p, c) for p in "pq" for c in CHECKS]
    text = checks_markdown(rows, default=("x", "y"))
    assert text.count("| (a) ground truth above bicubic from a realistic LR | 3 | 0.67 |") == 1 and "| - |" in text


def test_the_holdout_is_what_the_regressors_never_trained_on(shared_data, vgg_weights):
    config = preset("regressor", "cpu", alpha=2, root=shared_data)
    task = config.task
    trained = set(task.make_task(config.loop, torch.device("cpu"), None).dataset().paths)
    holdout = image_paths(split_folders(task.data))[-task.holdout :]
    assert len(trained) == 350 and len(holdout) == 50 and not trained & set(holdout)
    examples = check_examples(HOLDOUT, shared_data, limit=2)
    assert [e.name for e in examples] == [p.stem for p in holdout[:2]] and examples[0].target.shape[-1] % 4 == 0
    lr = realistic_lr(examples[0], HOLDOUT)
    assert lr.shape[-2:] == tuple(s // 4 for s in examples[0].target.shape[-2:])
    torch.testing.assert_close(lr, realistic_lr(examples[0], HOLDOUT))  # seeded by set and name
    assert not torch.equal(lr, realistic_lr(examples[0], HOLDOUT, seed=1))
    clean = RealisticDegradation(blur=(0, 0), noise_probability=0, jpeg_probability=0)  # downscale, 8 bits
    torch.testing.assert_close(realistic_lr(examples[0], HOLDOUT, degradation=clean), _stored_lr(examples[0].target))
    (frame,) = check_examples(CAMERA, shared_data, limit=1)  # check (f): the LR a test set would store
    assert frame.name == "Flower" and frame.input.shape[-2:] == (180, 320) and frame.target.shape[-2:] == (720, 1280)
    torch.testing.assert_close(frame.input, _stored_lr(frame.target))


def test_checks_on_one_image_per_set(shared_data, vgg_weights):
    assert tuple(DEFAULT_REGRESSORS) in set(REGRESSOR_PAIRS.values()) and available_pairs()
    pairs = {"default psi_4": [load_model(DEFAULT_REGRESSORS[1])]}  # one regressor: the Q_2 columns stay empty
    rows = check_rows(pairs, ("Set5", "BSD100", GOPRO, CAMERA), root=shared_data, limit=1, progress=False)
    methods = [(r["set"], r["image"], r["method"]) for r in rows]
    assert methods == [("Set5", "baby", "ground truth"), ("Set5", "baby", "bicubic, clean LR"),
                       ("Set5", "baby", "SRGAN"), ("Set5", "baby", "SRResNet"), ("BSD100", "101085", "ground truth"),
                       ("BSD100", "101085", "bicubic, realistic LR"), (GOPRO, "seq_id-11_frame-1", "motion blurred"),
                       (GOPRO, "seq_id-11_frame-1", "DeepDeblur"), (CAMERA, "Flower", "camera frame"),
                       (CAMERA, "Flower", "bicubic, clean LR")]  # fmt: skip
    assert all(np.isfinite([r[c] for c in ("q_dsd_a4", "excess_a4", "niqe")]).all() for r in rows)
    table = check_fractions(rows, "default psi_4")
    assert [table[c]["images"] for c in "abcdef"] == [1, 1, 1, 1, 1, 1] and math.isnan(table["a"]["q_dsd_a2"])
    assert table["f"]["niqe"] == 1.0  # bicubic of a 320 x 180 px LR against the 1280 x 720 px frame
    by_method = {r["method"]: r for r in rows if r["set"] == "Set5"}
    assert table["d"]["niqe"] == float(by_method["SRGAN"]["niqe"] < by_method["bicubic, clean LR"]["niqe"])
    assert table["a"]["niqe"] == 1.0  # bicubic from a blurred, noisy, JPEG-compressed LR: plainly worse
    cropped = check_rows(pairs, ("Set5",), root=shared_data, limit=1, crop=96, progress=False)
    image = next(images for _, _, images in check_images(("Set5",), shared_data, 1))["SRGAN"]
    assert image.shape[-2:] == (512, 512)  # baby: the central 96 px start at (512 - 96) // 2 = 208
    assert cropped[2]["q_dsd_a4"] == float(q_dsd(image[..., 208:304, 208:304], pairs["default psi_4"][0])[0])


def test_the_lr_blur_sweep_is_check_a_at_each_blur(shared_data, vgg_weights):
    label = next(iter(REGRESSOR_PAIRS))
    pairs = {label: [load_model(name) for name in REGRESSOR_PAIRS[label]]}
    rows = lr_blur_rows(pairs, (0.5, 6.0), root=shared_data, limit=1, progress=False)
    assert [(r["pair"], r["blur"], r["images"]) for r in rows] == [(label, 0.5, 1.0), (label, 6.0, 1.0)]
    wide = RealisticDegradation(blur=(6.0, 6.0))
    direct = check_rows(pairs, (HOLDOUT,), root=shared_data, limit=1, degradation=wide, progress=False)
    assert rows[1] == {"pair": label, "blur": 6.0, **check_fractions(direct, label)["a"]} and rows[1]["niqe"] == 1.0
    page = lr_blur_page(rows)
    assert f"| LR blur (px) | `{REGRESSOR_PAIRS[label][1]}`: Q_4 / excess a=4 | NIQE |" in page
    assert page.count("\n| 0.5 | ") == 1 and page.count("\n| 6 | ") == 1 and "on the 1 hold-out images" in page


def test_whole_image_errors_and_the_validation_curves(shared_data, vgg_weights, tmp_path):
    psi = load_model("dsd_regressor_a4_realistic_cpu")
    errors = whole_image_errors(psi, shared_data / "Set5" / "HR", limit=2)
    assert set(errors) == {f"{kind}_{layer}" for kind in ("rel", "r") for layer in psi.layers}
    assert all(0 < errors[f"rel_{layer}"] < 1 and -1 <= errors[f"r_{layer}"] <= 1 for layer in psi.layers)
    fit = regressor_fit(psi, [load_image(shared_data / "Set5" / "HR" / "bird.png")])
    true, predicted = fit["relu3_1"]
    assert errors["rel_relu3_1"] > 0 and true.shape == predicted.shape == (1,) and true[0] > 0
    assert regressor_validation_figure(True, tmp_path) == [tmp_path / "regressor_validation.png"]
    assert (tmp_path / "regressor_validation.png").stat().st_size > 10_000
