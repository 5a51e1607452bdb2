"""MATLAB-compatible bicubic resize: reference values, borders, sizes, gradients, errors."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dsdviz.resize import CONV_MIN_LENGTH, Downscale, downscale, downscaled_size, imresize


def _matlab_loop(signal: np.ndarray, out_len: int, scale: float) -> np.ndarray:
    """A literal, loop-by-loop transcription of MATLAB's 1-D antialiased bicubic resampling."""
    in_len = len(signal)
    width = 4 / scale if scale < 1 else 4
    stretch = scale if scale < 1 else 1
    out = np.zeros(out_len)
    for i in range(1, out_len + 1):
        u = i / scale + 0.5 * (1 - 1 / scale)
        left = math.floor(u - width / 2)
        weights, values = [], []
        for j in range(left, left + math.ceil(width) + 2):
            t = abs(stretch * (u - j))
            w = 1.5 * t**3 - 2.5 * t**2 + 1 if t <= 1 else (-0.5 * t**3 + 2.5 * t**2 - 4 * t + 2 if t <= 2 else 0.0)
            k = j - 1  # 0-based, then reflect symmetrically (edge pixel repeated)
            while k < 0 or k >= in_len:
                k = -k - 1 if k < 0 else 2 * in_len - k - 1
            weights.append(stretch * w)
            values.append(signal[k])
        out[i - 1] = np.dot(weights, values) / np.sum(weights)
    return out


def test_reference_values_4x4_to_3x3():
    x = torch.arange(16, dtype=torch.float64).view(1, 1, 4, 4)
    expected = [[0.7506, 2.1004, 3.4503], [6.1501, 7.5000, 8.8499], [11.5497, 12.8996, 14.2494]]
    assert np.round(imresize(x, size=(3, 3))[0, 0].numpy(), 4).tolist() == expected


def _cases(folder):
    data = np.load(folder / "matlab_imresize_cases.npz")
    for name, case in json.loads((folder / "cases.json").read_text()).items():
        yield name, data[case["input"]], data[case["output"]], tuple(case["output_size"]), case["antialiasing"]


def _as_batch(array: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
    t = torch.from_numpy(array).to(dtype)
    return t.permute(2, 0, 1)[None] if t.ndim == 3 else t[None, None]


@pytest.mark.parametrize("dtype,tolerance", [(torch.float64, 1e-12), (torch.float32, 1e-5)])
def test_matches_matlab_fixtures(matlab_fixtures, dtype, tolerance):
    checked = 0
    for name, inp, expected, size, antialias in _cases(matlab_fixtures):
        out = imresize(_as_batch(inp, dtype), size=size, antialias=antialias)
        out = out[0].permute(1, 2, 0) if inp.ndim == 3 else out[0, 0]
        assert out.dtype == dtype
        span = max(1.0, float(np.ptp(inp)))
        error = np.abs(out.double().numpy() - expected).max() / span
        assert error < tolerance, f"{name}: relative error {error:.3g}"
        checked += 1
    assert checked >= 16


@pytest.mark.parametrize("alpha", [2, 3, 4])
@pytest.mark.parametrize("dtype,tolerance", [(torch.float64, 1e-12), (torch.float32, 1e-6)])
def test_interior_agrees_with_torch_antialiased_bicubic(alpha, dtype, tolerance, rng):
    x = torch.rand(2, 3, 24 * alpha, 20 * alpha, generator=rng, dtype=torch.float64).to(dtype)
    ours = downscale(x, alpha)
    theirs = F.interpolate(x, scale_factor=1 / alpha, mode="bicubic", antialias=True)
    assert ours.shape == theirs.shape
    interior = (..., slice(3, -3), slice(3, -3))
    assert (ours - theirs)[interior].abs().max().item() < tolerance
    # ... and differs at the border, where torch truncates the kernel instead of mirroring
    assert (ours - theirs)[..., 0, :].abs().max().item() > 1e-3


@pytest.mark.parametrize(
    "in_len,scale", [(9, 1 / 2), (17, 1 / 4), (10, 1 / 3), (13, 0.37), (7, 1 / 2.5), (5, 1 / 4), (3, 1 / 4), (6, 2.0)]
)
def test_one_axis_matches_literal_matlab_algorithm(in_len, scale, rng):
    signal = torch.rand(in_len, generator=rng, dtype=torch.float64)
    out_len = math.ceil(in_len * scale - 1e-9)
    ours = imresize(signal.view(1, 1, 1, in_len), scale=(1.0, scale))[0, 0, 0].numpy()
    assert ours.shape == (out_len,)
    np.testing.assert_allclose(ours, _matlab_loop(signal.numpy(), out_len, scale), rtol=0, atol=1e-13)


@pytest.mark.parametrize("in_len,alpha", [(CONV_MIN_LENGTH, 2), (CONV_MIN_LENGTH + 3, 4), (CONV_MIN_LENGTH + 1, 3)])
def test_long_axes_take_the_convolution_path_and_match_matlab(in_len, alpha, rng):
    signal = torch.rand(in_len, generator=rng, dtype=torch.float64)
    out_len = math.ceil(in_len / alpha)
    ours = downscale(signal.view(1, 1, 1, in_len), alpha)[0, 0, 0].numpy()
    np.testing.assert_allclose(ours, _matlab_loop(signal.numpy(), out_len, 1 / alpha), rtol=0, atol=1e-13)


def test_border_uses_symmetric_padding():
    # A spike on the first pixel: mirrored once into position -1, so the first output
    # sees it twice (weights of taps at +0.5 and -0.5 px from the sample), unlike zero padding.
    x = torch.zeros(1, 1, 1, 8, dtype=torch.float64)
    x[..., 0] = 1.0
    ours = imresize(x, scale=(1.0, 0.5))[0, 0, 0]
    expected = _matlab_loop(x[0, 0, 0].numpy(), 4, 0.5)
    np.testing.assert_allclose(ours.numpy(), expected, atol=1e-14)
    # a constant image stays constant everywhere, borders included
    flat = torch.full((1, 3, 13, 11), 0.3, dtype=torch.float64)
    for alpha in (2, 3, 4, 2.5):
        np.testing.assert_allclose(downscale(flat, alpha).numpy(), 0.3, atol=1e-14)


@pytest.mark.parametrize(
    "size,alpha,expected", [((17, 9), 2, (9, 5)), ((16, 16), 4, (4, 4)), ((10, 7), 3, (4, 3)), ((9, 9), 3, (3, 3))]
)
def test_output_size_follows_matlab_ceil(size, alpha, expected):
    x = torch.rand(1, 3, *size)
    assert downscale(x, alpha).shape[-2:] == expected
    assert downscaled_size(*size, alpha) == expected


def test_alpha_one_is_identity_and_module_matches(rng):
    x = torch.rand(2, 3, 12, 10, generator=rng)
    assert downscale(x, 1) is x
    assert torch.equal(Downscale(2)(x), downscale(x, 2))


def test_batch_equals_items(rng):
    x = torch.rand(3, 3, 21, 18, generator=rng, dtype=torch.float64)
    batched = downscale(x, 4)
    for i in range(3):
        assert torch.equal(batched[i : i + 1], downscale(x[i : i + 1], 4))


@pytest.mark.parametrize("alpha", [2, 2.5])
def test_gradcheck(alpha, rng):
    x = torch.rand(1, 2, 9, 7, generator=rng, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: downscale(t, alpha), (x,))


def test_float64_is_kept():
    x = torch.rand(1, 3, 8, 8, dtype=torch.float64)
    assert downscale(x, 2).dtype == torch.float64


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_matches_cpu(rng):
    x = torch.rand(2, 3, 40, 36, generator=rng)
    np.testing.assert_allclose(downscale(x.cuda(), 4).cpu().numpy(), downscale(x, 4).numpy(), atol=1e-6)


def test_bad_input_raises_clear_errors():
    with pytest.raises(ValueError, match=r"expected a float tensor of shape \(B, C, H, W\), got \(8, 8\) float32"):
        downscale(torch.rand(8, 8), 2)
    with pytest.raises(ValueError, match="uint8"):
        imresize(torch.zeros(1, 3, 8, 8, dtype=torch.uint8), scale=0.5)
    with pytest.raises(ValueError, match="downscaling factor >= 1"):
        downscale(torch.rand(1, 3, 8, 8), 0.5)
    with pytest.raises(ValueError, match="finite number"):
        downscale(torch.rand(1, 3, 8, 8), float("nan"))
    with pytest.raises(ValueError, match="exactly one of scale and size"):
        imresize(torch.rand(1, 3, 8, 8))
    with pytest.raises(ValueError, match="positive"):
        imresize(torch.rand(1, 3, 8, 8), size=(0, 4))
