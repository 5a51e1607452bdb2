"""torch.hub entry points (hubconf.py at the repository root) load the shipped networks."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

from dsdviz.models import DEFAULT_REGRESSORS, load_model

REPOSITORY = str(Path(__file__).resolve().parents[1])


def test_hub_lists_and_loads_the_shipped_networks():
    spec = importlib.util.spec_from_file_location("hubconf", Path(REPOSITORY) / "hubconf.py")
    hub = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hub)
    entries = {name for name in vars(hub) if not name.startswith("_") and callable(getattr(hub, name))} - {"annotations"}
    entries -= {"load_model", "shipped_models", "nn"}
    assert entries == {f"xsrresnet_{task}_{stage}" for task in ("sr_x4", "deblur") for stage in ("psnr", "dsd")} | {
        "dsd_regressor_a2", "dsd_regressor_a4"}  # fmt: skip
    net = torch.hub.load(REPOSITORY, "xsrresnet_sr_x4_dsd", source="local")
    shipped = load_model("xsrresnet_sr_x4_dsd_cpu")
    pairs = zip(net.state_dict().values(), shipped.state_dict().values())
    assert not net.training and all(torch.equal(a, b) for a, b in pairs)
    x = torch.rand(1, 3, 12, 10, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert net(x).shape == (1, 3, 48, 40)
    gpu = torch.hub.load(REPOSITORY, "xsrresnet_sr_x4_dsd", source="local", trained="gpu")
    assert not torch.equal(next(iter(gpu.state_dict().values())), next(iter(net.state_dict().values())))
    psi_4 = torch.hub.load(REPOSITORY, "dsd_regressor_a4", source="local")
    default = load_model(DEFAULT_REGRESSORS[1])
    assert psi_4.alpha == 4 and torch.equal(psi_4.target_scale, default.target_scale)


def test_hub_names_the_budgets_it_has():
    message = r"xsrresnet_deblur_dsd: no shipped model trained 'tpu'; choose one of \['cpu', 'gpu'\]"
    with pytest.raises(ValueError, match=message):
        torch.hub.load(REPOSITORY, "xsrresnet_deblur_dsd", source="local", trained="tpu")
