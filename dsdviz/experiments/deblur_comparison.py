"""Supplementary Fig. 16: deblurring against DeepDeblur and DeblurGAN-v2, and the deblurring metrics tables.

Real GoPro blur and images blurred with the Levin et al. (2009) kernels: our L1-only and
DSD models beside the official DeepDeblur outputs; DeblurGAN-v2's outputs are not
available and say so. :class:`DeblurComparisonSetup` has ``quick()`` (the shipped CPU-trained models on
crops; CPU, minutes) and ``full()`` (trained with the paper's settings, whole images: a GPU); both run the same code.
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
    center_box,
    crop_box,
    data_root,
    deblur_examples,
    image_names,
    list_images,
    load_image,
    read_image,
)
from ..inference import restore
from ..viz.compare import zoomed_rows
from ..viz.layout import save_png
from .methods import DEEPDEBLUR_EXAMPLES, GOPRO_SAMPLES, Q_DSD_NOTE, Comparison, compared_models, ours_note
from .settings import SMOKE_SIZE, smoke
from .stages import TrainingSchedule, recipe_folders
from .staging import save_all, scored_panels, set_label, slug, truth_row

BLURRED = "blurred input"

#: Published deblurring methods in the comparison. DeepDeblur's official outputs exist for the
#: DeepDeblur examples (``deblur/DeepDeblur_examples/deblurred_lin``); DeblurGAN-v2 has none here.
DEBLUR_METHODS = ("DeepDeblur", "DeblurGAN-v2")

#: GoPro sample frames that are also DeepDeblur examples (linear blur): their official output has a ground truth.
GOPRO_AS_DEEPDEBLUR = {"Flower": "seq_id-4_frame-1"}

#: A staged test set: ``(reference folder or None, {method: folder or None}, image names)``.
Staged = tuple[Path | None, dict[str, Path | None], list[str]]


@dataclass(frozen=True)
class DeblurComparisonSetup:
    """Settings of Fig. 16 and the deblurring metrics tables.

    Test sets: the GoPro sample frames (real blur, with ground truth; DeepDeblur's output
    exists for ``Flower``), ``levin_set`` blurred with the 8 Levin et al. (2009) kernels
    (image ``i`` with kernel ``i mod 8``, plus Gaussian noise of a standard deviation drawn
    in ``[0, noise]``, rounded to 8 bits), and the DeepDeblur example frames (real blur, no
    ground truth: Q_DSD only). ``*_crop``: central crops (px); ``None``: whole images. ``schedule``:
    the training of our two models; ``None``: the shipped CPU-trained pair
    (:data:`dsdviz.models.SHIPPED_RESTORATION`).
    """

    schedule: TrainingSchedule | None = TrainingSchedule(quick=False)
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
        """The shipped CPU-trained models (``xsrresnet_deblur_psnr_cpu``, ``xsrresnet_deblur_dsd_cpu``); central
        crops: 256 px of the GoPro frames, 128 px of 4 Set14 images, 256 px of 3 DeepDeblur examples.
        At the smoke size: 32 px crops, one image per set."""
        if smoke():
            size = SMOKE_SIZE
            return cls(None, size, levin_limit=1, levin_crop=size, examples_limit=1, examples_crop=size, zoom=size)
        return cls(None, gopro_crop=256, levin_limit=4, levin_crop=128, examples_limit=3, examples_crop=256,
                   zoom=64)  # fmt: skip

    @classmethod
    def full(cls) -> DeblurComparisonSetup:
        """The paper's training settings (a GPU); whole images."""
        return cls()


def stage_deblur_set(
    work: Path, blurred: Mapping[str, torch.Tensor], sharp: Mapping[str, torch.Tensor] | None,
    models: Mapping[str, nn.Module], theirs: Mapping[str, Mapping[str, torch.Tensor]],
) -> Staged:  # fmt: skip
    """Write one test set (inputs, ground truth, our outputs, the published ``{method: {name: image}}``)
    under ``work``; returns the folders for :func:`dsdviz.evaluation.metrics_table`."""
    folders: dict[str, Path | None] = {BLURRED: save_all(blurred, work / "blurred")}
    for method, model in models.items():
        folders[method] = save_all({n: restore(model, x) for n, x in blurred.items()}, work / slug(method))
    for method in DEBLUR_METHODS:
        folders[method] = save_all(theirs[method], work / slug(method)) if theirs.get(method) else None
    reference = save_all(sharp, work / "sharp") if sharp is not None else None
    return reference, folders, list(blurred)


def _cropped(path: Path, crop: int | None, *others: Path) -> list[torch.Tensor]:
    """The central ``crop`` px of an image file, and the same box of each of ``others``."""
    image = read_image(path)
    box = center_box(image.shape[-2], image.shape[-1], crop)
    return [crop_box(image, box), *(crop_box(read_image(other), box) for other in others)]


def _crops_label(text: str, crop: int | None) -> str:
    return text + (f", central {crop} px crops" if crop else "")


def run_deblur_comparison(
    setup: DeblurComparisonSetup, runs: str | Path, work: str | Path, *, models: Mapping[str, nn.Module] | None = None,
    regressors: Sequence[nn.Module] | None = None, progress: bool = True,
) -> Comparison:  # fmt: skip
    """Our deblurring models (shipped, given, or trained or resumed), every method's outputs under ``work``, scored.

    Arguments as :func:`~dsdviz.experiments.sr_comparison.run_sr_comparison`; the result's ``rows``
    are keyed by the row titles.
    """
    models, regressors, params, note, notes = compared_models("deblur", setup.schedule, runs, models, regressors,
                                                              BLURRED, progress)  # fmt: skip
    root, work = data_root(), Path(work)
    staged: dict[str, Staged] = {}
    gopro, examples = root / GOPRO_SAMPLES, root / DEEPDEBLUR_EXAMPLES
    blurred, sharp, deepdeblur = {}, {}, {}
    for path in list_images(gopro / "sharp"):
        official = GOPRO_AS_DEEPDEBLUR.get(path.stem)
        published = [examples / "deblurred_lin" / f"{official}.png"] if official else []
        sharp[path.stem], blurred[path.stem], *output = _cropped(path, setup.gopro_crop, gopro / "blur" / path.name,
                                                                 *published)  # fmt: skip
        if output:
            deepdeblur[path.stem] = output[0]
    gopro_label = _crops_label("GoPro samples, real blur", setup.gopro_crop)
    staged[gopro_label] = stage_deblur_set(work / "gopro", blurred, sharp, models, {"DeepDeblur": deepdeblur})

    levin = deblur_examples(
        root / setup.levin_set / "HR", kernels=root / "deblur" / "kernels" / "Levin09_npy", noise=setup.noise,
        crop=setup.levin_crop, limit=setup.levin_limit,
    )  # fmt: skip
    levin_label = (
        set_label(setup.levin_set, setup.levin_limit, len(image_names(setup.levin_set)), setup.levin_crop)
        + f", Levin et al. kernels, noise sigma <= {setup.noise:g}"
    )
    staged[levin_label] = stage_deblur_set(work / "levin", {e.name: e.input for e in levin},
                                           {e.name: e.target for e in levin}, models, {})  # fmt: skip

    blurred, theirs = {}, {}
    for path in list_images(examples / "blur_lin")[: setup.examples_limit]:
        blurred[path.stem], theirs[path.stem] = _cropped(path, setup.examples_crop,
                                                         examples / "deblurred_lin" / path.name)  # fmt: skip
    examples_label = _crops_label("DeepDeblur examples, real blur, no ground truth", setup.examples_crop)
    staged[examples_label] = stage_deblur_set(work / "deepdeblur_examples", blurred, None, models,
                                              {"DeepDeblur": theirs})  # fmt: skip

    tables = [
        metrics_table(folders, reference, test_set=label, names=names, shave=0, regressors=regressors,
                      params=params, reference_row=truth_row(regressors) if reference else None, progress=progress)
        for label, (reference, folders, names) in staged.items()
    ]  # fmt: skip
    rows = {}
    for label, name in ((gopro_label, next(iter(GOPRO_AS_DEEPDEBLUR))), (levin_label, levin[0].name)):
        reference, folders, _ = staged[label]
        images = {m: (load_image(f / f"{name}.png") if f is not None and (f / f"{name}.png").is_file() else None)
                  for m, f in folders.items()}  # fmt: skip
        rows[f"{label}: {name}"] = scored_panels(images, load_image(reference / f"{name}.png"), params, 0,
                                                 "ground truth")  # fmt: skip
    folders = {label: (reference, methods) for label, (reference, methods, _) in staged.items()}
    return Comparison(tables, rows, params, note, notes, folders)


def plot_deblur_comparison(result: Comparison, zoom: int = 128) -> Figure:
    """Fig. 16: one row per test set with ground truth (real GoPro blur; Levin et al. kernels)."""
    title = "Motion deblurring (supp. Fig. 16): PSNR (Y) and DSD distance in the captions"
    return zoomed_rows(result.rows, title, zoom, result.note)


def deblur_notes(result: Comparison) -> list[str]:
    """The remarks printed above the deblurring metrics tables."""
    return [
        ours_note(result, "deblurring xSRResNet", "; trained on BSDS500 crops with random camera-shake blur"),
        "DeepDeblur (Nah et al. 2017): the official outputs of the linear-blur model (deblur/DeepDeblur_examples); "
        "its GoPro ground truth exists only for Flower (= seq_id-4_frame-1). Its outputs on the Levin-kernel images "
        "are not available (its code is not run here).",
        "DeblurGAN-v2: no outputs available (none published in a repository; see "
        "deblur/DeepDeblur_examples/MANIFEST.md).",
        Q_DSD_NOTE,
        *result.notes,
    ]


def save_deblur_comparison(result: Comparison, setup: DeblurComparisonSetup, out_dir: str | Path) -> list[Path]:
    """Write ``fig16_deblurring.png`` (quick results: 256 colours) and
    ``deblur_metrics.md``, ``.csv``, ``_per_image.csv`` into ``out_dir``."""
    out_dir, quick = Path(out_dir), result.note is not None
    path = out_dir / "fig16_deblurring.png"
    save_png(plot_deblur_comparison(result, setup.zoom), path, 100, quick)
    title = "Motion deblurring: metrics" + (f" ({result.note})" if result.note else "")
    return [path, *write_tables(result.tables, out_dir / "deblur_metrics", title=title, notes=deblur_notes(result))]


def fig16_figure(quick: bool, out_dir: Path) -> list[Path]:
    """``fig16_deblurring.png`` and ``deblur_metrics.{md,csv}`` (the ``dsdviz figures`` recipe)."""
    setup = DeblurComparisonSetup.quick() if quick else DeblurComparisonSetup.full()
    with recipe_folders(quick, out_dir, "fig16") as (runs, work):
        result = run_deblur_comparison(setup, runs, work, progress=False)
    return save_deblur_comparison(result, setup, out_dir)
