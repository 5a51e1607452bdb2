"""A training run's settings: :class:`TrainConfig` = loop settings + the settings of one task.

Settings have unique names across the loop and the tasks, so a run can also be described
by one flat dict (``TrainConfig.flat``: what checkpoints and model files store under
``"train_config"``, and what :func:`dsdviz.training.preset` and ``dsdviz train`` accept).
"""

from __future__ import annotations

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

def field_names(cls: type) -> tuple[str, ...]:
    """The dataclass fields of ``cls``, in order."""
    return tuple(f.name for f in fields(cls))


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

        Older files may lack settings added since (they take their defaults: what that run used) or hold
        the other tasks' settings (dropped).

        Raises:
            ValueError: a setting no task has (e.g. a name from before a rename), named.
        """
        settings = dict(record)
        task = settings.pop("task")
        check_choice(task, TASKS, "task")
        everyone = {name for kind in (*TASK_SETTINGS.values(), LoopSettings) for name in field_names(kind)}
        unknown = sorted(set(settings) - everyone)
        if unknown:
            raise ValueError(f"the recorded settings hold names no task has: {', '.join(unknown)}")
        known = set(field_names(TASK_SETTINGS[task])) | set(field_names(LoopSettings))
        return cls.from_flat(task, **{name: value for name, value in settings.items() if name in known})

    def flat(self) -> dict[str, Any]:
        """``{"task": name, <task settings>, <loop settings>}``, as checkpoints store it."""
        return {"task": self.task.name, **asdict(self.task), **asdict(self.loop)}


__all__ = ["TASKS", "TASK_SETTINGS", "TrainConfig"]
