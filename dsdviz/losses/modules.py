"""The VGG19 losses as ``nn.Module``s: each ``forward`` calls its function in :mod:`.functional`.

A module owns its VGG19 extractor (a submodule) and the target fixed at construction
(buffers, not saved in the ``state_dict`` since they are derived from the target images),
so ``.to(device, dtype)`` moves both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import nn

from ..features import Layers, VGG19Features, resolve_layers
from ..fingerprint import DSD
from ..validation import check_dsd_factor, check_factor
from .functional import (
    GramTarget,
    Reduction,
    dsd_loss,
    multiscale_style_loss,
    perceptual_loss,
    range_loss,
    style_loss,
    target_dsd,
    target_grams,
)


class _FeatureLossModule(nn.Module):
    """Base of the module losses: owns its extractor (a submodule) and its cached target (buffers).

    The cached target is derived from the images given at construction, so its buffers are
    not persistent (not in the ``state_dict``); ``.to(device, dtype)`` moves them with the
    extractor.
    """

    def __init__(self, layers: tuple[str, ...], extractor: VGG19Features | None, like: torch.Tensor | None) -> None:
        super().__init__()
        if extractor is None:
            extractor = VGG19Features(layers)
            if like is not None:
                extractor = extractor.to(device=like.device, dtype=like.dtype)
        elif not set(layers) <= set(extractor.layers):
            raise ValueError(f"extractor computes {extractor.layers}, which lacks some of {layers}")
        self.layers, self.extractor = layers, extractor
        self.has_target = False

    def _cache(self, matrices: Sequence[Mapping[str, torch.Tensor]]) -> None:
        """Register one buffer ``target_<scale>_<layer>`` per matrix of each scale's target."""
        for index, per_layer in enumerate(matrices):
            for name, matrix in per_layer.items():
                self.register_buffer(f"target_{index}_{name}", matrix, persistent=False)
        self.has_target = True

    def _cached(self, scales: int = 1) -> list[dict[str, torch.Tensor]]:
        """The cached target: one ``{layer: matrix}`` per scale."""
        if not self.has_target:
            raise ValueError(f"{type(self).__name__}: no target given here or at construction")
        return [{name: getattr(self, f"target_{index}_{name}") for name in self.layers} for index in range(scales)]


class StyleLoss(_FeatureLossModule):
    """Module form of :func:`style_loss`; ``target=`` fixes the target and caches its Gram matrices.

    Args:
        layers, reduction: as in :func:`style_loss`.
        target: images ``(B or 1, 3, H, W)`` in ``[0, 1]`` to compare with at every call.
        extractor: the VGG19 features to own; default: a new ImageNet one on ``target``'s
            device and dtype.
    """

    def __init__(
        self,
        layers: Layers = "style",
        target: torch.Tensor | None = None,
        reduction: Reduction = "mean",
        extractor: VGG19Features | None = None,
    ) -> None:
        super().__init__(resolve_layers(layers), extractor, target)
        self.reduction = reduction
        if target is not None:
            self._cache([target_grams(target, self.layers, extractor=self.extractor)])

    def forward(self, output: torch.Tensor, target: GramTarget | None = None) -> torch.Tensor:
        target = self._cached()[0] if target is None else target
        return style_loss(output, target, self.layers, extractor=self.extractor, reduction=self.reduction)


class MultiScaleStyleLoss(_FeatureLossModule):
    """Module form of :func:`multiscale_style_loss`; ``target=`` caches the target's Gram matrices per scale."""

    def __init__(
        self,
        factors: Sequence[float] = (1, 2),
        layers: Layers = "style",
        target: torch.Tensor | None = None,
        reduction: Reduction = "mean",
        extractor: VGG19Features | None = None,
    ) -> None:
        super().__init__(resolve_layers(layers), extractor, target)
        self.factors, self.reduction = tuple(factors), reduction
        if target is not None:
            self._cache([target_grams(target, self.layers, f, self.extractor) for f in self.factors])

    def forward(self, output: torch.Tensor, target: torch.Tensor | None = None) -> torch.Tensor:
        target = self._cached(len(self.factors)) if target is None else target
        return multiscale_style_loss(
            output, target, self.factors, self.layers, extractor=self.extractor, reduction=self.reduction
        )


class DSDLoss(_FeatureLossModule):
    """Module form of :func:`dsd_loss`; ``target=`` computes the target's fingerprint once and caches it."""

    def __init__(
        self,
        layers: Layers = "training",
        alpha: float = 2,
        base: float = 1.0,
        target: torch.Tensor | None = None,
        reduction: Reduction = "mean",
        extractor: VGG19Features | None = None,
    ) -> None:
        super().__init__(resolve_layers(layers), extractor, target)
        self.reduction = reduction
        self.alpha, self.base = check_dsd_factor(alpha), check_factor(base, "base")
        if target is not None:
            fingerprint = target_dsd(target, self.layers, self.alpha, base=self.base, extractor=self.extractor)
            self._cache([fingerprint.matrices])

    def forward(self, output: torch.Tensor, target: torch.Tensor | DSD | None = None) -> torch.Tensor:
        if target is None:
            target = DSD(self._cached()[0], self.alpha, self.base)
        return dsd_loss(
            output, target, self.layers, self.alpha, base=self.base, extractor=self.extractor, reduction=self.reduction
        )


class PerceptualLoss(_FeatureLossModule):
    """Module form of :func:`perceptual_loss`, with its own extractor."""

    def __init__(
        self, layer: str = "conv5_4", reduction: Reduction = "mean", extractor: VGG19Features | None = None
    ) -> None:
        super().__init__(resolve_layers([layer]), extractor, None)
        self.layer, self.reduction = self.layers[0], reduction

    def forward(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return perceptual_loss(output, target, self.layer, extractor=self.extractor, reduction=self.reduction)


class RangeLoss(nn.Module):
    """Module form of :func:`range_loss`."""

    def __init__(self, low: float = 0.0, high: float = 1.0, reduction: Reduction = "mean") -> None:
        super().__init__()
        self.low, self.high, self.reduction = low, high, reduction

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return range_loss(x, self.low, self.high, reduction=self.reduction)
