"""Where experiments write, and the smoke size used by the fast test tier.

Three settings share one code path: *quick* (minutes on 2 CPU cores: CI, ``make figures``),
*cpu* (hours on a CPU) and *full* (the paper's, for a GPU). Two environment variables
redirect or shrink a quick run without changing the code that runs:

``DSDVIZ_FIGURES`` / ``DSDVIZ_RUNS``
    folders for saved figures and for training runs (default ``figures/`` and ``runs/`` of the
    current project). The test suite points both at a temporary folder, so running the
    notebooks leaves the checkout untouched and never resumes a stale run.
``DSDVIZ_SMOKE``
    ``1``: every quick setting shrinks to a smoke size (2 steps, one tiny image): it checks that
    the code runs end to end, not what it computes (``make test-fast``).
"""

from __future__ import annotations

import os
from pathlib import Path

FIGURES_ENV = "DSDVIZ_FIGURES"
RUNS_ENV = "DSDVIZ_RUNS"
SMOKE_ENV = "DSDVIZ_SMOKE"

#: Steps of every optimisation or training loop at the smoke size.
SMOKE_STEPS = 2
#: Side in px of the (one) image of a smoke-size run; large enough for VGG19 up to relu3_1 at 1/4.
SMOKE_SIZE = 32
#: Tables whose stored version is a ``--full`` run (what the claims scorecard reads): a quick run writes
#: them under another name (:func:`table_stem`), so that ``make figures`` leaves the stored ones as they are.
FULL_RUN_TABLES = ("equal_budget", "noref_agreement", "noref_checks", "noref_lr_blur")


def smoke() -> bool:
    """True when ``DSDVIZ_SMOKE`` is set to a non-empty value other than ``0``."""
    return os.environ.get(SMOKE_ENV, "") not in ("", "0")


def table_stem(name: str, quick: bool) -> str:
    """The file stem the table ``name`` (one of :data:`FULL_RUN_TABLES`) is written under: ``<name>_quick``
    by a quick run, ``name`` by a full one."""
    if name not in FULL_RUN_TABLES:
        raise ValueError(f"{name!r} is not one of the tables stored from a full run {FULL_RUN_TABLES}")
    return f"{name}_quick" if quick else name


def _folder(env: str, default: str | os.PathLike) -> Path:
    folder = Path(os.environ.get(env) or default)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def figures_dir(default: str | os.PathLike = "figures") -> Path:
    """The folder figures are saved to: ``$DSDVIZ_FIGURES``, else ``default`` (created if missing)."""
    return _folder(FIGURES_ENV, default)


def runs_dir(name: str, default: str | os.PathLike = "runs") -> Path:
    """The folder of the training run ``name``: ``$DSDVIZ_RUNS/name``, else ``default/name``."""
    return _folder(RUNS_ENV, default) / name
