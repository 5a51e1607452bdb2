"""The trainer's restoration loss, ``L1 + perceptual + feature-distribution term``, and its options.

One VGG19 pass per image and scale feeds every term (:mod:`dsdviz.distances`); the
result equals the sum of the library's functional losses (see :func:`restoration_loss`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import torch

from ..distances import feature_distance, mean_abs_difference, multiscale_distance, summed_distance
from ..features import LAYER_PRESETS, VGG19_LAYERS, VGG19Features, load_state_dict
from ..fingerprint import dsd_of_grams, feature_grams
from ..resize import downscale
from ..validation import check_choice

FeatureLoss = Literal["dsd", "style", "multiscale_style"]
FEATURE_LOSSES: tuple[str, ...] = ("dsd", "style", "multiscale_style")
#: How figures and tables name each feature loss.
FEATURE_LOSS_LABELS: dict[str, str] = {"dsd": "DSD", "style": "style", "multiscale_style": "multi-scale style"}


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


def _feature_term(
    output: torch.Tensor,
    target: torch.Tensor,
    mine: Mapping[str, torch.Tensor],
    theirs: Mapping[str, torch.Tensor],
    extractor: VGG19Features,
    alpha: float,
    feature_loss: FeatureLoss,
    dsd_layers: Sequence[str],
) -> torch.Tensor:
    """The feature-distribution term of :func:`restoration_loss`, reusing the full-resolution features."""
    layers = feature_layers(feature_loss, dsd_layers)
    mine_grams = feature_grams(mine, layers)
    with torch.no_grad():
        their_grams = feature_grams(theirs, layers)
    if feature_loss == "style":
        return summed_distance(mine_grams, their_grams, layers, per_item=False)
    mine_coarse = feature_grams(extractor(downscale(output, alpha)), layers)
    with torch.no_grad():
        their_coarse = feature_grams(extractor(downscale(target, alpha)), layers)
    if feature_loss == "dsd":
        mine_dsd = dsd_of_grams(mine_grams, mine_coarse, alpha).matrices
        their_dsd = dsd_of_grams(their_grams, their_coarse, alpha).matrices
        return summed_distance(mine_dsd, their_dsd, layers, per_item=False)
    return multiscale_distance([mine_grams, mine_coarse], [their_grams, their_coarse], layers, per_item=False)


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
    terms = {"l1": mean_abs_difference(output, target, per_item=False)}
    if perceptual_weight or dsd_weight:
        if extractor is None:
            raise ValueError("restoration_loss: the VGG terms need an extractor")
        mine = extractor(output)
        with torch.no_grad():
            theirs = extractor(target)
        if perceptual_weight:
            terms["perceptual"] = feature_distance(mine, theirs, perceptual_layer, per_item=False)
        if dsd_weight:
            term = _feature_term(output, target, mine, theirs, extractor, alpha, feature_loss, dsd_layers)
            terms[feature_loss] = term
    weights = {"l1": l1_weight, "perceptual": perceptual_weight, feature_loss: dsd_weight}
    terms["loss"] = sum(weights[name] * value for name, value in terms.items())
    return terms
