"""Supplementary Fig. 13: style vs multi-scale style vs DSD loss, and their grid artifacts.

The 5-block xSRResNet is trained with style, multi-scale style or DSD loss (each with the
L1 reconstruction term; identical settings, seed and stage-1 initialisation), and shown
beside the LR input and the ground truth with the grid-artifact score
(:func:`dsdviz.artifacts.grid_artifact_score`) of each output.

:class:`LossComparisonSetup` has ``quick()`` (CPU, minutes: the four 5-block networks shipped with the
package (:data:`SHIPPED_FIG13`), trained for minutes on a GPU, on crops of a few test images; what CI
and ``dsdviz figures --quick`` run, and what the figure then says in its title) and ``full()`` (trained
with the paper's settings via :func:`dsdviz.training.preset`, the whole test set: meant for a GPU). Both
run the same code. Training runs resume from their checkpoints.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure

from ..artifacts import grid_artifact_score
from ..evaluation import write_csv
from ..data import bicubic_upsample, sr_examples, sr_folders
from ..inference import restore
from ..metrics import psnr
from ..models import count_parameters
from ..losses import FEATURE_LOSS_LABELS
from ..viz.compare import Panel, zoomed_rows
from ..viz.layout import save_png
from .settings import SMOKE_SIZE, smoke
from .stages import TrainingSchedule, load_shipped, recipe_folders, train_stages, training_note

LR_INPUT, GROUND_TRUTH = "LR input", "ground truth"
#: HR crop (px) scored at the smoke size: the smallest multiple of 4 the period-4 grid-artifact score accepts (44).
SMOKE_CROP = 48
#: The shipped 5-block networks of Fig. 13: stage 1 (L1) and one stage 2 per feature loss, from it. The
#: GPU-trained ones (minutes of the full setting); the CPU-trained ``*_cpu`` set (300 stage-2 steps) does not
#: show the paper's effect on whole images (model card, ``dsdviz/models/weights/README.md``).
SHIPPED_FIG13: dict[str, str] = {
    "psnr": "xsrresnet5_sr_x4_psnr_gpu", "style": "xsrresnet5_sr_x4_style_gpu",
    "multiscale_style": "xsrresnet5_sr_x4_multiscale_style_gpu", "dsd": "xsrresnet5_sr_x4_dsd_gpu",
}  # fmt: skip


@dataclass(frozen=True)
class LossComparisonSetup:
    """Settings of Fig. 13: the 5-block xSRResNet trained with each feature-distribution loss.

    Stage 1 (L1 only) is trained once; stage 2 starts from it three times, with
    ``L1 + weight x <loss>`` for ``loss`` in ``losses`` (identical settings, data stream and
    seed; no perceptual term by default, so that the feature loss is the only difference).
    The grid-artifact score (:func:`dsdviz.artifacts.grid_artifact_score`, period 4, error
    against the ground truth) is computed on every image of ``test_set`` (the first ``limit``;
    whole images, or central ``crop`` px HR crops with the matching LR crops); ``shown`` are
    the images drawn. ``schedule=None``: the shipped networks (:data:`SHIPPED_FIG13`) instead of training.
    """

    schedule: TrainingSchedule | None = TrainingSchedule(quick=False)
    num_blocks: int = 5
    losses: tuple[str, ...] = ("style", "multiscale_style", "dsd")
    weight: float = 100.0
    perceptual_weight: float = 0.0
    test_set: str = "Set14"
    limit: int | None = None
    crop: int | None = None
    shown: tuple[str, ...] = ("comic", "zebra")
    zoom: int = 64

    @classmethod
    def quick(cls) -> LossComparisonSetup:
        """The shipped networks (:data:`SHIPPED_FIG13`), scored on central 128 px crops of Set5 and Set14
        (``comic`` and ``zebra`` shown). At the smoke size: one 48 px crop of Set5 ``baby``."""
        if smoke():
            return cls(None, test_set="Set5", limit=1, crop=SMOKE_CROP, shown=("baby",), zoom=SMOKE_SIZE)
        return cls(None, crop=128, zoom=48)

    @classmethod
    def full(cls) -> LossComparisonSetup:
        """The paper's training settings (batch 16, LR crop 40, 200k + 100k steps; a GPU); scored on Set14."""
        return cls()


@dataclass
class LossComparison:
    """Results of :func:`run_loss_comparison`.

    Attributes:
        scores: ``{method: {image: grid-artifact score in dB}}`` for bicubic, the L1-only
            stage-1 model and each feature loss (:data:`dsdviz.losses.FEATURE_LOSS_LABELS`).
        psnr: the same layout, PSNR on Y (4 px shave).
        shown: ``{image: {"LR input", <methods>, "ground truth": (1, 3, H, W)}}`` for the drawn images.
        params: parameters of the trained network.
        note: the quick-mode note, or ``None``.
    """

    test_set: str
    scores: dict[str, dict[str, float]]
    psnr: dict[str, dict[str, float]]
    shown: dict[str, dict[str, torch.Tensor]]
    params: int
    note: str | None
    zoom: int = 64

    def means(self) -> dict[str, float]:
        """Mean grid-artifact score per method over the test set (dB; lower is better)."""
        return {method: float(np.mean(list(values.values()))) for method, values in self.scores.items()}

    def csv_rows(self) -> list[dict[str, float | int | str]]:
        """Per method: images, mean, min and max grid-artifact score (dB), mean PSNR (dB), and the models' note."""
        rows: list[dict[str, float | int | str]] = []
        for method, values in self.scores.items():
            v = np.array(list(values.values()))
            rows.append({"test_set": self.test_set, "method": method, "images": len(v), "grid_mean": float(v.mean()),
                         "grid_min": float(v.min()), "grid_max": float(v.max()),
                         "psnr_mean": float(np.mean(list(self.psnr[method].values()))), "note": self.note or ""})  # fmt: skip
        return rows

    def to_markdown(self) -> str:
        """Per method: mean, min and max grid-artifact score and mean PSNR over the test set."""
        lines = [
            f"| method ({self.test_set}, {len(next(iter(self.scores.values())))} images) | grid-artifact score, "
            "mean (dB) ↓ | min | max | PSNR (dB) ↑ |",
            "|---|---|---|---|---|",
        ]
        for method, values in self.scores.items():
            v, db = np.array(list(values.values())), np.mean(list(self.psnr[method].values()))
            lines.append(f"| {method} | {v.mean():.2f} | {v.min():.2f} | {v.max():.2f} | {db:.2f} |")
        return "\n".join(lines)


def run_loss_comparison(setup: LossComparisonSetup, runs: str | Path, *, progress: bool = True) -> LossComparison:
    """Fig. 13's networks (shipped, or trained or resumed under ``runs``), scored on every test image."""
    labels = FEATURE_LOSS_LABELS
    if setup.schedule is None:
        networks, note = load_shipped({k: SHIPPED_FIG13[k] for k in ("psnr", *setup.losses)})
        first, second = networks.pop("psnr"), networks
    else:
        runs_1, runs_2 = train_stages(
            "sr", setup.schedule, runs, feature_losses=setup.losses, progress=progress, num_blocks=setup.num_blocks,
            perceptual_weight=setup.perceptual_weight, feature_weight=setup.weight,
        )  # fmt: skip
        first, second = runs_1.network, {k: t.network for k, t in runs_2.items()}
        note = training_note(setup.schedule, runs_1, runs_2)
    models = {"L1 only (stage 1)": first, **{labels[k]: net for k, net in second.items()}}
    scores: dict[str, dict[str, float]] = {"bicubic": {}, **{m: {} for m in models}}
    psnr_values: dict[str, dict[str, float]] = {m: {} for m in scores}
    shown: dict[str, dict[str, torch.Tensor]] = {}
    hr_folder, lr_folder = sr_folders(setup.test_set)
    for example in sr_examples(hr_folder, 4, lr_folder, setup.crop, setup.limit):
        name, lr, hr = example.name, example.input, example.target
        outputs = {"bicubic": bicubic_upsample(lr, 4), **{m: restore(net, lr) for m, net in models.items()}}
        for method, output in outputs.items():
            scores[method][name] = grid_artifact_score(output, hr, period=4).score_db
            psnr_values[method][name] = float(psnr(output, hr, shave=4)[0])
        if name in setup.shown:
            shown[name] = {LR_INPUT: lr, **{labels[k]: outputs[labels[k]] for k in setup.losses}, GROUND_TRUTH: hr}
    return LossComparison(setup.test_set, scores, psnr_values, shown, count_parameters(first), note, setup.zoom)


def plot_loss_comparison(result: LossComparison) -> Figure:
    """Fig. 13: per shown image, the LR input, each loss's result and the ground truth, with zoomed
    crops and the grid-artifact score of each result; the title gives the mean scores over the test set."""
    rows = {}
    for name, images in result.shown.items():
        rows[f"{result.test_set} {name}"] = [
            Panel(method, image) if method in (LR_INPUT, GROUND_TRUTH)
            else Panel(method, image, result.params, f"grid {result.scores[method][name]:.1f} dB")
            for method, image in images.items()
        ]  # fmt: skip
    means = result.means()
    summary = ", ".join(f"{m} {means[m]:.1f} dB" for m in means if m in FEATURE_LOSS_LABELS.values())
    title = (
        "5-block xSRResNet trained with L1 + a feature-distribution loss (supp. Fig. 13)\n"
        f"grid-artifact score (period 4, lower is better), mean over {result.test_set}: {summary}"
    )
    return zoomed_rows(rows, title, result.zoom, result.note)


def save_loss_comparison(result: LossComparison, out_dir: str | Path) -> list[Path]:
    """Write ``fig13_loss_comparison.png`` (quick results: 256 colours) and its numbers,
    ``fig13_loss_comparison.csv`` (:meth:`LossComparison.csv_rows`), into ``out_dir``."""
    quick, path = result.note is not None, Path(out_dir) / "fig13_loss_comparison.png"
    return [save_png(plot_loss_comparison(result), path, 100, quick),
            write_csv(path.with_suffix(".csv"), result.csv_rows())]  # fmt: skip


def fig13_figure(quick: bool, out_dir: Path) -> list[Path]:
    """``fig13_loss_comparison.png`` (the ``dsdviz figures`` recipe); quick runs train in a temporary folder,
    full runs in ``runs/fig13`` beside ``out_dir`` (or ``$DSDVIZ_RUNS/fig13``)."""
    setup = LossComparisonSetup.quick() if quick else LossComparisonSetup.full()
    with recipe_folders(quick, out_dir, "fig13") as (runs, _):
        result = run_loss_comparison(setup, runs, progress=False)
    return save_loss_comparison(result, out_dir)
