"""Supplementary Fig. 11: a content image optimised to match a reference's style or DSD fingerprint.

:class:`FingerprintMatchingSetup` has a ``quick()`` setting (small crops, tens of steps:
minutes on 2 CPU cores, what CI and ``dsdviz figures --quick`` run) and a ``full()`` one
(whole images, the authors' step counts: meant for a GPU). Both run the same code; the
notebook ``fig11_fingerprint_matching.ipynb`` calls the same functions. Image paths are
relative to the data folder (``$DSDVIZ_DATA``) unless absolute.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from ..data import Box, load_input
from ..evaluation import write_csv
from ..features import LAYER_PRESETS
from ..fingerprint import dsd_distances, dsd_label
from ..optimize import match_fingerprint
from ..sharpness import mean_gradient_magnitude
from ..trajectory import Trajectory
from ..viz.layout import DETAIL_DPI, DPI
from ..viz.optimization import plot_fingerprint_matching
from .settings import SMOKE_SIZE, SMOKE_STEPS, smoke


@dataclass(frozen=True)
class FingerprintMatchingSetup:
    """Settings of Fig. 11: a content image optimised toward a reference's style or DSD.

    The default images are the BSD100 pair of the authors' experiment scripts (108082
    as content, 123074 as reference); ``lr``, ``steps`` and the step schedule (halved
    after each third) are shared by every run.
    """

    content: str = "BSD100/HR/108082.png"
    reference: str = "BSD100/HR/123074.png"
    crop: int | Box | None = None
    steps: int = 3000
    lr: float = 5e-4
    layers: tuple[str, ...] = LAYER_PRESETS["dsd"]
    style_scales: tuple[float, ...] = (1, 2, 4)
    dsd_scales: tuple[tuple[float, float], ...] = ((1, 2), (2, 4))

    @classmethod
    def quick(cls) -> FingerprintMatchingSetup:
        """96 px central crops, 60 steps at a higher rate: about a minute on 2 CPU cores
        (smoke size: 32 px crops, 2 steps)."""
        if smoke():
            return cls(crop=SMOKE_SIZE, steps=SMOKE_STEPS, lr=2e-2)
        return cls(crop=96, steps=60, lr=2e-2)

    @classmethod
    def full(cls) -> FingerprintMatchingSetup:
        """Whole 480 x 320 images, 3000 steps at 5e-4 halved after each third (the authors' scripts); GPU."""
        return cls()


def style_label(factor: float) -> str:
    """Column title of style matching at scale ``1/factor``: ``"style x1"``, ``"style x1/2"``."""
    return "style x1" if factor == 1 else f"style x1/{factor:g}"


def run_fingerprint_matching(
    setup: FingerprintMatchingSetup, device: torch.device | str | None = None, progress: bool = True
) -> tuple[torch.Tensor, torch.Tensor, dict[str, Trajectory]]:
    """Run every column of Fig. 11: style matching at each scale, then DSD matching at each scale pair.

    Returns:
        ``(content, reference, {column title: trajectory})``.
    """
    content, reference = load_input(setup.content, setup.crop), load_input(setup.reference, setup.crop)
    common = {"layers": setup.layers, "steps": setup.steps, "lr": setup.lr, "device": device, "progress": progress}
    results = {
        style_label(f): match_fingerprint(content, reference, "style", (f,), **common) for f in setup.style_scales
    }
    for fine, coarse in setup.dsd_scales:
        results[dsd_label(coarse / fine, fine)] = match_fingerprint(content, reference, "dsd", (fine, coarse), **common)
    return content, reference, results


def matching_distances(
    content: torch.Tensor, reference: torch.Tensor, results: dict[str, Trajectory], setup: FingerprintMatchingSetup
) -> dict[str, dict[str, float]]:
    """DSD distance to the reference of the content and of each result's final image, per scale pair."""
    images = {"content": content, **{name: result.final for name, result in results.items()}}
    return dsd_distances(images, reference, setup.dsd_scales, setup.layers)


def matching_rows(
    content: torch.Tensor, reference: torch.Tensor, results: dict[str, Trajectory],
    distances: dict[str, dict[str, float]], setup: FingerprintMatchingSetup,
) -> list[dict[str, float | str]]:  # fmt: skip
    """Fig. 11's numbers, one row per image (the content, the reference, each column's result): its kind
    (``content``, ``reference``, ``style`` or ``dsd``), mean gradient magnitude (how much fine detail), the
    DSD distance to the reference per scale pair (the reference: 0), and the run's steps and rate."""
    images = {"content": content, "reference": reference, **{name: r.final for name, r in results.items()}}
    rows: list[dict[str, float | str]] = []
    for name, image in images.items():
        kind = name if name in ("content", "reference") else "style" if name.startswith("style") else "dsd"
        row: dict[str, float | str] = {"image": name, "kind": kind,
                                       "sharpness": float(mean_gradient_magnitude(image.float())[0])}  # fmt: skip
        pairs = distances.get(name, {label: 0.0 for label in next(iter(distances.values()))})
        row.update({f"dsd_distance {label}": value for label, value in pairs.items()})
        rows.append({**row, "steps": setup.steps, "lr": setup.lr})
    return rows


def fig11_figure(quick: bool, out_dir: Path) -> list[Path]:
    """``fig11_fingerprint_matching.png`` and its numbers, ``fig11_fingerprint_matching.csv``
    (:func:`matching_rows`) (the ``dsdviz figures`` recipe)."""
    setup = FingerprintMatchingSetup.quick() if quick else FingerprintMatchingSetup.full()
    content, reference, results = run_fingerprint_matching(setup)
    distances = matching_distances(content, reference, results, setup)
    path = Path(out_dir) / "fig11_fingerprint_matching.png"
    figure = plot_fingerprint_matching(content, reference, results, distances=distances)
    figure.savefig(path, dpi=DPI if quick else DETAIL_DPI)
    rows = matching_rows(content, reference, results, distances, setup)
    return [path, write_csv(path.with_suffix(".csv"), rows)]
