"""The gradient-descent engine: :func:`optimize_image` optimises the pixels of one image.

The parameter is the image itself, kept in ``[0, 1]`` by projection after every update or
by a range penalty, updated by Adam with a learning-rate schedule, for any objective built
from the losses. The run records the objective and every term the objective reports at
every step, keeps snapshots at chosen steps, shows a progress bar, returns the partial
trajectory on Ctrl-C, and can checkpoint atomically and resume exactly
(:mod:`.record`, :class:`~dsdviz.trajectory.Trajectory`).

Step ``k`` means "after ``k`` updates": step 0 is the start image and the values
recorded at step ``k`` are those of the image of step ``k``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, TypedDict

import torch
from tqdm.auto import tqdm

from ..losses import range_loss
from ..trajectory import Trajectory, log_steps
from ..validation import check_choice, check_image, check_positive, check_positive_int
from .record import RunRecord, check_resume

#: ``objective(x)`` for an image ``x`` ``(1, 3, H, W)``: ``{"objective": scalar to minimise,
#: <name>: scalar recorded at every step, ...}``.
Objective = Callable[[torch.Tensor], Mapping[str, torch.Tensor]]
Schedule = Literal["constant", "step", "cosine"]
RangeMode = Literal["clamp", "penalty"]


class RunOptions(TypedDict, total=False):
    """The keyword options of :func:`optimize_image` that the experiments pass through unchanged
    (:func:`~dsdviz.optimize.match_fingerprint`, :func:`~dsdviz.optimize.minimize_dsd`)."""

    keep_in_range: RangeMode
    range_weight: float
    snapshots: Sequence[int] | None
    checkpoint: str | os.PathLike | None
    checkpoint_every: int
    resume: Trajectory | str | os.PathLike | None
    progress: bool

SCHEDULES = ("constant", "step", "cosine")
RANGE_MODES = ("clamp", "penalty")

#: how often (in steps) recorded values are gathered from the device and shown
_SYNC_EVERY = 20


def default_device() -> torch.device:
    """CUDA when available, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def learning_rate(step: int, steps: int, lr: float, schedule: Schedule) -> float:
    """Learning rate of update ``step`` (0-based) of a ``steps``-update run.

    * ``"constant"``: ``lr`` throughout;
    * ``"step"``: halved after each third of the run (``lr``, ``lr / 2``, ``lr / 4``), the
      schedule of the DSD authors' image-optimisation experiments;
    * ``"cosine"``: ``lr * (1 + cos(pi * step / steps)) / 2``, from ``lr`` down to 0.
    """
    if schedule == "constant":
        return lr
    if schedule == "step":
        return lr * 0.5 ** min(2, 3 * step // steps)
    if schedule == "cosine":
        return lr * 0.5 * (1 + math.cos(math.pi * min(step, steps) / steps))
    raise ValueError(f"schedule: expected one of {', '.join(map(repr, SCHEDULES))}, got {schedule!r}")


def one_image(x: object, name: str) -> torch.Tensor:
    """Check that ``x`` is one image ``(1, 3, H, W)`` in ``[0, 1]``."""
    image = check_image(x, name)
    if image.shape[0] != 1:
        raise ValueError(f"{name}: expected one image (1, 3, H, W), got a batch of {image.shape[0]}")
    return image


def _snapshot_plan(snapshots: Sequence[int] | None, steps: int) -> list[int]:
    if snapshots is None:
        return log_steps(steps)
    chosen = set()
    for step in snapshots:
        if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step <= steps:
            raise ValueError(f"snapshots: expected integer steps in [0, {steps}], got {step!r}")
        chosen.add(step)
    return sorted(chosen | {0, steps})


class _Descent:
    """One run: the image, Adam, the schedule, the objective and the :class:`RunRecord`."""

    def __init__(self, start: torch.Tensor, objective: Objective, record: RunRecord) -> None:
        settings = record.settings
        self.objective, self.record = objective, record
        self.steps, self.lr, self.schedule = settings["steps"], settings["lr"], settings["schedule"]
        self.clamp = settings["keep_in_range"] == "clamp"
        self.range_weight = settings["range_weight"]
        self.image = start.detach().clone().requires_grad_(True)
        self.optimizer = torch.optim.Adam([self.image], lr=self.lr)

    def resume(self, previous: Trajectory) -> None:
        """Continue ``previous`` from its last step, with its optimiser state."""
        self.record.continue_from(previous)
        with torch.no_grad():
            self.image.copy_(previous.final)
        self.optimizer.load_state_dict(previous.resume_state)  # type: ignore[arg-type]

    def evaluate(self, rate: float) -> torch.Tensor:
        """The loss to minimise at the current image; records every entry of the objective."""
        terms = dict(self.objective(self.image))
        if "objective" not in terms:
            raise ValueError(f"objective must return a dict with an 'objective' entry, got keys {list(terms)}")
        loss = terms["objective"]
        if not self.clamp:
            terms["range_penalty"] = range_loss(self.image)
            loss = loss + self.range_weight * terms["range_penalty"]
        bad = [name for name, value in terms.items() if not isinstance(value, torch.Tensor) or value.numel() != 1]
        if bad:
            raise ValueError(f"objective entries must be one-element tensors; not so: {bad}")
        self.record.record(terms, rate)
        return loss

    def step(self) -> None:
        """One Adam update (and the projection onto ``[0, 1]`` in clamp mode)."""
        rate = learning_rate(self.record.done, self.steps, self.lr, self.schedule)
        for group in self.optimizer.param_groups:
            group["lr"] = rate
        self.optimizer.zero_grad(set_to_none=True)
        self.evaluate(rate).backward()
        self.optimizer.step()
        if self.clamp:
            with torch.no_grad():
                self.image.clamp_(0, 1)
        self.record.done += 1

    def run(self, checkpoint: str | os.PathLike | None, checkpoint_every: int, bar: tqdm) -> bool:
        """Update until the last step; return whether the run was interrupted (Ctrl-C)."""
        record = self.record
        record.start_clock()
        try:
            while record.done < self.steps:
                self.step()
                if record.done in record.plan:
                    record.keep(self.image)
                bar.update(1)
                if record.done % _SYNC_EVERY == 0:
                    record.gather()
                    bar.set_postfix(objective=f"{record.last_objective():.4g}")
                if checkpoint is not None and record.done % checkpoint_every == 0 and record.done < self.steps:
                    record.checkpoint(checkpoint, self.image, self.optimizer)
            with torch.no_grad():
                self.evaluate(learning_rate(self.steps, self.steps, self.lr, self.schedule))
            interrupted = False
        except KeyboardInterrupt:
            interrupted = record.done < self.steps
            record.truncate()
            if self.clamp:
                with torch.no_grad():
                    self.image.clamp_(0, 1)
            record.keep(self.image)
        finally:
            bar.close()
        record.stop_clock()
        return interrupted


def optimize_image(
    start: torch.Tensor,
    objective: Objective,
    *,
    steps: int,
    lr: float = 1e-3,
    schedule: Schedule = "constant",
    keep_in_range: RangeMode = "clamp",
    range_weight: float = 1.0,
    snapshots: Sequence[int] | None = None,
    settings: Mapping[str, Any] | None = None,
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: int = 500,
    resume: Trajectory | str | os.PathLike | None = None,
    progress: bool = True,
    description: str = "optimising",
) -> Trajectory:
    """Optimise the pixels of an image with Adam, keeping snapshots and per-step records.

    Args:
        start: the initial image ``(1, 3, H, W)`` in ``[0, 1]``; the run happens on its
            device and in its dtype.
        objective: ``objective(x) -> {"objective": scalar, <name>: scalar, ...}``; the
            ``"objective"`` entry is minimised and every entry is recorded at every step.
            It is also called once under ``torch.no_grad()`` for the final image.
        steps: number of updates (> 0).
        lr: Adam's learning rate, in image units (``[0, 1]`` range) per step.
        schedule: ``"constant"``, ``"step"`` (halved after each third) or ``"cosine"``;
            see :func:`learning_rate`.
        keep_in_range: ``"clamp"`` projects the image onto ``[0, 1]`` after every update;
            ``"penalty"`` adds ``range_weight * range_loss(x)`` to the objective instead
            (recorded as ``"range_penalty"``) and leaves the values free.
        range_weight: weight of the range penalty (``keep_in_range="penalty"`` only).
        snapshots: steps at which to keep the image (0 and ``steps`` are always kept);
            default: :func:`~dsdviz.trajectory.log_steps` (0, 1, 2, 5, 10, 25, 50, ...).
        settings: plain values describing the objective, stored with the trajectory and
            compared on resume.
        checkpoint: a file to save the trajectory to (atomically) every
            ``checkpoint_every`` steps and when the run ends or is interrupted.
        checkpoint_every: steps between checkpoints.
        resume: a trajectory (or its file) of the same run to continue from its last
            step, with its optimiser state: the result equals an uninterrupted run. A
            finished run with a constant schedule can be extended to more steps.
        progress: show a tqdm progress bar.
        description: the progress bar's label.

    Returns:
        A :class:`~dsdviz.trajectory.Trajectory`. Its ``history`` has ``"objective"``,
        every entry of the objective, ``"range_penalty"`` (penalty mode) and ``"lr"`` (the
        rate of the update made from that step). On ``KeyboardInterrupt`` (Ctrl-C) the run
        stops and the partial trajectory is returned with ``interrupted=True``: its last
        snapshot is the current image, the history covers the steps before it.

    Raises:
        ValueError: bad image, ``steps``, ``lr``, schedule, mode or snapshot steps; an
            objective without an ``"objective"`` entry or with non-scalar entries; a
            ``resume`` trajectory from a different run.
    """
    one_image(start, "start")
    steps = check_positive_int(steps, "steps")
    lr = check_positive(lr, "lr")
    check_choice(schedule, SCHEDULES, "schedule")
    check_choice(keep_in_range, RANGE_MODES, "keep_in_range")
    range_weight = check_positive(range_weight, "range_weight", allow_zero=True)
    checkpoint_every = check_positive_int(checkpoint_every, "checkpoint_every")
    plan = _snapshot_plan(snapshots, steps)
    run_settings: dict[str, Any] = {
        **dict(settings or {}),
        "steps": steps,
        "lr": lr,
        "schedule": schedule,
        "keep_in_range": keep_in_range,
        "range_weight": range_weight,
        "snapshot_steps": plan,
        "size": list(start.shape[-2:]),
        "dtype": str(start.dtype).removeprefix("torch."),
        "device": str(start.device),
    }
    descent = _Descent(start, objective, RunRecord(start, plan, run_settings))
    if resume is not None:
        previous = resume if isinstance(resume, Trajectory) else Trajectory.load(resume)
        check_resume(previous, run_settings, start)
        descent.resume(previous)
    done = descent.record.done
    bar = tqdm(total=steps, initial=done, desc=description, unit="step", disable=not progress, leave=True)
    interrupted = descent.run(checkpoint, checkpoint_every, bar)
    result = descent.record.trajectory(descent.optimizer, interrupted)
    if checkpoint is not None:
        result.save(checkpoint)
    return result
