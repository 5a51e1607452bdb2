"""PSNR/SSIM with the SR protocol (pinned to RCAN's published Set5 numbers), DSD distance, Q_DSD and its errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from dsdviz.features import LAYER_PRESETS
from dsdviz.fingerprint import dsd
from dsdviz.data import load_image
from dsdviz.metrics import (
    dsd_distance,
    psnr,
    q_dsd,
    rgb_to_y,
    ssim,
    tiles,
)
from dsdviz.models import DSDRegressor
from dsdviz.resize import downscale
from dsdviz.scores import protocol_text

# RCAN (Zhang et al., ECCV 2018), 4x bicubic degradation, Set5: PSNR/SSIM on Y with a 4 px shave.
# The paper reports 32.63 dB / 0.9002 on average; the per-image PSNRs are those of sr_results/MANIFEST.md.
RCAN_SET5_PSNR = {"baby": 33.95, "bird": 35.90, "butterfly": 29.36, "head": 33.01, "woman": 30.95}


def test_psnr_ssim_reproduce_rcan_set5(shared_data):
    psnrs, ssims = [], []
    for name, expected in RCAN_SET5_PSNR.items():
        output = load_image(shared_data / "sr_results" / "RCAN" / "Set5" / f"{name}.png")
        target = load_image(shared_data / "Set5" / "HR" / f"{name}.png")
        psnrs.append(float(psnr(output, target, shave=4)[0]))
        ssims.append(float(ssim(output, target, shave=4)[0]))
        assert psnrs[-1] == pytest.approx(expected, abs=0.005)
    assert np.mean(psnrs) == pytest.approx(32.63, abs=0.005)
    assert np.mean(ssims) == pytest.approx(0.9002, abs=0.00005)


def test_y_channel_and_shave_conventions_on_a_known_pair(shared_data):
    """RCAN's Set5 bird against its HR: PSNR/SSIM are those of the 8-bit BT.601 luma (MATLAB rgb2ycbcr) with a
    4 px border removed, computed here directly with numpy and scikit-image; RGB and unshaved scores differ."""
    output = load_image(shared_data / "sr_results" / "RCAN" / "Set5" / "bird.png")
    target = load_image(shared_data / "Set5" / "HR" / "bird.png")

    def luma(x: torch.Tensor) -> np.ndarray:
        rgb = np.round(x[0].double().numpy() * 255) / 255
        return 16 + 65.481 * rgb[0] + 128.553 * rgb[1] + 24.966 * rgb[2]

    y_out, y_ref = luma(output)[4:-4, 4:-4], luma(target)[4:-4, 4:-4]
    expected_psnr = 10 * math.log10(255**2 / np.mean((y_out - y_ref) ** 2))
    expected_ssim = structural_similarity(
        y_ref, y_out, data_range=255, gaussian_weights=True, sigma=1.5, use_sample_covariance=False
    )
    assert float(psnr(output, target, shave=4)[0]) == pytest.approx(expected_psnr, abs=1e-9)
    assert float(psnr(output, target, shave=4)[0]) == pytest.approx(35.90, abs=0.005)  # sr_results/MANIFEST.md
    assert float(ssim(output, target, shave=4)[0]) == pytest.approx(expected_ssim, abs=1e-9)
    assert abs(float(psnr(output, target, shave=4, y_channel=False)[0]) - expected_psnr) > 0.5
    assert abs(float(psnr(output, target)[0]) - expected_psnr) > 0.1  # the border counts without the shave


def test_psnr_of_a_known_offset(rng):
    """Adding k/255 to every channel moves Y by k * 219/255 levels: PSNR = 20 log10(255 / (k * 219 / 255))."""
    target = torch.randint(10, 240, (2, 3, 20, 24), generator=rng).double() / 255
    for k in (1, 3):
        expected = 20 * math.log10(255 / (k * 219 / 255))
        torch.testing.assert_close(psnr(target + k / 255, target), torch.full((2,), expected, dtype=torch.float64))
    rgb = psnr(target + 3 / 255, target, y_channel=False)
    torch.testing.assert_close(rgb, torch.full((2,), 20 * math.log10(255 / 3), dtype=torch.float64))


def test_psnr_rgb_matches_scikit_image_on_8_bit_data(rng):
    a = torch.randint(0, 256, (1, 3, 16, 16), generator=rng, dtype=torch.uint8)
    b = torch.randint(0, 256, (1, 3, 16, 16), generator=rng, dtype=torch.uint8)
    expected = peak_signal_noise_ratio(b[0].numpy(), a[0].numpy(), data_range=255)
    assert float(psnr(a.double() / 255, b.double() / 255, y_channel=False)[0]) == pytest.approx(expected, abs=1e-10)


def test_identity_shave_quantization_and_batch(rng):
    target = torch.randint(0, 256, (3, 3, 24, 24), generator=rng).float() / 255
    assert torch.isinf(psnr(target, target)).all()
    assert torch.isfinite(psnr(target + 0.3 / 255, target, quantize=False)).all()
    assert torch.isinf(psnr(target + 0.3 / 255, target)).all()  # rounded to the same 8-bit image
    torch.testing.assert_close(ssim(target, target), torch.ones(3, dtype=torch.float64))
    damaged = target.clone()
    damaged[..., :2, :] = 0  # damage confined to a 2 px border
    assert torch.isinf(psnr(damaged, target, shave=2, quantize=False)).all()
    assert (psnr(damaged, target, shave=1) < 40).all()
    torch.testing.assert_close(psnr(damaged, target)[1:2], psnr(damaged[1:2], target[1:2]))
    # outputs outside [0, 1] are clipped, as saving would
    torch.testing.assert_close(psnr(target * 0 + 1.7, target), psnr(torch.ones_like(target), target))
    y = rgb_to_y(torch.tensor([0.0, 1.0]).view(2, 1, 1, 1).expand(2, 3, 1, 1))
    torch.testing.assert_close(y.flatten(), torch.tensor([16.0, 235.0]))


def test_metric_errors(rng):
    x = torch.rand(1, 3, 20, 20, generator=rng)
    with pytest.raises(ValueError, match="same shape"):
        psnr(x, x[..., :-1])
    with pytest.raises(ValueError, match=r"values in \[0, 1\]"):
        ssim(x, x * 255)
    with pytest.raises(ValueError, match="shave"):
        psnr(x, x, shave=-1)
    with pytest.raises(ValueError, match="too small"):
        psnr(x, x, shave=7)
    with pytest.raises(ValueError, match="x\\[None\\]"):
        ssim(x[0], x[0])


def test_protocol_text_names_the_conventions():
    text = protocol_text(4)
    assert "Y (BT.601" in text and "shave 4 px" in text and "relu1_2, relu2_1, relu3_1" in text
    assert "RGB" in protocol_text(0, y_channel=False)
    assert "NIQE" in text and "pristine model" in text


def test_dsd_distance(vgg_weights, rng):
    x = torch.rand(2, 3, 40, 40, generator=rng)
    zero = dsd_distance(x, x)
    assert set(zero) == {*LAYER_PRESETS["full_reference"], "mean"}
    assert all(float(v.abs().max()) == 0 for v in zero.values())
    y = (x + 0.1 * torch.randn(2, 3, 40, 40, generator=rng)).clamp(0, 1)
    far = dsd_distance(y, x)
    expected = dsd(y, 2, "full_reference").distance(dsd(x, 2, "full_reference"))
    torch.testing.assert_close(far["mean"], expected["mean"])
    assert (far["mean"] > 0).all()


def test_q_dsd_is_eq_5(vgg_weights, regressor, rng):
    y = torch.rand(2, 3, 32, 32, generator=rng)  # exactly one 32 px tile (crop 16 x alpha 2)
    out = q_dsd(y, regressor, per_layer=True)
    predicted = regressor(downscale(y, 2))
    norms = dsd(y, 2, "no_reference").norms()
    manual = torch.stack([(predicted[:, i] - norms[name]).abs() for i, name in enumerate(regressor.layers)]).mean(0)
    torch.testing.assert_close(out["q_dsd"], manual)
    torch.testing.assert_close(q_dsd(y, regressor, alpha=2), manual)
    torch.testing.assert_close(out["true_relu3_1"], norms["relu3_1"])
    assert regressor.training is False
    excess = [(norms[name] - predicted[:, i]) / predicted[:, i] for i, name in enumerate(regressor.layers)]
    torch.testing.assert_close(out["excess_relu2_1"], excess[1])
    torch.testing.assert_close(out["excess"], torch.stack(excess).mean(0))


def test_q_dsd_excess_is_relative_to_the_tile_mean_prediction(vgg_weights, regressor, rng):
    y = torch.rand(1, 3, 40, 64, generator=rng)  # 4 tiles of 32 px
    out = q_dsd(y, regressor, per_layer=True)
    true = torch.stack([out[f"true_{name}"] for name in regressor.layers])
    pred = torch.stack([out[f"pred_{name}"] for name in regressor.layers])
    torch.testing.assert_close(out["excess"], ((true - pred) / pred).mean(0))
    silent = DSDRegressor(alpha=2, crop=16).eval()  # predicts 0 everywhere: the excess is undefined, not inf
    silent.load_state_dict(regressor.state_dict())
    silent.target_scale.zero_()
    assert torch.isnan(q_dsd(y, silent, per_layer=True)["excess"]).all()


def test_q_dsd_averages_over_tiles(vgg_weights, regressor, rng):
    y = torch.rand(1, 3, 40, 64, generator=rng)
    parts = tiles(y, 32)
    assert parts.shape == (1, 4, 3, 32, 32)  # 2 rows (overlapping) x 2 columns
    torch.testing.assert_close(parts[0, 3], y[0, :, 8:, 32:])
    each = torch.cat([q_dsd(parts[0, t : t + 1], regressor) for t in range(4)])
    torch.testing.assert_close(q_dsd(y, regressor), each.mean()[None])
    whole = DSDRegressor(alpha=2).eval()  # no training crop recorded: the whole image is scored
    whole.load_state_dict(regressor.state_dict())
    assert not torch.allclose(q_dsd(y, whole), q_dsd(y, regressor))


def test_q_dsd_errors(vgg_weights, regressor, rng):
    y = torch.rand(1, 3, 32, 32, generator=rng)
    with pytest.raises(ValueError, match="expected a trained DSD regressor"):
        q_dsd(y, torch.nn.Linear(3, 4))
    with pytest.raises(ValueError, match="trained for alpha=2"):
        q_dsd(y, regressor, alpha=4)
    with pytest.raises(ValueError, match="too small for layer relu3_1"):
        q_dsd(y[..., :6, :6], regressor)
    with pytest.raises(ValueError, match="uint8"):
        q_dsd((y * 255).to(torch.uint8), regressor)
    with pytest.raises(ValueError, match=r"values in \[0, 1\]"):
        q_dsd(y * 255, regressor)
    with pytest.raises(ValueError, match="x\\[None\\]|got \\(3, 32, 32\\)"):
        q_dsd(y[0], regressor)
