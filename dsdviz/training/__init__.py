"""Training the networks of the DSD paper: one loop, configured per task.

* :mod:`~dsdviz.training.settings`: the loop's settings (:class:`LoopSettings`) and what every task shares;
* :mod:`~dsdviz.training.restoration`: SR and deblurring with xSRResNet (:class:`SRSettings`,
  :class:`DeblurSettings`); :mod:`~dsdviz.training.regressor`: the DSD regressor (:class:`RegressorSettings`);
* :mod:`~dsdviz.training.config`: :class:`TrainConfig` (loop + task settings);
  :mod:`~dsdviz.training.presets`: :data:`PRESETS` (the settings, one record per task x stage x setting) and :func:`preset`;
* :mod:`~dsdviz.training.loop`: :class:`Trainer`, :func:`train`, :func:`history_table`;
  :mod:`~dsdviz.training.checkpoints`, :mod:`~dsdviz.training.distributed`,
  :mod:`~dsdviz.training.provenance` (:func:`code_version`).

Example::

    from dsdviz.training import preset, train

    run = train(preset("sr", "quick", steps=5, out="runs/sr_tiny"), resume=True)
    run.network, run.history, run.config.task.scale, run.config.loop.steps
"""

from .config import TASKS, TrainConfig
from .loop import Trainer, history_table, train
from .presets import preset
from .provenance import code_version
from .regressor import RegressorSettings
from .restoration import DeblurSettings, SRSettings
from .settings import LoopSettings

__all__ = [
    "TASKS",
    "DeblurSettings",
    "LoopSettings",
    "RegressorSettings",
    "SRSettings",
    "TrainConfig",
    "Trainer",
    "code_version",
    "history_table",
    "preset",
    "train",
]
