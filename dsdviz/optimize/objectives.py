"""The two image-optimisation experiments of the DSD paper's supplementary material.

Kligvasser et al., NeurIPS 2021, built on :func:`~dsdviz.optimize.optimize_image` with
objectives from :mod:`dsdviz.distances`:

* :func:`match_fingerprint` (Fig. 11): make a content image's DSD fingerprint, or for
  comparison its style (Gram matrices), match a reference image's. The reference's
  fingerprint is computed once.
* :func:`minimize_dsd` (Fig. 12): gradient descent on ``||DSD_alpha(x)||_1`` from, e.g., a
  super-resolution result. Run with a constant learning rate, the state at step ``k``
  does not depend on the planned number of steps, so one 5K-step run shows every
  shorter one.

Both take ``precision`` (:mod:`dsdviz.precision`): ``"bf16"`` (or ``"auto"`` where the
processor has native bfloat16) runs VGG19 under bfloat16 autocast, about twice as fast on
such CPUs; the reference's fingerprint, the image, Adam's state, the Gram matrices and the
objective stay float32. The resolved precision is recorded in the trajectory's settings,
so a run is resumed only with the same one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import torch

from ..distances import layer_distances
from ..features import Layers, VGG19Features, default_extractor, resolve_layers
from ..fingerprint import DSD, check_dsd_input, dsd_label, dsd_scales, dsd_unchecked, grams
from ..losses import check_size, target_dsd, target_grams
from ..precision import AutocastFeatures, Precision, resolve_precision
from ..resize import downscale
from ..trajectory import Trajectory
from ..devices import resolve_device
from ..validation import check_choice, check_dsd_factor, check_factor
from .engine import Objective, RunOptions, Schedule, default_device, one_image, optimize_image

if TYPE_CHECKING:
    from typing_extensions import Unpack

MatchKind = Literal["dsd", "style"]


def _resolve_device(device: torch.device | str | None) -> torch.device:
    return default_device() if device is None else resolve_device(device)


def _digest(x: torch.Tensor) -> str:
    """Short fingerprint of a tensor's values, to recognise the same reference on resume."""
    return hashlib.sha256(x.detach().cpu().contiguous().numpy().tobytes()).hexdigest()[:16]


def _match_scales(kind: MatchKind, scales: Sequence[float] | None) -> tuple[float, ...]:
    """The downscaling factors to match: DSD ``(fine, coarse)`` (default ``(1, 2)``), style distinct ones."""
    if scales is None:
        return (1.0, 2.0) if kind == "dsd" else (1.0,)
    factors = tuple(check_factor(s, "scales") for s in scales)
    if kind == "dsd":
        dsd_scales(factors)
    elif not factors or len(set(factors)) != len(factors):
        raise ValueError(
            f"scales: style matching needs distinct downscaling factors, e.g. (1,) or (1, 2); got {scales!r}"
        )
    return factors


def _under_plan(net: VGG19Features, precision: Precision, device: torch.device) -> tuple[AutocastFeatures, str]:
    """``net`` run under the autocast of ``precision`` on ``device``, and the precision that runs."""
    plan = resolve_precision(precision, device)
    return AutocastFeatures(net, plan), plan.precision


def dsd_matching(target: DSD, names: tuple[str, ...], net: VGG19Features) -> Objective:
    """The objective of DSD matching: ``sum_l mean|DSD_l(x) - target_l|``.

    Records ``"distance/<layer>"`` and ``"dsd/<layer>"`` (``||DSD_l(x)||_1``) per layer.
    """

    def objective(x: torch.Tensor) -> dict[str, torch.Tensor]:
        mine = dsd_unchecked(x, target.alpha, net, target.base)
        distances = layer_distances(mine.matrices, target.matrices, names, per_item=False)
        norms = mine.detach().norms()
        out: dict[str, torch.Tensor] = {}
        for name in names:
            out[f"distance/{name}"], out[f"dsd/{name}"] = distances[name], norms[name]
        total = torch.stack([distances[name] for name in names]).sum()
        return {"objective": total, **out}

    return objective


def style_matching(
    targets: Sequence[dict[str, torch.Tensor]], factors: tuple[float, ...], names: tuple[str, ...], net: VGG19Features
) -> Objective:
    """The objective of style matching: ``sum_s sum_l mean|G_l(x|s) - target_{s,l}|``.

    Records ``"style@<s>/<layer>"`` per scale and layer.
    """

    def objective(x: torch.Tensor) -> dict[str, torch.Tensor]:
        out: dict[str, torch.Tensor] = {}
        for factor, target in zip(factors, targets):
            distances = layer_distances(grams(downscale(x, factor), net), target, names, per_item=False)
            out.update({f"style@{factor:g}/{name}": value for name, value in distances.items()})
        return {"objective": torch.stack(list(out.values())).sum(), **out}

    return objective


def dsd_norm(alpha: float, base: float, names: tuple[str, ...], net: VGG19Features) -> Objective:
    """The objective of DSD minimisation: ``||DSD_{l,alpha}(x|base)||_1`` averaged over layers.

    Records ``"dsd/<layer>"`` per layer.
    """

    def objective(x: torch.Tensor) -> dict[str, torch.Tensor]:
        norms = dsd_unchecked(x, alpha, net, base).norms()
        return {"objective": norms.pop("mean"), **{f"dsd/{name}": value for name, value in norms.items()}}

    return objective


def _check_match(
    kind: str, content: torch.Tensor, reference: torch.Tensor, names: Sequence[str], factors: Sequence[float]
) -> str:
    """:func:`match_fingerprint`'s checks of both images (one image each, large enough for every scale and
    layer); returns the objective's description."""
    one_image(content, "content")
    one_image(reference, "reference")
    if kind == "dsd":
        alpha, base = dsd_scales(factors)
        check_dsd_input(content, alpha, names, base, "content")
        check_dsd_input(reference, alpha, names, base, "reference")
        return f"match {dsd_label(alpha, base)}"
    for image, name in ((content, "content"), (reference, "reference")):
        check_size(image, names, max(factors), name)
    return "match style at " + ", ".join(f"1/{f:g}" if f != 1 else "1" for f in factors)


def match_fingerprint(
    content: torch.Tensor,
    reference: torch.Tensor,
    kind: MatchKind = "dsd",
    scales: Sequence[float] | None = None,
    layers: Layers = "dsd",
    *,
    steps: int = 3000,
    lr: float = 5e-4,
    schedule: Schedule = "step",
    device: torch.device | str | None = None,
    precision: Precision = "fp32",
    **options: Unpack[RunOptions],
) -> Trajectory:
    """Optimise ``content`` so that its DSD fingerprint (or style) matches ``reference``'s.

    Supplementary Fig. 11 of the DSD paper: starting from the content image, minimise
    ``sum_l mean|DSD_l(x) - DSD_l(reference)|`` (``kind="dsd"``, as :func:`dsdviz.dsd_loss`)
    or ``sum_s sum_l mean|G_l(x|s) - G_l(reference|s)|`` (``kind="style"``, as
    :func:`dsdviz.multiscale_style_loss`). The reference's fingerprint or Gram matrices
    are computed once, before the first step.

    Args:
        content: the start image ``(1, 3, H, W)`` in ``[0, 1]``.
        reference: the image ``(1, 3, H', W')`` in ``[0, 1]`` to match (any size).
        kind: ``"dsd"`` or ``"style"``.
        scales: downscaling factors. DSD: the two compared scales ``(fine, coarse)``,
            default ``(1, 2)`` = ``DSD_2(x)``; ``(2, 4)`` = ``DSD_2(x|2)``. Style: the scales
            whose Gram matrices are matched (summed), default ``(1,)``; ``(2,)`` matches
            the style of the half-resolution copies.
        layers: VGG19 layers or a preset (default: the four DSD layers).
        steps, lr, schedule: as in :func:`optimize_image` (default: the DSD authors' 3000
            steps at 5e-4, halved after each third).
        device: where to run (default: CUDA if available); the trajectory is on the CPU.
        precision: ``"fp32"``, ``"bf16"``, ``"fp16"`` (CUDA) or ``"auto"``: the autocast of the
            VGG19 passes of the image (see the module docstring); an unsupported one raises.
        options: ``keep_in_range``, ``range_weight``, ``snapshots``, ``checkpoint``,
            ``checkpoint_every``, ``resume``, ``progress``: as in :func:`optimize_image`.

    Returns:
        A trajectory whose history has, per layer, ``"distance/<layer>"`` and
        ``"dsd/<layer>"`` (``||DSD_l(x)||_1``) for DSD matching, or ``"style@<s>/<layer>"``
        for style matching.

    Raises:
        ValueError: unknown ``kind``, layer or precision, bad scales (``< 1``, not two increasing
            factors for DSD), bad images, an image too small for the deepest layer at the
            coarsest scale, or bad optimisation arguments.

    Examples:
        >>> from dsdviz.data import center_crop
        >>> from dsdviz.samples import skimage_sample
        >>> content, reference = (center_crop(skimage_sample(name), 64) for name in ("chelsea", "coffee"))
        >>> result = match_fingerprint(content, reference, "dsd", scales=(2, 4), steps=3, progress=False)
        >>> result.final.shape, sorted(result.history)[:2]
        (torch.Size([1, 3, 64, 64]), ['distance/relu1_2', 'distance/relu2_1'])
    """
    check_choice(kind, ("dsd", "style"), "kind")
    names = resolve_layers(layers)
    factors = _match_scales(kind, scales)
    description = _check_match(kind, content, reference, names, factors)
    run_device = _resolve_device(device)
    content = content.to(run_device)
    reference = reference.to(device=run_device, dtype=content.dtype)
    net = default_extractor(names, device=run_device, dtype=content.dtype)
    features, numeric = _under_plan(net, precision, run_device)
    if kind == "dsd":
        alpha, base = dsd_scales(factors)
        objective = dsd_matching(target_dsd(reference, names, alpha, base=base, extractor=net), names, features)
    else:
        targets = [target_grams(reference, names, f, net) for f in factors]
        objective = style_matching(targets, factors, names, features)
    settings = {
        "objective": description,
        "kind": kind,
        "scales": list(factors),
        "layers": list(names),
        "reference_size": list(reference.shape[-2:]),
        "reference_digest": _digest(reference),
        "precision": numeric,
    }
    return optimize_image(
        content,
        objective,
        steps=steps,
        lr=lr,
        schedule=schedule,
        settings=settings,
        **options,
        description=description,
    )


def minimize_dsd(
    image: torch.Tensor,
    alpha: float = 4,
    layers: Layers = "dsd",
    *,
    base: float = 1.0,
    steps: int = 5000,
    lr: float = 2e-4,
    schedule: Schedule = "constant",
    device: torch.device | str | None = None,
    precision: Precision = "fp32",
    **options: Unpack[RunOptions],
) -> Trajectory:
    """Gradient descent on ``||DSD_alpha(x)||_1`` from ``image`` (supplementary Fig. 12).

    The objective is ``||DSD_{l,alpha}(x)||_1`` (mean absolute entry) averaged over the
    layers, i.e. ``dsd(x, alpha, layers).norms()["mean"]``. Started from a 4x
    super-resolution result, a few hundred steps sharpen it; thousands of steps create
    artifacts: natural images do not have the smallest DSD.

    Args:
        image: the start image ``(1, 3, H, W)`` in ``[0, 1]``.
        alpha: downscaling factor ``>= 1`` of the fingerprint (4 in the paper).
        layers: VGG19 layers or a preset (default: relu1_2, relu2_1, relu2_2, relu3_1).
        base: minimise ``||DSD_alpha(x|base)||_1`` instead (default 1: ``x`` itself).
        steps: number of updates (the paper shows 500 and 5000).
        lr, schedule: as in :func:`optimize_image` (default: a constant rate, so that the
            snapshot at step ``k`` is the result of a ``k``-step run).
        device: where to run (default: CUDA if available); the trajectory is on the CPU.
        precision, options: as in :func:`match_fingerprint`.

    Returns:
        A trajectory whose history has ``"dsd/<layer>"`` per layer (the objective is
        their mean).

    Raises:
        ValueError: ``alpha < 1``, unknown layers or precision, a bad image or one too small for the
            deepest layer at scale ``1 / (base * alpha)``, or bad optimisation arguments.
    """
    names = resolve_layers(layers)
    alpha, base = check_dsd_factor(alpha), check_factor(base, "base")
    one_image(image, "image")
    check_dsd_input(image, alpha, names, base, "image")
    run_device = _resolve_device(device)
    image = image.to(run_device)
    net = default_extractor(names, device=run_device, dtype=image.dtype)
    features, numeric = _under_plan(net, precision, run_device)
    objective = dsd_norm(alpha, base, names, features)
    label = f"||{dsd_label(alpha, base)}||_1"
    settings = {"objective": f"minimise {label}", "alpha": alpha, "base": base, "layers": list(names),
                "precision": numeric}  # fmt: skip
    return optimize_image(
        image,
        objective,
        steps=steps,
        lr=lr,
        schedule=schedule,
        settings=settings,
        **options,
        description=f"minimise {label}",
    )
