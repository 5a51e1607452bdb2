"""What an image-optimisation run keeps, and the checks that a run may continue another.

:class:`RunRecord` holds the per-step values, learning rates and snapshots of one run of
:func:`dsdviz.optimize.optimize_image` and the time spent, and turns them into a
:class:`~dsdviz.trajectory.Trajectory` (for the result, a checkpoint or a resumed run).
"""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Mapping
from typing import Any

import torch

from ..trajectory import Trajectory

#: settings that may differ when a run is resumed
RESUMABLE_DIFFERENCES = ("steps", "snapshot_steps", "device")
#: settings added since older trajectories were written, with the value those runs had
SETTING_DEFAULTS = {"precision": "fp32"}


class RunRecord:
    """Per-step values, learning rates, snapshots and wall time of one optimisation run.

    Values are stacked on the run's device and gathered to the CPU in blocks
    (:meth:`gather`), so that recording does not synchronise the device at every step.

    Args:
        start: the start image ``(1, 3, H, W)`` (snapshot 0).
        plan: the steps at which snapshots are kept.
        settings: the run's settings, stored with the trajectory.
    """

    def __init__(self, start: torch.Tensor, plan: list[int], settings: dict[str, Any]) -> None:
        self.plan, self.settings = plan, settings
        self.names: list[str] | None = None  # "objective" first, then the other entries
        self.done, self.wall_time = 0, 0.0
        self.rates: list[float] = []
        self.snapshots: dict[int, torch.Tensor] = {0: start.detach().to("cpu", copy=True)}
        self._prefix: list[torch.Tensor] = []  # (n, len(names)) float64 rows of a resumed trajectory
        self._rows: list[torch.Tensor] = []  # gathered rows
        self._pending: list[torch.Tensor] = []  # rows still on the device
        self._started = time.perf_counter()

    def continue_from(self, previous: Trajectory) -> None:
        """Take over the records of ``previous`` (checked by :func:`check_resume`) up to its last step."""
        self.done, self.wall_time = previous.final_step, previous.wall_time
        self.names = [name for name in previous.history if name != "lr"]
        self._prefix = [torch.stack([previous.history[name][: self.done] for name in self.names], dim=1)]
        self.rates = previous.history["lr"][: self.done].tolist()
        planned = set(self.plan) | set(previous.settings.get("snapshot_steps", ()))
        self.snapshots = {k: v for k, v in previous.snapshots.items() if k in planned}

    def record(self, terms: Mapping[str, torch.Tensor], rate: float) -> None:
        """Record the objective's entries (one-element tensors) at the current step, and ``rate``."""
        if self.names is None:
            self.names = ["objective", *(name for name in terms if name != "objective")]
        elif set(terms) != set(self.names):
            raise ValueError(f"objective returned entries {list(terms)}, expected {self.names} as before")
        self._pending.append(torch.stack([terms[name].detach().reshape(()).to(torch.float64) for name in self.names]))
        self.rates.append(rate)

    def gather(self) -> None:
        """Move the recorded values from the device to the CPU."""
        if self._pending:
            self._rows.append(torch.stack(self._pending).cpu())
            self._pending.clear()

    def last_objective(self) -> float:
        """The objective at the last gathered step."""
        return float(self._rows[-1][-1, 0])

    def keep(self, image: torch.Tensor) -> None:
        """Keep ``image`` as the snapshot of the current step."""
        self.snapshots[self.done] = image.detach().to("cpu", copy=True)

    def start_clock(self) -> None:
        self._started = time.perf_counter()

    def stop_clock(self) -> None:
        """Add the time since the clock (re)started to :attr:`wall_time`, and restart it."""
        now = time.perf_counter()
        self.wall_time += now - self._started
        self._started = now

    def truncate(self) -> None:
        """Drop a learning rate recorded beyond the current step (an update interrupted half-way)."""
        self.gather()
        del self.rates[self.done :]

    def trajectory(self, optimizer: torch.optim.Optimizer, interrupted: bool) -> Trajectory:
        """The run so far, with a CPU copy of the optimiser's state to resume from."""
        self.gather()
        rows = self._prefix + self._rows
        table = torch.cat(rows) if rows else torch.zeros(0, len(self.names or []), dtype=torch.float64)
        count = min(len(table), len(self.rates))
        history = {name: table[:count, i].clone() for i, name in enumerate(self.names or [])}
        history["lr"] = torch.tensor(self.rates[:count], dtype=torch.float64)
        state = copy.deepcopy(optimizer.state_dict())
        for values in state["state"].values():
            for key, value in values.items():
                if isinstance(value, torch.Tensor):
                    values[key] = value.cpu()
        snapshots = dict(sorted(self.snapshots.items()))
        return Trajectory(snapshots, history, self.settings, self.wall_time, interrupted, state)

    def checkpoint(self, path: str | os.PathLike, image: torch.Tensor, optimizer: torch.optim.Optimizer) -> None:
        """Save the run so far (with the current image as its last snapshot) as an interrupted trajectory."""
        self.stop_clock()
        self.keep(image)
        self.trajectory(optimizer, interrupted=True).save(path)
        if self.done not in self.plan:
            del self.snapshots[self.done]


def check_resume(previous: Trajectory, settings: dict[str, Any], start: torch.Tensor) -> None:
    """Raise a ``ValueError`` unless ``previous`` is an earlier part of the run described by ``settings``."""
    if previous.resume_state is None:
        raise ValueError("resume: the trajectory holds no optimiser state, so it cannot be continued")
    keys = (set(previous.settings) | set(settings)) - set(RESUMABLE_DIFFERENCES)
    before = {**SETTING_DEFAULTS, **previous.settings}
    differing = sorted(k for k in keys if before.get(k) != settings.get(k))
    if differing:
        details = "; ".join(f"{k}: {before.get(k)!r} vs {settings.get(k)!r}" for k in differing)
        raise ValueError(f"resume: the run's settings differ from the trajectory's ({details})")
    if previous.settings["steps"] != settings["steps"] and settings["schedule"] != "constant":
        raise ValueError(
            f"resume: changing the number of steps ({previous.settings['steps']} -> {settings['steps']}) "
            f"changes the {settings['schedule']!r} learning-rate schedule; only a constant schedule can be extended"
        )
    if previous.final_step > settings["steps"]:
        raise ValueError(
            f"resume: the trajectory already has {previous.final_step} steps, more than steps={settings['steps']}"
        )
    if previous.start.dtype != start.dtype or not torch.equal(previous.start, start.detach().cpu()):
        raise ValueError("resume: the start image differs from the trajectory's start (snapshot 0)")
