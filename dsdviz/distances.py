"""Distances between images' fingerprints, from features extracted once.

Every loss (:mod:`dsdviz.losses`), the image optimiser (:mod:`dsdviz.optimize`), the
trainer's loss (:func:`dsdviz.losses.restoration_loss`) and the DSD distance of
:class:`~dsdviz.fingerprint.DSD` compare images through the functions here. They take
what a VGG19 pass already gave (feature maps ``{layer: (B, C, H, W)}``, or matrices
``{layer: (B, C, C)}``: Gram matrices from :func:`dsdviz.fingerprint.feature_grams`, or
the DSD matrices of :attr:`DSD.matrices <dsdviz.fingerprint.DSD.matrices>`), so that one
feature pass serves several distances (as piq's ``ContentLoss`` separates
``get_features`` from ``compute_distance``).

The conventions are those of the DSD authors' code: the distance of two matrices (or
feature maps) is their mean absolute difference, :func:`mean_abs_difference`; a distance
over layers is the sum of the per-layer ones, :func:`summed_distance`: between Gram
matrices this is the style distance (Gatys et al.), between DSD matrices the DSD distance
of the authors' training loss; summed over scales, :func:`multiscale_distance`, it is
the multi-scale style distance; :func:`feature_distance` is the perceptual distance.

Precision: half-precision (bfloat16, float16) inputs are cast to float32 before the
difference, so the distances are accumulated and returned in float32 (float64 inputs
stay float64); :func:`dsdviz.fingerprint.gram` does the same for the Gram product.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch

#: Matrices or feature maps per VGG19 layer: ``{layer: (B, ...)}``.
PerLayer = Mapping[str, torch.Tensor]

_HALF = (torch.float16, torch.bfloat16)


def at_least_float32(x: torch.Tensor) -> torch.Tensor:
    """``x`` in float32 if it is bfloat16 or float16, else unchanged (the dtype distances accumulate in)."""
    return x.float() if x.dtype in _HALF else x


def mean_abs_difference(a: torch.Tensor, b: torch.Tensor, *, per_item: bool = True) -> torch.Tensor:
    """Mean absolute difference of the entries of ``a`` and ``b``, the L1 distance of the DSD papers.

    Args:
        a: ``(B, ...)`` matrices or feature maps (any floating dtype).
        b: the same shape, or batch 1 (compared with every item of ``a``).
        per_item: ``True``: one value per item, ``(B,)``; ``False``: one value over the
            whole batch, a scalar (the mean of the per-item values, as the trainer uses it).

    Returns:
        Non-negative values in float32 (float64 for float64 inputs).
    """
    difference = (at_least_float32(a) - at_least_float32(b)).abs()
    return difference.flatten(1).mean(dim=1) if per_item else difference.mean()


def layer_distances(
    mine: PerLayer, target: PerLayer, layers: Sequence[str], *, per_item: bool = True
) -> dict[str, torch.Tensor]:
    """:func:`mean_abs_difference` per layer: ``{layer: (B,)}`` (scalars when ``per_item=False``)."""
    return {name: mean_abs_difference(mine[name], target[name], per_item=per_item) for name in layers}


def summed_distance(mine: PerLayer, target: PerLayer, layers: Sequence[str], *, per_item: bool = True) -> torch.Tensor:
    """Sum over ``layers`` of the per-layer distances, ``(B,)`` (a scalar when ``per_item=False``).

    Between Gram matrices: the style distance; between DSD matrices: the DSD distance.
    """
    return sum(layer_distances(mine, target, layers, per_item=per_item).values())


def multiscale_distance(
    mine: Sequence[PerLayer], target: Sequence[PerLayer], layers: Sequence[str], *, per_item: bool = True
) -> torch.Tensor:
    """Sum over scales of :func:`summed_distance`: one ``mine`` and one ``target`` mapping per scale.

    Between the Gram matrices of the images downscaled by each factor: the multi-scale
    style distance, ``sum_s sum_l mean|G_l(x|s) - G_l(y|s)|``.
    """
    if len(mine) != len(target):
        raise ValueError(f"expected as many target scales as output scales, got {len(target)} and {len(mine)}")
    return sum(summed_distance(m, t, layers, per_item=per_item) for m, t in zip(mine, target))


def feature_distance(mine: PerLayer, target: PerLayer, layer: str, *, per_item: bool = True) -> torch.Tensor:
    """The perceptual distance: mean absolute difference of the feature maps at ``layer``, ``(B,)``."""
    return mean_abs_difference(mine[layer], target[layer], per_item=per_item)
