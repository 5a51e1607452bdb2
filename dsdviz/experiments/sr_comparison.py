"""Supplementary Figs. 14-15: 4x super-resolution against published outputs, and the SR metrics table.

Bicubic, our L1-only ("PSNR") and DSD-trained xSRResNet, and the published outputs in
``sr_results/`` (:data:`~dsdviz.experiments.methods.SR_OUTPUTS`: the official SRGAN and SRResNet on all
of Set5 and Set14, nESRGAN+, ESRGAN, RCAN and RCAN+, a third-party SRGAN re-implementation), with the
metrics table of :func:`dsdviz.evaluation.metrics_table` over each test set (whole images, so that every
method is scored on the same pixels). :class:`SRComparisonSetup` has ``quick()`` (the shipped
CPU-trained models on Set5 and Set14; CPU, minutes) and ``full()`` (trained with the paper's settings,
also BSD100: a GPU); both run the same code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from matplotlib.figure import Figure
from torch import nn

from ..evaluation import metrics_table, write_tables
from ..data import (
    bicubic_upsample,
    crop_box,
    data_root,
    image_names,
    read_image,
    save_image,
    sr_examples,
    sr_folders,
)
from ..inference import restore
from ..artifacts import grid_min_side
from ..viz.compare import Panel, zoomed_rows
from ..viz.layout import save_png
from .methods import Q_DSD_NOTE, SR_FIGURE_METHODS, SR_OUTPUTS, Comparison, compared_models, ours_note
from .settings import SMOKE_SIZE, smoke
from .stages import TrainingSchedule, recipe_folders
from .staging import scored_panels, set_label, slug, truth_row

#: The super-resolution factor of every comparison here.
SCALE = 4


@dataclass(frozen=True)
class SRComparisonSetup:
    """Settings of Figs. 14-15 and the SR metrics table.

    Attributes:
        schedule: training of our two models (stage 1 L1 only, stage 2 L1 + perceptual + 100 x DSD);
            ``None``: the shipped CPU-trained pair (:data:`dsdviz.models.SHIPPED_RESTORATION`).
        test_sets: ``(name, limit)``: the table covers the first ``limit`` images (``None``: all); ``()``:
            no table (the figures alone, e.g. ``dataclasses.replace(setup, test_sets=())``: seconds).
        crop: central HR crop (px, a multiple of 4) scored in the table; ``None``: whole images.
            Our outputs are computed on the matching LR crop, the published ones are cropped.
        subsets: extra tables ``(set, images)`` on a subset of a test set's images.
        fig14, fig15: ``(set, image)`` rows of each figure (whole images, with a zoomed crop).
        zoom: side of the zoomed crop in HR pixels.
    """

    schedule: TrainingSchedule | None = TrainingSchedule(quick=False)
    test_sets: tuple[tuple[str, int | None], ...] = (("Set5", None), ("Set14", None), ("BSD100", None))
    crop: int | None = None
    subsets: tuple[tuple[str, tuple[str, ...]], ...] = ()
    fig14: tuple[tuple[str, str], ...] = (("Set14", "baboon"), ("Set14", "zebra"))
    fig15: tuple[tuple[str, str], ...] = (("Set14", "comic"), ("Set14", "barbara"), ("Set5", "butterfly"))
    zoom: int = 96

    @classmethod
    def quick(cls) -> SRComparisonSetup:
        """The shipped CPU-trained models (``xsrresnet_sr_x4_psnr_cpu``, ``xsrresnet_sr_x4_dsd_cpu``); the table
        on the whole images of Set5 and Set14 (19, the images of the official SRGAN and SRResNet results). At
        the smoke size: one 32 px crop of Set5 ``baby`` in the table and the whole ``bird`` in both figures."""
        if smoke():
            bird = (("Set5", "bird"),)  # the smallest Set5 image (288 px) for the whole-image rows
            return cls(None, (("Set5", 1),), SMOKE_SIZE, (), bird, bird, SMOKE_SIZE)
        return cls(None, (("Set5", None), ("Set14", None)), zoom=64)

    @classmethod
    def full(cls) -> SRComparisonSetup:
        """The paper's training settings (a GPU); the table on whole images of every test set."""
        return cls()


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
    folders: dict[str, Path | None] = {"bicubic": base / "bicubic", **{m: base / slug(m) for m in models}}
    published = {m: published_sr_folder(m, set_name) for m in SR_OUTPUTS}
    folders.update({m: (base / slug(m) if src is not None else None) for m, src in published.items()})
    hr_folder, lr_folder = sr_folders(set_name, SCALE)
    for example in sr_examples(hr_folder, SCALE, lr_folder, crop, names=names):
        name, lr = example.name, example.input
        save_image(example.target, base / "HR" / f"{name}.png")
        save_image(bicubic_upsample(lr, SCALE), folders["bicubic"] / f"{name}.png")
        for method, model in models.items():
            save_image(restore(model, lr), folders[method] / f"{name}.png")
        for method, source in published.items():
            if source is not None and (source / f"{name}.png").is_file():
                published_crop = crop_box(read_image(source / f"{name}.png"), example.box)
                save_image(published_crop, folders[method] / f"{name}.png")
    return base / "HR", folders


def grid_period(crop: int | None) -> int | None:
    """The grid-artifact column's period (4, the SR scale), or ``None`` when crops are too small for it."""
    return SCALE if crop is None or crop >= grid_min_side(SCALE) else None


def run_sr_comparison(
    setup: SRComparisonSetup,
    runs: str | Path,
    work: str | Path,
    *,
    models: Mapping[str, nn.Module] | None = None,
    regressors: Sequence[nn.Module] | None = None,
    progress: bool = True,
) -> Comparison:
    """Our SR models (shipped, given, or trained or resumed), every method's outputs under ``work``, scored.

    Args:
        setup: :class:`SRComparisonSetup`.
        runs: training runs (``<runs>/psnr``, ``<runs>/dsd``).
        work: where the (cropped) test images and every method's outputs are written.
        models: ``{name: network}`` to compare instead of training ours (e.g. your own,
            or models from :func:`dsdviz.models.load_model`).
        regressors: for Q_DSD (default: :func:`~dsdviz.experiments.stages.load_regressors`).

    Returns:
        A :class:`~dsdviz.experiments.methods.Comparison` whose ``rows`` are keyed by ``(set, image)``.
    """
    models, regressors, params, note, notes = compared_models("sr", setup.schedule, runs, models, regressors,
                                                              "bicubic", progress)  # fmt: skip
    tables, staged, by_set = [], {}, {}
    for set_name, limit in setup.test_sets:
        hr_folder, folders = stage_sr_set(set_name, image_names(set_name, limit), setup.crop, models, work)
        staged[set_name] = (hr_folder, folders)
        label = set_label(set_name, limit, len(image_names(set_name)), setup.crop)
        by_set[set_name] = metrics_table(folders, hr_folder, test_set=label, names=image_names(set_name, limit),
                                         shave=4, regressors=regressors, params=params,
                                         reference_row=truth_row(regressors), progress=progress,
                                         grid_period=grid_period(setup.crop))  # fmt: skip
        tables.append(by_set[set_name])
    for set_name, names in setup.subsets:  # where the official GAN outputs exist
        if set_name in by_set and set(names) <= set(by_set[set_name].names):
            label = set_label(set_name, None, 0, setup.crop) + f": {', '.join(names)}"
            tables.append(by_set[set_name].subset(names, label))
    rows = {key: sr_panels(*key, models, params) for key in (*setup.fig14, *setup.fig15)}
    return Comparison(tables, rows, params, note, notes, staged)


def sr_panels(
    set_name: str, name: str, models: Mapping[str, nn.Module], params: Mapping[str, int | None],
    published: Sequence[str] = SR_FIGURE_METHODS,
) -> list[Panel]:  # fmt: skip
    """Whole-image panels of one test image: bicubic, our models, each ``published`` method (default
    :data:`~dsdviz.experiments.methods.SR_FIGURE_METHODS`) with outputs on the set, HR."""
    hr_folder, lr_folder = sr_folders(set_name, SCALE)
    (example,) = sr_examples(hr_folder, SCALE, lr_folder, names=[name])
    images: dict[str, torch.Tensor | None] = {"bicubic": bicubic_upsample(example.input, SCALE)}
    images.update({m: restore(net, example.input) for m, net in models.items()})
    for method in published:
        folder = published_sr_folder(method, set_name)
        if folder is not None:
            path = folder / f"{name}.png"
            images[method] = read_image(path) if path.is_file() else None
    return scored_panels(images, example.target, params, shave=4, reference_label="ground truth (HR)")


def plot_sr_comparison(result: Comparison, keys: Sequence[tuple[str, str]], title: str, zoom: int = 96) -> Figure:
    """Rows of whole images (one per ``(set, image)`` key) with a zoomed crop on the most detailed region;
    PSNR (Y, 4 px shave) and DSD distance of each image in its caption."""
    rows = {f"{set_name} {name}": result.rows[(set_name, name)] for set_name, name in keys}
    return zoomed_rows(rows, title, zoom, result.note)


def sr_notes(result: Comparison) -> list[str]:
    """The remarks printed above the SR metrics table."""
    return [
        ours_note(result, "xSRResNet 4x"),
        "Other methods: their published outputs in sr_results/ (see its MANIFEST.md); parameter counts as published "
        "(nESRGAN+: not stated). SRGAN (SRGAN-VGG54) and SRResNet (SRResNet-MSE, its L1/MSE-trained generator: the "
        "reference for our stage 1) are the SRGAN authors' released results on all 19 images of Set5 and Set14. "
        "SRGAN (re-impl., brade31919) is a third-party TensorFlow re-implementation, not the official SRGAN.",
        Q_DSD_NOTE,
        *result.notes,
    ]


def save_sr_figures(result: Comparison, setup: SRComparisonSetup, out_dir: str | Path) -> list[Path]:
    """Write ``fig14_super_resolution.png`` and ``fig15_super_resolution.png`` (quick results: 256 colours)."""
    out_dir, quick = Path(out_dir), result.note is not None
    paths = [out_dir / "fig14_super_resolution.png", out_dir / "fig15_super_resolution.png"]
    for path, keys, number in ((paths[0], setup.fig14, 14), (paths[1], setup.fig15, 15)):
        title = f"4x super-resolution (supp. Fig. {number}): PSNR (Y, 4 px shave) and DSD distance in the captions"
        save_png(plot_sr_comparison(result, keys, title, setup.zoom), path, 100, quick)
    return paths


def save_sr_comparison(result: Comparison, setup: SRComparisonSetup, out_dir: str | Path) -> list[Path]:
    """Write the figures (:func:`save_sr_figures`) and ``sr_metrics.md``, ``sr_metrics.csv``,
    ``sr_metrics_per_image.csv`` into ``out_dir``."""
    title = "4x super-resolution: metrics" + (f" ({result.note})" if result.note else "")
    return save_sr_figures(result, setup, out_dir) + write_tables(
        result.tables, Path(out_dir) / "sr_metrics", title=title, notes=sr_notes(result)
    )


def fig14_15_figure(quick: bool, out_dir: Path) -> list[Path]:
    """``fig14_super_resolution.png``, ``fig15_super_resolution.png`` and ``sr_metrics.{md,csv}``
    (the ``dsdviz figures`` recipe)."""
    setup = SRComparisonSetup.quick() if quick else SRComparisonSetup.full()
    with recipe_folders(quick, out_dir, "fig14_15") as (runs, work):
        result = run_sr_comparison(setup, runs, work, progress=False)
    return save_sr_comparison(result, setup, out_dir)
