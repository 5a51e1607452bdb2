"""Training the restoration networks (supp. Table 4): both stages of SR and deblurring, and their figures.

``figures/train_sr*.png`` and ``figures/train_deblur*.png`` (the notebooks ``train_sr`` and
``train_deblur``, and ``dsdviz figures``): the loss curves of stage 1 (L1) and stage 2 (L1 +
perceptual + 100 x DSD, from stage 1's weights), and both stages' outputs beside the baseline
(bicubic for SR, the blurred input for deblurring) and the ground truth.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from matplotlib.figure import Figure
from torch import nn

from ..examples import Example
from ..degradations import bicubic_upsample
from ..inference import restore
from ..losses import FEATURE_LOSS_LABELS
from ..metrics import psnr
from ..training import TrainConfig, Trainer, train
from ..viz.compare import Panel
from ..viz.training import network_caption, plot_losses, plot_restorations
from .stages import quick_preset, recipe_folders


def stage_configs(task: str, quick: bool, runs: str | Path, prefix: str = "") -> tuple[TrainConfig, TrainConfig]:
    """The settings of both stages of ``task`` (``"sr"`` or ``"deblur"``; quick: at the smoke size when
    ``DSDVIZ_SMOKE`` is set): stage 1 in ``<runs>/<prefix>psnr``, stage 2 from its weights in ``<runs>/<prefix>dsd``."""
    first = Path(runs) / f"{prefix}psnr"
    return (
        quick_preset(task, quick, out=str(first)),
        quick_preset(task, quick, stage="dsd", init=str(first / "model.pt"), out=str(Path(runs) / f"{prefix}dsd")),
    )


def loss_caption(config: TrainConfig) -> str:
    """The loss of a restoration run as a sum, e.g. ``"L1"`` (stage 1), ``"L1 + perceptual + 100 DSD"`` (stage 2)."""
    if config.task.stage == "psnr":
        return "L1"
    terms = [("L1", config.task.l1_weight), ("perceptual", config.task.perceptual_weight),
             (FEATURE_LOSS_LABELS[config.task.feature_loss], config.task.feature_weight)]  # fmt: skip
    return " + ".join(name if weight == 1 else f"{weight:g} {name}" for name, weight in terms if weight)


def stage_models(first: Trainer, second: Trainer) -> dict[str, nn.Module]:
    """The two stages' networks, labelled by what stage 2 adds: ``{"stage 1 (L1)": ..., "stage 2 (+ DSD)": ...}``."""
    added = FEATURE_LOSS_LABELS[second.config.task.feature_loss]
    return {"stage 1 (L1)": first.network, f"stage 2 (+ {added})": second.network}


def restoration_rows(
    examples: Sequence[Example], models: Mapping[str, nn.Module], scale: int
) -> list[tuple[str, list[Panel]]]:
    """Per example: the baseline (MATLAB bicubic for ``scale > 1``, else the input), each model's output
    (PSNR on Y with a ``scale`` px shave in the captions; none for deblurring) and the ground truth."""
    baseline, shave = ("bicubic", scale) if scale > 1 else ("blurred input", 0)
    rows = []
    for example in examples:
        images = {baseline: bicubic_upsample(example.input, scale) if scale > 1 else example.input}
        images.update({name: restore(model, example.input) for name, model in models.items()})
        panels = [Panel(name, image, caption=f"{float(psnr(image, example.target, shave=shave)[0]):.2f} dB")
                  for name, image in images.items()]  # fmt: skip
        rows.append((example.name, [*panels, Panel("ground truth", example.target)]))
    return rows


def restorations_figure(
    examples: Sequence[Example], models: Mapping[str, nn.Module], scale: int, crop: int | None = 96
) -> Figure:
    """:func:`dsdviz.viz.training.plot_restorations` of :func:`restoration_rows`; the title names the networks."""
    networks = [network_caption(model) for model in models.values()]
    return plot_restorations(restoration_rows(examples, models, scale), networks, scale if scale > 1 else 0, crop)


def restoration_figures(first: Trainer, second: Trainer) -> tuple[Figure, Figure]:
    """``(loss curves, restorations)`` of a two-stage SR or deblurring run (stage 1, then stage 2 from it).

    The loss curves show both stages (:func:`dsdviz.viz.training.plot_losses`); the restorations show
    both stages' outputs on the first two of the task's validation examples (:func:`restorations_figure`).
    ``dsdviz figures`` and the notebooks ``train_sr`` and ``train_deblur`` draw their figures with it.
    """
    losses = plot_losses(
        {f"stage {i} ({loss_caption(run.config)})": run.history for i, run in ((1, first), (2, second))},
        title=f"Training {network_caption(first.network)}",
    )
    scale = first.config.task.scale
    images = restorations_figure(first.task.examples()[:2], stage_models(first, second), scale)
    return losses, images


def restoration_figure(task: str, quick: bool, out_dir: Path) -> list[Path]:
    """Train both stages of ``task`` (``"sr"`` or ``"deblur"``); save ``train_<task>{_losses,}.png``.

    Quick runs live in a temporary folder; full runs in ``runs/<task>_{psnr,dsd}`` beside ``out_dir``
    (or under ``$DSDVIZ_RUNS``).
    """
    with recipe_folders(quick, out_dir, "") as (runs, _):
        stage1, stage2 = stage_configs(task, quick, runs, prefix=f"{task}_")
        first = train(stage1, resume=True)
        second = train(stage2, resume=True)
    paths = [Path(out_dir) / f"train_{task}_losses.png", Path(out_dir) / f"train_{task}.png"]
    for figure, path in zip(restoration_figures(first, second), paths):
        figure.savefig(path)
    return paths


def sr_figure(quick: bool, out_dir: Path) -> list[Path]:
    """``figures/train_sr*.png``: xSRResNet 4x loss curves and before/after on Set5."""
    return restoration_figure("sr", quick, out_dir)


def deblur_figure(quick: bool, out_dir: Path) -> list[Path]:
    """``figures/train_deblur*.png``: deblurring xSRResNet loss curves and before/after."""
    return restoration_figure("deblur", quick, out_dir)
