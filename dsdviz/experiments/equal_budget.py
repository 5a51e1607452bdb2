"""The equal-budget study of the stage-2 loss: what the DSD term buys compared with an adversarial term.

Our shipped networks had a small fraction of the paper's training, and SRGAN had 10^6 steps, so a
comparison with the official SRGAN results is unequal by construction. The controlled question:
from the same stage 1 (the shipped ``xsrresnet_sr_x4_psnr_cpu``), with the same steps, crops, batch,
rate, precision and seed, four stage-2 losses (:data:`ARMS`):

    (a) L1 + perceptual            (b) L1 + perceptual + 100 x DSD
    (c) L1 + perceptual + 1e-3 GAN (d) L1 + perceptual + 100 x DSD + 1e-3 GAN

(the GAN term: SRGAN's standard loss and weight against an SRGAN-style critic,
:mod:`dsdviz.training.adversarial`). Each arm is a shipped model trained by the command of
:func:`arm_command`. They are scored with bicubic, stage 1, the shipped 2,500-step DSD stage 2 and
the official SRResNet and SRGAN results on whole images (:func:`run_equal_budget`): PSNR, SSIM, DSD
distance, the grid-artifact score, Q_DSD and NIQE; the figure shows the four on textured images.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from torch import nn

from ..data import image_names
from ..evaluation import PUBLISHED_PARAMETERS, metrics_table, write_tables
from ..models import count_parameters, load_model, model_meta, training_budget
from ..viz.compare import zoomed_rows
from ..viz.layout import save_png
from .methods import Q_DSD_NOTE, Comparison
from .settings import SMOKE_SIZE, smoke, table_stem
from .sr_comparison import grid_period, sr_panels, stage_sr_set
from .stages import load_regressors
from .staging import set_label, truth_row

#: The stage 1 all four arms start from.
STAGE1 = ("stage 1 (L1)", "xsrresnet_sr_x4_psnr_cpu")
#: The four stage-2 arms: ``{label: (shipped model name, dsdviz train options beyond the common ones)}``.
ARMS: dict[str, tuple[str, str]] = {
    "(a) L1 + perceptual": ("xsrresnet_sr_x4_eq_l1_perceptual_cpu", "--feature-weight 0"),
    "(b) + DSD": ("xsrresnet_sr_x4_eq_dsd_cpu", ""),
    "(c) + GAN": ("xsrresnet_sr_x4_eq_gan_cpu", "--feature-weight 0 --adversarial standard"),
    "(d) + DSD + GAN": ("xsrresnet_sr_x4_eq_dsd_gan_cpu", "--adversarial standard"),
}
#: Arm (c) with a stronger or a different adversary, everything else the same. Once the critic wins (step 50 on),
#: the generator's GAN loss is 7-12 beside a conv3_1 perceptual term of about 2.8, so SRGAN's 1e-3 makes it
#: 0.3-0.4% of the loss; at 1e-1 it is 4-9%. Does a stronger adversary, or ESRGAN's relativistic critic, do what
#: the DSD term does at this budget? ``{label: (shipped name, options)}``; the first is arm (c) itself.
GAN_VARIANTS: dict[str, tuple[str, str]] = {
    "(c) + GAN, weight 1e-3": ARMS["(c) + GAN"],
    "(c) + GAN, weight 1e-2": ("xsrresnet_sr_x4_eq_gan_w1e-2_cpu",
                               "--feature-weight 0 --adversarial standard --adversarial-weight 1e-2"),
    "(c) + GAN, weight 1e-1": ("xsrresnet_sr_x4_eq_gan_w1e-1_cpu",
                               "--feature-weight 0 --adversarial standard --adversarial-weight 1e-1"),
    "(c) + relativistic GAN, weight 1e-1": ("xsrresnet_sr_x4_eq_gan_rel_w1e-1_cpu",
                                            "--feature-weight 0 --adversarial relativistic --adversarial-weight 1e-1"),
}  # fmt: skip
#: Steps of every arm: the first 10% of the cpu setting's stage 2 (2,500 steps; no rate decay before 2,000).
ARM_STEPS = 250
#: The options every arm shares: the cpu setting's stage 2 (crops, batch, rate, init), in float32.
COMMON_OPTIONS = (f"--setting cpu --stage dsd --precision fp32 --steps {ARM_STEPS} --val-every {ARM_STEPS} "
                  "--monitor-every 50 --checkpoint-every 50")  # fmt: skip
#: The shipped stage 2 at the cpu setting's full budget, for reference.
SHIPPED_STAGE2 = ("stage 2, DSD, shipped (2,500 steps)", "xsrresnet_sr_x4_dsd_cpu")
#: Official results scored beside ours (Set5 and Set14 only).
OFFICIAL = ("SRResNet", "SRGAN")


def arm_command(label: str) -> str:
    """The ``dsdviz train`` command of an arm of :data:`ARMS` or :data:`GAN_VARIANTS` (then
    ``tools/ship_model.py runs/equal_budget/<slug> <name>``)."""
    name, options = {**ARMS, **GAN_VARIANTS}[label]
    slug = name.removeprefix("xsrresnet_sr_x4_eq_").removesuffix("_cpu")
    return f"dsdviz train sr {COMMON_OPTIONS} {options} --out runs/equal_budget/{slug}".replace("  ", " ")


@dataclass(frozen=True)
class EqualBudgetSetup:
    """Settings of the equal-budget table and figure.

    Attributes:
        test_sets: ``(name, limit)``: the first ``limit`` images (``None``: all), whole images; ``()``: no
            table, the figure alone (seconds).
        crop: central HR crop in px (``None``: whole images; the smoke size crops).
        figure: ``(set, image)`` rows of the figure (textured images).
        zoom: side of the zoomed crop in HR pixels.
    """

    test_sets: tuple[tuple[str, int | None], ...] = (("Set5", None), ("Set14", None), ("BSD100", None))
    crop: int | None = None
    figure: tuple[tuple[str, str], ...] = (("Set14", "baboon"), ("Set14", "zebra"))
    zoom: int = 96

    @classmethod
    def quick(cls) -> EqualBudgetSetup:
        """Whole images of Set5 and Set14 (the images of the official results) and the first 10 of BSD100.
        At the smoke size: one 48 px crop of Set5 ``baby``, the whole ``bird`` in the figure."""
        if smoke():
            return cls((("Set5", 1),), 48, (("Set5", "bird"),), SMOKE_SIZE)
        return cls((("Set5", None), ("Set14", None), ("BSD100", 10)))

    @classmethod
    def full(cls) -> EqualBudgetSetup:
        """Whole images of Set5, Set14 and all of BSD100."""
        return cls()


def compared(arms: Mapping[str, str] | None = None) -> dict[str, str]:
    """``{label: shipped model name}`` of the networks in the table: stage 1, the arms, the shipped stage 2."""
    names = {label: name for label, (name, _) in ARMS.items()} if arms is None else dict(arms)
    return {STAGE1[0]: STAGE1[1], **names, SHIPPED_STAGE2[0]: SHIPPED_STAGE2[1]}


def adversary_sweep() -> dict[str, str]:
    """``{label: shipped model name}`` of the adversary table: stage 1, (a), (b) and :data:`GAN_VARIANTS`."""
    kept = {label: name for label, (name, _) in ARMS.items() if label in list(ARMS)[:2]}
    return {STAGE1[0]: STAGE1[1], **kept, **{label: name for label, (name, _) in GAN_VARIANTS.items()}}


def run_equal_budget(
    setup: EqualBudgetSetup, work: str | Path, *, models: Mapping[str, nn.Module] | None = None,
    names: Mapping[str, str] | None = None, regressors: Sequence[nn.Module] | None = None, progress: bool = True,
) -> Comparison:  # fmt: skip
    """Score the arms (default: the shipped models of :func:`compared`) with bicubic and the official results.

    Args:
        setup: :class:`EqualBudgetSetup`.
        work: where every method's outputs are written before scoring.
        models: ``{label: SR network}`` instead of the shipped ones.
        names: ``{label: shipped model name}`` of the networks (default :func:`compared`; not with ``models``).
        regressors: for Q_DSD (default: the shipped pair).

    Returns:
        A :class:`~dsdviz.experiments.methods.Comparison`: one table per test set, the figure's rows
        keyed by ``(set, image)``, and notes giving each model's budget.
    """
    notes = []
    if models is None:
        names = compared() if names is None else names
        models = {label: load_model(name) for label, name in names.items()}
        notes = [f"{label}: {name}, {training_budget(model_meta(name))}" for label, name in names.items()]
    regressors = load_regressors() if regressors is None else regressors
    params: dict[str, int | None] = {"bicubic": 0, **{m: count_parameters(net) for m, net in models.items()}}
    params.update({m: PUBLISHED_PARAMETERS[m] for m in OFFICIAL})
    tables, staged = [], {}
    for set_name, limit in setup.test_sets:
        names = image_names(set_name, limit)
        hr_folder, folders = stage_sr_set(set_name, names, setup.crop, models, work)
        scored = {m: folders[m] for m in ("bicubic", *models, *OFFICIAL)}
        staged[set_name] = (hr_folder, scored)
        label = set_label(set_name, limit, len(image_names(set_name)), setup.crop)
        tables.append(metrics_table(scored, hr_folder, test_set=label, names=names, shave=4, regressors=regressors,
                                    params=params, reference_row=truth_row(regressors), progress=progress,
                                    grid_period=grid_period(setup.crop)))  # fmt: skip
    drawn = {m: net for m, net in models.items() if m not in (SHIPPED_STAGE2[0],)}
    rows = {key: sr_panels(*key, drawn, params, published=OFFICIAL[1:]) for key in setup.figure}
    return Comparison(tables, rows, params, None, notes, staged)


def equal_budget_notes(result: Comparison) -> list[str]:
    """The remarks above the table: the study's design, each model's budget, the official results."""
    return [
        f"Four stage-2 runs from the same stage 1 ({STAGE1[1]}) with the same {ARM_STEPS} steps, LR crops of 24 px, "
        "batch 16, Adam 2e-4, float32 and seed 0; only the loss differs: (a) L1 + perceptual (conv3_1), "
        "(b) + 100 x DSD, (c) + 1e-3 x GAN (SRGAN's standard loss and weight, SRGAN-style critic), "
        "(d) + 100 x DSD + 1e-3 x GAN. The shipped 2,500-step DSD stage 2 (bf16) is shown for reference.",
        *result.notes,
        "SRResNet and SRGAN: the SRGAN authors' released results (Set5 and Set14 only; about 10^6 steps on "
        "ImageNet): not an equal budget.",
        Q_DSD_NOTE,
    ]


def save_equal_budget_figure(result: Comparison, setup: EqualBudgetSetup, out_dir: str | Path) -> Path:
    """Write ``equal_budget.png``: the figure rows, zoomed on the most detailed region (256 colours)."""
    title = (f"Equal budget ({ARM_STEPS} stage-2 steps from one stage 1): the stage-2 loss; "
             "PSNR (Y, 4 px shave) and DSD distance in the captions")  # fmt: skip
    rows = {f"{s} {n}": result.rows[(s, n)] for s, n in setup.figure}
    return save_png(zoomed_rows(rows, title, setup.zoom), Path(out_dir) / "equal_budget.png", 100, True)


def save_equal_budget(
    result: Comparison, setup: EqualBudgetSetup, out_dir: str | Path, tables: str = "equal_budget"
) -> list[Path]:
    """Write ``equal_budget.png`` and the tables ``<tables>.md``, ``.csv``, ``_per_image.csv`` into ``out_dir``."""
    title = "Equal-budget study of the stage-2 loss (4x SR)"
    written = write_tables(result.tables, Path(out_dir) / tables, title=title, notes=equal_budget_notes(result))
    return [save_equal_budget_figure(result, setup, out_dir), *written]


def equal_budget_figure(quick: bool, out_dir: Path) -> list[Path]:
    """``equal_budget.png`` and the tables (the ``dsdviz figures`` recipe; nothing is trained): the full run's
    ``equal_budget.{md,csv}`` (all of BSD100, what the claims scorecard reads), the quick run's
    ``equal_budget_quick.{md,csv}`` (the first 10 BSD100 images), so that a quick run leaves the full tables as
    they are."""
    setup = EqualBudgetSetup.quick() if quick else EqualBudgetSetup.full()
    with tempfile.TemporaryDirectory(prefix="dsdviz_equal_budget_") as work:
        result = run_equal_budget(setup, work, progress=False)
        return save_equal_budget(result, setup, out_dir, table_stem("equal_budget", quick))


def adversarial_weight_figure(quick: bool, out_dir: Path) -> list[Path]:
    """``adversarial_weight.{md,csv}`` (the ``dsdviz figures`` recipe): arm (c) with each adversary of
    :data:`GAN_VARIANTS` (SRGAN's weight 1e-3, 10 and 100 times it, a relativistic critic at 1e-1), beside
    (a), (b), stage 1 and the official results, on whole Set5 and Set14 images (the smoke size: one crop);
    nothing is trained."""
    sized = EqualBudgetSetup.quick()
    setup = EqualBudgetSetup(sized.test_sets[:2], sized.crop, figure=())
    with tempfile.TemporaryDirectory(prefix="dsdviz_adversarial_weight_") as work:
        result = run_equal_budget(setup, work, names=adversary_sweep(), progress=False)
    notes = [
        "Arm (c) of the equal-budget study (equal_budget.md) at SRGAN's adversarial weight 1e-3, at 1e-2 and "
        f"1e-1, and with a relativistic critic (ESRGAN's loss) at 1e-1, each {ARM_STEPS} float32 steps from the "
        "same stage 1 with the same crops, batch, rate and seed; (a) and (b) for reference.", *result.notes, Q_DSD_NOTE,
    ]  # fmt: skip
    return write_tables(result.tables, Path(out_dir) / "adversarial_weight",
                        title="The adversary at equal budget (4x SR)", notes=notes)  # fmt: skip


__all__ = [
    "ARMS", "ARM_STEPS", "COMMON_OPTIONS", "EqualBudgetSetup", "GAN_VARIANTS", "OFFICIAL", "SHIPPED_STAGE2", "STAGE1",
    "adversarial_weight_figure", "arm_command", "compared", "equal_budget_figure", "equal_budget_notes",
    "run_equal_budget", "save_equal_budget", "save_equal_budget_figure", "adversary_sweep",
]  # fmt: skip
