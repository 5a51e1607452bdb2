"""A training run's settings: :class:`TrainConfig` = loop settings + the settings of one task.

Settings have unique names across the loop and the tasks, so a run can also be described
by one flat dict (``TrainConfig.flat``: what checkpoints and model files store under
``"train_config"``, and what :func:`dsdviz.training.preset` and ``dsdviz train`` accept).
``dsd_weight``, the name of ``feature_weight`` before it also weighed the style losses, is
still accepted (with a ``DeprecationWarning``) and read from older checkpoints; so is
``amp``, the switch that ``precision`` replaces (:data:`AMP_PRECISION`).
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from ..validation import check_choice
from .regressor import RegressorSettings
from .restoration import DeblurSettings, SRSettings
from .settings import LoopSettings, TaskSettings

#: Task name -> its settings class.
TASK_SETTINGS: dict[str, type[TaskSettings]] = {
    cls.name: cls for cls in (SRSettings, DeblurSettings, RegressorSettings)
}
TASKS: tuple[str, ...] = tuple(TASK_SETTINGS)

#: Former setting names -> current ones.
RENAMED: dict[str, str] = {"dsd_weight": "feature_weight"}
#: ``amp`` -> ``precision``: ``True`` (mixed precision on CUDA, float32 on CPU) is the default ``None``.
AMP_PRECISION: dict[bool, str | None] = {True: None, False: "fp32"}


def field_names(cls: type) -> tuple[str, ...]:
    """The dataclass fields of ``cls``, in order."""
    return tuple(f.name for f in fields(cls))


def _renamed(settings: dict[str, Any], warn: bool) -> dict[str, Any]:
    for old, new in RENAMED.items():
        if old in settings:
            if warn:
                warnings.warn(f"the setting {old} is now called {new}", DeprecationWarning, stacklevel=4)
            settings = {new if name == old else name: value for name, value in settings.items()}
    if "amp" in settings:
        if warn:
            warnings.warn("the setting amp is replaced by precision (amp=False: precision='fp32')",
                          DeprecationWarning, stacklevel=4)  # fmt: skip
        if "precision" in settings:
            raise ValueError("give precision or the former amp, not both")
        amp = settings["amp"]
        settings = {name: value for name, value in settings.items() if name != "amp"}
        settings["precision"] = AMP_PRECISION[bool(amp)]
    return settings


@dataclass
class TrainConfig:
    """Every setting of a training run: ``task`` (:class:`~dsdviz.training.SRSettings`,
    :class:`~dsdviz.training.DeblurSettings` or :class:`~dsdviz.training.RegressorSettings`)
    and ``loop`` (:class:`~dsdviz.training.LoopSettings`). See :func:`dsdviz.training.preset`
    for the paper's values, :meth:`from_flat` to give settings by name."""

    task: TaskSettings
    loop: LoopSettings = field(default_factory=LoopSettings)

    @classmethod
    def from_flat(cls, task: str, **settings: Any) -> TrainConfig:
        """The config of ``task`` with ``settings`` by name, each routed to the loop or the task.

        Example: ``TrainConfig.from_flat("sr", data="images/", steps=10, num_blocks=2)``.

        Raises:
            ValueError: on an unknown task, a setting of no task, or one of another task.
        """
        check_choice(task, TASKS, "task")
        settings = _renamed(settings, warn=True)
        kind = TASK_SETTINGS[task]
        own, loop = field_names(kind), field_names(LoopSettings)
        strays = [name for name in settings if name not in own and name not in loop]
        if strays:
            owners = {name: [t for t, c in TASK_SETTINGS.items() if name in field_names(c)] for name in strays}
            detail = "; ".join(f"{name} (a setting of {', '.join(owners[name])})" if owners[name] else
                               f"{name} (unknown)" for name in strays)  # fmt: skip
            raise ValueError(f"not settings of task {task!r}: {detail}")
        return cls(
            kind(**{name: value for name, value in settings.items() if name in own}),
            LoopSettings(**{name: value for name, value in settings.items() if name in loop}),
        )

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> TrainConfig:
        """The config stored in a checkpoint or model file (``"train_config"``), flat as :meth:`flat` writes it.

        Older files may lack settings added since (they take their defaults: what that run
        used), hold former names (:data:`RENAMED`) or the other tasks' settings (dropped).
        """
        settings = _renamed(dict(record), warn=False)
        task = settings.pop("task")
        check_choice(task, TASKS, "task")
        known = set(field_names(TASK_SETTINGS[task])) | set(field_names(LoopSettings))
        return cls.from_flat(task, **{name: value for name, value in settings.items() if name in known})

    def flat(self) -> dict[str, Any]:
        """``{"task": name, <task settings>, <loop settings>}``, as checkpoints store it."""
        return {"task": self.task.name, **asdict(self.task), **asdict(self.loop)}


__all__ = ["AMP_PRECISION", "RENAMED", "TASKS", "TASK_SETTINGS", "TrainConfig"]
