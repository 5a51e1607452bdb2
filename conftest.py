"""Test-session set-up shared by ``tests/`` and the notebooks that nbval runs.

Notebooks and figure recipes save figures to ``$DSDVIZ_FIGURES`` and training runs to
``$DSDVIZ_RUNS`` (see :mod:`dsdviz.experiments.settings`). For the test session both point
into one temporary folder, set here before any notebook kernel starts (kernels inherit the
environment), so ``make test`` leaves the checkout as it found it and never resumes a run
that an earlier session trained. A caller who sets the variables keeps them.
"""

from __future__ import annotations

import os
import shutil
import tempfile

from dsdviz.experiments.settings import FIGURES_ENV, RUNS_ENV

_SCRATCH = tempfile.mkdtemp(prefix="dsdviz-test-")
os.environ.setdefault(FIGURES_ENV, os.path.join(_SCRATCH, "figures"))
os.environ.setdefault(RUNS_ENV, os.path.join(_SCRATCH, "runs"))


def pytest_unconfigure(config) -> None:
    shutil.rmtree(_SCRATCH, ignore_errors=True)
