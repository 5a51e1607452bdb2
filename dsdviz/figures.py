"""Every figure the project regenerates, by name: what ``dsdviz figures`` runs.

Each recipe takes ``(quick, out_dir)`` and returns the files it wrote. Quick mode
(CI, 2 CPU cores, minutes) and full mode (the paper's sizes and step counts, meant
for a GPU) run the same code with different sizes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .viz.fingerprints import fingerprints_figure


@dataclass(frozen=True)
class FigureRecipe:
    """A named figure and the function that writes it into a folder."""

    name: str
    description: str
    make: Callable[[bool, Path], list[Path]]


FIGURES: dict[str, FigureRecipe] = {
    recipe.name: recipe
    for recipe in (
        FigureRecipe(
            "fingerprints",
            "per-layer ||DSD|| of natural images, and DSD matrices as heat maps",
            fingerprints_figure,
        ),
    )
}


def regenerate(names: Sequence[str] | None = None, *, quick: bool = True, out_dir: str | Path = "figures") -> list[Path]:
    """Run the named recipes (default: all) and return the files written."""
    chosen = list(FIGURES) if not names else list(names)
    unknown = [name for name in chosen if name not in FIGURES]
    if unknown:
        raise ValueError(f"unknown figure(s) {unknown}; available: {', '.join(FIGURES)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name in chosen:
        written += FIGURES[name].make(quick, out)
    return written
