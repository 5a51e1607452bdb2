"""Keep the notebooks' stored outputs small: text stays, pictures and widgets go.

The figures live in ``figures/`` (and the README shows them), so a stored notebook needs
only its text outputs: the printed settings, tables and the outputs nbval compares
(cells marked ``# NBVAL_CHECK_OUTPUT``). This drops every output that carries an image or
an ipywidgets view (a widget cannot be shown from a stored file anyway), the saved widget
state, and tqdm's text bars, and rewrites the files in place.

Usage: ``python tools/slim_notebooks.py notebooks/*.ipynb`` (``make slim-notebooks``).
``tests/test_notebooks_stored.py`` checks that the stored notebooks are slim.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

#: Output data types that are dropped (with the whole output that carries them).
HEAVY = ("image/png", "image/jpeg", "image/svg+xml", "application/vnd.jupyter.widget-view+json")
#: A tqdm text bar in a stream output (``desc:  40%|####      | 4/10 [...]``).
TEXT_BAR = re.compile(r"^.*\d+%\|.*\|.*$\n?", re.MULTILINE)


def slim_outputs(outputs: list[dict]) -> list[dict]:
    """The outputs without pictures, widgets and text progress bars."""
    kept = []
    for output in outputs:
        if any(kind in output.get("data", {}) for kind in HEAVY):
            continue
        if output.get("output_type") == "stream":
            text = TEXT_BAR.sub("", "".join(output["text"]).replace("\r", "\n"))
            if not text.strip():
                continue
            output = {**output, "text": text.splitlines(keepends=True)}
        kept.append(output)
    return kept


def slim(path: Path) -> tuple[int, int]:
    """Rewrite one notebook slim; returns its size in bytes before and after."""
    before = path.read_bytes()
    notebook = json.loads(before)
    notebook["metadata"].pop("widgets", None)
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"] = slim_outputs(cell["outputs"])
    after = (json.dumps(notebook, indent=1, ensure_ascii=False) + "\n").encode()
    path.write_bytes(after)
    return len(before), len(after)


def main(paths: list[str]) -> int:
    if not paths:
        print("usage: python tools/slim_notebooks.py NOTEBOOK.ipynb...", file=sys.stderr)
        return 2
    for name in paths:
        before, after = slim(Path(name))
        print(f"{name}: {before / 1000:.0f} kB -> {after / 1000:.0f} kB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
