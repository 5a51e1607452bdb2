"""Where is an image unnatural? Q_DSD (Eq. 5) and its signed excess on a grid of overlapping tiles.

:func:`q_dsd_map` scores every ``tile`` x ``tile`` px window of an image, placed every ``stride``
px, with :func:`dsdviz.metrics.q_dsd` (``per_layer=True``): each tile gets exactly the numbers
``q_dsd`` gives that crop on its own. :class:`QualityMap` holds the tile grid and resamples it to
a per-pixel map by averaging every tile that covers a pixel. A value belongs to a tile, not a
pixel: the map is a smoothed, tile-scale picture (a sharp defect spreads over a ``tile`` px
neighbourhood), and its resolution is set by ``tile``, not by ``stride``.

Borders: tiles start at ``0, stride, 2 stride, ...`` along each side, and a last tile is aligned
to the far edge when that grid does not reach it, so every pixel is covered by at least one tile.
Pixels near the borders are covered by fewer tiles than interior ones
(:meth:`QualityMap.coverage`); a corner pixel by exactly one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from tqdm.auto import tqdm

from .features import min_input_size, resolve_layers
from .metrics import check_regressor, q_dsd, tile_starts
from .models.regressor import REGRESSOR_BLOCKS
from .resize import downscaled_size
from .scores import SCORES
from .validation import check_image, check_positive_int


def regressor_min_input(regressor: nn.Module) -> int:
    """Smallest side (px) of ``y|a`` the regressor and VGG19 up to its deepest layer both accept:
    the larger of :func:`dsdviz.features.min_input_size` (4 px for relu3_1) and the product of the
    regressor's block strides (8 px for Table 5's three stride-2 stages: one pixel left to pool)."""
    blocks = getattr(regressor, "config", {}).get("blocks", REGRESSOR_BLOCKS)
    return max(min_input_size(resolve_layers(list(regressor.layers))), math.prod(int(s) for _, s in blocks))


def min_tile(regressor: nn.Module) -> int:
    """Smallest ``tile`` (px, in the input image) that :func:`q_dsd_map` accepts for ``regressor``:
    the least side whose downscaled copy (by ``regressor.alpha``) has :func:`regressor_min_input` px."""
    need, side = regressor_min_input(regressor), 1
    while min(downscaled_size(side, side, regressor.alpha)) < need:
        side += 1
    return side


def default_tile(regressor: nn.Module) -> int:
    """The tile side the regressor was trained for, ``crop * alpha`` px (64 for the shipped a = 2 model,
    96 for a = 4), or :func:`min_tile` times 4 when the regressor's crop is unknown."""
    crop = getattr(regressor, "crop", None)
    return int(round(crop * regressor.alpha)) if crop else 4 * min_tile(regressor)


def check_tiling(
    regressor: nn.Module, tile: int | None, stride: int | None, size: tuple[int, int]
) -> tuple[int, int]:
    """``(tile, stride)`` of :func:`q_dsd_map` for an image of ``size = (H, W)`` px, defaults filled in.

    Raises:
        ValueError: ``tile`` below :func:`min_tile` (the message names the minimum) or larger than the
            image, or ``stride`` not in ``[1, tile]``.
    """
    tile = default_tile(regressor) if tile is None else check_positive_int(tile, "tile")
    least = min_tile(regressor)
    if tile < least:
        raise ValueError(
            f"tile: {tile} px is too small for the a = {regressor.alpha:g} regressor: its downscaled copy must have "
            f"at least {regressor_min_input(regressor)} px (VGG19 up to {regressor.layers[-1]} and the regressor's "
            f"strides), so tile must be at least {least} px"
        )
    if tile > min(size):
        raise ValueError(f"tile: {tile} px is larger than the {size[0]} x {size[1]} image; use a smaller tile")
    stride = max(1, tile // 4) if stride is None else check_positive_int(stride, "stride")
    if stride > tile:
        raise ValueError(f"stride: {stride} px is larger than the tile ({tile} px), which would leave pixels uncovered")
    return tile, stride


@dataclass(frozen=True)
class QualityMap:
    """Per-tile Q_DSD of one image (:func:`q_dsd_map`).

    Attributes:
        values: ``{key: (rows, cols) float64}`` with the keys of ``q_dsd(..., per_layer=True)``:
            ``"q_dsd"`` (Eq. 5, lower is more natural), ``"excess"`` (signed, relative: 0 where the
            measured norms are what psi expects of a natural image with the same coarse copy, > 0 above,
            < 0 below; with the shipped regressors Gaussian blur scores > 0, see ``tests/test_quality_map.py``),
            and per layer ``"<layer>"``, ``"excess_<layer>"``, ``"pred_<layer>"``, ``"true_<layer>"``.
        tops: ``(rows,)`` first row (px) of each row of tiles; ``lefts``: ``(cols,)`` first column.
        tile, stride: tile side and tile spacing in px of the input image.
        alpha: the regressor's downscaling factor.
        size: ``(H, W)`` of the image in px.
        layers: the layers of Eq. 5.
    """

    values: dict[str, torch.Tensor]
    tops: torch.Tensor
    lefts: torch.Tensor
    tile: int
    stride: int
    alpha: float
    size: tuple[int, int]
    layers: tuple[str, ...]

    def label(self, key: str) -> str:
        """The score registry's label of the map ``key`` (``"q_dsd"`` or ``"excess"``) at this factor, e.g.
        ``"Q_DSD a=2"`` (:data:`dsdviz.scores.SCORES`)."""
        return SCORES[key].title(self.alpha)

    @property
    def grid_shape(self) -> tuple[int, int]:
        """``(rows, cols)`` of the tile grid."""
        return len(self.tops), len(self.lefts)

    def centres(self) -> torch.Tensor:
        """``(rows, cols, 2)`` float64 tile centres ``(y, x)`` in px (pixel centres at integers)."""
        half = (self.tile - 1) / 2
        ys, xs = torch.meshgrid(self.tops.double() + half, self.lefts.double() + half, indexing="ij")
        return torch.stack([ys, xs], dim=-1)

    def boxes(self) -> torch.Tensor:
        """``(rows, cols, 4)`` int64 tile boxes ``(top, left, bottom, right)``, bottom/right exclusive."""
        ys, xs = torch.meshgrid(self.tops, self.lefts, indexing="ij")
        return torch.stack([ys, xs, ys + self.tile, xs + self.tile], dim=-1)

    def _cover(self, starts: torch.Tensor, length: int) -> torch.Tensor:
        """``(n, length)`` float64: 1 where tile ``i`` of a side covers pixel ``j``."""
        pixels = torch.arange(length)
        return ((pixels >= starts[:, None]) & (pixels < starts[:, None] + self.tile)).double()

    def coverage(self) -> torch.Tensor:
        """``(H, W)`` int64: how many tiles cover each pixel (>= 1 everywhere; fewest at the borders)."""
        rows, cols = self._cover(self.tops, self.size[0]), self._cover(self.lefts, self.size[1])
        return torch.outer(rows.sum(0), cols.sum(0)).round().long()

    def pixel_map(self, key: str = "excess") -> torch.Tensor:
        """``(H, W)`` float64: ``values[key]`` averaged over the tiles covering each pixel.

        Tiles whose value is NaN (an excess where psi predicts 0) are left out of the average; a pixel
        covered only by such tiles is NaN. Computed as ``R^T V C / R^T 1 C`` with the 0/1 cover matrices
        ``R`` (rows x H) and ``C`` (cols x W), no loop over pixels.
        """
        if key not in self.values:
            raise ValueError(f"key: expected one of {', '.join(map(repr, self.values))}, got {key!r}")
        rows, cols = self._cover(self.tops, self.size[0]), self._cover(self.lefts, self.size[1])
        value = self.values[key]
        finite = torch.isfinite(value)
        total = rows.T @ torch.where(finite, value, 0.0) @ cols
        count = rows.T @ finite.double() @ cols
        return torch.where(count > 0, total / count.clamp(min=1), torch.nan)


def q_dsd_map(
    image: torch.Tensor,
    regressor: nn.Module,
    tile: int | None = None,
    stride: int | None = None,
    *,
    batch_size: int = 32,
    progress: bool = False,
) -> QualityMap:
    """Q_DSD (Eq. 5) and the signed excess of every ``tile`` px window of an image, every ``stride`` px.

    Each tile is scored as :func:`dsdviz.metrics.q_dsd` scores that crop alone (a tile larger than the
    regressor's training size is itself averaged over ``q_dsd``'s sub-tiles); tiles are stacked into
    batches of ``batch_size``. Borders: see the module docstring (the last tile of a row or column is
    aligned to the image edge, so every pixel is covered).

    Args:
        image: one image ``(1, 3, H, W)`` in ``[0, 1]``, at least ``tile`` px on each side.
        regressor: a trained :class:`~dsdviz.models.DSDRegressor` (e.g. ``load_model("dsd_regressor_a2_cpu")``).
        tile: tile side in px of ``image`` (default :func:`default_tile`, the size the regressor was
            trained for: 64 px for the shipped a = 2 model, 96 px for a = 4). Smaller tiles than the
            training size are accepted but score images of a size psi has not seen.
        stride: tile spacing in px, at most ``tile`` (default ``tile // 4``).
        batch_size: tiles per forward pass.
        progress: show a tqdm bar over the batches.

    Returns:
        A :class:`QualityMap` with ``(rows, cols)`` grids, ``rows = ceil((H - tile) / stride) + 1``
        (likewise ``cols``).

    Raises:
        ValueError: a bad image or regressor, a batch of more than one image, a ``tile`` below
            :func:`min_tile` (the message names the minimum), larger than the image, or a ``stride``
            that is not in ``[1, tile]``.

    Examples:
        >>> from dsdviz.models import load_model
        >>> from dsdviz.samples import skimage_sample
        >>> qmap = q_dsd_map(skimage_sample("astronaut")[..., :128, :128], load_model("dsd_regressor_a2_cpu"))
        >>> qmap.grid_shape, qmap.pixel_map("excess").shape
        ((5, 5), torch.Size([128, 128]))
    """
    regressor = check_regressor(regressor, None)
    check_image(image, "image")
    if image.shape[0] != 1:
        raise ValueError(f"image: expected one image (1, 3, H, W), got a batch of {image.shape[0]}")
    height, width = image.shape[-2:]
    tile, stride = check_tiling(regressor, tile, stride, (height, width))
    tops, lefts = tile_starts(height, tile, stride), tile_starts(width, tile, stride)
    corners = [(int(t), int(l)) for t in tops for l in lefts]
    chunks: list[dict[str, torch.Tensor]] = []
    batches = range(0, len(corners), batch_size)
    for first in tqdm(batches, desc=f"Q_DSD map a={regressor.alpha:g}", unit="batch", disable=not progress):
        crops = [image[0, :, t : t + tile, l : l + tile] for t, l in corners[first : first + batch_size]]
        chunks.append(q_dsd(torch.stack(crops), regressor, per_layer=True))
    values = {key: torch.cat([c[key] for c in chunks]).double().cpu().view(len(tops), len(lefts)) for key in chunks[0]}
    return QualityMap(values, tops, lefts, tile, stride, regressor.alpha, (height, width), tuple(regressor.layers))


__all__ = ["QualityMap", "check_tiling", "default_tile", "min_tile", "q_dsd_map", "regressor_min_input"]
