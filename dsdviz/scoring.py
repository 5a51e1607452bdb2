"""Scoring images: every score of the registry :data:`dsdviz.scores.SCORES` through one :class:`Scorer`.

A :class:`Scorer` holds the settings (PSNR/SSIM protocol, Q_DSD regressors) and one ground
truth at a time, whose DSD fingerprint it computes once for all the images scored against
it. :func:`score_image` scores one image, :func:`q_dsd_table` the no-reference scores of many
(e.g. of :func:`dsdviz.data.degraded_versions`: natural images and degraded copies of them), and
:func:`dsdviz.evaluation.metrics_table` folders of method outputs.

Every scorer of a process shares one memo of the values it computed (:data:`MEMO_SIZE` of them), keyed by
what a value depends on: the score, the image's content, dtype and device, the ground truth's content (for a
full-reference score), the regressor's weights (for a score per regressor), the settings the score reads
(:attr:`dsdviz.scores.Score.settings`: the PSNR/SSIM protocol, the grid period) and the VGG weights. Scoring the same
image again, as the figure recipes do with the ground truth, bicubic and the published results, returns
the value computed the first time, bit for bit; a regressor whose weights changed is a new key. The scores
per regressor (Q_DSD and the excess) come from one Q_DSD evaluation, so computing one keeps them all.
:func:`clear_memo` empties it.
"""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from collections.abc import Hashable, Sequence

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from .features import WEIGHTS_ENV, resolve_layers
from .fingerprint import check_dsd_input
from .scores import SCORES, Score, ScoreInputs, default_scores
from .validation import check_image


#: Values kept in the process-wide memo of :class:`Scorer` (floats: a few MB at most); the oldest go first.
MEMO_SIZE = 1 << 15
_MEMO: OrderedDict[Hashable, float | None] = OrderedDict()


def content_key(*tensors: torch.Tensor) -> str:
    """A 128-bit digest (hex) of tensors' dtypes, shapes, devices and values: equal only for equal contents."""
    digest = hashlib.blake2b(digest_size=16)
    for tensor in tensors:
        data = tensor.detach().to("cpu").contiguous()
        digest.update(f"{data.dtype}{tuple(data.shape)}{tensor.device.type};".encode())
        digest.update(data.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def clear_memo() -> None:
    """Forget every value the scorers of this process computed."""
    _MEMO.clear()


class Scorer:
    """Every score of images ``(1, 3, H, W)`` in ``[0, 1]``, as a row ``{column: float}``, as the registry
    :data:`dsdviz.scores.SCORES` defines them, in its order.

    With a ground truth (:meth:`set_reference`, same size as the images): the full-reference scores,
    ``psnr`` and ``ssim`` (protocol of :mod:`dsdviz.metrics`), ``dsd_distance`` (alpha 2) and
    ``grid_artifacts`` (at ``grid_period``). Per regressor, no reference needed: ``q_dsd_a<alpha>`` (Eq. 5)
    and ``excess_a<alpha>``; then the other no-reference scores, ``niqe`` (left out of the row of an image
    under 96 px a side).

    Args:
        regressors: trained DSD regressors (:func:`dsdviz.models.load_model`), one Q_DSD each.
        scores: the registry names to compute, e.g. ``("q_dsd", "excess")`` (default
            :func:`dsdviz.scores.default_scores`: all but ``excess`` and ``grid_artifacts``); a
            full-reference one is computed only for an image with a ground truth.
        shave: border removed for PSNR/SSIM (the SR scale; 0 for deblurring).
        y_channel: PSNR/SSIM on the luma (default) or on RGB.
        grid_period: the period in px of ``grid_artifacts`` (4 for 4x SR).

    Raises:
        ValueError: a name of no score, or ``grid_artifacts`` named without a ``grid_period``.

    Example::

        scorer = Scorer([load_model("dsd_regressor_a2_cpu")], shave=4)
        scorer.set_reference(truth)
        scorer(output)  # {"psnr": ..., "ssim": ..., "dsd_distance": ..., "q_dsd_a2": ..., "niqe": ...}
    """

    def __init__(
        self, regressors: Sequence[nn.Module] = (), *, scores: Sequence[str] | None = None, shave: int = 4,
        y_channel: bool = True, grid_period: int | None = None,
    ) -> None:  # fmt: skip
        self.regressors = tuple(regressors)
        self.inputs = ScoreInputs(shave=shave, y_channel=y_channel, grid_period=grid_period)
        self._reference_key: str | None = None
        chosen = set(default_scores() if scores is None else scores)
        unknown = sorted(chosen - set(SCORES))
        if unknown:
            raise ValueError(f"scores: {', '.join(unknown)} are no scores of dsdviz.scores.SCORES ({', '.join(SCORES)})")
        if grid_period is None and "grid_artifacts" in chosen:
            raise ValueError("scores: grid_artifacts needs the grid_period (4 for 4x SR)")
        self.scores = [score for name, score in SCORES.items() if name in chosen]

    @property
    def reference(self) -> torch.Tensor | None:
        return self.inputs.reference

    def _plan(self, full_reference: bool) -> list[tuple[Score, nn.Module | None]]:
        """``(score, regressor)`` in row order: full reference, per regressor, the other no-reference ones."""
        fixed = [(s, None) for s in self.scores if s.reference and full_reference]
        each = [(s, psi) for psi in self.regressors for s in self.scores if s.per_regressor]
        rest = [(s, None) for s in self.scores if not s.reference and not s.per_regressor]
        return fixed + each + rest

    def columns(self, full_reference: bool = True) -> list[str]:
        """The keys of a row, in order (``full_reference=False``: the no-reference ones only)."""
        return [score.column(None if psi is None else psi.alpha) for score, psi in self._plan(full_reference)]

    def set_reference(self, reference: torch.Tensor | None) -> None:
        """The ground truth ``(1, 3, H, W)`` in ``[0, 1]`` for the next images (``None``: no-reference scores only)."""
        if reference is not None:
            check_dsd_input(reference, 2, resolve_layers("full_reference"), name="reference")
        self.inputs.reference = reference
        self.inputs.fingerprint = None
        self._reference_key = None if reference is None else content_key(reference)

    def __call__(self, image: torch.Tensor, *, full_reference: bool = True) -> dict[str, float]:
        """The row of ``image``: full-reference scores when a reference is set and ``full_reference``
        (``False``: e.g. to score the ground truth itself), then the no-reference ones."""
        check_image(image, "image")
        with_reference = full_reference and self.reference is not None
        if with_reference and self.reference.shape != image.shape:
            raise ValueError(
                f"the reference is {tuple(self.reference.shape[-2:])} px but the image {tuple(image.shape[-2:])} px"
            )
        row: dict[str, float] = {}
        self.inputs.forget()
        image_key = content_key(image)
        weights = {id(psi): (content_key(*psi.state_dict().values()), psi.alpha, getattr(psi, "crop", None),
                             tuple(psi.layers)) for psi in self.regressors}  # fmt: skip
        vgg = os.environ.get(WEIGHTS_ENV)

        def key(score: Score, psi: nn.Module | None) -> Hashable:
            settings = tuple(getattr(self.inputs, name) for name in score.settings)
            return (score.name, image_key, self._reference_key if score.reference else None,
                    None if psi is None else weights[id(psi)], settings, vgg)  # fmt: skip

        for score, psi in self._plan(with_reference):
            if key(score, psi) in _MEMO:
                _MEMO.move_to_end(key(score, psi))
            else:  # the scores per regressor share one Q_DSD evaluation: keep them all
                self.inputs.regressor = psi
                kept = [s for s in SCORES.values() if s.per_regressor] if score.per_regressor else [score]
                _MEMO.update({key(s, psi): s.compute(image, self.inputs) for s in kept})
                while len(_MEMO) > MEMO_SIZE:
                    _MEMO.popitem(last=False)
            value = _MEMO[key(score, psi)]
            if value is not None:
                row[score.column(None if psi is None else psi.alpha)] = value
        return row


def score_image(
    image: torch.Tensor,
    reference: torch.Tensor | None = None,
    regressors: Sequence[nn.Module] = (),
    *,
    shave: int = 4,
    y_channel: bool = True,
) -> dict[str, float]:
    """Every applicable score of one image ``(1, 3, H, W)`` in ``[0, 1]`` (a :class:`Scorer`'s row).

    With a ``reference`` of the same size: ``psnr``, ``ssim`` (protocol in
    :mod:`dsdviz.metrics`) and ``dsd_distance`` (full reference, alpha 2). For each
    regressor: ``q_dsd_a<alpha>`` (no reference); then ``niqe`` (no reference).
    """
    scorer = Scorer(regressors, shave=shave, y_channel=y_channel)
    scorer.set_reference(reference)
    return scorer(image)


def q_dsd_table(
    versions: dict[str, list[tuple[str, torch.Tensor]]], regressors: Sequence[nn.Module], progress: bool = True
) -> list[dict[str, float | str]]:
    """Q_DSD of every image of :func:`dsdviz.data.degraded_versions` (or any ``{version: [(name, image)]}``).

    Returns rows ``{"image", "version", "q_dsd_a<alpha>", "excess_a<alpha>", ...}``: per
    regressor, Eq. 5 and the signed relative excess of the measured over the predicted
    norms (the ``"excess"`` of :func:`dsdviz.metrics.q_dsd`). ``progress``: show a
    progress bar over the images (a widget in Jupyter, text in a terminal).
    """
    scorer = Scorer(regressors, scores=("q_dsd", "excess", "niqe"))
    items = [(version, name, image) for version, images in versions.items() for name, image in images]
    return [
        {"image": name, "version": version, **scorer(image)}
        for version, name, image in tqdm(items, desc="Q_DSD", unit="image", disable=not progress)
    ]


def _column_order(column: str) -> tuple[bool, str]:
    return (column.startswith("excess_a"), column)


def q_dsd_summary(rows: Sequence[dict[str, float | str]]) -> dict[str, dict[str, float]]:
    """Per score column of :func:`q_dsd_table` (``q_dsd_a*``, ``excess_a*``; lower is more
    natural for both): the mean per version and, for each degraded version, the fraction of
    images whose natural version scores lower, ``"<version> worse"``."""
    columns = sorted({k for r in rows for k in r if k.startswith(("q_dsd_a", "excess_a"))}, key=_column_order)
    versions = list(dict.fromkeys(str(r["version"]) for r in rows))
    natural = {r["image"]: r for r in rows if r["version"] == "natural"}
    summary: dict[str, dict[str, float]] = {}
    for column in columns:
        entry = {v: float(np.mean([r[column] for r in rows if r["version"] == v])) for v in versions}
        for version in versions:
            if version != "natural" and natural:
                pairs = [(natural[r["image"]][column], r[column]) for r in rows if r["version"] == version]
                entry[f"{version} worse"] = float(np.mean([degraded > clean for clean, degraded in pairs]))
        summary[column] = entry
    return summary
