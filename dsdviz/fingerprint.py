"""Gram matrices and the deep self-dissimilarity (DSD) fingerprint.

Kligvasser, Rott Shaham, Bahat & Michaeli, "Deep Self-Dissimilarities as Powerful
Visual Fingerprints", NeurIPS 2021. For VGG19 features ``F`` (``C x HW``) of an image
at layer ``l``, the Gram matrix is ``G_l(x) = F F^T / (C H W)`` and the fingerprint is
the difference between the Gram matrices of the image and of its copy downscaled by
``alpha`` (MATLAB bicubic):

    DSD_{l,alpha}(x) = G_l(x) - G_l(x|alpha)

Its size is reported as the mean absolute entry, ``||DSD||_1``, as in the authors'
code. More generally ``dsd(x, alpha, base=b)`` compares ``x|b`` with ``x|(b * alpha)``
(the paper's ``DSD_2(x|2)`` is ``base=2, alpha=2``, named by :func:`dsd_label`).

Distances between fingerprints are computed by :mod:`dsdviz.distances`;
:func:`dsd_distances` tabulates them for several images and pairs of scales.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch

from .distances import at_least_float32, layer_distances
from .features import Layers, VGG19Features, default_extractor, min_input_size, resolve_layers
from .resize import downscale, downscaled_size
from .validation import check_dsd_factor, check_factor, check_image, describe


class _Gram(torch.autograd.Function):
    """``F F^T / N`` with a single matrix product in the backward pass.

    Autograd's generic ``bmm`` backward computes two products (one per operand);
    since both operands are ``F``, ``dL/dF = (dL/dG + dL/dG^T) F / N`` needs one.
    Works on contiguous and channels-last feature maps without copying the latter.
    """

    @staticmethod
    def _rows(features: torch.Tensor, channels_last: bool) -> torch.Tensor:
        """``(B, C, HW)`` view of the feature maps (no copy in either layout)."""
        batch, channels, height, width = features.shape
        if channels_last:
            return features.permute(0, 2, 3, 1).reshape(batch, height * width, channels).transpose(1, 2)
        return features.reshape(batch, channels, height * width)

    @staticmethod
    def forward(ctx, features: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        ctx.channels_last = features.is_contiguous(memory_format=torch.channels_last) and not features.is_contiguous()
        ctx.save_for_backward(features)  # the input itself, so that double backward can differentiate it
        ctx.scale = 1.0 / features[0].numel()
        rows = _Gram._rows(features, ctx.channels_last)
        with torch.autocast(features.device.type, enabled=False):  # keep the product in the features' dtype
            return torch.bmm(rows, rows.transpose(1, 2)) * ctx.scale

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        (features,) = ctx.saved_tensors
        with torch.autocast(features.device.type, enabled=False):
            grad_rows = torch.bmm(grad + grad.transpose(1, 2), _Gram._rows(features, ctx.channels_last)) * ctx.scale
        batch, channels, height, width = features.shape
        if ctx.channels_last:  # return the gradient in the layout of the input
            return grad_rows.transpose(1, 2).reshape(batch, height, width, channels).permute(0, 3, 1, 2)
        return grad_rows.reshape(features.shape)


def gram(features: torch.Tensor) -> torch.Tensor:
    """Normalised Gram matrix ``F F^T / (C H W)`` of feature maps.

    Args:
        features: ``(B, C, H, W)`` floating tensor (contiguous or channels-last).

    Returns:
        ``(B, C, C)``: symmetric, positive semi-definite, in float32 for bfloat16 or float16
        features (the product is accumulated in float32, also under autocast), else in
        their dtype. Differentiable (twice: the backward pass is itself made of
        differentiable operations).
    """
    if not isinstance(features, torch.Tensor) or features.ndim != 4 or not features.is_floating_point():
        raise ValueError(f"features: expected a float tensor of shape (B, C, H, W), got {describe(features)}")
    return _Gram.apply(at_least_float32(features))


def feature_grams(features: Mapping[str, torch.Tensor], layers: Sequence[str] | None = None) -> dict[str, torch.Tensor]:
    """Gram matrices ``{layer: (B, C, C)}`` of feature maps ``{layer: (B, C, H, W)}`` (default: every layer)."""
    return {name: gram(features[name]) for name in (features if layers is None else layers)}


def grams(x: torch.Tensor, extractor: VGG19Features) -> dict[str, torch.Tensor]:
    """Gram matrices ``{layer: (B, C, C)}`` of images ``x`` at the extractor's layers (no checks)."""
    return feature_grams(extractor(x))


@dataclass(frozen=True)
class DSD:
    """A batch of DSD fingerprints: one ``(B, C_l, C_l)`` difference matrix per layer.

    Attributes:
        matrices: ``{layer: G_l(x|base) - G_l(x|base*alpha)}``, each ``(B, C_l, C_l)``.
        alpha: the downscaling factor between the two compared scales.
        base: the downscaling factor of the finer scale (1 = full resolution).
    """

    matrices: dict[str, torch.Tensor]
    alpha: float
    base: float = 1.0

    @property
    def layers(self) -> tuple[str, ...]:
        """Layer names, in the order they were requested."""
        return tuple(self.matrices)

    @property
    def batch_size(self) -> int:
        return next(iter(self.matrices.values())).shape[0]

    def norms(self) -> dict[str, torch.Tensor]:
        """``||DSD_l||_1`` (mean absolute entry) per layer, shape ``(B,)``, plus ``"mean"`` over layers."""
        out = {name: m.abs().mean(dim=(1, 2)) for name, m in self.matrices.items()}
        out["mean"] = torch.stack(list(out.values())).mean(dim=0)
        return out

    def distance(self, other: DSD) -> dict[str, torch.Tensor]:
        """Mean absolute difference to another fingerprint per layer, ``(B,)``, plus ``"mean"``.

        ``other`` may hold one fingerprint (batch 1), compared with every item.
        """
        if other.layers != self.layers or other.alpha != self.alpha or other.base != self.base:
            raise ValueError(
                f"fingerprints differ in layers or scales: {self.layers} alpha={self.alpha:g} base={self.base:g} "
                f"vs {other.layers} alpha={other.alpha:g} base={other.base:g}"
            )
        out = layer_distances(self.matrices, other.matrices, self.layers)
        out["mean"] = torch.stack(list(out.values())).mean(dim=0)
        return out

    def detach(self) -> DSD:
        """A copy without autograd history (for a fixed target reused across steps)."""
        return DSD({k: v.detach() for k, v in self.matrices.items()}, self.alpha, self.base)

    def to(self, *args, **kwargs) -> DSD:
        """Move every matrix, as ``Tensor.to``."""
        return DSD({k: v.to(*args, **kwargs) for k, v in self.matrices.items()}, self.alpha, self.base)

    def __getitem__(self, index: int | slice) -> DSD:
        """Select items of the batch (the batch dimension is kept)."""
        if isinstance(index, int):
            index = slice(index, index + 1 if index != -1 else None)
        return DSD({k: v[index] for k, v in self.matrices.items()}, self.alpha, self.base)


def check_dsd_input(
    x: torch.Tensor,
    alpha: float,
    layers: tuple[str, ...],
    base: float = 1.0,
    name: str = "x",
    value_range: tuple[float, float] | None = (0.0, 1.0),
) -> None:
    """Validate images for a DSD at ``base`` and ``base * alpha`` (shape, dtype, range, size)."""
    check_image(x, name, value_range=value_range)
    smallest = downscaled_size(*downscaled_size(*x.shape[-2:], base), alpha)
    need = min_input_size(layers)
    if min(smallest) < need:
        deepest = max(layers, key=lambda n: min_input_size([n]))
        raise ValueError(
            f"{name}: a {x.shape[-2]} x {x.shape[-1]} image is too small for layer {deepest} at scale "
            f"1/{base * alpha:g}: the downscaled copy is {smallest[0]} x {smallest[1]} px, the layer needs "
            f"at least {need} x {need} px (input of at least {need * base * alpha:g} px)"
        )


def dsd_of_grams(
    fine: Mapping[str, torch.Tensor], coarse: Mapping[str, torch.Tensor], alpha: float, base: float = 1.0
) -> DSD:
    """The fingerprint from the Gram matrices of ``x|base`` (``fine``) and ``x|(base * alpha)`` (``coarse``)."""
    return DSD({name: fine[name] - coarse[name] for name in fine}, alpha, base)


def dsd_unchecked(x: torch.Tensor, alpha: float, extractor: VGG19Features, base: float = 1.0) -> DSD:
    """:func:`dsd` without input checks, for inner loops that validated once."""
    fine = downscale(x, base)
    coarse = downscale(x, base * alpha)
    return dsd_of_grams(grams(fine, extractor), grams(coarse, extractor), alpha, base)


def dsd(
    x: torch.Tensor,
    alpha: float = 2,
    layers: Layers = "dsd",
    *,
    base: float = 1.0,
    extractor: VGG19Features | None = None,
) -> DSD:
    """Deep self-dissimilarity fingerprints of a batch of images.

    Args:
        x: RGB images ``(B, 3, H, W)`` in ``[0, 1]``, float32 or float64.
        alpha: downscaling factor ``>= 1`` between the compared scales (2 and 4 in the paper).
        layers: VGG19 layer names or a preset (default: relu1_2, relu2_1, relu2_2, relu3_1).
        base: compare ``x|base`` with ``x|(base * alpha)`` (default: ``x`` itself).
        extractor: a :class:`VGG19Features` to use (its layers must include ``layers``);
            default: the shared ImageNet extractor for ``x``'s device and dtype.

    Returns:
        A :class:`DSD` with ``(B, C_l, C_l)`` matrices; ``.norms()`` gives ``||DSD_l||_1``.
        Differentiable with respect to ``x``.

    Raises:
        ValueError: bad images, ``alpha < 1``, unknown layers, or an image too small for
            the deepest layer at the coarsest scale.
    """
    names = resolve_layers(layers)
    alpha, base = check_dsd_factor(alpha), check_factor(base, "base")
    check_dsd_input(x, alpha, names, base)
    if extractor is None:
        extractor = default_extractor(names, device=x.device, dtype=x.dtype)
    elif not set(names) <= set(extractor.layers):
        raise ValueError(f"extractor computes {extractor.layers}, which lacks some of {names}")
    result = dsd_unchecked(x, alpha, extractor, base)
    return DSD({name: result.matrices[name] for name in names}, alpha, base)


def fingerprint_table(
    images: Mapping[str, torch.Tensor], alphas: Sequence[float] = (2, 4), layers: Layers = "dsd"
) -> tuple[list[dict[str, float | str]], dict[tuple[str, float], DSD]]:
    """``||DSD_{l,a}||_1`` of each image for each factor.

    Args:
        images: ``{name: (1, 3, H, W)}`` tensors in ``[0, 1]``.
        alphas: downscaling factors.
        layers: VGG19 layers or a preset.

    Returns:
        ``rows``: one dict per (image, alpha) with keys ``image``, ``alpha``, ``height``,
        ``width``, each layer and ``mean``; and the fingerprints ``{(image, alpha): DSD}``.
    """
    rows: list[dict[str, float | str]] = []
    fingerprints: dict[tuple[str, float], DSD] = {}
    for name, x in images.items():
        for alpha in alphas:
            with torch.no_grad():
                result = dsd(x, alpha, layers)
            fingerprints[(name, alpha)] = result
            norms = {k: float(v[0]) for k, v in result.norms().items()}
            rows.append({"image": name, "alpha": alpha, "height": x.shape[-2], "width": x.shape[-1], **norms})
    return rows, fingerprints


def dsd_label(alpha: float, base: float = 1.0) -> str:
    """The paper's notation: ``DSD_2(x)`` (full vs 1/2) or ``DSD_2(x|2)`` (1/2 vs 1/4)."""
    return f"DSD_{alpha:g}(x)" if base == 1 else f"DSD_{alpha:g}(x|{base:g})"


def dsd_scales(scales: Sequence[float]) -> tuple[float, float]:
    """``(alpha, base)`` of a fingerprint given as two downscaling factors ``(fine, coarse)``.

    ``(1, 2)`` is ``DSD_2(x)`` (``alpha=2, base=1``), ``(2, 4)`` is ``DSD_2(x|2)``.

    Raises:
        ValueError: not two factors ``>= 1`` with ``coarse > fine``.
    """
    factors = tuple(check_factor(s, "scales") for s in scales)
    if len(factors) != 2 or factors[1] <= factors[0]:
        raise ValueError(
            f"scales: a DSD compares two scales, given as downscaling factors (fine, coarse) with "
            f"coarse > fine, e.g. (1, 2) for DSD_2(x) or (2, 4) for DSD_2(x|2); got {tuple(scales)!r}"
        )
    return factors[1] / factors[0], factors[0]


def dsd_distances(
    images: Mapping[str, torch.Tensor],
    reference: torch.Tensor,
    scales: Sequence[tuple[float, float]] = ((1, 2), (2, 4)),
    layers: Layers = "dsd",
) -> dict[str, dict[str, float]]:
    """Distance of each image's DSD fingerprint to the reference's, for several pairs of scales.

    Args:
        images: ``{name: (1, 3, H, W)}`` in ``[0, 1]``.
        reference: ``(1, 3, H', W')`` in ``[0, 1]``.
        scales: ``(fine, coarse)`` downscaling factors per fingerprint (see :func:`dsd_scales`;
            default: ``DSD_2(x)`` and ``DSD_2(x|2)``).
        layers: VGG19 layers or a preset.

    Returns:
        ``{name: {"DSD_2(x)": d, "DSD_2(x|2)": d}}`` with ``d`` the mean over layers of the
        mean absolute entry of ``DSD_l(image) - DSD_l(reference)`` (:meth:`DSD.distance`).
    """
    names = resolve_layers(layers)
    out: dict[str, dict[str, float]] = {name: {} for name in images}
    for fine, coarse in scales:
        alpha, base = dsd_scales((fine, coarse))
        with torch.no_grad():
            target = dsd(reference, alpha, names, base=base)
            for name, x in images.items():
                value = dsd(x.to(reference), alpha, names, base=base).distance(target)["mean"]
                out[name][dsd_label(alpha, base)] = float(value[0])
    return out
