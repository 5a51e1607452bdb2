"""torch.hub entry points: the networks shipped with dsdviz, by name, from a checkout of the repository.

    import torch
    net = torch.hub.load("path/to/dsdviz", "xsrresnet_sr_x4_dsd", source="local")  # 4x SR, L1 + perceptual + DSD
    psi_4 = torch.hub.load("path/to/dsdviz", "dsd_regressor_a4", source="local")     # the default psi_4 of Q_DSD

Each entry returns the network in eval mode and float32 (``dsdviz.models.load_model``); ``trained`` picks the
shipped budget: ``"cpu"`` (the CPU setting, the figures' models) or ``"gpu"`` (minutes of the paper's full
setting on a GPU), for the regressors also ``"realistic_cpu"``; the model card,
``dsdviz/models/weights/README.md``, gives each file's data, steps and scores.
"""

from __future__ import annotations

from torch import nn

from dsdviz.models import DEFAULT_REGRESSORS, load_model, shipped_models

dependencies = ["torch", "torchvision", "numpy", "scipy", "PIL"]


def _shipped(family: str, trained: str) -> nn.Module:
    """The shipped model ``<family>_<trained>``; a ``ValueError`` lists the budgets shipped for ``family``."""
    name = f"{family}_{trained}"
    if name not in shipped_models():
        budgets = sorted(n[len(family) + 1 :] for n in shipped_models() if n.startswith(f"{family}_"))
        raise ValueError(f"{family}: no shipped model trained {trained!r}; choose one of {budgets}")
    return load_model(name)


def _default_regressor(alpha: int) -> str:
    """The budget suffix of the default regressor of factor ``alpha`` (``dsdviz.models.DEFAULT_REGRESSORS``)."""
    (name,) = (n for n in DEFAULT_REGRESSORS if n.startswith(f"dsd_regressor_a{alpha}_"))
    return name[len(f"dsd_regressor_a{alpha}_") :]


def xsrresnet_sr_x4_psnr(trained: str = "cpu") -> nn.Module:
    """4x SR xSRResNet (10 xResBlocks, about 1.1M parameters) after stage 1 (L1 only): input ``(B, 3, h, w)``
    in ``[0, 1]``, output ``(B, 3, 4h, 4w)``."""
    return _shipped("xsrresnet_sr_x4_psnr", trained)


def xsrresnet_sr_x4_dsd(trained: str = "cpu") -> nn.Module:
    """4x SR xSRResNet after stage 2 (L1 + perceptual + 100 x DSD, from stage 1): input ``(B, 3, h, w)`` in
    ``[0, 1]``, output ``(B, 3, 4h, 4w)``."""
    return _shipped("xsrresnet_sr_x4_dsd", trained)


def xsrresnet_deblur_psnr(trained: str = "cpu") -> nn.Module:
    """Deblurring xSRResNet (about 0.81M parameters) after stage 1 (L1 only): ``(B, 3, H, W)`` in ``[0, 1]``
    to the same shape."""
    return _shipped("xsrresnet_deblur_psnr", trained)


def xsrresnet_deblur_dsd(trained: str = "cpu") -> nn.Module:
    """Deblurring xSRResNet after stage 2 (L1 + perceptual + DSD): ``(B, 3, H, W)`` in ``[0, 1]`` to the same shape."""
    return _shipped("xsrresnet_deblur_dsd", trained)


def dsd_regressor_a2(trained: str | None = None) -> nn.Module:
    """The DSD regressor psi_2 of Q_DSD (default: the package's default): ``y|2`` ``(B, 3, h, w)`` in ``[0, 1]``
    to the four predicted norms ``||DSD_{l,2}(y)||_1``, ``(B, 4)``."""
    return _shipped("dsd_regressor_a2", trained or _default_regressor(2))


def dsd_regressor_a4(trained: str | None = None) -> nn.Module:
    """The DSD regressor psi_4 of Q_DSD (default: the package's default): ``y|4`` ``(B, 3, h, w)`` in ``[0, 1]``
    to the four predicted norms ``||DSD_{l,4}(y)||_1``, ``(B, 4)``."""
    return _shipped("dsd_regressor_a4", trained or _default_regressor(4))
