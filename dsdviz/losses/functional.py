"""The VGG19 losses as functions: style, multi-scale style, DSD, perceptual, range.

See :mod:`dsdviz.losses` for the conventions; the distances are those of :mod:`dsdviz.distances`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal, Union

import torch

from ..distances import feature_distance, multiscale_distance, summed_distance
from ..features import Layers, VGG19Features, default_extractor, min_input_size, resolve_layers
from ..fingerprint import DSD, check_dsd_input, dsd_unchecked, grams
from ..resize import downscale, downscaled_size
from ..validation import check_choice, check_dsd_factor, check_factor, check_image, check_same_shape

Reduction = Literal["mean", "none"]
GramTarget = Union[torch.Tensor, Mapping[str, torch.Tensor]]



def _extractor(
    output: torch.Tensor, names: tuple[str, ...], extractor: VGG19Features | None
) -> VGG19Features:
    if extractor is None:
        return default_extractor(names, device=output.device, dtype=output.dtype)
    if not set(names) <= set(extractor.layers):
        raise ValueError(f"extractor computes {extractor.layers}, which lacks some of {names}")
    return extractor


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


def _style_distance(
    output: torch.Tensor,
    target: torch.Tensor | Sequence[Mapping[str, torch.Tensor]],
    names: tuple[str, ...],
    factors: tuple[float, ...],
    extractor: VGG19Features | None,
) -> torch.Tensor:
    """``(B,)`` multi-scale style distance; ``target``: images or one dict of Grams per factor."""
    net = _extractor(output, names, extractor)
    if isinstance(target, torch.Tensor):
        target = [target_grams(target, names, factor, net) for factor in factors]
    for scale_target in target:
        missing = [name for name in names if name not in scale_target]
        if missing:
            raise ValueError(f"target Gram matrices lack layer(s) {missing}")
        for name in names:
            _check_batches(output, scale_target[name].shape[0])
    mine = [grams(downscale(output, factor), net) for factor in factors]
    return multiscale_distance(mine, target, names)


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
    if not isinstance(target, torch.Tensor):
        target = [target]
    return _reduce(_style_distance(output, target, names, (1.0,), extractor), reduction)


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
    return _reduce(_style_distance(output, target, names, factors, extractor), reduction)


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
    alpha, base = check_dsd_factor(alpha), check_factor(base, "base")
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
    alpha, base = check_dsd_factor(alpha), check_factor(base, "base")
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
    return _reduce(summed_distance(mine.matrices, target.matrices, names), reduction)


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
        target_features = net(target)
    return _reduce(feature_distance(net(output), target_features, layer), reduction)


def range_loss(x: torch.Tensor, low: float = 0.0, high: float = 1.0, *, reduction: Reduction = "mean") -> torch.Tensor:
    """Mean distance of values outside ``[low, high]``: ``mean(relu(low - x) + relu(x - high))``.

    Zero for images inside the range; gradient pushes values back into it.
    """
    check_image(x, "x", channels=None, value_range=None)
    outside = torch.relu(low - x) + torch.relu(x - high)
    return _reduce(outside.flatten(1).mean(dim=1), reduction)
