"""Shared test set-up: locate the project's offline data (``DSDVIZ_SHARED``, default ``../shared``).

Tests that need the shared weights, data or MATLAB fixtures skip with a reason when
that folder is absent; everything else runs without it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from dsdviz.data import save_image
from dsdviz.models import DSDRegressor

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("DSDVIZ_SHARED") or REPO.parent / "shared")
SHARED_WEIGHTS = SHARED / "weights" / "vgg19_imagenet_to_relu3_1.pth"
SHARED_DATA = SHARED / "data"
MATLAB_FIXTURES = SHARED / "fixtures" / "matlab_imresize"

if SHARED_WEIGHTS.is_file():
    os.environ.setdefault("DSDVIZ_VGG19_WEIGHTS", str(SHARED_WEIGHTS))
if SHARED_DATA.is_dir():
    os.environ.setdefault("DSDVIZ_DATA", str(SHARED_DATA))
os.environ.setdefault("MPLBACKEND", "Agg")

torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))


def _need(path: Path, what: str) -> Path:
    if not path.exists():
        pytest.skip(f"{what} not found at {path} (set DSDVIZ_SHARED to the shared folder)")
    return path


@pytest.fixture
def shared_weights() -> Path:
    """The truncated ImageNet VGG19 state dict (conv1_1..conv3_1)."""
    return _need(SHARED_WEIGHTS, "shared VGG19 weights")


@pytest.fixture
def vgg_weights() -> str:
    """Whatever the library will load for weights="imagenet"; skips when nothing is available."""
    path = os.environ.get("DSDVIZ_VGG19_WEIGHTS")
    if not path:
        pytest.skip("no VGG19 weights: set DSDVIZ_VGG19_WEIGHTS or provide ../shared/weights")
    return path


@pytest.fixture
def shared_data() -> Path:
    return _need(SHARED_DATA, "shared data folder")


@pytest.fixture
def matlab_fixtures() -> Path:
    return _need(MATLAB_FIXTURES, "MATLAB imresize fixtures")


@pytest.fixture
def rng() -> torch.Generator:
    return torch.Generator().manual_seed(0)


@pytest.fixture
def regressor() -> DSDRegressor:
    """An untrained alpha = 2 DSD regressor on 16 px inputs, with fixed weights and target scales."""
    torch.manual_seed(0)
    psi = DSDRegressor(alpha=2, crop=16).eval()
    psi.target_scale.copy_(torch.tensor([1e-3, 2e-3, 3e-3, 4e-3]))
    return psi


@pytest.fixture
def folder(tmp_path_factory):
    """The trainer tests' data: four small 8-bit RGB images of natural-ish content (smoothed noise)."""
    root = tmp_path_factory.mktemp("images")
    generator = torch.Generator().manual_seed(0)
    for index in range(4):
        x = torch.rand(1, 3, 24, 26, generator=generator)
        save_image(F.interpolate(x, size=(72, 80), mode="bicubic").clamp(0, 1), root / f"im{index}.png")
    return root
