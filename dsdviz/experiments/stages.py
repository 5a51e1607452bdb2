"""Training runs of the experiments: two stages per task, the recipes' setting, and summaries of a run's log.

A restoration network is trained in two stages (:func:`dsdviz.training.preset`): stage 1
with L1 only, then stage 2 from its weights with a feature loss (DSD, or style losses for
Fig. 13). :func:`train_stages` runs both and resumes finished runs, so a finished run is
loaded, not repeated. :func:`quick_preset` runs a quick recipe at the smoke setting under
``DSDVIZ_SMOKE``. Quick figures use the CPU-trained models shipped with the package instead (:func:`load_shipped`, which also writes the note the figures print about them).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from ..models import DEFAULT_REGRESSORS, load_model, model_meta, steps_done
from ..training import TrainConfig, Trainer, history_table, preset, train
from ..training.presets import follow_steps
from .settings import runs_dir, smoke

History = Sequence[Mapping[str, Any]]



@contextmanager
def recipe_folders(quick: bool, out_dir: str | Path, name: str) -> Iterator[tuple[Path, Path]]:
    """``(runs, work)`` folders of a figure recipe: quick runs train in a temporary folder, full runs
    resume from :func:`~dsdviz.experiments.settings.runs_dir` ``(name)``, by default ``runs/<name>`` beside
    ``out_dir`` (``name=""``: that ``runs`` folder itself); ``work`` (outputs to score) is always temporary."""
    with tempfile.TemporaryDirectory(prefix=f"dsdviz_{name or 'runs'}_") as tmp:
        runs = Path(tmp) / "runs" if quick else runs_dir(name, Path(out_dir).resolve().parent / "runs")
        yield runs, Path(tmp) / "outputs"


def run_setting(quick: bool) -> str:
    """The training setting of a figure recipe: ``"smoke"`` (quick under ``DSDVIZ_SMOKE``), ``"quick"`` or
    ``"full"`` (:data:`dsdviz.training.presets.PRESETS`)."""
    return ("smoke" if smoke() else "quick") if quick else "full"


def quick_preset(task: str, quick: bool, **overrides: Any) -> TrainConfig:
    """:func:`dsdviz.training.preset` at the recipe's :func:`run_setting`."""
    return preset(task, run_setting(quick), **overrides)


@dataclass(frozen=True)
class TrainingSchedule:
    """Overrides of :func:`dsdviz.training.preset` for both stages (``None``: the preset's value).

    In quick mode the rate decay follows an overridden step count (the rule of
    :func:`dsdviz.training.presets.follow_steps`), so that a longer CPU run keeps one late decay.
    ``monitor=False`` turns off the fixed-batch loss (``monitor_every``) and ``validation=False`` the
    trainer's validation: the comparisons score the finished models themselves.
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
            chosen["decay_every"] = follow_steps(steps)["decay_every"]
        return chosen

    @property
    def setting(self) -> str:
        """``"quick"`` or ``"full"``."""
        return "quick" if self.quick else "full"


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
            (e.g. ``num_blocks=5``; ``perceptual_weight``/``feature_weight`` apply to stage 2).

    Returns:
        ``(stage-1 trainer, {feature loss: stage-2 trainer})``; ``.network`` is the model.
    """
    runs = Path(runs)
    stage2_only = {"perceptual_weight", "feature_weight"}
    common = {k: v for k, v in settings.items() if k not in stage2_only}
    first = train(
        preset(task, schedule.setting, out=str(runs / "psnr"), progress=progress, **schedule.overrides("psnr"), **common),
        resume=True,
    )
    second = {
        loss: train(
            preset(
                task, schedule.setting, stage="dsd", init=str(runs / "psnr" / "model.pt"), out=str(runs / loss),
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
    steps = "/".join(map(str, sorted({trainer.config.loop.steps for trainer in second.values()})))
    return f"quick mode: CPU-trained for {first.config.loop.steps} + {steps} steps, not the paper's models"


def shipped_note(names: Sequence[str]) -> str:
    """What a figure must say about shipped models, e.g. ``"CPU-trained models shipped with dsdviz, not the
    paper's: xsrresnet_sr_x4_psnr_cpu 7,000 steps (30 min), xsrresnet_sr_x4_dsd_cpu 2,500 steps (45 min)"``.
    A run stopped part-way through its schedule (a GPU lease) says so: ``"2,577 of 100,000 steps"``."""
    budgets, kinds = [], []
    for name in names:
        meta = model_meta(name)
        kinds.append("GPU" if "NVIDIA" in meta.get("hardware", "") else "CPU")
        minutes = f" ({meta['train_seconds'] / 60:.0f} min)" if "train_seconds" in meta else ""
        budgets.append(f"{name} {steps_done(meta)}{minutes}")
    trained = "- and ".join(dict.fromkeys(sorted(kinds))) + "-trained"
    return f"{trained} models shipped with dsdviz, not the paper's: " + ", ".join(budgets)


def load_shipped(names: Mapping[str, str]) -> tuple[dict[str, nn.Module], str]:
    """``({label: network}, note)``: the shipped models ``{label: name}`` and their :func:`shipped_note`."""
    return {label: load_model(name) for label, name in names.items()}, shipped_note(list(names.values()))


def load_regressors(models: Sequence[str | os.PathLike] = DEFAULT_REGRESSORS) -> list[nn.Module]:
    """The DSD regressors for the Q_DSD columns: shipped model names or files (default: the CPU-trained
    psi_2 and psi_4 shipped with the package, :data:`dsdviz.models.DEFAULT_REGRESSORS`)."""
    return [load_model(model) for model in models]


def first_last(
    history: History, term: str = "loss", fraction: float = 0.2, split: str = "train"
) -> tuple[float, float]:
    """Mean of ``term`` over the first and the last ``fraction`` of the logged entries of ``split``.

    ``split="train"``: the random training batches; ``"monitor"``: the fixed batch
    (``fraction=0`` gives its first and last values).
    """
    values = history_table(list(history), split)[term]
    n = max(1, int(len(values) * fraction))
    return float(values[:n].mean()), float(values[-n:].mean())


def validation_table(history: History) -> list[dict[str, Any]]:
    """The validation entries of a run (step 0 = before training), as rows."""
    return [dict(e) for e in history if e["split"] == "val"]
