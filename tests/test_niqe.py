"""NIQE (dsdviz.niqe): finite values, monotone in blur, dtype paths, and the cross-check with BasicSR's port."""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch

from dsdviz.degradations import gaussian_blur
from dsdviz.metrics import HIGHER_IS_BETTER
from dsdviz.niqe import gaussian_window, niqe, niqe_gray, pristine_model, to_gray
from dsdviz.samples import skimage_sample
from dsdviz.scoring import Scorer


@pytest.fixture(scope="module")
def astronaut() -> torch.Tensor:
    return skimage_sample("astronaut")[..., :288, :288]


def test_pristine_model_is_the_matlab_release():
    mu, cov = pristine_model()
    assert mu.shape == (36,) and cov.shape == (36, 36)
    assert mu[0] == pytest.approx(2.6013, abs=1e-4) and mu[18] == pytest.approx(2.9695, abs=1e-4)
    np.testing.assert_allclose(cov, cov.T, atol=1e-12)
    assert HIGHER_IS_BETTER["niqe"] is False


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


def _basicsr_niqe():
    """BasicSR's NIQE module, loaded without running ``basicsr/__init__`` (which imports every arch and
    dataset, some of them against an older torchvision)."""
    spec = importlib.util.find_spec("basicsr")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("basicsr is not installed: no second NIQE implementation to compare with")
    pytest.importorskip("cv2", reason="basicsr's niqe module imports cv2 (opencv-python)")
    root = Path(next(iter(spec.submodule_search_locations)))
    saved = {name: sys.modules.get(name) for name in ("basicsr", "basicsr.metrics", "basicsr.utils")}
    try:
        for name, folder in zip(saved, (root, root / "metrics", root / "utils")):
            sys.modules[name] = types.ModuleType(name)
            sys.modules[name].__path__ = [str(folder)]
        sys.modules["basicsr.utils"].bgr2ycbcr = importlib.import_module("basicsr.utils.color_util").bgr2ycbcr
        return importlib.import_module("basicsr.metrics.niqe")
    except ImportError as error:
        pytest.skip(f"BasicSR's NIQE module does not import here: {error}")
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


@pytest.mark.parametrize("name", ["baboon", "comic", "zebra"])
def test_matches_basicsr(name, shared_data):
    reference = _basicsr_niqe()
    image = read_set14(shared_data, name)
    gray = to_gray(image)[0]
    mu, cov = pristine_model()
    theirs = reference.niqe(gray, mu[None], cov, gaussian_window())
    assert niqe_gray(gray) == pytest.approx(theirs, abs=1e-3)
    assert float(niqe(image)) == pytest.approx(niqe_gray(gray))


def read_set14(root: Path, name: str) -> torch.Tensor:
    from dsdviz.images import load_image

    path = root / "Set14" / "HR" / f"{name}.png"
    if not path.is_file():
        pytest.skip(f"{path} is missing")
    return load_image(path)
