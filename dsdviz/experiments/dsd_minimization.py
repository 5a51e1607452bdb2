"""Supplementary Fig. 12: gradient descent on ``||DSD_4(x)||_1`` from an ESRGAN result.

:class:`DSDMinimizationSetup` has a ``quick()`` setting (a 96 px crop, tens of steps: well
under a minute on 2 CPU cores) and a ``full()`` one (the whole image and the paper's 5000
steps: a GPU). Both run the same code; the notebook ``fig12_dsd_minimization.ipynb`` calls
the same functions. Image paths are relative to the data folder (``$DSDVIZ_DATA``) unless
absolute.

When the start image is an SR result of the data folder (``sr_results/<method>/<set>/<name>.png``),
its ground truth ``<set>/HR/<name>.png`` (:func:`truth_path`, cropped the same way) shows where
a natural image sits: :func:`versus_truth` gives its own ``||DSD_alpha||_1`` and sharpness and,
per snapshot, the distances to it; :func:`lr_sweep` runs the minimisation at several learning
rates and reports, per rate, the sharpness peak and the step where ``||DSD||`` crosses the
natural level.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import torch
from tqdm.auto import tqdm

from ..data import Box, data_root, load_input
from ..evaluation import write_csv
from ..features import LAYER_PRESETS
from ..fingerprint import dsd
from ..metrics import dsd_distance_to, psnr, reference_dsd, ssim
from ..optimize import minimize_dsd
from ..precision import Precision
from ..sharpness import mean_gradient_magnitude
from ..trajectory import Trajectory, log_steps
from ..viz.layout import DETAIL_DPI, DPI
from ..viz.optimization import plot_dsd_minimization
from ..viz.sweep import plot_lr_sweep
from .settings import SMOKE_SIZE, SMOKE_STEPS, smoke

#: Border (px) left out of the PSNR and SSIM to the ground truth: the SR scale of the start images.
TRUTH_SHAVE = 4


@dataclass(frozen=True)
class DSDMinimizationSetup:
    """Settings of Fig. 12: gradient descent on ``||DSD_alpha(x)||_1`` from a 4x SR result.

    The default start is the official ESRGAN output for Set14 ``baboon`` (the paper's
    example). ``shown`` are the steps drawn in the figure (the paper: 0, 500, 5000). The
    paper does not state its learning rate; at the default 2e-4 (constant), a 256 px crop
    of that image has its ``||DSD_4||_1`` lowered 4.8x after 500 steps and 9.2x after 1000.
    ``sweep`` are the learning rates :func:`lr_sweep` compares.
    """

    image: str = "sr_results/ESRGAN/Set14/baboon.png"
    crop: int | Box | None = None
    alpha: float = 4
    layers: tuple[str, ...] = LAYER_PRESETS["dsd"]
    steps: int = 5000
    lr: float = 2e-4
    shown: tuple[int, ...] = (0, 500, 5000)
    sweep: tuple[float, ...] = (3e-4, 1e-3, 3e-3, 1e-2)

    @classmethod
    def quick(cls) -> DSDMinimizationSetup:
        """The central 192 px, 200 steps at lr 3e-3: about a minute on 2 CPU cores (smoke size: a 32 px
        crop, 2 steps).

        Chosen from :func:`lr_sweep` (the notebook gives the numbers): on this crop the ground truth's
        ``||DSD_4||_1`` is just below ESRGAN's, and at 3e-3 the sharpness peaks near the ground truth's
        level at about step 50 and falls after it, the shape the paper reports at 500 of 5000 steps. The
        earlier quick crop (96 px around the right eye) cannot show it: there the ground truth's
        ``||DSD_4||_1`` is *above* ESRGAN's, so minimising moves away from it at every rate. The quick sweep
        sets 3e-3 beside the slower 1e-3, which reaches the ground truth's sharpness without passing it
        (the full sweep adds 3e-4 and 1e-2).
        """
        if smoke():
            return cls(crop=Box.square(0, 300, SMOKE_SIZE), steps=SMOKE_STEPS, lr=1e-2, shown=(0, 1, SMOKE_STEPS),
                       sweep=(1e-2,))
        return cls(crop=192, steps=200, lr=3e-3, shown=(0, 50, 200), sweep=(1e-3, 3e-3))

    @classmethod
    def full(cls) -> DSDMinimizationSetup:
        """The whole 500 x 480 image and 5000 steps, as in the paper; meant for a GPU."""
        return cls()


def sweep_snapshots(steps: int) -> list[int]:
    """Snapshot steps at 1, 1.5, 2, 3, 5 and 7 times the powers of ten up to ``steps``: every run keeps them, so
    that :func:`lr_sweep` locates a sharpness peak to about a third of its step and can reuse any run."""
    return log_steps(steps, (1, 1.5, 2, 3, 5, 7))


def run_dsd_minimization(
    setup: DSDMinimizationSetup,
    device: torch.device | str | None = None,
    progress: bool = True,
    checkpoint: str | Path | None = None,
    resume: bool = False,
    precision: Precision = "fp32",
    extra_snapshots: Sequence[int] = (),
) -> Trajectory:
    """Run Fig. 12's optimisation, with snapshots at :func:`~dsdviz.trajectory.log_steps`, at ``shown``
    and at ``extra_snapshots`` (steps past ``setup.steps`` are ignored).

    With ``checkpoint``, the trajectory is saved there as it runs; ``resume=True``
    continues from that file when it exists. ``precision``: the VGG19 passes' numeric path
    (:func:`dsdviz.minimize_dsd`; fp32 by default, so the figure's numbers are float32's).
    """
    image = load_input(setup.image, setup.crop)
    kept = {s for s in (*setup.shown, *extra_snapshots, *sweep_snapshots(setup.steps)) if s <= setup.steps}
    snapshots = sorted(set(log_steps(setup.steps)) | kept)
    previous = checkpoint if resume and checkpoint is not None and Path(checkpoint).is_file() else None
    return minimize_dsd(
        image,
        setup.alpha,
        setup.layers,
        steps=setup.steps,
        lr=setup.lr,
        snapshots=snapshots,
        device=device,
        progress=progress,
        checkpoint=checkpoint,
        resume=previous,
        precision=precision,
    )


def truth_path(image: str | os.PathLike) -> Path | None:
    """The ground truth of an SR result: ``.../sr_results/<method>/<set>/<name>.png`` -> ``.../<set>/HR/<name>.png``.

    ``None`` for any other path. The file is not checked (see :func:`load_truth`).
    """
    parts = Path(image).parts
    if "sr_results" not in parts[:-3]:
        return None
    at = len(parts) - 1 - parts[::-1].index("sr_results")
    if len(parts) != at + 4:
        return None
    return Path(*parts[:at], parts[at + 2], "HR", parts[at + 3])


def load_truth(setup: DSDMinimizationSetup) -> torch.Tensor | None:
    """The ground truth of ``setup.image``, cropped as the start image ``(1, 3, h, w)``; ``None`` if it has none.

    Raises:
        ValueError: the ground truth's crop and the start image's differ in size.
    """
    path = truth_path(setup.image)
    if path is None or not (path if path.is_absolute() else data_root() / path).is_file():
        return None
    truth, start = load_input(path, setup.crop), load_input(setup.image, setup.crop)
    if truth.shape != start.shape:
        shapes = f"{tuple(truth.shape)}, the start image to {tuple(start.shape)}"
        raise ValueError(f"ground truth {str(path)!r} crops to {shapes}")
    return truth


@dataclass(frozen=True)
class GroundTruthLevels:
    """Where the ground truth sits beside a DSD-minimisation trajectory (what the figures draw).

    Attributes:
        image: the ground-truth crop ``(1, 3, h, w)`` in ``[0, 1]``.
        objective: its own value of the trajectory's objective, ``||DSD_alpha(truth)||_1``.
        sharpness: its mean gradient magnitude (:func:`dsdviz.sharpness.mean_gradient_magnitude`).
        crossing: the first step where the objective curve reaches the truth's level from the start's
            side (:func:`crossing_step`); ``None`` if it never does.
        steps: the trajectory's snapshot steps; the lists below hold one value per step.
        snapshot_sharpness: mean gradient magnitude of each snapshot.
        psnr, ssim: of each snapshot against the truth (dB; Y channel, 8 bits, :data:`TRUTH_SHAVE` px shaved).
        dsd_distance: of each snapshot to the truth (:func:`dsdviz.metrics.dsd_distance`, mean over layers).
    """

    image: torch.Tensor
    objective: float
    sharpness: float
    crossing: int | None
    steps: list[int]
    snapshot_sharpness: list[float]
    psnr: list[float]
    ssim: list[float]
    dsd_distance: list[float]


def crossing_step(values: Sequence[float] | torch.Tensor, level: float) -> int | None:
    """The first index ``k > 0`` where ``values[k]`` is on ``level``'s other side from ``values[0]`` or on it.

    ``None`` when the curve never gets there (or starts on the level). E.g. ``[3, 2, 1, 0]`` and level
    1.5 -> 2; ``[1, 2, 3]`` and level 2 -> 1.
    """
    series = [float(v) for v in values]
    side = series[0] > level
    if series[0] == level:
        return None
    return next((k for k, v in enumerate(series) if k and (v <= level if side else v >= level)), None)


def versus_truth(trajectory: Trajectory, truth: torch.Tensor) -> GroundTruthLevels:
    """The ground truth's levels, and each snapshot's distances to it.

    Args:
        trajectory: from :func:`dsdviz.minimize_dsd` (its settings give ``alpha``, ``base`` and the layers).
        truth: the ground truth ``(1, 3, h, w)`` in ``[0, 1]``, the snapshots' size.
    """
    settings = trajectory.settings
    level = dsd(truth, settings["alpha"], tuple(settings["layers"]), base=settings["base"]).norms()["mean"]
    reference = reference_dsd(truth)
    images = [trajectory.snapshots[step].float() for step in trajectory.steps]
    return GroundTruthLevels(
        image=truth,
        objective=float(level[0]),
        sharpness=float(mean_gradient_magnitude(truth)[0]),
        crossing=crossing_step(trajectory.history["objective"], float(level[0])),
        steps=trajectory.steps,
        snapshot_sharpness=[float(mean_gradient_magnitude(x)[0]) for x in images],
        psnr=[float(psnr(x, truth, shave=TRUTH_SHAVE)[0]) for x in images],
        ssim=[float(ssim(x, truth, shave=TRUTH_SHAVE)[0]) for x in images],
        dsd_distance=[float(dsd_distance_to(x, reference)["mean"][0]) for x in images],
    )


@dataclass(frozen=True)
class SweepRow:
    """One learning rate of :func:`lr_sweep`.

    Attributes:
        lr: the (constant) Adam learning rate.
        peak_step: the snapshot step of the highest sharpness (mean gradient magnitude).
        peak_sharpness, truth_sharpness: the sharpness there, and the ground truth's.
        crossing: the first step where ``||DSD_alpha||_1`` reaches the ground truth's level (``None``: never).
        final_psnr: PSNR of the last image to the ground truth (dB).
        trajectory, truth: the run and its :func:`versus_truth` (for the sweep's figure).
    """

    lr: float
    peak_step: int
    peak_sharpness: float
    truth_sharpness: float
    crossing: int | None
    final_psnr: float
    trajectory: Trajectory
    truth: GroundTruthLevels


def lr_sweep(
    setup: DSDMinimizationSetup,
    lrs: Sequence[float] | None = None,
    device: torch.device | str | None = None,
    progress: bool = True,
    known: Mapping[float, Trajectory] | None = None,
) -> list[SweepRow]:
    """Fig. 12's minimisation at each learning rate of ``lrs`` (default ``setup.sweep``; else ``setup``'s
    settings), against the ground truth.

    Snapshots are kept at :func:`sweep_snapshots`, so that the sharpness peak is located to about a third
    of its step. ``known``: ``{lr: trajectory}`` of runs of ``setup`` already made at some of the rates
    (:func:`run_dsd_minimization`, e.g. the notebook's main run), used instead of running them again.

    Raises:
        ValueError: ``setup.image`` has no ground truth in the data folder (:func:`truth_path`).
    """
    truth = load_truth(setup)
    if truth is None:
        raise ValueError(f"{setup.image!r} has no ground truth in the data folder (not sr_results/<method>/<set>/...)")
    rows = []
    for lr in tqdm(setup.sweep if lrs is None else lrs, desc="learning rates", disable=not progress):
        run = replace(setup, lr=lr)
        trajectory = (known or {}).get(lr)
        if trajectory is None or set(sweep_snapshots(setup.steps)) - set(trajectory.steps):
            trajectory = run_dsd_minimization(run, device=device, progress=False)
        levels = versus_truth(trajectory, truth)
        peak = max(range(len(levels.steps)), key=lambda i: levels.snapshot_sharpness[i])
        rows.append(
            SweepRow(lr, levels.steps[peak], levels.snapshot_sharpness[peak], levels.sharpness, levels.crossing,
                     levels.psnr[-1], trajectory, levels)  # fmt: skip
        )
    return rows


def trajectory_rows(
    trajectory: Trajectory, levels: GroundTruthLevels, setup: DSDMinimizationSetup
) -> list[dict[str, float | int | str]]:
    """Fig. 12's numbers: one row per snapshot (step, ``||DSD_alpha||_1``, sharpness, PSNR, SSIM and DSD
    distance to the ground truth, whether the figure shows it), then the ground truth's row (``step``
    ``"truth"``: its objective and sharpness), each with the run's steps, rate and crop."""
    objective = trajectory.history["objective"]
    run = {"steps": setup.steps, "lr": setup.lr, "crop": str(setup.crop)}
    rows: list[dict[str, float | int | str]] = [
        {"step": step, "objective": float(objective[step]) if step < len(objective) else float("nan"),
         "sharpness": sharp, "psnr": db,
         "ssim": similarity, "dsd_distance": distance, "shown": int(step in setup.shown), **run}
        for step, sharp, db, similarity, distance in zip(levels.steps, levels.snapshot_sharpness, levels.psnr,
                                                         levels.ssim, levels.dsd_distance)
    ]  # fmt: skip
    rows.append({"step": "truth", "objective": levels.objective, "sharpness": levels.sharpness, **run})
    return rows


def fig12_figure(quick: bool, out_dir: Path) -> list[Path]:
    """``fig12_dsd_minimization.png`` (the ``dsdviz figures`` recipe), beside the ground truth if there is one,
    and then its numbers, ``fig12_dsd_minimization.csv`` (:func:`trajectory_rows`)."""
    setup = DSDMinimizationSetup.quick() if quick else DSDMinimizationSetup.full()
    trajectory = run_dsd_minimization(setup)
    truth = load_truth(setup)
    levels = None if truth is None else versus_truth(trajectory, truth)
    path = Path(out_dir) / "fig12_dsd_minimization.png"
    plot_dsd_minimization(trajectory, setup.shown, truth=levels).savefig(path, dpi=DPI if quick else DETAIL_DPI)
    if levels is None:
        return [path]
    return [path, write_csv(path.with_suffix(".csv"), trajectory_rows(trajectory, levels, setup))]


def sweep_rows(rows: Sequence[SweepRow]) -> list[dict[str, float | int | str]]:
    """The numbers of :func:`lr_sweep`, one row per learning rate."""
    return [
        {"lr": r.lr, "peak_step": r.peak_step, "peak_sharpness": r.peak_sharpness, "truth_sharpness": r.truth_sharpness,
         "crossing": "" if r.crossing is None else r.crossing, "final_psnr": r.final_psnr,
         "steps": r.trajectory.steps[-1]}
        for r in rows
    ]  # fmt: skip


def fig12_lr_sweep(quick: bool, out_dir: Path) -> list[Path]:
    """``fig12_lr_sweep.png``: :func:`lr_sweep` on the quick or the full setting (the ``dsdviz figures`` recipe),
    and its numbers, ``fig12_lr_sweep.csv`` (:func:`sweep_rows`)."""
    setup = DSDMinimizationSetup.quick() if quick else DSDMinimizationSetup.full()
    rows = lr_sweep(setup)
    path = Path(out_dir) / "fig12_lr_sweep.png"
    plot_lr_sweep(rows).savefig(path, dpi=DPI if quick else DETAIL_DPI)
    return [path, write_csv(path.with_suffix(".csv"), sweep_rows(rows))]
