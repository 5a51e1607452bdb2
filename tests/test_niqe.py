"""NIQE (dsdviz.niqe): finite values, monotone in blur, dtype paths, and BasicSR's port's values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from dsdviz.data import gaussian_blur
import dsdviz
from dsdviz.niqe import PRISTINE_FILE, gaussian_window, niqe, niqe_gray, pristine_model, to_gray
from dsdviz.samples import skimage_sample
from dsdviz.scores import SCORES
from dsdviz.scoring import Scorer


@pytest.fixture(scope="module")
def astronaut() -> torch.Tensor:
    return skimage_sample("astronaut")[..., :288, :288]


def test_pristine_model_is_the_matlab_release():
    mu, cov = pristine_model()
    assert mu.shape == (36,) and cov.shape == (36, 36)
    assert mu[0] == pytest.approx(2.6013, abs=1e-4) and mu[18] == pytest.approx(2.9695, abs=1e-4)
    np.testing.assert_allclose(cov, cov.T, atol=1e-12)
    assert SCORES["niqe"].higher_is_better is False


def test_random_image_is_finite_and_unnatural(astronaut):
    noise = torch.rand(1, 3, 200, 200, generator=torch.Generator().manual_seed(0))
    scores = niqe(torch.cat([noise, astronaut[..., :200, :200]]))
    assert scores.shape == (2,) and torch.isfinite(scores).all()
    assert scores[0] > 3 * scores[1]


def test_constant_image_has_no_defined_block():
    """A flat image has no negative/positive MSCN values: every block is left out, as MATLAB's nanmean does."""
    assert torch.isnan(niqe(torch.full((1, 3, 192, 192), 0.5)))


def test_increases_with_blur(astronaut):
    scores = [float(niqe(gaussian_blur(astronaut, s) if s else astronaut)) for s in (0, 1, 2, 4)]
    assert scores == sorted(scores) and scores[-1] > scores[0] + 2


def test_dtype_paths_agree(astronaut):
    as_uint8 = torch.from_numpy((astronaut[0] * 255).round().to(torch.uint8).numpy())
    float32 = as_uint8.float()[None] / 255
    assert float(niqe(float32)) == pytest.approx(float(niqe(float32.double())), abs=1e-4)


def test_too_small_raises_and_scorer_leaves_it_out():
    with pytest.raises(ValueError, match="96"):
        niqe(torch.rand(1, 3, 64, 200))
    assert "niqe" not in Scorer()(torch.rand(1, 3, 64, 64)) and "niqe" in Scorer()(torch.rand(1, 3, 96, 96))
    assert Scorer().columns() == ["psnr", "ssim", "dsd_distance", "niqe"]


def test_gaussian_window_is_fspecial():
    window = gaussian_window()
    assert window.shape == (7, 7) and window.sum() == pytest.approx(1.0)
    assert window[3, 4] / window[3, 3] == pytest.approx(np.exp(-1 / (2 * (7 / 6) ** 2)))
    assert window[0, 0] / window[3, 3] == pytest.approx(np.exp(-18 / (2 * (7 / 6) ** 2)))


#: NIQE of Set14 images by BasicSR v1.4.2's port of the MATLAB release (``basicsr.metrics.niqe.niqe`` on
#: :func:`to_gray` of the image, with the same pristine model and window), computed once with basicsr installed.
BASICSR_NIQE = {"baboon": 5.714716597516415, "comic": 4.239260935427084, "zebra": 3.3652382250178654}


@pytest.mark.parametrize("name", sorted(BASICSR_NIQE))
def test_matches_basicsr(name, shared_data):
    image = read_set14(shared_data, name)
    assert float(niqe(image)) == pytest.approx(BASICSR_NIQE[name], abs=1e-3)
    assert float(niqe(image)) == pytest.approx(niqe_gray(to_gray(image)[0]))


def test_pristine_model_is_package_data():
    assert PRISTINE_FILE.parent == Path(dsdviz.__file__).parent and PRISTINE_FILE.stat().st_size < 20_000


def read_set14(root: Path, name: str) -> torch.Tensor:
    from dsdviz.data import load_image

    path = root / "Set14" / "HR" / f"{name}.png"
    if not path.is_file():
        pytest.skip(f"{path} is missing")
    return load_image(path)
