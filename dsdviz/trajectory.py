"""Optimisation trajectories: an image's snapshots along gradient descent, and per-step records.

A :class:`Trajectory` is what :func:`dsdviz.optimize.optimize_image` returns. It holds

* ``snapshots``: the image at chosen steps (``{step: (1, 3, H, W)}``, float, CPU). Step 0
  is the start and the last snapshot is the image after the last completed update;
* ``history``: one value per step and per name (``{name: (n,)}`` float64, CPU): the
  objective, the learning rate, and whatever terms the objective reports (for example
  ``"dsd/relu2_1"``, the ``||DSD||_1`` of that layer). ``history[name][k]`` is the value
  at the image of step ``k``, so it lines up with ``snapshots[k]``;
* ``settings``: plain values describing the run (objective, scales, layers, learning
  rate, image size, ...), and the ``wall_time`` spent optimising, in seconds;
* ``interrupted``: the run was stopped before its last step (Ctrl-C, or a checkpoint
  of a run still going); ``resume_state`` holds the optimiser state to continue it.

:meth:`Trajectory.save` writes one file (PyTorch's zip format, tensors and plain
Python values only, read back with ``weights_only=True``) atomically; :meth:`Trajectory.load`
returns an equal trajectory, bit for bit, on any machine: a long GPU run can be viewed
later on a laptop without recomputation.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from .validation import check_positive_int

FORMAT = "dsdviz.trajectory"
FORMAT_VERSION = 1


def log_steps(steps: int, mantissas: Sequence[float] = (1, 2.5, 5)) -> list[int]:
    """Roughly log-spaced snapshot steps: 0, then ``m * 10^k`` for ``m`` in ``mantissas``, then ``steps``.

    Examples:
        >>> log_steps(5000)
        [0, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000]
        >>> log_steps(60)
        [0, 1, 2, 5, 10, 25, 50, 60]
    """
    steps = check_positive_int(steps, "steps")
    chosen = {0, steps}
    for power in range(int(math.log10(steps)) + 1):
        chosen.update(int(round(m * 10**power)) for m in mantissas if m * 10**power <= steps)
    return sorted(chosen)


@dataclass(eq=False)
class Trajectory:
    """Snapshots and per-step records of one image optimisation (see the module docstring).

    Attributes:
        snapshots: ``{step: (1, 3, H, W)}`` images on the CPU, in the run's dtype.
        history: ``{name: (n,)}`` float64 values at steps ``0 .. n - 1``. A finished run
            has ``n = final_step + 1``; an interrupted one may lack its last step's value.
        settings: plain Python values that describe the run.
        wall_time: seconds spent in the optimisation loop (summed over resumed parts).
        interrupted: ``True`` when the run stopped before its planned number of steps.
        resume_state: the optimiser's ``state_dict()`` after the last update, to continue.
    """

    snapshots: dict[int, torch.Tensor]
    history: dict[str, torch.Tensor]
    settings: dict[str, Any] = field(default_factory=dict)
    wall_time: float = 0.0
    interrupted: bool = False
    resume_state: dict[str, Any] | None = None

    @property
    def steps(self) -> list[int]:
        """Steps with a snapshot, increasing."""
        return sorted(self.snapshots)

    @property
    def final_step(self) -> int:
        """Number of completed updates (the step of the last snapshot)."""
        return max(self.snapshots)

    @property
    def start(self) -> torch.Tensor:
        """The starting image ``(1, 3, H, W)``."""
        return self.snapshots[0]

    @property
    def final(self) -> torch.Tensor:
        """The image after the last completed update ``(1, 3, H, W)``."""
        return self.snapshots[self.final_step]

    def nearest_step(self, step: int) -> int:
        """The snapshot step closest to ``step`` (the earlier one on a tie)."""
        return min(self.steps, key=lambda s: (abs(s - step), s))

    def snapshot(self, step: int) -> torch.Tensor:
        """The image at ``step``; raises ``ValueError`` if no snapshot was kept there."""
        if step not in self.snapshots:
            raise ValueError(f"no snapshot at step {step}; snapshots were kept at steps {self.steps}")
        return self.snapshots[step]

    def value(self, name: str, step: int) -> float:
        """``history[name][step]``, or NaN when that step was not evaluated."""
        if name not in self.history:
            raise ValueError(f"no record {name!r}; recorded: {', '.join(self.history)}")
        series = self.history[name]
        return float(series[step]) if 0 <= step < len(series) else math.nan

    def save(self, path: str | os.PathLike) -> Path:
        """Write the trajectory to one file, atomically (a temporary file, then a rename).

        An interrupted write leaves any previous file at ``path`` intact. Parent folders
        are created. Returns the path written.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "snapshots": {int(k): v.detach().cpu() for k, v in self.snapshots.items()},
            "history": {k: v.detach().cpu() for k, v in self.history.items()},
            "settings": dict(self.settings),
            "wall_time": float(self.wall_time),
            "interrupted": bool(self.interrupted),
            "resume_state": self.resume_state,
        }
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            torch.save(payload, temporary)
            os.replace(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> Trajectory:
        """Read a file written by :meth:`save` (onto the CPU).

        Raises:
            ValueError: the file does not exist or is not a dsdviz trajectory.
        """
        path = Path(path)
        if not path.is_file():
            raise ValueError(f"trajectory file {str(path)!r} does not exist")
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as error:  # a zip/pickle error: not a file torch.save wrote
            raise ValueError(f"{str(path)!r} is not a dsdviz trajectory file: {error}") from error
        if not isinstance(payload, dict) or payload.get("format") != FORMAT:
            raise ValueError(f"{str(path)!r} is not a dsdviz trajectory file")
        if payload["version"] > FORMAT_VERSION:
            raise ValueError(
                f"{str(path)!r} has trajectory format version {payload['version']}; this dsdviz reads up to "
                f"{FORMAT_VERSION} (upgrade dsdviz)"
            )
        return cls(
            snapshots=payload["snapshots"],
            history=payload["history"],
            settings=payload["settings"],
            wall_time=payload["wall_time"],
            interrupted=payload["interrupted"],
            resume_state=payload["resume_state"],
        )

    def __repr__(self) -> str:
        size = "x".join(str(s) for s in self.start.shape[-2:])
        status = ", interrupted" if self.interrupted else ""
        return (
            f"Trajectory({self.settings.get('objective', 'objective')}, {size} px, {self.final_step} steps{status}, "
            f"{len(self.snapshots)} snapshots, {self.wall_time:.1f} s)"
        )


def snapshot_table(
    trajectory: Trajectory,
    measures: Mapping[str, Callable[[torch.Tensor], torch.Tensor]] | None = None,
    names: Sequence[str] | None = None,
) -> list[dict[str, float]]:
    """One row per snapshot: its step, recorded values, and measures of the image.

    Args:
        trajectory: the run.
        measures: ``{column: function}`` applied to each snapshot ``(1, 3, H, W)``; each
            returns a one-element tensor (e.g. :func:`dsdviz.sharpness.mean_gradient_magnitude`).
        names: history entries to include (default: all).

    Returns:
        ``[{"step": k, <name>: history value at k (NaN if not evaluated), <measure>: value}]``.
    """
    names = list(trajectory.history) if names is None else list(names)
    rows = []
    for step in trajectory.steps:
        row: dict[str, float] = {"step": step}
        row.update({name: trajectory.value(name, step) for name in names})
        for column, measure in (measures or {}).items():
            row[column] = float(measure(trajectory.snapshots[step]).reshape(-1)[0])
        rows.append(row)
    return rows
