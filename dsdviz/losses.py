"""Losses built on VGG19 features: style, multi-scale style, DSD, perceptual, range.

Every loss is a function plus a thin ``nn.Module`` whose ``forward`` calls it. The
first argument (``output``) is what is being optimised: an image or a network's
output, which may leave ``[0, 1]`` during optimisation (``range_loss`` penalises
that), so only its shape, dtype and finiteness are checked. Targets are data: they
are range-checked and their features are computed without gradient.

Conventions (those of the DSD authors' training code): a term per layer is the mean
absolute difference (L1, averaged over entries) and the terms are summed over layers.
``reduction="mean"`` averages over the batch; ``"none"`` returns one value per item.
A target may be given pre-computed (Gram matrices or a :class:`~dsdviz.fingerprint.DSD`)
so that an optimisation loop with a fixed target does not recompute it at every step;
the module forms cache it when constructed with ``target=``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal, Union

import torch
from torch import nn

from .features import (
    LAYER_PRESETS,
    VGG19_LAYERS,
    Layers,
    VGG19Features,
    default_extractor,
    load_state_dict,
    min_input_size,
    resolve_layers,
)
from .fingerprint import DSD, check_dsd_input, dsd_unchecked, gram, grams
from .resize import downscale, downscaled_size
from .validation import check_choice, check_factor, check_image, check_same_shape

Reduction = Literal["mean", "none"]
GramTarget = Union[torch.Tensor, Mapping[str, torch.Tensor]]
FeatureLoss = Literal["dsd", "style", "multiscale_style"]
FEATURE_LOSSES: tuple[str, ...] = ("dsd", "style", "multiscale_style")
#: How figures and tables name each feature loss.
FEATURE_LOSS_LABELS: dict[str, str] = {"dsd": "DSD", "style": "style", "multiscale_style": "multi-scale style"}


def _extractor(
    output: torch.Tensor, names: tuple[str, ...], extractor: VGG19Features | None
) -> VGG19Features:
    if extractor is None:
        return default_extractor(names, device=output.device, dtype=output.dtype)
    if not set(names) <= set(extractor.layers):
        raise ValueError(f"extractor computes {extractor.layers}, which lacks some of {names}")
    return extractor


def _l1(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference per batch item, ``(B,)``; ``b`` may have batch 1."""
    return (a - b).abs().flatten(1).mean(dim=1)


def _reduce(per_item: torch.Tensor, reduction: Reduction) -> torch.Tensor:
    check_choice(reduction, ("mean", "none"), "reduction")
    return per_item.mean() if reduction == "mean" else per_item


def _check_batches(output: torch.Tensor, target_batch: int) -> None:
    if target_batch not in (1, output.shape[0]):
        raise ValueError(
            f"target batch size {target_batch} does not match the output's {output.shape[0]} (or 1)"
        )


def check_size(x: torch.Tensor, names: tuple[str, ...], factor: float = 1.0, name: str = "output") -> None:
    """Raise a ``ValueError`` naming ``name`` when ``x`` downscaled by ``factor`` is too small for ``names``."""
    smallest = min(downscaled_size(*x.shape[-2:], factor))
    need = min_input_size(names)
    if smallest < need:
        raise ValueError(
            f"{name}: a {x.shape[-2]} x {x.shape[-1]} image is too small for layers {', '.join(names)} at scale "
            f"1/{factor:g}: the downscaled copy has a side of {smallest} px, the layers need {need} px "
            f"(input of at least {need * factor:g} px per side)"
        )


def _check_output(output: torch.Tensor, names: tuple[str, ...], factor: float = 1.0) -> None:
    check_image(output, "output", value_range=None)
    check_size(output, names, factor)


def target_grams(
    target: torch.Tensor,
    layers: Layers = "style",
    factor: float = 1.0,
    extractor: VGG19Features | None = None,
) -> dict[str, torch.Tensor]:
    """Gram matrices ``{layer: (B, C, C)}`` of target images at scale ``1/factor``, without gradient."""
    names = resolve_layers(layers)
    check_image(target, "target")
    factor = check_factor(factor, "factor")
    check_size(target, names, factor, "target")
    with torch.no_grad():
        return grams(downscale(target, factor), _extractor(target, names, extractor))


def _style_terms(
    output: torch.Tensor,
    target: GramTarget,
    names: tuple[str, ...],
    factor: float,
    extractor: VGG19Features | None,
) -> torch.Tensor:
    net = _extractor(output, names, extractor)
    if isinstance(target, torch.Tensor):
        target = target_grams(target, names, factor, net)
    missing = [name for name in names if name not in target]
    if missing:
        raise ValueError(f"target Gram matrices lack layer(s) {missing}")
    out_grams = grams(downscale(output, factor), net)
    total = output.new_zeros(output.shape[0])
    for name in names:
        _check_batches(output, target[name].shape[0])
        total = total + _l1(out_grams[name], target[name])
    return total


def style_loss(
    output: torch.Tensor,
    target: GramTarget,
    layers: Layers = "style",
    *,
    extractor: VGG19Features | None = None,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    """Style loss: L1 between Gram matrices, summed over layers (Gatys et al.).

    Args:
        output: images ``(B, 3, H, W)`` being optimised (any range, finite).
        target: images ``(B or 1, 3, H', W')`` in ``[0, 1]`` (any size), or their Gram
            matrices from :func:`target_grams`.
        layers: layer names or preset (default relu1_2, relu2_1, relu3_1).
        extractor: features to use; default: the shared ImageNet VGG19.
        reduction: ``"mean"`` (scalar) or ``"none"`` (``(B,)``).
    """
    names = resolve_layers(layers)
    _check_output(output, names)
    return _reduce(_style_terms(output, target, names, 1.0, extractor), reduction)


def multiscale_style_loss(
    output: torch.Tensor,
    target: torch.Tensor | Sequence[Mapping[str, torch.Tensor]],
    factors: Sequence[float] = (1, 2),
    layers: Layers = "style",
    *,
    extractor: VGG19Features | None = None,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    """Style loss summed over several scales: ``sum_s style(output|s, target|s)``.

    Args:
        output: images ``(B, 3, H, W)`` being optimised.
        target: images in ``[0, 1]``, or one dict of Gram matrices per factor
            (:func:`target_grams` with that factor).
        factors: downscaling factors ``>= 1``; ``(1, 2)`` compares full and half resolution.
            Every factor contributes.
    """
    names = resolve_layers(layers)
    factors = tuple(check_factor(f, "factors") for f in factors)
    if not factors:
        raise ValueError("factors: expected at least one downscaling factor")
    _check_output(output, names, max(factors))
    if not isinstance(target, torch.Tensor) and len(target) != len(factors):
        raise ValueError(f"target: expected {len(factors)} sets of Gram matrices (one per factor), got {len(target)}")
    total = output.new_zeros(output.shape[0])
    for index, factor in enumerate(factors):
        scale_target = target if isinstance(target, torch.Tensor) else target[index]
        total = total + _style_terms(output, scale_target, names, factor, extractor)
    return _reduce(total, reduction)


def target_dsd(
    target: torch.Tensor,
    layers: Layers = "training",
    alpha: float = 2,
    *,
    base: float = 1.0,
    extractor: VGG19Features | None = None,
) -> DSD:
    """The DSD fingerprint of target images without gradient, to reuse across steps."""
    names = resolve_layers(layers)
    alpha, base = check_factor(alpha), check_factor(base, "base")
    check_dsd_input(target, alpha, names, base, "target")
    with torch.no_grad():
        return dsd_unchecked(target, alpha, _extractor(target, names, extractor), base)


def dsd_loss(
    output: torch.Tensor,
    target: torch.Tensor | DSD,
    layers: Layers = "training",
    alpha: float = 2,
    *,
    base: float = 1.0,
    extractor: VGG19Features | None = None,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    """DSD loss: L1 between the DSD fingerprints of ``output`` and ``target``, summed over layers.

    Args:
        output: images ``(B, 3, H, W)`` being optimised (any range, finite).
        target: images ``(B or 1, 3, H', W')`` in ``[0, 1]``, or their fingerprint from
            :func:`target_dsd` / :func:`dsdviz.dsd` (same layers, ``alpha`` and ``base``).
        layers: default relu2_1, relu2_2, relu3_1 (the authors' training loss).
        alpha: scale factor between the compared copies (2: full vs half resolution).
        base: compare ``x|base`` with ``x|(base * alpha)``.
        reduction: ``"mean"`` (scalar) or ``"none"`` (``(B,)``).

    ``dsd_loss(x, x) == 0`` for any ``x``.
    """
    names = resolve_layers(layers)
    alpha, base = check_factor(alpha), check_factor(base, "base")
    check_dsd_input(output, alpha, names, base, "output", value_range=None)
    net = _extractor(output, names, extractor)
    if isinstance(target, torch.Tensor):
        target = target_dsd(target, names, alpha, base=base, extractor=net)
    elif not isinstance(target, DSD):
        raise ValueError(f"target: expected images or a DSD fingerprint, got {type(target).__name__}")
    elif target.alpha != alpha or target.base != base or not set(names) <= set(target.layers):
        raise ValueError(
            f"target fingerprint has layers {target.layers}, alpha={target.alpha:g}, base={target.base:g}; "
            f"the loss needs layers {names}, alpha={alpha:g}, base={base:g}"
        )
    _check_batches(output, target.batch_size)
    mine = dsd_unchecked(output, alpha, net, base)
    total = output.new_zeros(output.shape[0])
    for name in names:
        total = total + _l1(mine.matrices[name], target.matrices[name])
    return _reduce(total, reduction)


def perceptual_loss(
    output: torch.Tensor,
    target: torch.Tensor,
    layer: str = "conv5_4",
    *,
    extractor: VGG19Features | None = None,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    """Perceptual loss: L1 between VGG19 feature maps at one layer (default conv5_4, as in the paper).

    Args:
        output: images ``(B, 3, H, W)`` being optimised.
        target: images of the same shape (or batch 1) in ``[0, 1]``.
        layer: a VGG19 layer name; the weights must cover it (``conv5_4`` needs
            torchvision's full VGG19, not the truncated relu3_1 file).
    """
    names = resolve_layers([layer])
    _check_output(output, names)
    check_image(target, "target")
    check_same_shape(output[:1], target[:1])
    _check_batches(output, target.shape[0])
    net = _extractor(output, names, extractor)
    with torch.no_grad():
        target_features = net(target)[layer]
    return _reduce(_l1(net(output)[layer], target_features), reduction)


def range_loss(x: torch.Tensor, low: float = 0.0, high: float = 1.0, *, reduction: Reduction = "mean") -> torch.Tensor:
    """Mean distance of values outside ``[low, high]``: ``mean(relu(low - x) + relu(x - high))``.

    Zero for images inside the range; gradient pushes values back into it.
    """
    check_image(x, "x", channels=None, value_range=None)
    outside = torch.relu(low - x) + torch.relu(x - high)
    return _reduce(outside.flatten(1).mean(dim=1), reduction)


def available_perceptual_layer(preferred: str = "conv5_4") -> tuple[str, str | None]:
    """``preferred`` if the VGG19 weights cover it, else the deepest convolution they cover.

    Returns:
        ``(layer, note)``; ``note`` explains a fallback and is ``None`` otherwise.
    """
    state = load_state_dict("imagenet")
    covered = {int(key.split(".")[0]) for key in state}
    if VGG19_LAYERS[preferred] <= max(covered):
        return preferred, None
    convs = [name for name, index in VGG19_LAYERS.items() if name.startswith("conv") and index in covered]
    deepest = max(convs, key=VGG19_LAYERS.__getitem__)
    note = (
        f"the VGG19 weights stop at {deepest}: the perceptual loss uses {deepest} instead of {preferred} "
        "(the paper's layer needs torchvision's full VGG19 weights)"
    )
    return deepest, note


def feature_layers(feature_loss: FeatureLoss, dsd_layers: Sequence[str] | None = None) -> tuple[str, ...]:
    """The VGG19 layers of a feature-distribution loss: ``"training"`` for DSD, ``"style"`` for the style losses."""
    if feature_loss == "dsd":
        return tuple(dsd_layers) if dsd_layers is not None else LAYER_PRESETS["training"]
    return LAYER_PRESETS["style"]


def restoration_loss(
    output: torch.Tensor,
    target: torch.Tensor,
    extractor: VGG19Features | None,
    *,
    l1_weight: float = 1.0,
    perceptual_weight: float = 0.0,
    dsd_weight: float = 0.0,
    perceptual_layer: str = "conv5_4",
    dsd_layers: Sequence[str] = LAYER_PRESETS["training"],
    alpha: float = 2,
    feature_loss: FeatureLoss = "dsd",
) -> dict[str, torch.Tensor]:
    """``l1_weight * L1 + perceptual_weight * perceptual + dsd_weight * <feature_loss>`` and its terms.

    Equal to combining :func:`torch.nn.functional.l1_loss`, :func:`dsdviz.perceptual_loss`
    and the feature-distribution loss (batch means): :func:`dsdviz.dsd_loss` (layers
    ``dsd_layers``, factor ``alpha``), :func:`dsdviz.style_loss` or
    :func:`dsdviz.multiscale_style_loss` (factors ``(1, alpha)``; both style losses on the
    ``"style"`` layers), with one VGG19 pass per image and scale and no input checks (the
    trainer's data are valid by construction).

    Args:
        output: network outputs ``(B, 3, H, W)`` (any range).
        target: ground truth ``(B, 3, H, W)`` in ``[0, 1]``.
        extractor: VGG19 features covering ``perceptual_layer`` and the feature loss's
            layers (:func:`feature_layers`; unused when both weights are 0).
        dsd_weight: weight of the feature-distribution term (named for the default, DSD).
        feature_loss: ``"dsd"``, ``"style"`` or ``"multiscale_style"``.

    Returns:
        ``{"loss": scalar, "l1": ..., "perceptual": ..., <feature_loss>: ...}`` (only the used terms).
    """
    check_choice(feature_loss, FEATURE_LOSSES, "feature_loss")
    terms = {"l1": (output - target).abs().mean()}
    if perceptual_weight or dsd_weight:
        if extractor is None:
            raise ValueError("restoration_loss: the VGG terms need an extractor")
        mine = extractor(output)
        with torch.no_grad():
            theirs = extractor(target)
        if perceptual_weight:
            terms["perceptual"] = (mine[perceptual_layer] - theirs[perceptual_layer]).abs().mean()
        if dsd_weight:
            layers = feature_layers(feature_loss, dsd_layers)
            coarse = feature_loss != "style"
            if coarse:
                mine_coarse = extractor(downscale(output, alpha))
                with torch.no_grad():
                    theirs_coarse = extractor(downscale(target, alpha))
            total = output.new_zeros(())
            for name in layers:
                with torch.no_grad():
                    fine_ref = gram(theirs[name])
                    coarse_ref = gram(theirs_coarse[name]) if coarse else None
                if feature_loss == "dsd":
                    total = total + (gram(mine[name]) - gram(mine_coarse[name]) - (fine_ref - coarse_ref)).abs().mean()
                else:
                    total = total + (gram(mine[name]) - fine_ref).abs().mean()
                    if coarse:
                        total = total + (gram(mine_coarse[name]) - coarse_ref).abs().mean()
            terms[feature_loss] = total
    weights = {"l1": l1_weight, "perceptual": perceptual_weight, feature_loss: dsd_weight}
    terms["loss"] = sum(weights[name] * value for name, value in terms.items())
    return terms


class StyleLoss(nn.Module):
    """Module form of :func:`style_loss`; ``target=`` fixes (and caches) the target's Grams."""

    def __init__(
        self, layers: Layers = "style", target: torch.Tensor | None = None, reduction: Reduction = "mean"
    ) -> None:
        super().__init__()
        self.layers, self.reduction = resolve_layers(layers), reduction
        self.target = None if target is None else target_grams(target, self.layers)

    def forward(self, output: torch.Tensor, target: GramTarget | None = None) -> torch.Tensor:
        target = self.target if target is None else target
        if target is None:
            raise ValueError("StyleLoss: no target given here or at construction")
        return style_loss(output, target, self.layers, reduction=self.reduction)


class MultiScaleStyleLoss(nn.Module):
    """Module form of :func:`multiscale_style_loss`; ``target=`` caches the target's Grams per scale."""

    def __init__(
        self,
        factors: Sequence[float] = (1, 2),
        layers: Layers = "style",
        target: torch.Tensor | None = None,
        reduction: Reduction = "mean",
    ) -> None:
        super().__init__()
        self.factors, self.layers, self.reduction = tuple(factors), resolve_layers(layers), reduction
        self.target = None if target is None else [target_grams(target, self.layers, f) for f in self.factors]

    def forward(self, output: torch.Tensor, target: torch.Tensor | None = None) -> torch.Tensor:
        target = self.target if target is None else target
        if target is None:
            raise ValueError("MultiScaleStyleLoss: no target given here or at construction")
        return multiscale_style_loss(output, target, self.factors, self.layers, reduction=self.reduction)


class DSDLoss(nn.Module):
    """Module form of :func:`dsd_loss`; ``target=`` computes the target's fingerprint once."""

    def __init__(
        self,
        layers: Layers = "training",
        alpha: float = 2,
        base: float = 1.0,
        target: torch.Tensor | None = None,
        reduction: Reduction = "mean",
    ) -> None:
        super().__init__()
        self.layers, self.reduction = resolve_layers(layers), reduction
        self.alpha, self.base = check_factor(alpha), check_factor(base, "base")
        self.target = None if target is None else target_dsd(target, self.layers, self.alpha, base=self.base)

    def forward(self, output: torch.Tensor, target: torch.Tensor | DSD | None = None) -> torch.Tensor:
        target = self.target if target is None else target
        if target is None:
            raise ValueError("DSDLoss: no target given here or at construction")
        return dsd_loss(output, target, self.layers, self.alpha, base=self.base, reduction=self.reduction)


class PerceptualLoss(nn.Module):
    """Module form of :func:`perceptual_loss`."""

    def __init__(self, layer: str = "conv5_4", reduction: Reduction = "mean") -> None:
        super().__init__()
        self.layer, self.reduction = resolve_layers([layer])[0], reduction

    def forward(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return perceptual_loss(output, target, self.layer, reduction=self.reduction)


class RangeLoss(nn.Module):
    """Module form of :func:`range_loss`."""

    def __init__(self, low: float = 0.0, high: float = 1.0, reduction: Reduction = "mean") -> None:
        super().__init__()
        self.low, self.high, self.reduction = low, high, reduction

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return range_loss(x, self.low, self.high, reduction=self.reduction)
