"""Mean gradient magnitude: definition on known images, batches, errors."""

from __future__ import annotations

import pytest
import torch

from dsdviz.sharpness import mean_gradient_magnitude


def test_known_images():
    flat = torch.full((1, 3, 8, 8), 0.3)
    assert mean_gradient_magnitude(flat).item() == 0
    ramp = torch.linspace(0, 1, 11, dtype=torch.float64).expand(1, 3, 6, 11)
    assert mean_gradient_magnitude(ramp).item() == pytest.approx(0.1)
    stripes = (torch.arange(10) % 2).double().expand(1, 3, 4, 10)  # black/white columns
    assert mean_gradient_magnitude(stripes).item() == pytest.approx(1.0)
    diagonal = torch.arange(6, dtype=torch.float64).view(6, 1) + torch.arange(6, dtype=torch.float64)
    assert mean_gradient_magnitude((diagonal / 10).expand(1, 3, 6, 6)).item() == pytest.approx(2**0.5 / 10)


def test_uses_luminance():
    red = torch.zeros(1, 3, 4, 10, dtype=torch.float64)
    red[:, 0, :, ::2] = 1  # red/black columns: the luma steps by MATLAB rgb2gray's red weight
    assert mean_gradient_magnitude(red).item() == pytest.approx(0.298936021293775)


def test_blur_lowers_and_batch_equals_items(rng):
    x = torch.rand(2, 3, 16, 16, generator=rng)
    blurred = torch.nn.functional.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)
    assert (mean_gradient_magnitude(blurred) < mean_gradient_magnitude(x)).all()
    batch = mean_gradient_magnitude(x)
    assert batch.shape == (2,)
    torch.testing.assert_close(batch[1:], mean_gradient_magnitude(x[1:]))


def test_errors():
    with pytest.raises(ValueError, match="at least 2 px"):
        mean_gradient_magnitude(torch.rand(1, 3, 1, 5))
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        mean_gradient_magnitude(torch.rand(3, 5, 5))
