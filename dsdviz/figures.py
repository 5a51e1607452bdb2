"""Every figure the project regenerates, by name: what ``dsdviz figures`` runs.

Each recipe is a function ``make(quick: bool, out_dir: Path) -> list[Path]`` of an
experiment module (:mod:`dsdviz.experiments`) that writes its figure(s) and returns the
files. Quick mode (CI, 2 CPU cores, minutes) and full mode (the paper's sizes and step
counts, meant for a GPU) run the same code with different sizes. Recipes are imported only when
run, so ``--list`` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

from .experiments.settings import figures_dir


@dataclass(frozen=True)
class FigureRecipe:
    """A named figure and where its ``make(quick, out_dir)`` function lives (``"module:function"``)."""

    name: str
    description: str
    target: str

    def load(self) -> Callable[[bool, Path], list[Path]]:
        module, function = self.target.split(":")
        return getattr(import_module(module), function)


FIGURES: dict[str, FigureRecipe] = {
    recipe.name: recipe
    for recipe in (
        FigureRecipe(
            "fingerprints",
            "per-layer ||DSD|| of natural images, and DSD matrices as heat maps",
            "dsdviz.experiments.fingerprints:fingerprints_figure",
        ),
        FigureRecipe(
            "fig11_fingerprint_matching",
            "supp. Fig. 11: a content image optimised to match a reference's style or DSD fingerprint",
            "dsdviz.experiments.fingerprint_matching:fig11_figure",
        ),
        FigureRecipe(
            "fig12_dsd_minimization",
            "supp. Fig. 12: gradient descent on ||DSD_4(x)||_1 from an ESRGAN result, with crops and curves",
            "dsdviz.experiments.dsd_minimization:fig12_figure",
        ),
        FigureRecipe(
            "fig12_lr_sweep",
            "Fig. 12 at several learning rates: sharpness and ||DSD_4(x)||_1 against the step, ground truth's levels",
            "dsdviz.experiments.dsd_minimization:fig12_lr_sweep",
        ),
        FigureRecipe(
            "train_sr",
            "xSRResNet 4x (supp. Table 4): loss curves of both stages, before/after on Set5",
            "dsdviz.experiments.restoration_training:sr_figure",
        ),
        FigureRecipe(
            "train_deblur",
            "deblurring xSRResNet (supp. Table 4): loss curves of both stages, before/after",
            "dsdviz.experiments.restoration_training:deblur_figure",
        ),
        FigureRecipe(
            "noref_regressor",
            "Q_DSD (Eq. 5) of BSD100 images vs their bicubic-up-sampled and blurred versions",
            "dsdviz.experiments.noref:noref_figure",
        ),
        FigureRecipe(
            "regressor_validation",
            "the shipped realistic DSD regressors' relative validation error per layer against steps (their logs)",
            "dsdviz.experiments.noref:regressor_validation_figure",
        ),
        FigureRecipe(
            "noref_agreement",
            "Spearman agreement of Q_DSD, its excess and NIQE with DSD distance and PSNR over SR methods (table)",
            "dsdviz.experiments.agreement:noref_agreement_figure",
        ),
        FigureRecipe(
            "quality_maps",
            "where Q_DSD finds Set14 baboon unnatural (ground truth, bicubic, ESRGAN): per-tile Eq. 5 and excess maps",
            "dsdviz.experiments.quality_maps:quality_maps_figure",
        ),
        FigureRecipe(
            "fig13_loss_comparison",
            "supp. Fig. 13: 5-block xSRResNet trained with style, multi-scale style or DSD loss; grid-artifact scores",
            "dsdviz.experiments.loss_comparison:fig13_figure",
        ),
        FigureRecipe(
            "fig14_15_super_resolution",
            "supp. Figs. 14-15: 4x SR vs bicubic, SRResNet, SRGAN, (n)ESRGAN(+), RCAN; metrics table sr_metrics.md/.csv",
            "dsdviz.experiments.sr_comparison:fig14_15_figure",
        ),
        FigureRecipe(
            "equal_budget",
            "the stage-2 loss at equal budget: L1 + perceptual with DSD, GAN, both or neither; equal_budget.md/.csv",
            "dsdviz.experiments.equal_budget:equal_budget_figure",
        ),
        FigureRecipe(
            "adversarial_weight",
            "equal budget: the GAN arm at 1, 10, 100 x SRGAN's weight, relativistic; adversarial_weight.md/.csv",
            "dsdviz.experiments.equal_budget:adversarial_weight_figure",
        ),
        FigureRecipe(
            "fig16_deblurring",
            "supp. Fig. 16: deblurring vs DeepDeblur (DeblurGAN-v2 n/a); metrics table deblur_metrics.md/.csv",
            "dsdviz.experiments.deblur_comparison:fig16_figure",
        ),
        FigureRecipe(
            "claims",
            "the paper's claims scorecard claims.md, from the CSVs the recipes above write (run it last)",
            "dsdviz.experiments.claims:claims_figure",
        ),
    )
}


def regenerate(
    names: Sequence[str] | None = None, *, quick: bool = True, out_dir: str | Path | None = None
) -> list[Path]:
    """Run the named recipes (default: all) into ``out_dir`` (default ``$DSDVIZ_FIGURES`` or
    ``figures/``) and return the files written."""
    chosen = list(FIGURES) if not names else list(names)
    unknown = [name for name in chosen if name not in FIGURES]
    if unknown:
        raise ValueError(f"unknown figure(s) {unknown}; available: {', '.join(FIGURES)}")
    out = figures_dir() if out_dir is None else Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name in chosen:
        written += FIGURES[name].load()(quick, out)
    return written
