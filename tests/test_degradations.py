"""Degradations: bicubic resampling, camera-shake and file kernels, blur, noise, Gaussian blur."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dsdviz.data import (
    RealisticDegradation,
    bicubic_downsample,
    bicubic_upsample,
    blur,
    camera_shake_kernel,
    gaussian_blur,
    jpeg,
    load_image,
    load_kernels,
    noisy_blur,
    quantize,
    read_uint8,
    sensor_noise,
)
from dsdviz.metrics import psnr, ssim
from dsdviz.resize import downscale


def test_bicubic_baseline_reproduces_the_published_set5_numbers(shared_data):
    # Bicubic x4 on Set5 (Y, shave 4), as tabulated in EDSR/RCAN: 28.42 dB, SSIM 0.8104
    scores = []
    for name in ("baby", "bird", "butterfly", "head", "woman"):
        truth = load_image(shared_data / "Set5" / "HR" / f"{name}.png")
        up = bicubic_upsample(load_image(shared_data / "Set5" / "LR_bicubic" / "X4" / f"{name}.png"), 4)
        assert up.dtype == torch.float32 and up.shape == truth.shape and 0 <= float(up.min()) <= float(up.max()) <= 1
        scores.append((float(psnr(up, truth, shave=4)[0]), float(ssim(up, truth, shave=4)[0])))
    assert np.mean([p for p, _ in scores]) == pytest.approx(28.42, abs=0.02)
    assert np.mean([s for _, s in scores]) == pytest.approx(0.8104, abs=0.002)


def test_bicubic_upsample_keeps_flat_images_and_clamps_overshoot():
    flat = torch.full((2, 3, 5, 6), 0.3, dtype=torch.float64)
    torch.testing.assert_close(bicubic_upsample(flat, 4), torch.full((2, 3, 20, 24), 0.3))
    step = torch.zeros(1, 3, 8, 8)
    step[..., 4:] = 1
    plain = torch.nn.functional.interpolate(step.double(), scale_factor=4, mode="bicubic")
    assert plain.min() < 0 and plain.max() > 1  # cubic interpolation overshoots at an edge ...
    up = bicubic_upsample(step, 4)
    assert float(up.min()) == 0 and float(up.max()) == 1  # ... and the baseline clamps it


def test_bicubic_downsample_is_the_8_bit_lr_file(shared_data):
    hr = read_uint8(str(shared_data / "Set5" / "HR" / "baby.png"))
    lr = bicubic_downsample(hr, 4)
    assert lr.dtype == torch.uint8 and lr.shape == (3, 128, 128)
    assert torch.equal(bicubic_downsample(hr[None], 4)[0], lr)
    assert torch.equal(lr, quantize(downscale(hr[None].double() / 255, 4)[0]))
    # the published MATLAB LR file: most pixels equal, the rest off by the rounding of MATLAB's uint8 path
    matlab = read_uint8(str(shared_data / "Set5" / "LR_bicubic" / "X4" / "baby.png")).int()
    assert float((lr.int() == matlab).float().mean()) > 0.85
    assert float((lr.int() - matlab).abs().float().mean()) < 0.2


def test_camera_shake_kernel():
    kernels = [camera_shake_kernel(21, torch.Generator().manual_seed(s)) for s in range(20)]
    for k in kernels:
        assert k.shape == (21, 21) and (k >= 0).all() and float(k.sum()) == pytest.approx(1, abs=1e-6)
        rows, cols = torch.nonzero(k, as_tuple=True)
        extent = max(int(rows.max() - rows.min()), int(cols.max() - cols.min()))
        assert 0.3 * 20 - 1 <= extent <= 20  # blur length in the documented range
    assert torch.equal(kernels[3], camera_shake_kernel(21, torch.Generator().manual_seed(3)))
    assert len({tuple(k.flatten().tolist()) for k in kernels}) == 20
    with pytest.raises(ValueError, match="odd"):
        camera_shake_kernel(20)


def test_blur_is_valid_convolution(rng):
    x = torch.rand(3, 30, 26, generator=rng, dtype=torch.float64)
    kernel = camera_shake_kernel(9, rng).double()
    expected = F.conv2d(x[None], kernel.flip(0, 1)[None, None].expand(3, 1, 9, 9), groups=3)[0]
    torch.testing.assert_close(blur(x, kernel), expected)
    with pytest.raises(ValueError, match="square"):
        blur(x, torch.ones(3, 5))


def test_noisy_blur_adds_bounded_noise_to_the_blur(rng):
    x = torch.rand(3, 40, 40, generator=rng, dtype=torch.float64)
    kernel = camera_shake_kernel(9, rng)
    clean = noisy_blur(x, kernel, 0.0, torch.Generator().manual_seed(0))
    assert clean.dtype == torch.uint8 and clean.shape == (3, 32, 32)
    assert torch.equal(clean, quantize(blur(x, kernel.double())))
    noisy = [noisy_blur(x, kernel, 0.05, torch.Generator().manual_seed(s)) for s in (0, 0, 1)]
    assert torch.equal(noisy[0], noisy[1]) and not torch.equal(noisy[0], noisy[2])
    deviation = float((noisy[2].double() - clean.double()).std() / 255)
    assert 0 < deviation < 0.05  # a standard deviation drawn in [0, noise]


def test_load_kernels(shared_data, tmp_path):
    kernels = load_kernels(shared_data / "deblur" / "kernels" / "Levin09_npy")
    assert len(kernels) == 8 and all(float(k.sum()) == pytest.approx(1) for k in kernels)
    with pytest.raises(ValueError, match="no kernel files"):
        load_kernels(tmp_path)
    np.save(tmp_path / "bad.npy", -np.ones((3, 3)))
    with pytest.raises(ValueError, match="non-negative"):
        load_kernels(tmp_path)


def test_gaussian_blur_is_scipys_filter_rounded_to_8_bits(rng):
    from scipy.ndimage import gaussian_filter

    truth = torch.rand(1, 3, 48, 48, generator=rng)
    for sigma in (1, 2.5):
        blurred = gaussian_blur(truth, sigma)
        assert blurred.shape == truth.shape
        # scipy's filter, truncated at the same radius (ceil(3 sigma)), with torch's whole-sample reflection
        expected = gaussian_filter(truth[0].numpy(), sigma=(0, sigma, sigma), truncate=3, mode="mirror")
        assert (blurred[0] - torch.from_numpy(expected)).abs().max() <= 0.5 / 255 + 1e-5  # 8-bit rounding
        assert torch.equal(blurred, (blurred * 255).round() / 255)
    with pytest.raises(ValueError, match=r"sigma 8 px needs a 49 px kernel; the image is \(48, 48\) px"):
        gaussian_blur(torch.zeros(1, 3, 48, 48), 8)
    with pytest.raises(ValueError, match="sigma must be positive"):
        gaussian_blur(torch.zeros(1, 3, 48, 48), -1)
    with pytest.raises(ValueError, match=r"x: expected a float tensor of shape \(B, 3, H, W\)"):
        gaussian_blur(torch.zeros(3, 48, 48), 1)


def test_sensor_noise_has_the_poisson_gaussian_variance(rng):
    x = torch.rand(1, 3, 256, 256, generator=rng, dtype=torch.float64) * 0.6 + 0.2  # away from the clipping
    read, shot = 4 / 255, 1e-3
    noise = sensor_noise(x, read, shot, rng) - x
    normalised = noise / (read**2 + shot * x).sqrt()
    assert float(normalised.mean()) == pytest.approx(0, abs=0.01)
    assert float(normalised.std()) == pytest.approx(1, abs=0.01)
    torch.testing.assert_close(sensor_noise(x, 0.0, 0.0, rng), x)
    with pytest.raises(ValueError, match="non-negative"):
        sensor_noise(x, -0.1, 0.0, rng)


def test_jpeg_keeps_flat_images_and_loses_more_at_low_quality(rng, shared_data):
    flat = torch.full((2, 3, 16, 24), 0.5)
    torch.testing.assert_close(jpeg(flat, 50), torch.full_like(flat, 128 / 255), atol=1 / 255, rtol=0)
    image = load_image(shared_data / "Set5" / "HR" / "butterfly.png")
    errors = [float(psnr(jpeg(image, q), image, shave=0)[0]) for q in (20, 60, 95)]
    assert errors[0] < errors[1] < errors[2] and 24 < errors[0] and errors[2] > 38  # dB, rising with quality
    assert jpeg(image[0], 60).shape == image[0].shape and jpeg(image, 60).dtype == torch.float32
    with pytest.raises(ValueError, match="quality must be an integer from 1 to 100"):
        jpeg(flat, 0)


def test_realistic_low_resolution_is_seeded_and_degraded(shared_data):
    hr = load_image(shared_data / "Set5" / "HR" / "butterfly.png")[0]  # 256 x 256
    degradation = RealisticDegradation()
    first = degradation.low_resolution(hr, 4, torch.Generator().manual_seed(3))
    assert first.shape == (3, 64, 64) and first.dtype == torch.float32
    assert torch.equal(first * 255, (first * 255).round()) and 0 <= float(first.min()) <= float(first.max()) <= 1
    torch.testing.assert_close(first, degradation.low_resolution(hr, 4, torch.Generator().manual_seed(3)))
    other = degradation.low_resolution(hr, 4, torch.Generator().manual_seed(4))
    clean = bicubic_downsample((hr * 255).round().to(torch.uint8), 4).float() / 255
    assert 0 < float((first - other).abs().mean()) and 20 < float(psnr(first[None], clean[None], shave=0)[0]) < 40
    none = RealisticDegradation(blur=(0, 0), noise_probability=0, jpeg_probability=0)
    torch.testing.assert_close(none.low_resolution(hr, 4, torch.Generator()), clean, atol=0.5 / 255 + 1e-6, rtol=0)
    with pytest.raises(ValueError, match="RealisticDegradation.quality"):
        RealisticDegradation(quality=(40, 101))
    with pytest.raises(ValueError, match="RealisticDegradation.jpeg_probability"):
        RealisticDegradation(jpeg_probability=1.5)
