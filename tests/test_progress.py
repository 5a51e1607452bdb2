"""Progress bars outside Jupyter: long loops print a plain text bar on stderr.

``tqdm.auto`` gives a widget bar inside a Jupyter kernel (checked in a real JupyterLab by
``tests/browser``) and a text bar anywhere else; these tests run the loops in a fresh
interpreter, as a script or the ``dsdviz`` command would.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap

import pytest

from dsdviz.models import shipped_models

REGRESSOR = shipped_models()["dsd_regressor_a2_cpu"]
#: tqdm's text bar when it ends: ``<description>: 100%|█████| n/n [...]``.
FINISHED_TEXT_BAR = r"{}: 100%\|█+\| {n}/{n} \["


def run_script(code: str) -> str:
    """Run ``code`` in a new interpreter (no Jupyter kernel); its stderr."""
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, timeout=300)
    stderr = done.stderr.decode()  # not text=True, which would turn tqdm's carriage returns into newlines
    assert done.returncode == 0, stderr[-2000:]
    return stderr


def assert_text_bar(stderr: str, description: str, total: int) -> None:
    assert re.search(FINISHED_TEXT_BAR.format(re.escape(description), n=total), stderr), stderr[-1000:]
    assert "\r" in stderr  # redrawn in place, not one line per update
    assert "HBox" not in stderr and "FloatProgress" not in stderr  # not a widget's text representation


def test_image_optimization_shows_a_text_bar():
    stderr = run_script(
        """
        import torch
        from dsdviz.optimize import optimize_image

        goal = torch.linspace(0, 1, 64).reshape(1, 1, 8, 8).expand(1, 3, 8, 8)
        optimize_image(torch.full((1, 3, 8, 8), 0.5), lambda x: {"objective": (x - goal).abs().mean()},
                       steps=7, lr=0.05, description="toy run")
        """
    )
    assert_text_bar(stderr, "toy run", 7)


@pytest.mark.slow  # seconds; make test runs it, make test-fast leaves it out
def test_image_optimization_without_progress_prints_nothing():
    stderr = run_script(
        """
        import torch
        from dsdviz.optimize import optimize_image

        optimize_image(torch.full((1, 3, 8, 8), 0.5), lambda x: {"objective": x.mean()}, steps=3, progress=False)
        """
    )
    assert stderr == ""


@pytest.mark.slow  # seconds; make test runs it, make test-fast leaves it out
def test_q_dsd_table_shows_a_text_bar(vgg_weights):
    stderr = run_script(
        f"""
        import torch
        from dsdviz.scoring import q_dsd_table
        from dsdviz.models import load_model

        regressor = load_model({str(REGRESSOR)!r})
        noise = torch.rand(3, 1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
        images = [(f"noise{{i}}", noise[i]) for i in range(3)]
        rows = q_dsd_table(dict(natural=images[:2], noisy=images[2:]), [regressor])
        assert len(rows) == 3
        """
    )
    assert_text_bar(stderr, "Q_DSD", 3)
