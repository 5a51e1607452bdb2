"""Which of two restorations of the same scenes does a no-reference score find more natural, image by image?

The question a reader asks of Q_DSD before trusting it on their own photographs: given two folders of
images with the same names (say a blind super-resolution method and bicubic up-sampling of the same
low-resolution photographs), on how many images does each score rank the first folder's image as more
natural, and is that more than chance? :func:`rank_folders` scores both images of every pair with each
regressor pair (Q_DSD at a = 2 and 4, the signed excess at both) and NIQE; :func:`rank_summary` counts,
per score, the images where the first is better, with a two-sided sign test (:func:`sign_test`).
``dsdviz rank`` prints it.

Example::

    rows = rank_folders("out/blind_gan", "out/bicubic", {"default": [psi_2, psi_4]}, crop=128)
    rank_summary(rows)["default"]["q_dsd_a4"]  # {"images": 18, "first_better": 14, "p_value": 0.031, ...}
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from .data import center_crop, find_image, list_images, load_image
from .scores import SCORES, score_of
from .scoring import Scorer
from .validation import check_positive_int

#: The scores compared (registry names, all lower-is-better): per regressor Q_DSD (Eq. 5) and the signed
#: excess, then NIQE.
RANKED_SCORES = ("q_dsd", "excess", "niqe")
_PER_REGRESSOR = tuple(name for name in RANKED_SCORES if SCORES[name].per_regressor)
_ONCE = tuple(name for name in RANKED_SCORES if not SCORES[name].per_regressor)


def paired_names(first: str | os.PathLike, second: str | os.PathLike) -> tuple[list[str], list[str]]:
    """The image names (file stems) both folders hold, sorted, and those only one of them holds.

    Raises:
        ValueError: a folder that does not exist or holds no image, or no name in common.
    """
    stems = [{path.stem: path for path in list_images(folder)} for folder in (first, second)]
    common = sorted(set(stems[0]) & set(stems[1]))
    if not common:
        raise ValueError(
            f"{str(first)!r} and {str(second)!r} share no image name (e.g. {sorted(stems[0])[0]!r} and "
            f"{sorted(stems[1])[0]!r}); rank compares images of the same scene, named alike"
        )
    return common, sorted(set(stems[0]) ^ set(stems[1]))


def central_crop(image: torch.Tensor, size: int | None) -> torch.Tensor:
    """The central ``size`` x ``size`` px of ``image`` ``(B, C, H, W)`` (``None``: the whole image):
    :func:`dsdviz.data.center_crop`, which crops less where the image is smaller, made strict, so that every
    image compared is scored at the size asked for.

    Raises:
        ValueError: a size that is not a positive integer, or larger than a side of the image.
    """
    if size is None:
        return image
    size = check_positive_int(size, "crop")
    height, width = image.shape[-2:]
    if size > min(height, width):
        raise ValueError(f"a central {size} px crop of a {height} x {width} px image: the image is too small")
    return center_crop(image, size)


def _load_pair(first: Path, second: Path, name: str, crop: int | None) -> tuple[torch.Tensor, torch.Tensor]:
    images = []
    for folder in (first, second):
        path = find_image(folder, name)
        try:
            images.append(central_crop(load_image(path), crop))
        except ValueError as error:
            raise ValueError(f"{path}: {error}") from None
    if images[0].shape != images[1].shape:
        raise ValueError(
            f"{name}: {tuple(images[0].shape[-2:])} px in {str(first)!r} but {tuple(images[1].shape[-2:])} px in "
            f"{str(second)!r}; rank compares restorations of one scene at one size (--crop N crops both)"
        )
    return images[0], images[1]


def rank_folders(
    first: str | os.PathLike, second: str | os.PathLike, pairs: Mapping[str, Sequence[nn.Module]], *,
    crop: int | None = None, progress: bool = True,
) -> list[dict[str, float | str]]:  # fmt: skip
    """Both images of every name the two folders share, scored with each regressor pair.

    Args:
        first, second: folders of 8-bit images, paired by file stem (the same scenes, the same sizes).
        pairs: ``{label: regressors}``, e.g. ``{"default": [psi_2, psi_4]}``
            (:func:`dsdviz.models.load_model`); an empty list scores NIQE only.
        crop: score the central ``crop`` px square of each image instead of the whole image.
        progress: a progress bar over the images.

    Returns:
        One row per (label, name): ``{"pair", "image", "height", "width"}`` and, for every score of
        :data:`RANKED_SCORES` (``q_dsd_a<alpha>``, ``excess_a<alpha>``, ``niqe``; lower is more natural for
        all), ``"<column>_first"`` and ``"<column>_second"``.

    Raises:
        ValueError: a missing or empty folder, no common name, two images of one name at different sizes,
            or a crop larger than an image.

    Warns:
        UserWarning: names only one folder holds (left out).
    """
    first, second = Path(first), Path(second)
    names, unpaired = paired_names(first, second)
    if unpaired:
        shown = ", ".join(unpaired[:5]) + (", ..." if len(unpaired) > 5 else "")
        warnings.warn(f"{len(unpaired)} image(s) in only one folder, left out: {shown}", stacklevel=2)
    scorers = {label: Scorer(regressors, scores=_PER_REGRESSOR) for label, regressors in pairs.items()}
    once = Scorer(scores=_ONCE)
    rows = []
    for name in tqdm(names, desc="rank", unit="image", disable=not progress):
        images = _load_pair(first, second, name, crop)
        common = [once(image, full_reference=False) for image in images]
        for label, scorer in scorers.items():
            scored = [{**scorer(image, full_reference=False), **base} for image, base in zip(images, common)]
            row: dict[str, float | str] = {"pair": label, "image": name, "height": images[0].shape[-2],
                                           "width": images[0].shape[-1]}  # fmt: skip
            for column in scored[0]:
                row[f"{column}_first"], row[f"{column}_second"] = scored[0][column], scored[1].get(column, math.nan)
            rows.append(row)
    return rows


def sign_test(wins: int, trials: int) -> float:
    """Two-sided exact sign test: the probability, for a fair coin, of a count of ``trials`` tosses at least
    as far from ``trials / 2`` as ``wins`` (1.0 for no trials).

    Example::

        >>> round(sign_test(14, 18), 4)
        0.0309
    """
    if not 0 <= wins <= trials:
        raise ValueError(f"sign_test: wins must lie in [0, trials]; got {wins} of {trials}")
    if trials == 0:
        return 1.0
    low = min(wins, trials - wins)
    tail = sum(math.comb(trials, k) for k in range(low + 1)) / 2**trials
    return min(1.0, 2 * tail)


def _columns(rows: Sequence[Mapping[str, float | str]]) -> list[str]:
    return list(dict.fromkeys(key.removesuffix("_first") for row in rows for key in row if key.endswith("_first")))


def rank_summary(rows: Sequence[Mapping[str, float | str]]) -> dict[str, dict[str, dict[str, float]]]:
    """Per pair label and score column of :func:`rank_folders`'s rows: ``images`` (those with both scores
    finite), ``first_better`` (the first image scores lower; a tie counts for neither), ``fraction``,
    ``p_value`` (:func:`sign_test` over the images without a tie) and the two means ``mean_first``,
    ``mean_second``."""
    summary: dict[str, dict[str, dict[str, float]]] = {}
    for label in dict.fromkeys(str(row["pair"]) for row in rows):
        mine = [row for row in rows if row["pair"] == label]
        summary[label] = {}
        for column in _columns(mine):
            values = np.array([(float(r[f"{column}_first"]), float(r[f"{column}_second"])) for r in mine
                               if f"{column}_first" in r]).reshape(-1, 2)  # fmt: skip
            values = values[np.isfinite(values).all(axis=1)]
            better, worse = int((values[:, 0] < values[:, 1]).sum()), int((values[:, 0] > values[:, 1]).sum())
            summary[label][column] = {
                "images": float(len(values)),
                "first_better": float(better),
                "fraction": better / len(values) if len(values) else math.nan,
                "p_value": sign_test(better, better + worse),
                "mean_first": float(values[:, 0].mean()) if len(values) else math.nan,
                "mean_second": float(values[:, 1].mean()) if len(values) else math.nan,
            }
    return summary


def rank_text(summary: Mapping[str, Mapping[str, Mapping[str, float]]], first: str, second: str) -> str:
    """:func:`rank_summary` as a plain-text table per pair label: for each score, the images where ``first``
    is ranked more natural, the fraction, the sign test's p and the two means."""
    lines = [f"first: {first}   second: {second}   (every score: lower = more natural)"]
    for label, columns in summary.items():
        lines += ["", f"{label}", f"{'score':<14}{'first better':>14}{'fraction':>10}{'sign test p':>13}"
                  f"{'mean first':>13}{'mean second':>13}"]  # fmt: skip
        for column, entry in columns.items():
            score, alpha = score_of(column)
            name = score.label.format(alpha=f"{alpha:g}") if alpha is not None else score.label
            count = f"{entry['first_better']:.0f}/{entry['images']:.0f}"
            lines.append(f"{name:<14}{count:>14}{entry['fraction']:>10.2f}{entry['p_value']:>13.3g}"
                         f"{entry['mean_first']:>13.4g}{entry['mean_second']:>13.4g}")  # fmt: skip
    return "\n".join(lines)
