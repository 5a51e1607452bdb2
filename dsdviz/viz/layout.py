"""What the figures share so that they read well where they are shown: a resolution, wrapped titles, PNG files.

Every figure is laid out for :data:`DPI` (it carries that dpi, which ``savefig`` uses unless
told otherwise) with no text smaller than 7.5 pt, i.e. 10 px: legible in the README and in
a notebook at the figure's own size.
"""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

from matplotlib.figure import Figure
from PIL import Image

#: Resolution the figures are laid out for (``Figure.dpi``): 7.5 pt is then 10 px.
DPI = 100
#: Resolution of full-mode figures of whole images (Figs. 11, 12): twice :data:`DPI`, to keep their detail.
DETAIL_DPI = 2 * DPI


def wrap_to_width(text: str, width: float, fontsize: float) -> str:
    """``text`` with each line wrapped to ``width`` inches at ``fontsize`` points (about 0.55 em per character)."""
    chars = max(20, int(width * 72 / (0.55 * fontsize)))
    return "\n".join(textwrap.fill(line, chars) for line in text.split("\n"))


def suptitle(fig: Figure, text: str, fontsize: float = 9) -> None:
    """Set the figure's title, each line wrapped to the figure's width."""
    fig.suptitle(wrap_to_width(text, fig.get_figwidth(), fontsize), fontsize=fontsize)


def save_png(fig: Figure, path: str | Path, dpi: int = DPI, palette: bool = False) -> Path:
    """Save a figure as an RGB PNG; ``palette=True`` stores 256 colours without dithering (about 3x
    smaller: used for the quick-mode figures, to keep the repository and the stored notebooks small)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    image = Image.open(buffer).convert("RGB")
    if palette:
        image = image.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    image.save(path, optimize=True, dpi=(dpi, dpi))  # keep the resolution note matplotlib writes
    return Path(path)
