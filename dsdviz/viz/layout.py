"""What the figures share so that they read well where they are shown: a resolution and wrapped titles.

Every figure is laid out for :data:`DPI` (it carries that dpi, which ``savefig`` uses unless
told otherwise) with no text smaller than 7.5 pt, i.e. 10 px: legible in the README and in
a notebook at the figure's own size.
"""

from __future__ import annotations

import textwrap

from matplotlib.figure import Figure

#: Resolution the figures are laid out for (``Figure.dpi``): 7.5 pt is then 10 px.
DPI = 100


def suptitle(fig: Figure, text: str, fontsize: float = 9) -> None:
    """Set the figure's title, each line wrapped to the figure's width (about 0.55 em per character)."""
    chars = max(20, int(fig.get_figwidth() * 72 / (0.55 * fontsize)))
    fig.suptitle("\n".join(textwrap.fill(line, chars) for line in text.split("\n")), fontsize=fontsize)
