"""Supplementary Figs. 13-16 of the DSD paper: settings, training runs, evaluation and figure recipes.

* Fig. 13 (:class:`LossComparisonSetup`): the 5-block xSRResNet trained with style,
  multi-scale style or DSD loss (each with the L1 reconstruction term; identical settings,
  seed and stage-1 initialisation), shown beside the LR input and the ground truth with the
  grid-artifact score (:func:`dsdviz.artifacts.grid_artifact_score`) of each output.
* Figs. 14-15 (:class:`SRComparisonSetup`): 4x super-resolution: bicubic, our L1-only
  ("PSNR") and DSD-trained xSRResNet, and the published outputs in ``sr_results/``
  (official SRGAN and ESRGAN, RCAN and RCAN+, a third-party SRGAN re-implementation), with
  the metrics table of :func:`dsdviz.evaluation.metrics_table` over each test set.
* Fig. 16 (:class:`DeblurComparisonSetup`): deblurring on real GoPro blur and on images
  blurred with the Levin et al. (2009) kernels: our L1-only and DSD models beside the
  official DeepDeblur outputs; DeblurGAN-v2's outputs are not available and say so.

Each setting has ``quick()`` (CPU, minutes: small models trained for tens of steps and a
few test images; what CI and ``dsdviz figures --quick`` run, and what the figures then say
in their titles) and ``full()`` (the paper's training settings via :func:`dsdviz.training.preset`
and whole test sets: meant for a GPU, not run here). Both run the same code. Training runs
live under ``runs`` and resume from their checkpoints, so a finished run is loaded, not
repeated. Image paths are relative to the data folder (``$DSDVIZ_DATA``).
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure
from PIL import Image
from torch import nn

from ..artifacts import grid_artifact_score
from ..data import data_root, deblur_examples, read_uint8, to_unit
from ..evaluation import PUBLISHED_PARAMETERS, MetricsTable, metrics_table, write_tables
from ..images import list_images, load_image, save_image
from ..inference import restore, score_image
from ..losses import FEATURE_LOSS_LABELS
from ..metrics import psnr
from ..models import count_parameters, load_model
from ..models.store import WEIGHTS_DIR
from ..resize import imresize
from ..training import Trainer, preset, train
from .compare import Panel, busiest_box, compare_rows

#: The shipped models' folder (CPU-trained DSD regressors for Q_DSD).
CHECKPOINTS = WEIGHTS_DIR
REGRESSOR_FILES = ("dsd_regressor_a2_cpu.pt", "dsd_regressor_a4_cpu.pt")


@dataclass(frozen=True)
class TrainingSchedule:
    """Overrides of :func:`dsdviz.training.preset` for both stages (``None``: the preset's value).

    ``decay_every`` defaults to 3/4 of the overridden step count in quick mode (the preset's
    rule), so that a longer CPU run keeps one late rate decay. ``monitor=False`` turns off
    the fixed-batch loss (``monitor_every``) and ``validation=False`` the trainer's
    validation: the comparisons score the finished models themselves.
    """

    quick: bool = True
    psnr_steps: int | None = None
    feature_steps: int | None = None
    crop: int | None = None
    batch_size: int | None = None
    checkpoint_every: int | None = None
    log_every: int | None = None
    monitor: bool = True
    validation: bool = True

    def overrides(self, stage: str) -> dict[str, Any]:
        """The preset overrides of one stage (``"psnr"`` or ``"dsd"``)."""
        steps = self.psnr_steps if stage == "psnr" else self.feature_steps
        values = {
            "steps": steps, "crop": self.crop, "batch_size": self.batch_size,
            "checkpoint_every": self.checkpoint_every, "log_every": self.log_every,
        }  # fmt: skip
        chosen = {name: value for name, value in values.items() if value is not None}
        if not self.monitor:
            chosen["monitor_every"] = None
        if not self.validation:
            chosen["val_data"] = None
        if self.quick and steps is not None:
            chosen["decay_every"] = max(1, steps * 3 // 4)
        return chosen


def train_stages(
    task: str,
    schedule: TrainingSchedule,
    runs: str | Path,
    *,
    feature_losses: tuple[str, ...] = ("dsd",),
    progress: bool = True,
    **settings: Any,
) -> tuple[Trainer, dict[str, Trainer]]:
    """Stage 1 (L1) once, then stage 2 from its weights once per feature loss; resumes finished runs.

    Args:
        task: ``"sr"`` or ``"deblur"``.
        schedule: step counts and sizes (:class:`TrainingSchedule`).
        runs: folder of the runs: ``<runs>/psnr`` and ``<runs>/<feature loss>``.
        feature_losses: stage-2 losses (:data:`dsdviz.losses.FEATURE_LOSSES`).
        settings: further :class:`~dsdviz.training.TrainConfig` fields for both stages
            (e.g. ``num_blocks=5``; ``perceptual_weight``/``dsd_weight`` apply to stage 2).

    Returns:
        ``(stage-1 trainer, {feature loss: stage-2 trainer})``; ``.network`` is the model.
    """
    runs = Path(runs)
    stage2_only = {"perceptual_weight", "dsd_weight"}
    common = {k: v for k, v in settings.items() if k not in stage2_only}
    first = train(
        preset(task, schedule.quick, out=str(runs / "psnr"), progress=progress, **schedule.overrides("psnr"), **common),
        resume=True,
    )
    second = {
        loss: train(
            preset(
                task, schedule.quick, stage="dsd", init=str(runs / "psnr" / "model.pt"), out=str(runs / loss),
                feature_loss=loss, progress=progress, **schedule.overrides("dsd"), **settings,
            ),
            resume=True,
        )
        for loss in feature_losses
    }  # fmt: skip
    return first, second


def training_note(schedule: TrainingSchedule, first: Trainer, second: Mapping[str, Trainer]) -> str | None:
    """What the figures must say about CPU-trained models, e.g. ``"quick mode: CPU-trained for 100 + 60
    steps, not the paper's models"``; ``None`` for the paper's (full) settings."""
    if not schedule.quick:
        return None
    steps = "/".join(map(str, sorted({trainer.config.steps for trainer in second.values()})))
    return f"quick mode: CPU-trained for {first.config.steps} + {steps} steps, not the paper's models"


def load_regressors(folder: str | Path = CHECKPOINTS, files: Sequence[str] = REGRESSOR_FILES) -> list[nn.Module]:
    """The DSD regressors for the Q_DSD columns (default: the repository's CPU-trained ones, alpha 2 and 4)."""
    paths = [Path(folder) / name for name in files]
    missing = [str(path) for path in paths if not path.is_file()]
    if missing:
        raise ValueError(f"DSD regressor file(s) {missing} not found: pass regressors=[...] (dsdviz.models.load_model)")
    return [load_model(path) for path in paths]


def save_png(fig: Figure, path: str | Path, dpi: int = 100, palette: bool = False) -> Path:
    """Save a figure as an RGB PNG; ``palette=True`` stores 256 colours without dithering (about 3x
    smaller: used for the quick-mode figures, to keep the repository and the stored notebooks small)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    image = Image.open(buffer).convert("RGB")
    if palette:
        image = image.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    image.save(path, optimize=True, dpi=(dpi, dpi))  # keep the resolution note matplotlib writes
    return Path(path)


def _slug(method: str) -> str:
    """A folder name for a method: ``"ours (L1 only)" -> "ours_L1_only"``."""
    return "_".join("".join(c if c.isalnum() or c == "+" else " " for c in method).split())


def _central(height: int, width: int, size: int | None, multiple: int = 1) -> tuple[int, int, int, int]:
    """Central box ``(top, left, height, width)`` of at most ``size`` px, aligned to ``multiple``."""
    if size is None:
        return 0, 0, height, width
    h, w = min(height, size) // multiple * multiple, min(width, size) // multiple * multiple
    return (height - h) // 2 // multiple * multiple, (width - w) // 2 // multiple * multiple, h, w


def _cut(x: torch.Tensor, box: tuple[int, int, int, int], factor: int = 1) -> torch.Tensor:
    top, left, h, w = (v // factor for v in box)
    return x[..., top : top + h, left : left + w]


def _read(path: Path) -> torch.Tensor:
    """An 8-bit image file as ``(1, 3, H, W)`` in ``[0, 1]`` (grey replicated)."""
    return to_unit(read_uint8(str(path)))[None]


def bicubic(lr: torch.Tensor, scale: int = 4) -> torch.Tensor:
    """MATLAB-exact bicubic up-sampling of ``(1, 3, h, w)`` by ``scale``, clamped to ``[0, 1]``."""
    return imresize(lr.double(), scale=scale).float().clamp(0, 1)


def _panels(
    images: Mapping[str, torch.Tensor | None], reference: torch.Tensor | None, params: Mapping[str, int | None],
    shave: int, reference_label: str,
) -> list[Panel]:  # fmt: skip
    """One panel per method (PSNR and DSD distance in the caption when there is a reference), then the reference."""
    panels = []
    for method, image in images.items():
        caption = None
        if image is None:
            caption = "outputs not available"
        elif reference is not None and image.shape == reference.shape:
            scores = score_image(image, reference, shave=shave)
            caption = f"{scores['psnr']:.2f} dB, DSD {scores['dsd_distance']:.2g}"
        panels.append(Panel(method, image, params.get(method) or None, caption))
    if reference is not None:
        panels.append(Panel(reference_label, reference))
    return panels


# ----------------------------------------------------------------------------------------------------------
# Fig. 13: style vs multi-scale style vs DSD


@dataclass(frozen=True)
class LossComparisonSetup:
    """Settings of Fig. 13: the 5-block xSRResNet trained with each feature-distribution loss.

    Stage 1 (L1 only) is trained once; stage 2 starts from it three times, with
    ``L1 + weight x <loss>`` for ``loss`` in ``losses`` (identical settings, data stream and
    seed; no perceptual term by default, so that the feature loss is the only difference).
    The grid-artifact score (:func:`dsdviz.artifacts.grid_artifact_score`, period 4, error
    against the ground truth) is computed on every image of ``test_set`` (the first ``limit``;
    whole images, or central ``crop`` px HR crops with the matching LR crops); ``shown`` are
    the images drawn.
    """

    schedule: TrainingSchedule = TrainingSchedule(quick=False)
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
        """80 L1 steps, then 40 steps per loss on 16 px LR crops (CPU, about 2 minutes); scored on
        central 128 px crops of Set5."""
        schedule = TrainingSchedule(quick=True, psnr_steps=80, feature_steps=40, monitor=False, validation=False)
        return cls(schedule, test_set="Set5", crop=128, shown=("butterfly",), zoom=48)

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


def _sr_examples(
    set_name: str, names: Sequence[str], crop: int | None = None
) -> list[tuple[str, torch.Tensor, torch.Tensor, tuple[int, int, int, int]]]:
    """``(name, LR, HR, HR box)`` of test images under the data folder (MATLAB-bicubic LR files),
    optionally central HR crops of ``crop`` px (a multiple of 4) with the matching LR crops."""
    root = data_root() / set_name
    out = []
    for name in names:
        hr = _read(root / "HR" / f"{name}.png")
        box = _central(hr.shape[-2], hr.shape[-1], crop, multiple=4)
        out.append((name, _cut(_read(root / "LR_bicubic" / "X4" / f"{name}.png"), box, 4), _cut(hr, box), box))
    return out


def _names(set_name: str, limit: int | None = None) -> list[str]:
    """The first ``limit`` image names (file stems, sorted) of a test set's ``HR`` folder."""
    return [path.stem for path in list_images(data_root() / set_name / "HR")][:limit]


def run_loss_comparison(setup: LossComparisonSetup, runs: str | Path, *, progress: bool = True) -> LossComparison:
    """Train (or resume) Fig. 13's runs under ``runs`` and score every test image."""
    first, second = train_stages(
        "sr", setup.schedule, runs, feature_losses=setup.losses, progress=progress, num_blocks=setup.num_blocks,
        perceptual_weight=setup.perceptual_weight, dsd_weight=setup.weight,
    )  # fmt: skip
    labels = FEATURE_LOSS_LABELS
    models = {"L1 only (stage 1)": first.network, **{labels[k]: t.network for k, t in second.items()}}
    scores: dict[str, dict[str, float]] = {"bicubic": {}, **{m: {} for m in models}}
    psnr_values: dict[str, dict[str, float]] = {m: {} for m in scores}
    shown: dict[str, dict[str, torch.Tensor]] = {}
    for name, lr, hr, _ in _sr_examples(setup.test_set, _names(setup.test_set, setup.limit), setup.crop):
        outputs = {"bicubic": bicubic(lr), **{m: restore(net, lr) for m, net in models.items()}}
        for method, output in outputs.items():
            scores[method][name] = grid_artifact_score(output, hr, period=4).score_db
            psnr_values[method][name] = float(psnr(output, hr, shave=4)[0])
        if name in setup.shown:
            shown[name] = {"LR input": lr, **{labels[k]: outputs[labels[k]] for k in setup.losses},
                           "ground truth": hr}  # fmt: skip
    return LossComparison(
        setup.test_set, scores, psnr_values, shown, count_parameters(first.network),
        training_note(setup.schedule, first, second), setup.zoom,
    )  # fmt: skip


def plot_loss_comparison(result: LossComparison) -> Figure:
    """Fig. 13: per shown image, the LR input, each loss's result and the ground truth, with zoomed
    crops and the grid-artifact score of each result; the title gives the mean scores over the test set."""
    rows = []
    for name, images in result.shown.items():
        truth = images["ground truth"]
        panels = [
            Panel(
                method, image, None if method in ("LR input", "ground truth") else result.params,
                None if method in ("LR input", "ground truth") else f"grid {result.scores[method][name]:.1f} dB",
            )
            for method, image in images.items()
        ]  # fmt: skip
        rows.append((f"{result.test_set} {name}", panels, [busiest_box(truth, min(result.zoom, *truth.shape[-2:]))]))
    means = result.means()
    summary = ", ".join(f"{m} {means[m]:.1f} dB" for m in means if m in FEATURE_LOSS_LABELS.values())
    title = (
        "5-block xSRResNet trained with L1 + a feature-distribution loss (supp. Fig. 13)\n"
        f"grid-artifact score (period 4, lower is better), mean over {result.test_set}: {summary}"
    )
    if result.note:
        title += f"\n{result.note}"
    return compare_rows(rows, title=title)


def save_loss_comparison(result: LossComparison, out_dir: str | Path) -> list[Path]:
    """Write ``fig13_loss_comparison.png`` into ``out_dir`` (quick results: 60 dpi, 256 colours; else 100 dpi)."""
    quick, path = result.note is not None, Path(out_dir) / "fig13_loss_comparison.png"
    return [save_png(plot_loss_comparison(result), path, 100, quick)]


def fig13_figure(quick: bool, out_dir: Path) -> list[Path]:
    """``fig13_loss_comparison.png`` (the ``dsdviz figures`` recipe); quick runs train in a temporary folder."""
    setup = LossComparisonSetup.quick() if quick else LossComparisonSetup.full()
    with tempfile.TemporaryDirectory(prefix="dsdviz_fig13_") as tmp:
        runs = Path(tmp) if quick else Path(out_dir).resolve().parent / "runs" / "fig13"
        result = run_loss_comparison(setup, runs, progress=False)
    return save_loss_comparison(result, out_dir)


# ----------------------------------------------------------------------------------------------------------
# Figs. 14-15: super-resolution against published outputs

OURS_L1, OURS_DSD = "ours (L1 only)", "ours (DSD)"

#: Published 4x outputs under the data folder, per method (``{set}``: the test set); a folder
#: that does not exist means the method's outputs on that set are not available.
SR_OUTPUTS: dict[str, str] = {
    "SRGAN": "sr_results/SRGAN/{set}",
    "ESRGAN": "sr_results/ESRGAN/{set}",
    "SRGAN (re-impl., brade31919)": "sr_results/SRGAN_reimpl_brade31919/{set}",
    "RCAN": "sr_results/RCAN/{set}",
    "RCAN+": "sr_results/RCANplus/{set}",
}


@dataclass(frozen=True)
class SRComparisonSetup:
    """Settings of Figs. 14-15 and the SR metrics table.

    Attributes:
        schedule: training of our two models (stage 1 L1 only, stage 2 L1 + perceptual + 100 x DSD).
        test_sets: ``(name, limit)``: the table covers the first ``limit`` images (``None``: all).
        crop: central HR crop (px, a multiple of 4) scored in the table; ``None``: whole images.
            Our outputs are computed on the matching LR crop, the published ones are cropped.
        subsets: extra tables ``(set, images)`` on the images where the official GAN outputs exist.
        fig14, fig15: ``(set, image)`` rows of each figure (whole images, with a zoomed crop).
        zoom: side of the zoomed crop in HR pixels.
    """

    schedule: TrainingSchedule = TrainingSchedule(quick=False)
    test_sets: tuple[tuple[str, int | None], ...] = (("Set5", None), ("Set14", None), ("BSD100", None))
    crop: int | None = None
    subsets: tuple[tuple[str, tuple[str, ...]], ...] = (("Set14", ("baboon", "comic")),)
    fig14: tuple[tuple[str, str], ...] = (("Set14", "baboon"),)
    fig15: tuple[tuple[str, str], ...] = (("Set14", "comic"), ("Set5", "butterfly"))
    zoom: int = 96

    @classmethod
    def quick(cls) -> SRComparisonSetup:
        """The quick training of :func:`dsdviz.training.preset` (100 + 60 CPU steps); the table on central
        128 px crops of Set5, Set14 and the first 10 BSD100 images."""
        schedule = TrainingSchedule(quick=True, monitor=False, validation=False)
        return cls(schedule, (("Set5", None), ("Set14", None), ("BSD100", 10)), crop=128, zoom=64)

    @classmethod
    def full(cls) -> SRComparisonSetup:
        """The paper's training settings (a GPU); the table on whole images of every test set."""
        return cls()


@dataclass
class SRComparison:
    """Results of :func:`run_sr_comparison`: the metrics tables and the panels of each figure row.

    Attributes:
        tables: one :class:`~dsdviz.evaluation.MetricsTable` per test set (and subset).
        rows: ``{(set, image): panels}`` for the figure rows (bicubic, ours, published, HR).
        params: parameter count per method.
        note: the quick-mode note, or ``None``.
        notes: remarks for the table (models, data, fallbacks).
        folders: ``{set: (reference folder, {method: folder or None})}``: the scored images, to
            pass to :func:`dsdviz.evaluation.metrics_table` or :func:`dsdviz.viz.compare.compare_folders`.
    """

    tables: list[MetricsTable]
    rows: dict[tuple[str, str], list[Panel]]
    params: dict[str, int | None]
    note: str | None
    notes: list[str] = field(default_factory=list)
    folders: dict[str, tuple[Path | None, dict[str, Path | None]]] = field(default_factory=dict)


def published_sr_folder(method: str, set_name: str) -> Path | None:
    """The folder of a method's published outputs on a test set, or ``None`` when there is none."""
    folder = data_root() / SR_OUTPUTS[method].format(set=set_name)
    return folder if folder.is_dir() else None


def stage_sr_set(
    set_name: str, names: Sequence[str], crop: int | None, models: Mapping[str, nn.Module], work: str | Path,
) -> tuple[Path, dict[str, Path | None]]:  # fmt: skip
    """Write the test images (optionally central crops), bicubic and our outputs, and crops of the
    published outputs under ``work/<set>/``.

    Returns:
        ``(HR folder, {method: folder or None})`` for :func:`dsdviz.evaluation.metrics_table`.
    """
    base = Path(work) / set_name
    folders: dict[str, Path | None] = {"bicubic": base / "bicubic", **{m: base / _slug(m) for m in models}}
    published = {m: published_sr_folder(m, set_name) for m in SR_OUTPUTS}
    folders.update({m: (base / _slug(m) if src is not None else None) for m, src in published.items()})
    for name, lr, hr, box in _sr_examples(set_name, names, crop):
        save_image(hr, base / "HR" / f"{name}.png")
        save_image(bicubic(lr), folders["bicubic"] / f"{name}.png")
        for method, model in models.items():
            save_image(restore(model, lr), folders[method] / f"{name}.png")
        for method, source in published.items():
            if source is not None and (source / f"{name}.png").is_file():
                save_image(_cut(_read(source / f"{name}.png"), box), folders[method] / f"{name}.png")
    return base / "HR", folders


def _set_label(set_name: str, limit: int | None, total: int, crop: int | None) -> str:
    parts = [set_name]
    if limit is not None and limit < total:
        parts.append(f"first {limit} of {total} images")
    if crop is not None:
        parts.append(f"central {crop} px crops")
    return ", ".join(parts)


def _methods(
    task: str, schedule: TrainingSchedule, runs: str | Path, models: Mapping[str, nn.Module] | None,
    regressors: Sequence[nn.Module] | None, baseline: str, progress: bool,
) -> tuple[Mapping[str, nn.Module], Sequence[nn.Module], dict[str, int | None], str | None, list[str]]:  # fmt: skip
    """Our two models (trained or resumed under ``runs`` unless ``models`` is given), the
    regressors for Q_DSD, every method's parameter count (``baseline``, the input: 0), and
    the training note and the stage-2 run's notes."""
    note, notes = None, []
    if models is None:
        first, second = train_stages(task, schedule, runs, progress=progress)
        models = {OURS_L1: first.network, OURS_DSD: second["dsd"].network}
        note = training_note(schedule, first, second)
        notes = [f"training note: {text}" for text in second["dsd"].notes]
    regressors = load_regressors() if regressors is None else regressors
    params: dict[str, int | None] = {baseline: 0, **{m: count_parameters(net) for m, net in models.items()}}
    params.update(PUBLISHED_PARAMETERS)
    return models, regressors, params, note, notes


def run_sr_comparison(
    setup: SRComparisonSetup,
    runs: str | Path,
    work: str | Path,
    *,
    models: Mapping[str, nn.Module] | None = None,
    regressors: Sequence[nn.Module] | None = None,
    progress: bool = True,
) -> SRComparison:
    """Train (or resume) our SR models, write every method's outputs under ``work`` and score them.

    Args:
        setup: :class:`SRComparisonSetup`.
        runs: training runs (``<runs>/psnr``, ``<runs>/dsd``).
        work: where the (cropped) test images and every method's outputs are written.
        models: ``{name: network}`` to compare instead of training ours (e.g. your own,
            or models from :func:`dsdviz.models.load_model`).
        regressors: for Q_DSD (default: :func:`load_regressors`).
    """
    models, regressors, params, note, notes = _methods("sr", setup.schedule, runs, models, regressors, "bicubic",
                                                       progress)  # fmt: skip
    tables, staged, by_set = [], {}, {}
    for set_name, limit in setup.test_sets:
        hr_folder, folders = stage_sr_set(set_name, _names(set_name, limit), setup.crop, models, work)
        staged[set_name] = (hr_folder, folders)
        label = _set_label(set_name, limit, len(_names(set_name)), setup.crop)
        by_set[set_name] = metrics_table(folders, hr_folder, test_set=label, names=_names(set_name, limit), shave=4,
                                         regressors=regressors, params=params, reference_row=_truth_row(regressors),
                                         progress=progress)  # fmt: skip
        tables.append(by_set[set_name])
    for set_name, names in setup.subsets:  # where the official GAN outputs exist
        if set_name in by_set and set(names) <= set(by_set[set_name].names):
            label = _set_label(set_name, None, 0, setup.crop) + f": {', '.join(names)}"
            tables.append(by_set[set_name].subset(names, label))
    rows = {key: sr_panels(*key, models, params) for key in (*setup.fig14, *setup.fig15)}
    return SRComparison(tables, rows, params, note, notes, staged)


def _truth_row(regressors: Sequence[nn.Module]) -> str | None:
    """The tables' ground-truth row (its Q_DSD: how natural images score), when there are regressors."""
    return "ground truth" if regressors else None


def sr_panels(
    set_name: str, name: str, models: Mapping[str, nn.Module], params: Mapping[str, int | None]
) -> list[Panel]:
    """Whole-image panels of one test image: bicubic, our models, each published method of the set, HR."""
    ((_, lr, hr, _),) = _sr_examples(set_name, [name])
    images: dict[str, torch.Tensor | None] = {"bicubic": bicubic(lr)}
    images.update({m: restore(net, lr) for m, net in models.items()})
    for method in SR_OUTPUTS:
        folder = published_sr_folder(method, set_name)
        if folder is not None:
            path = folder / f"{name}.png"
            images[method] = _read(path) if path.is_file() else None
    return _panels(images, hr, params, shave=4, reference_label="ground truth (HR)")


def plot_sr_comparison(result: SRComparison, keys: Sequence[tuple[str, str]], title: str, zoom: int = 96) -> Figure:
    """Rows of whole images (one per ``(set, image)`` key) with a zoomed crop on the most detailed region;
    PSNR (Y, 4 px shave) and DSD distance of each image in its caption."""
    rows = []
    for set_name, name in keys:
        panels = result.rows[(set_name, name)]
        truth = panels[-1].image
        rows.append((f"{set_name} {name}", panels, [busiest_box(truth, min(zoom, *truth.shape[-2:]))]))
    if result.note:
        title += f"\n{result.note}"
    return compare_rows(rows, title=title)


def sr_notes(result: SRComparison) -> list[str]:
    """The remarks printed above the SR metrics table."""
    ours = "; ".join(f"{m}: {result.params[m]:,} parameters" for m in result.params if m.startswith("ours"))
    notes = [
        f"Our models ({ours}): xSRResNet 4x, \"{OURS_L1}\" = stage 1 (L1 only), \"{OURS_DSD}\" = stage 2 from it "
        "(L1 + perceptual + 100 x DSD).",
        "Other methods: their published outputs in sr_results/ (see its MANIFEST.md); parameter counts as published. "
        "SRGAN (re-impl., brade31919) is a third-party TensorFlow re-implementation (SRGAN's generator), not the "
        "official SRGAN.",
        "Q_DSD uses the repository's CPU-trained regressors (checkpoints/README.md), not the paper's.",
        *result.notes,
    ]
    return notes


def save_sr_comparison(result: SRComparison, setup: SRComparisonSetup, out_dir: str | Path) -> list[Path]:
    """Write ``fig14_super_resolution.png``, ``fig15_super_resolution.png`` (quick results: 60 dpi, 256
    colours; else 100 dpi) and ``sr_metrics.md``, ``sr_metrics.csv``, ``sr_metrics_per_image.csv`` into ``out_dir``."""
    out_dir, quick = Path(out_dir), result.note is not None
    paths = [out_dir / "fig14_super_resolution.png", out_dir / "fig15_super_resolution.png"]
    for path, keys, number in ((paths[0], setup.fig14, 14), (paths[1], setup.fig15, 15)):
        title = f"4x super-resolution (supp. Fig. {number}): PSNR (Y, 4 px shave) and DSD distance in the captions"
        save_png(plot_sr_comparison(result, keys, title, setup.zoom), path, 100, quick)
    title = "4x super-resolution: metrics" + (f" ({result.note})" if result.note else "")
    return paths + write_tables(result.tables, out_dir / "sr_metrics", title=title, notes=sr_notes(result))


def fig14_15_figure(quick: bool, out_dir: Path) -> list[Path]:
    """``fig14_super_resolution.png``, ``fig15_super_resolution.png`` and ``sr_metrics.{md,csv}``
    (the ``dsdviz figures`` recipe)."""
    setup = SRComparisonSetup.quick() if quick else SRComparisonSetup.full()
    with tempfile.TemporaryDirectory(prefix="dsdviz_sr_") as tmp:
        runs = Path(tmp) / "runs" if quick else Path(out_dir).resolve().parent / "runs" / "fig14_15"
        result = run_sr_comparison(setup, runs, Path(tmp) / "outputs", progress=False)
    return save_sr_comparison(result, setup, out_dir)


# ----------------------------------------------------------------------------------------------------------
# Fig. 16: deblurring against DeepDeblur and DeblurGAN-v2

BLURRED = "blurred input"

#: Published deblurring methods in the comparison. DeepDeblur's official outputs exist for the
#: DeepDeblur examples (``deblur/DeepDeblur_examples/deblurred_lin``); DeblurGAN-v2 has none here.
DEBLUR_METHODS = ("DeepDeblur", "DeblurGAN-v2")

#: GoPro sample frames that are also DeepDeblur examples (linear blur): their official output has a ground truth.
GOPRO_AS_DEEPDEBLUR = {"Flower": "seq_id-4_frame-1"}


@dataclass(frozen=True)
class DeblurComparisonSetup:
    """Settings of Fig. 16 and the deblurring metrics tables.

    Test sets: the GoPro sample frames (real blur, with ground truth; DeepDeblur's output
    exists for ``Flower``), ``levin_set`` blurred with the 8 Levin et al. (2009) kernels
    (image ``i`` with kernel ``i mod 8``, plus Gaussian noise of a standard deviation drawn
    in ``[0, noise]``, rounded to 8 bits), and the DeepDeblur example frames (real blur, no
    ground truth: Q_DSD only). ``*_crop``: central crops (px); ``None``: whole images.
    """

    schedule: TrainingSchedule = TrainingSchedule(quick=False)
    gopro_crop: int | None = None
    levin_set: str = "Set14"
    levin_limit: int | None = None
    levin_crop: int | None = None
    noise: float = 0.01
    examples_limit: int | None = None
    examples_crop: int | None = None
    zoom: int = 128

    @classmethod
    def quick(cls) -> DeblurComparisonSetup:
        """The quick training of :func:`dsdviz.training.preset` (80 + 40 CPU steps); central crops:
        256 px of the GoPro frames, 128 px of 4 Set14 images, 256 px of 3 DeepDeblur examples."""
        schedule = TrainingSchedule(quick=True, monitor=False, validation=False)
        return cls(schedule, gopro_crop=256, levin_limit=4, levin_crop=128, examples_limit=3, examples_crop=256,
                   zoom=64)  # fmt: skip

    @classmethod
    def full(cls) -> DeblurComparisonSetup:
        """The paper's training settings (a GPU); whole images."""
        return cls()


@dataclass
class DeblurComparison:
    """Results of :func:`run_deblur_comparison` (as :class:`SRComparison`; ``rows`` keyed by test set name)."""

    tables: list[MetricsTable]
    rows: dict[str, list[Panel]]
    params: dict[str, int | None]
    note: str | None
    notes: list[str] = field(default_factory=list)
    folders: dict[str, tuple[Path | None, dict[str, Path | None]]] = field(default_factory=dict)


def _save_all(images: Mapping[str, torch.Tensor], folder: Path) -> Path:
    for name, image in images.items():
        save_image(image, folder / f"{name}.png")
    return folder


def run_deblur_comparison(
    setup: DeblurComparisonSetup,
    runs: str | Path,
    work: str | Path,
    *,
    models: Mapping[str, nn.Module] | None = None,
    regressors: Sequence[nn.Module] | None = None,
    progress: bool = True,
) -> DeblurComparison:
    """Train (or resume) our deblurring models, write every method's outputs under ``work`` and score them.

    Arguments as :func:`run_sr_comparison`.
    """
    models, regressors, params, note, notes = _methods("deblur", setup.schedule, runs, models, regressors, BLURRED,
                                                       progress)  # fmt: skip
    root, work = data_root(), Path(work)
    staged: dict[str, tuple[Path | None, dict[str, Path | None], list[str]]] = {}

    def stage(label: str, key: str, blurred: dict[str, torch.Tensor], sharp: dict[str, torch.Tensor] | None,
              theirs: dict[str, dict[str, torch.Tensor]]) -> None:  # fmt: skip
        """Write one test set (inputs, ground truth, every method's outputs) under ``work/<key>``."""
        base = work / key
        folders: dict[str, Path | None] = {BLURRED: _save_all(blurred, base / "blurred")}
        for method, model in models.items():
            folders[method] = _save_all({n: restore(model, x) for n, x in blurred.items()}, base / _slug(method))
        for method in DEBLUR_METHODS:
            folders[method] = _save_all(theirs[method], base / _slug(method)) if theirs.get(method) else None
        reference = _save_all(sharp, base / "sharp") if sharp is not None else None
        staged[label] = (reference, folders, list(blurred))

    gopro = root / "deblur" / "GoPro_samples"
    examples = root / "deblur" / "DeepDeblur_examples"
    blurred, sharp, deepdeblur = {}, {}, {}
    for path in list_images(gopro / "sharp"):
        truth = _read(path)
        box = _central(truth.shape[-2], truth.shape[-1], setup.gopro_crop)
        sharp[path.stem], blurred[path.stem] = _cut(truth, box), _cut(_read(gopro / "blur" / path.name), box)
        if path.stem in GOPRO_AS_DEEPDEBLUR:
            official = examples / "deblurred_lin" / f"{GOPRO_AS_DEEPDEBLUR[path.stem]}.png"
            deepdeblur[path.stem] = _cut(_read(official), box)
    gopro_label = "GoPro samples, real blur" + (f", central {setup.gopro_crop} px crops" if setup.gopro_crop else "")
    stage(gopro_label, "gopro", blurred, sharp, {"DeepDeblur": deepdeblur})

    levin = deblur_examples(
        root / setup.levin_set / "HR", kernels=root / "deblur" / "kernels" / "Levin09_npy", noise=setup.noise,
        crop=setup.levin_crop, limit=setup.levin_limit,
    )  # fmt: skip
    levin_label = (
        _set_label(setup.levin_set, setup.levin_limit, len(_names(setup.levin_set)), setup.levin_crop)
        + f", Levin et al. kernels, noise sigma <= {setup.noise:g}"
    )
    stage(levin_label, "levin", {e.name: e.input for e in levin}, {e.name: e.target for e in levin}, {})

    blurred, theirs = {}, {}
    for path in list_images(examples / "blur_lin")[: setup.examples_limit]:
        image = _read(path)
        box = _central(image.shape[-2], image.shape[-1], setup.examples_crop)
        blurred[path.stem] = _cut(image, box)
        theirs[path.stem] = _cut(_read(examples / "deblurred_lin" / path.name), box)
    examples_label = "DeepDeblur examples, real blur, no ground truth" + (
        f", central {setup.examples_crop} px crops" if setup.examples_crop else ""
    )
    stage(examples_label, "deepdeblur_examples", blurred, None, {"DeepDeblur": theirs})

    tables = [
        metrics_table(folders, reference, test_set=label, names=names, shave=0, regressors=regressors,
                      params=params, reference_row=_truth_row(regressors) if reference else None, progress=progress)
        for label, (reference, folders, names) in staged.items()
    ]  # fmt: skip
    rows = {}
    for label, name in ((gopro_label, next(iter(GOPRO_AS_DEEPDEBLUR))), (levin_label, levin[0].name)):
        reference, folders, _ = staged[label]
        images = {m: (load_image(f / f"{name}.png") if f is not None and (f / f"{name}.png").is_file() else None)
                  for m, f in folders.items()}  # fmt: skip
        rows[f"{label}: {name}"] = _panels(images, load_image(reference / f"{name}.png"), params, 0, "ground truth")
    folders = {label: (reference, methods) for label, (reference, methods, _) in staged.items()}
    return DeblurComparison(tables, rows, params, note, notes, folders)


def plot_deblur_comparison(result: DeblurComparison, zoom: int = 128) -> Figure:
    """Fig. 16: one row per test set with ground truth (real GoPro blur; Levin et al. kernels)."""
    rows = []
    for label, panels in result.rows.items():
        truth = panels[-1].image
        rows.append((label, panels, [busiest_box(truth, min(zoom, *truth.shape[-2:]))]))
    title = "Motion deblurring (supp. Fig. 16): PSNR (Y) and DSD distance in the captions"
    if result.note:
        title += f"\n{result.note}"
    return compare_rows(rows, title=title)


def deblur_notes(result: DeblurComparison) -> list[str]:
    """The remarks printed above the deblurring metrics tables."""
    ours = "; ".join(f"{m}: {result.params[m]:,} parameters" for m in result.params if m.startswith("ours"))
    return [
        f"Our models ({ours}): deblurring xSRResNet, \"{OURS_L1}\" = stage 1 (L1 only), \"{OURS_DSD}\" = stage 2 "
        "from it (L1 + perceptual + 100 x DSD); trained on BSDS500 crops with random camera-shake blur.",
        "DeepDeblur (Nah et al. 2017): the official outputs of the linear-blur model (deblur/DeepDeblur_examples); "
        "its GoPro ground truth exists only for Flower (= seq_id-4_frame-1). Its outputs on the Levin-kernel images "
        "are not available (its code is not run here).",
        "DeblurGAN-v2: no outputs available (none published in a repository; see "
        "deblur/DeepDeblur_examples/MANIFEST.md).",
        "Q_DSD uses the repository's CPU-trained regressors (checkpoints/README.md), not the paper's.",
        *result.notes,
    ]


def save_deblur_comparison(result: DeblurComparison, setup: DeblurComparisonSetup, out_dir: str | Path) -> list[Path]:
    """Write ``fig16_deblurring.png`` (quick results: 60 dpi, 256 colours; else 100 dpi) and
    ``deblur_metrics.md``, ``.csv``, ``_per_image.csv`` into ``out_dir``."""
    out_dir, quick = Path(out_dir), result.note is not None
    path = out_dir / "fig16_deblurring.png"
    save_png(plot_deblur_comparison(result, setup.zoom), path, 100, quick)
    title = "Motion deblurring: metrics" + (f" ({result.note})" if result.note else "")
    return [path, *write_tables(result.tables, out_dir / "deblur_metrics", title=title, notes=deblur_notes(result))]


def fig16_figure(quick: bool, out_dir: Path) -> list[Path]:
    """``fig16_deblurring.png`` and ``deblur_metrics.{md,csv}`` (the ``dsdviz figures`` recipe)."""
    setup = DeblurComparisonSetup.quick() if quick else DeblurComparisonSetup.full()
    with tempfile.TemporaryDirectory(prefix="dsdviz_deblur_") as tmp:
        runs = Path(tmp) / "runs" if quick else Path(out_dir).resolve().parent / "runs" / "fig16"
        result = run_deblur_comparison(setup, runs, Path(tmp) / "outputs", progress=False)
    return save_deblur_comparison(result, setup, out_dir)
