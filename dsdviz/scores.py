"""The scores dsdviz reports, one registry entry each (:data:`SCORES`).

An entry says everything a table, a CSV, a log or a command needs about a score: its name (the row key;
a score computed once per DSD regressor is keyed ``<name>_a<alpha>``), its label, whether higher is better,
whether it needs the ground truth, the format of its table cells, one line of protocol, and the function
that computes it from an image and the :class:`ScoreInputs` of a :class:`~dsdviz.scoring.Scorer`. The
scorer, the metrics tables (:mod:`dsdviz.evaluation`), the agreement table, ``dsdviz score``, the quality
maps' labels and the trainer's validation read it.

Adding a score is one entry here, its function, and a test::

    def _sharpness(image, inputs):
        return float(mean_gradient_magnitude(image)[0])

    Score("sharpness", "sharpness", higher_is_better=True, reference=False, format=".4f",
          protocol="sharpness: mean luminance gradient magnitude", compute=_sharpness)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from .artifacts import grid_artifact_score
from .features import LAYER_PRESETS
from .fingerprint import DSD
from .metrics import dsd_distance_to, psnr, q_dsd, reference_dsd, ssim
from .niqe import BLOCK, niqe


@dataclass
class ScoreInputs:
    """What the score functions read besides the image: the ground truth ``(1, 3, H, W)`` (``None`` without
    one) and its DSD fingerprint (:meth:`reference_fingerprint`, computed when first needed), the PSNR/SSIM
    protocol, the grid period and, for a score computed per regressor, the regressor; :meth:`q_dsd_terms` caches
    one Q_DSD evaluation per regressor for the current image."""

    reference: torch.Tensor | None = None
    fingerprint: DSD | None = None
    shave: int = 4
    y_channel: bool = True
    grid_period: int | None = None
    regressor: nn.Module | None = None
    _terms: dict[int, dict[str, torch.Tensor]] = field(default_factory=dict, repr=False)

    def reference_fingerprint(self) -> DSD:
        """The DSD fingerprint (alpha 2, full-reference layers) of :attr:`reference`, computed once per reference."""
        if self.fingerprint is None:
            self.fingerprint = reference_dsd(self.reference)
        return self.fingerprint

    def forget(self) -> None:
        """Drop the cached Q_DSD evaluations: call before each new image."""
        self._terms.clear()

    def q_dsd_terms(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        """:func:`dsdviz.metrics.q_dsd` ``(per_layer=True)`` of ``image`` with :attr:`regressor`, computed once per
        regressor until :meth:`forget`."""
        key = id(self.regressor)
        if key not in self._terms:
            self._terms[key] = q_dsd(image, self.regressor, per_layer=True)
        return self._terms[key]


@dataclass(frozen=True)
class Score:
    """One score of the registry.

    Attributes:
        name: the row key (``<name>_a<alpha>`` for a score per regressor).
        label: the table header, ``{alpha}`` filled in for a score per regressor.
        higher_is_better: the direction, shown as an arrow in tables.
        reference: whether it needs the ground truth (full reference).
        format: format spec of a table cell (``".2f"``).
        protocol: one line: how it is computed; ``{shave}``, ``{channel}`` and ``{quantization}`` are filled in.
        compute: ``(image (1, 3, H, W) in [0, 1], ScoreInputs) -> float``, or ``None`` where the score is not
            defined for that image (it is then left out of the row).
        per_regressor: computed once per DSD regressor.
        by_default: computed by a :class:`~dsdviz.scoring.Scorer` that is not given a selection (``False``:
            only when named in one).
        settings: the :class:`ScoreInputs` settings its value depends on (``"shave"``, ``"y_channel"``,
            ``"grid_period"``): what the scorer's memo keys it by besides the images and the regressor.
    """

    name: str
    label: str
    higher_is_better: bool
    reference: bool
    format: str
    protocol: str
    compute: Callable[[torch.Tensor, ScoreInputs], float | None]
    per_regressor: bool = False
    by_default: bool = True
    settings: tuple[str, ...] = ()

    def column(self, alpha: float | None = None) -> str:
        """The row key: ``name``, or ``name_a<alpha>`` for a score per regressor."""
        return f"{self.name}_a{alpha:g}" if self.per_regressor else self.name

    def title(self, alpha: float | None = None) -> str:
        """The label, the factor filled in: ``"PSNR (dB)"``, ``"Q_DSD a=4"``."""
        return self.label.format(alpha=f"{alpha:g}") if self.per_regressor else self.label

    def header(self, alpha: float | None = None) -> str:
        """The table header with the direction: ``"PSNR (dB) ↑"``, ``"Q_DSD a=4 ↓"``."""
        return f"{self.title(alpha)} {'↑' if self.higher_is_better else '↓'}"


def _psnr(image: torch.Tensor, inputs: ScoreInputs) -> float:
    return float(psnr(image, inputs.reference, shave=inputs.shave, y_channel=inputs.y_channel)[0])


def _ssim(image: torch.Tensor, inputs: ScoreInputs) -> float:
    return float(ssim(image, inputs.reference, shave=inputs.shave, y_channel=inputs.y_channel)[0])


def _dsd_distance(image: torch.Tensor, inputs: ScoreInputs) -> float:
    return float(dsd_distance_to(image, inputs.reference_fingerprint())["mean"][0])


def _grid_artifacts(image: torch.Tensor, inputs: ScoreInputs) -> float:
    return grid_artifact_score(image, inputs.reference, inputs.grid_period).score_db


def _q_dsd(image: torch.Tensor, inputs: ScoreInputs) -> float:
    return float(inputs.q_dsd_terms(image)["q_dsd"][0])


def _excess(image: torch.Tensor, inputs: ScoreInputs) -> float:
    return float(inputs.q_dsd_terms(image)["excess"][0])


def _niqe(image: torch.Tensor, inputs: ScoreInputs) -> float | None:
    return float(niqe(image)[0]) if min(image.shape[-2:]) >= BLOCK else None


_FULL, _NO = ", ".join(LAYER_PRESETS["full_reference"]), ", ".join(LAYER_PRESETS["no_reference"])
_PSNR_SSIM = ("PSNR/SSIM on {channel}, {quantization}, border shave {shave} px, data range 255, scikit-image "
              "(SSIM: Gaussian sigma 1.5)")  # fmt: skip

#: The registry, in table order: full-reference scores, the scores per regressor, the other no-reference ones.
SCORES: dict[str, Score] = {
    score.name: score
    for score in (
        Score("psnr", "PSNR (dB)", True, True, ".2f", _PSNR_SSIM, _psnr, settings=("shave", "y_channel")),
        Score("ssim", "SSIM", True, True, ".4f", _PSNR_SSIM, _ssim, settings=("shave", "y_channel")),
        Score("dsd_distance", "DSD distance", False, True, ".3g",
              f"DSD distance: mean |DSD_l,2(output) - DSD_l,2(ref)| over {_FULL}", _dsd_distance),
        Score("grid_artifacts", "grid artifacts (dB)", False, True, ".2f",
              "grid artifacts: periodic error energy at the SR period (dsdviz.artifacts, dB)", _grid_artifacts,
              by_default=False, settings=("grid_period",)),
        Score("q_dsd", "Q_DSD a={alpha}", False, False, ".3g", f"Q_DSD: Eq. 5 over {_NO} (lower is better)",
              _q_dsd, per_regressor=True),
        Score("excess", "excess a={alpha}", False, False, ".3f",
              "excess: (measured - predicted) / predicted DSD norm, layer mean", _excess, per_regressor=True,
              by_default=False),
        Score("niqe", "NIQE", False, False, ".3f",
              "NIQE: Mittal et al. 2013 on the grey image, 96 px blocks, the MATLAB release's pristine model "
              "(lower is better)", _niqe),
    )
}  # fmt: skip


def default_scores() -> tuple[str, ...]:
    """The names of the scores a :class:`~dsdviz.scoring.Scorer` computes when not given a selection."""
    return tuple(name for name, score in SCORES.items() if score.by_default)


def score_of(column: str) -> tuple[Score, float | None]:
    """The registry entry of a row key and its regressor factor: ``"psnr"`` -> ``(PSNR, None)``,
    ``"q_dsd_a4"`` -> ``(Q_DSD, 4.0)``.

    Raises:
        KeyError: a key of no score.
    """
    if column in SCORES:
        return SCORES[column], None
    name, _, alpha = column.rpartition("_a")
    if name in SCORES and SCORES[name].per_regressor:
        return SCORES[name], float(alpha)
    raise KeyError(f"{column!r} is no score of dsdviz.scores.SCORES ({', '.join(SCORES)})")


def protocol_text(shave: int, y_channel: bool = True, quantize: bool = True,
                  columns: Sequence[str] | None = None) -> str:  # fmt: skip
    """One line describing the protocol of a score table (its ``columns``; default: PSNR, SSIM, DSD distance,
    Q_DSD and NIQE), e.g. for a CSV header or a print-out; each score's line once."""
    default = ("psnr", "ssim", "dsd_distance", "q_dsd", "niqe")
    names = default if columns is None else [score_of(column)[0].name for column in columns]
    channel = "Y (BT.601, MATLAB rgb2ycbcr)" if y_channel else "RGB"
    quantization = "8-bit images" if quantize else "unrounded images"
    lines = dict.fromkeys(SCORES[name].protocol for name in names)
    return "; ".join(line.format(shave=shave, channel=channel, quantization=quantization) for line in lines)


__all__ = ["SCORES", "Score", "ScoreInputs", "default_scores", "protocol_text", "score_of"]
