"""Image-quality scores: PSNR and SSIM with the super-resolution conventions, the
full-reference DSD distance and the no-reference score Q_DSD (Eq. 5 of the DSD paper).

SR papers' numbers move with conventions, so the protocol is explicit and recorded
next to every score (:data:`PROTOCOL`, :func:`dsdviz.scores.protocol_text`). By default, as in the
benchmark code of most SR work (and the published RCAN Set5 values, which
``tests/test_metrics.py`` reproduces):

* both images are clipped to ``[0, 1]`` and rounded to 8 bits (what saved PNGs hold; a
  no-op for 8-bit ground truth loaded as float, up to its float32 rounding);
* both images are converted to the luma channel Y of ITU-R BT.601 as MATLAB's
  ``rgb2ycbcr`` defines it, ``Y = 16 + 65.481 R + 128.553 G + 24.966 B`` (R, G, B in
  ``[0, 1]``, Y in ``[16, 235]``), kept in floating point;
* a border of ``shave`` pixels (the SR scale, 4 for 4x) is removed from every side;
* PSNR and SSIM come from scikit-image with data range 255; SSIM uses the settings of
  Wang et al. (2004) and MATLAB's ``ssim``: Gaussian window sigma 1.5 (11 x 11), K1 0.01,
  K2 0.03, population covariance.

Which way each score is better, its format and protocol line: the registry :data:`dsdviz.scores.SCORES`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity
from torch import nn

from .features import Layers, default_extractor, resolve_layers
from .fingerprint import DSD, check_dsd_input, dsd_unchecked
from .resize import downscale
from .validation import check_dsd_factor, check_factor, check_image, check_same_shape

#: Y = (16 + 65.481 R + 128.553 G + 24.966 B) / 255 for RGB in [0, 1] (MATLAB rgb2ycbcr, BT.601).
Y_WEIGHTS = (65.481, 128.553, 24.966)
Y_OFFSET = 16.0

#: The evaluation protocol of :func:`psnr` and :func:`ssim` with their defaults.
PROTOCOL: dict[str, object] = {
    "quantization": "both images clipped to [0, 1] and rounded to 8 bits",
    "channel": "Y of ITU-R BT.601 (MATLAB rgb2ycbcr), float",
    "shave": "scale px per side (4 for 4x SR)",
    "data_range": 255,
    "ssim": "scikit-image structural_similarity, Gaussian sigma 1.5, K1 0.01, K2 0.03, population covariance",
    "psnr": "scikit-image peak_signal_noise_ratio",
}

def rgb_to_y(x: torch.Tensor) -> torch.Tensor:
    """Luma ``(B, 1, H, W)`` in ``[16, 235]`` (8-bit scale) of RGB images ``(B, 3, H, W)`` in ``[0, 1]``."""
    weights = torch.tensor(Y_WEIGHTS, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return Y_OFFSET + (x * weights).sum(dim=1, keepdim=True)


def _prepare(
    output: torch.Tensor, target: torch.Tensor, shave: int, y_channel: bool, quantize: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Both batches as float64 arrays ``(B, H, W, C)`` on the 8-bit scale, shaved."""
    check_image(output, "output", value_range=None)
    check_image(target, "target")
    check_same_shape(output, target)
    if isinstance(shave, bool) or not isinstance(shave, int) or shave < 0:
        raise ValueError(f"shave: expected a non-negative integer (the SR scale), got {shave!r}")
    if min(output.shape[-2:]) <= 2 * shave + 6:
        raise ValueError(
            f"output: a {output.shape[-2]} x {output.shape[-1]} image is too small to shave {shave} px "
            "per side and still fit SSIM's 7 px window"
        )
    out = output.detach().double().clamp(0, 1)
    ref = target.detach().double().clamp(0, 1)
    if quantize:
        out, ref = torch.round(out * 255) / 255, torch.round(ref * 255) / 255
    out, ref = (rgb_to_y(out), rgb_to_y(ref)) if y_channel else (out * 255, ref * 255)
    if shave:
        out, ref = out[..., shave:-shave, shave:-shave], ref[..., shave:-shave, shave:-shave]
    return out.permute(0, 2, 3, 1).cpu().numpy(), ref.permute(0, 2, 3, 1).cpu().numpy()


def _per_item(output, target, shave, y_channel, quantize, score: Callable[[np.ndarray, np.ndarray], float]):
    out, ref = _prepare(output, target, shave, y_channel, quantize)
    return torch.tensor([score(o, r) for o, r in zip(out, ref)], dtype=torch.float64)


def _psnr_one(out: np.ndarray, ref: np.ndarray) -> float:
    if np.array_equal(out, ref):
        return float("inf")
    return float(peak_signal_noise_ratio(ref, out, data_range=255))


def _ssim_one(out: np.ndarray, ref: np.ndarray) -> float:
    return float(
        structural_similarity(
            ref, out, data_range=255, channel_axis=-1, gaussian_weights=True, sigma=1.5, use_sample_covariance=False
        )
    )


def psnr(
    output: torch.Tensor, target: torch.Tensor, *, shave: int = 0, y_channel: bool = True, quantize: bool = True
) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB per image (see the module docstring for the protocol).

    Args:
        output: restored images ``(B, 3, H, W)``, any finite range (clipped to ``[0, 1]``).
        target: ground truth ``(B, 3, H, W)`` in ``[0, 1]``.
        shave: border removed from every side (use the SR scale, e.g. 4).
        y_channel: score the BT.601 luma (default) or the three RGB channels.
        quantize: round both images to 8 bits first (default).

    Returns:
        ``(B,)`` float64, ``inf`` for identical images. Higher is better.
    """
    return _per_item(output, target, shave, y_channel, quantize, _psnr_one)


def ssim(
    output: torch.Tensor, target: torch.Tensor, *, shave: int = 0, y_channel: bool = True, quantize: bool = True
) -> torch.Tensor:
    """Structural similarity per image, in ``[-1, 1]`` (1 for identical images); arguments as :func:`psnr`."""
    return _per_item(output, target, shave, y_channel, quantize, _ssim_one)


def dsd_distance(
    output: torch.Tensor, target: torch.Tensor, alpha: float = 2, layers: Layers = "full_reference"
) -> dict[str, torch.Tensor]:
    """Full-reference DSD distance: mean ``|DSD_{l,a}(output) - DSD_{l,a}(target)|`` per layer.

    Args:
        output: images ``(B, 3, H, W)``, clipped to ``[0, 1]``.
        target: ground truth, same shape, in ``[0, 1]``.
        alpha: downscaling factor of the fingerprints (2).
        layers: default relu1_2, relu2_1, relu3_1 (the authors' full-reference distance).

    Returns:
        ``{layer: (B,), "mean": (B,)}``, without gradient. Lower is better; 0 for identical images.
    """
    check_image(output, "output", value_range=None)
    check_same_shape(output, target)
    return dsd_distance_to(output, reference_dsd(target, alpha, layers))


def reference_dsd(target: torch.Tensor, alpha: float = 2, layers: Layers = "full_reference") -> DSD:
    """The fingerprint :func:`dsd_distance` compares with, ``DSD_{l,a}(target)`` (checked, no gradient):
    computed once, it scores many outputs against the same ground truth (:func:`dsd_distance_to`)."""
    names, alpha = resolve_layers(layers), check_dsd_factor(alpha)
    check_dsd_input(target, alpha, names, name="target")
    net = default_extractor(names, device=target.device, dtype=target.dtype)
    with torch.no_grad():
        return dsd_unchecked(target, alpha, net)


def dsd_distance_to(output: torch.Tensor, reference: DSD) -> dict[str, torch.Tensor]:
    """:func:`dsd_distance` of images ``(B, 3, H, W)`` (clipped to ``[0, 1]``) to a :func:`reference_dsd`
    of the same batch size (its ``alpha`` and layers): ``{layer: (B,), "mean": (B,)}``, no gradient."""
    check_dsd_input(output, reference.alpha, reference.layers, reference.base, name="output", value_range=None)
    net = default_extractor(reference.layers, device=output.device, dtype=output.dtype)
    with torch.no_grad():
        return dsd_unchecked(output.clamp(0, 1), reference.alpha, net, reference.base).distance(reference)


class SmallImageWarning(UserWarning):
    """A score computed on an image smaller than the size it is calibrated for."""


def check_regressor(regressor: object, alpha: float | None) -> nn.Module:
    """``regressor`` if it is a trained DSD regressor (for factor ``alpha``, unless ``None``), else a ``ValueError``."""
    if (
        not isinstance(regressor, nn.Module)
        or not hasattr(regressor, "target_scale")
        or not hasattr(regressor, "alpha")
    ):
        raise ValueError(
            f"regressor: expected a trained DSD regressor (dsdviz.models.DSDRegressor, e.g. from "
            f"dsdviz.models.load_model), got {type(regressor).__name__}"
        )
    if alpha is not None and check_factor(alpha) != regressor.alpha:
        raise ValueError(
            f"alpha={alpha:g} does not match the regressor, which was trained for alpha={regressor.alpha:g}"
        )
    return regressor


def tile_starts(length: int, tile: int, stride: int | None = None) -> torch.Tensor:
    """Where tiles of ``tile`` px start along a side of ``length >= tile`` px, every pixel covered: ``(n,)`` int64.

    ``stride=None``: the fewest tiles, ``ceil(length / tile)``, evenly spaced from edge to edge (rounded to
    whole pixels; they overlap where ``tile`` does not divide ``length``): how :func:`q_dsd` covers an image.
    A ``stride``: ``0, stride, 2 stride, ...`` plus a last tile at ``length - tile`` where the grid falls
    short of the edge: the dense grid of :func:`dsdviz.quality_map.q_dsd_map`.

    Examples:
        >>> tile_starts(100, 32).tolist(), tile_starts(100, 32, 12).tolist()
        ([0, 23, 45, 68], [0, 12, 24, 36, 48, 60, 68])
    """
    if stride is None:
        count = -(-length // tile)
        return torch.from_numpy(np.round(np.linspace(0, length - tile, count)).astype(np.int64))
    starts = list(range(0, length - tile + 1, stride))
    if starts[-1] != length - tile:
        starts.append(length - tile)
    return torch.tensor(starts, dtype=torch.int64)


def tiles(y: torch.Tensor, size: int) -> torch.Tensor:
    """Evenly spaced ``size`` x ``size`` crops covering images ``(B, C, H, W)``: ``(B, T, C, size, size)``.

    ``ceil(H / size)`` rows by ``ceil(W / size)`` columns of tiles (:func:`tile_starts` without a stride),
    the first and last touching the borders. A side shorter than ``size`` gives one tile of that side.
    """
    h, w = (min(size, length) for length in y.shape[-2:])
    rows, cols = tile_starts(y.shape[-2], h).tolist(), tile_starts(y.shape[-1], w).tolist()
    crops = [y[..., r : r + h, c : c + w] for r in rows for c in cols]
    return torch.stack(crops, dim=1)


def q_dsd(
    y: torch.Tensor, regressor: nn.Module, alpha: float | None = None, *, per_layer: bool = False
) -> torch.Tensor | dict[str, torch.Tensor]:
    """No-reference DSD score (Eq. 5): ``Q_a(y) = 1/L sum_l |psi_l(y|a) - ||DSD_{l,a}(y)||_1|``.

    psi predicts, from the coarse copy ``y|a``, the DSD norms a natural image would have;
    an image whose fine scale disagrees with its coarse scale (blur, over-smoothing,
    artefacts) is meant to score higher. Blur also lowers the norms themselves, and with
    them the absolute differences, so strong blur can score *lower* at a = 2 (measured in
    ``notebooks/noref_regressor.ipynb``); the ``"excess"`` diagnostic below does not shrink.

    DSD norms depend on the image size, so the score is computed where the regressor was
    trained: on tiles of ``regressor.crop * a`` px (:func:`tiles`, evenly spaced, covering
    the image) and averaged over tiles, as the authors average over crops of the training
    size. A regressor without a known ``crop`` scores the whole image.

    Args:
        y: images ``(B, 3, H, W)`` in ``[0, 1]``; ``y|a`` must be large enough for relu3_1
            (at least 4 px, so ``H, W >= 4 * a``).
        regressor: a trained :class:`~dsdviz.models.DSDRegressor` (its ``alpha`` and layers are used).
        alpha: optional check that the regressor was trained for this factor.
        per_layer: also return the per-layer terms and the predicted/measured norms.

    Returns:
        ``(B,)`` scores (lower is more natural), or with ``per_layer`` a dict with
        ``"q_dsd"``, ``"<layer>"`` (``|psi_l - ||DSD_l||_1|``), ``"pred_<layer>"`` and
        ``"true_<layer>"``, each ``(B,)`` (tile means), and the signed diagnostic
        ``"excess_<layer>"`` = ``(true_l - pred_l) / pred_l`` (from those means) with its
        layer mean ``"excess"``: how much more self-dissimilar the image is than a natural
        image with the same coarse scale, as a fraction (not part of Eq. 5; unlike Q_DSD it
        does not shrink with the overall DSD magnitude, which blur lowers; NaN where psi
        predicts 0). No gradient.

    Raises:
        ValueError: bad images (shape, dtype, range, too small), a regressor of the wrong
            type, or an ``alpha`` the regressor was not trained for.

    Warns:
        SmallImageWarning: an image smaller than the regressor's tile (scored as one smaller tile).
    """
    regressor = check_regressor(regressor, alpha)
    names = resolve_layers(list(regressor.layers))
    check_dsd_input(y, regressor.alpha, names, name="y")
    parameter = next(regressor.parameters())
    if parameter.device != y.device:
        raise ValueError(f"y is on {y.device} but the regressor on {parameter.device}; move one of them")
    batch = y.shape[0]
    if getattr(regressor, "crop", None):
        tile = int(round(regressor.crop * regressor.alpha))
        if min(y.shape[-2:]) < tile:
            warnings.warn(
                f"a {y.shape[-2]} x {y.shape[-1]} px image is smaller than the {tile} px tiles psi_{regressor.alpha:g} "
                "was trained on: its DSD norms are outside what psi learned, and Q_DSD ranks even images of this size "
                "unreliably (model card); score larger images or use a regressor with smaller tiles",
                SmallImageWarning, stacklevel=2,
            )  # fmt: skip
        y = tiles(y, tile).flatten(0, 1)
    net = default_extractor(names, device=y.device, dtype=y.dtype)
    was_training = regressor.training
    regressor.eval()
    try:
        with torch.no_grad():
            measured: DSD = dsd_unchecked(y, regressor.alpha, net)
            true = measured.norms()
            predicted = regressor(downscale(y, regressor.alpha).to(parameter.dtype)).to(y.dtype)
    finally:
        regressor.train(was_training)
    per_tile = {name: (predicted[:, i] - true[name]).abs() for i, name in enumerate(names)}
    per_tile["q_dsd"] = torch.stack([per_tile[name] for name in names]).mean(dim=0)
    per_tile.update({f"pred_{name}": predicted[:, i] for i, name in enumerate(names)})
    per_tile.update({f"true_{name}": true[name] for name in names})
    out = {key: value.view(batch, -1).mean(dim=1) for key, value in per_tile.items()}
    if not per_layer:
        return out["q_dsd"]
    for name in names:
        expected = out[f"pred_{name}"]
        excess = (out[f"true_{name}"] - expected) / expected
        out[f"excess_{name}"] = torch.where(expected > 0, excess, torch.nan)
    out["excess"] = torch.stack([out[f"excess_{name}"] for name in names]).mean(dim=0)
    return out
