"""Training the restoration networks (supp. Table 4): both stages of SR and deblurring, and their figures.

``figures/train_sr*.png`` and ``figures/train_deblur*.png`` (the notebooks ``train_sr`` and
``train_deblur``, and ``dsdviz figures``): the loss curves of stage 1 (L1) and stage 2 (L1 +
perceptual + 100 x DSD, from stage 1's weights), and both stages' outputs beside the baseline
(bicubic for SR, the blurred input for deblurring) and the ground truth. Quick mode draws the
shipped CPU-trained models and their shipped training logs (:meth:`TwoStages.shipped`); full mode
trains both stages with the paper's settings (:meth:`TwoStages.trained`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from matplotlib.figure import Figure
from torch import nn

from ..data import Example, bicubic_upsample
from ..inference import restore
from ..losses import FEATURE_LOSS_LABELS
from ..metrics import psnr
from ..models import SHIPPED_RESTORATION, load_model, model_meta, network_caption, shipped_log
from ..training import TrainConfig, Trainer, train
from ..viz.compare import Panel
from ..viz.training import plot_losses, plot_restorations
from .stages import History, quick_preset, recipe_folders, shipped_note


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


@dataclass
class TwoStages:
    """Both stages of a restoration network, trained here or shipped with the package.

    Attributes:
        configs: ``(stage 1, stage 2)`` settings.
        histories: their training logs (:attr:`dsdviz.training.Trainer.history` entries).
        networks: the two networks (stage 2 started from stage 1).
        examples: the validation examples to draw (``input``, ``target``).
        note: what the figures must say about the models (e.g. shipped CPU-trained), or ``None``.
    """

    configs: tuple[TrainConfig, TrainConfig]
    histories: tuple[History, History]
    networks: tuple[nn.Module, nn.Module]
    examples: list[Example]
    note: str | None = None

    @classmethod
    def trained(cls, first: Trainer, second: Trainer) -> TwoStages:
        """Two finished runs; their first two validation examples."""
        return cls((first.config, second.config), (first.history, second.history),
                   (first.network, second.network), first.task.examples()[:2])  # fmt: skip

    @classmethod
    def shipped(cls, task: str) -> TwoStages:
        """The shipped CPU-trained pair of ``task`` (:data:`dsdviz.models.SHIPPED_RESTORATION`), their logs,
        and the first two validation examples of the quick setting (central crops of Set5)."""
        first, second = SHIPPED_RESTORATION[task]
        examples = quick_preset(task, True).task.validation_examples(0)[:2]
        return cls((_config(first), _config(second)), (shipped_log(first), shipped_log(second)),
                   (load_model(first), load_model(second)), examples, shipped_note((first, second)))  # fmt: skip

    def models(self) -> dict[str, nn.Module]:
        """The networks labelled by what stage 2 adds: ``{"stage 1 (L1)": ..., "stage 2 (+ DSD)": ...}``."""
        added = FEATURE_LOSS_LABELS[self.configs[1].task.feature_loss]
        return {"stage 1 (L1)": self.networks[0], f"stage 2 (+ {added})": self.networks[1]}


def _config(model: str) -> TrainConfig:
    """The :class:`TrainConfig` a model was trained with (its recorded ``train_config``)."""
    settings = dict(model_meta(model)["train_config"])
    return TrainConfig.from_flat(settings.pop("task"), **settings)


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


def restoration_figures(stages: TwoStages) -> tuple[Figure, Figure]:
    """``(loss curves, restorations)`` of both stages of an SR or deblurring network.

    The loss curves show both stages' logs (:func:`dsdviz.viz.training.plot_losses`); the restorations
    show both stages' outputs on the examples (:func:`restorations_figure`). ``dsdviz figures`` and the
    notebooks ``train_sr`` and ``train_deblur`` draw their figures with it.
    """
    runs = {f"stage {i} ({loss_caption(config)})": history
            for i, (config, history) in enumerate(zip(stages.configs, stages.histories), 1)}  # fmt: skip
    title = f"Training {network_caption(stages.networks[0])}" + (f"\n{stages.note}" if stages.note else "")
    losses = plot_losses(runs, title=title)
    images = restorations_figure(stages.examples, stages.models(), stages.configs[0].task.scale)
    return losses, images


def restoration_figure(task: str, quick: bool, out_dir: Path) -> list[Path]:
    """``train_<task>{_losses,}.png`` of ``task`` (``"sr"`` or ``"deblur"``): quick, the shipped models and logs;
    full, both stages trained (resumed) in ``runs/<task>_{psnr,dsd}`` beside ``out_dir`` (or under ``$DSDVIZ_RUNS``)."""
    if quick:
        stages = TwoStages.shipped(task)
    else:
        with recipe_folders(quick, out_dir, "") as (runs, _):
            stage1, stage2 = stage_configs(task, quick, runs, prefix=f"{task}_")
            stages = TwoStages.trained(train(stage1, resume=True), train(stage2, resume=True))
    paths = [Path(out_dir) / f"train_{task}_losses.png", Path(out_dir) / f"train_{task}.png"]
    for figure, path in zip(restoration_figures(stages), paths):
        figure.savefig(path)
    return paths


def sr_figure(quick: bool, out_dir: Path) -> list[Path]:
    """``figures/train_sr*.png``: xSRResNet 4x loss curves and before/after on Set5."""
    return restoration_figure("sr", quick, out_dir)


def deblur_figure(quick: bool, out_dir: Path) -> list[Path]:
    """``figures/train_deblur*.png``: deblurring xSRResNet loss curves and before/after."""
    return restoration_figure("deblur", quick, out_dir)
