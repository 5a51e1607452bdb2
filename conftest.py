"""Test-session set-up shared by ``tests/``, the notebooks that nbval runs and the package's doctests.

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

import pytest
from _pytest.doctest import DoctestItem

from dsdviz.experiments.settings import FIGURES_ENV, RUNS_ENV

_SCRATCH = tempfile.mkdtemp(prefix="dsdviz-test-")
os.environ.setdefault(FIGURES_ENV, os.path.join(_SCRATCH, "figures"))
os.environ.setdefault(RUNS_ENV, os.path.join(_SCRATCH, "runs"))


#: Doctests that run VGG19: skipped, with the reason, when no local weights are named (the tests never download).
NEEDS_VGG = ("match_fingerprint", "q_dsd_map")


def pytest_collection_modifyitems(config, items) -> None:
    if os.environ.get("DSDVIZ_VGG19_WEIGHTS"):
        return
    reason = "needs the VGG19 weights: set DSDVIZ_VGG19_WEIGHTS (or DSDVIZ_SHARED)"
    for item in items:
        if isinstance(item, DoctestItem) and item.name.endswith(NEEDS_VGG):
            item.add_marker(pytest.mark.skip(reason=reason))


def pytest_unconfigure(config) -> None:
    shutil.rmtree(_SCRATCH, ignore_errors=True)
