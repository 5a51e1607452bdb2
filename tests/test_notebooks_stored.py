"""The notebooks and figures as stored: slim, thin, in quick mode, with outputs for nbval; figures at full
resolution."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
#: Largest stored notebook: text outputs only (tools/slim_notebooks.py drops pictures and widgets).
MAX_BYTES = 60_000


def code_cells(path: Path) -> list[dict]:
    return [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


def source(cell: dict) -> str:
    return "".join(cell["source"])


def test_there_are_notebooks_for_every_supplementary_figure():
    names = {p.stem for p in NOTEBOOKS}
    for figure in ("fig11", "fig12", "fig13", "fig14_15", "fig16"):
        assert any(name.startswith(figure + "_") for name in names), f"no notebook for {figure}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_notebook_is_slim(path):
    assert path.stat().st_size < MAX_BYTES, f"{path.name}: run python tools/slim_notebooks.py {path}"
    for cell in code_cells(path):
        for output in cell["outputs"]:
            kinds = set(output.get("data", {}))
            assert not kinds & {"image/png", "application/vnd.jupyter.widget-view+json"}, path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_notebook_is_thin_and_quick(path):
    cells = code_cells(path)
    texts = [source(c) for c in cells]
    assert any(re.search(r"^QUICK = True\b", t, re.MULTILINE) for t in texts), f"{path.name}: no QUICK = True cell"
    for text in texts:  # the logic lives in dsdviz/
        assert not re.search(r"^\s*(def|class) ", text, re.MULTILINE), f"{path.name} defines code:\n{text}"
        assert len(text.splitlines()) <= 15, f"{path.name} has a long cell:\n{text}"
    checked = [c for c in cells if source(c).startswith("# NBVAL_CHECK_OUTPUT")]
    for cell in checked:
        assert cell["outputs"], f"{path.name}: a NBVAL_CHECK_OUTPUT cell without a stored output to compare"


def test_figures_are_saved_at_the_resolution_they_are_laid_out_for():
    """Every committed figure records >= 100 dpi (``dsdviz.viz.layout.DPI``: no text under 10 px)."""
    from PIL import Image

    from dsdviz.viz.layout import DPI

    figures = sorted((Path(__file__).resolve().parents[1] / "figures").glob("*.png"))
    assert figures
    for path in figures:
        dpi = Image.open(path).info.get("dpi")
        assert dpi is not None and min(dpi) >= DPI - 0.01, f"{path.name}: saved at {dpi} dpi"
