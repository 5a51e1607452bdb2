"""Image optimisation toward DSD targets: one gradient-descent engine and its two uses.

* :mod:`.engine`: :func:`optimize_image` optimises the pixels of one image for any
  objective, with snapshots, per-step records, Ctrl-C, checkpoints and exact resumption;
* :mod:`.record`: what a run keeps (:class:`RunRecord`) and when a run may continue another;
* :mod:`.objectives`: the paper's experiments, :func:`match_fingerprint` (Fig. 11) and
  :func:`minimize_dsd` (Fig. 12), with objectives built on :mod:`dsdviz.distances`.

The result is a :class:`~dsdviz.trajectory.Trajectory`.
"""

from ..fingerprint import dsd_label
from .engine import (
    RANGE_MODES,
    SCHEDULES,
    Objective,
    RangeMode,
    Schedule,
    default_device,
    learning_rate,
    optimize_image,
)
from .objectives import MatchKind, dsd_matching, dsd_norm, match_fingerprint, minimize_dsd, style_matching
from .record import RunRecord

__all__ = [
    "MatchKind",
    "Objective",
    "RANGE_MODES",
    "RangeMode",
    "RunRecord",
    "SCHEDULES",
    "Schedule",
    "default_device",
    "dsd_label",
    "dsd_matching",
    "dsd_norm",
    "learning_rate",
    "match_fingerprint",
    "minimize_dsd",
    "optimize_image",
    "style_matching",
]
