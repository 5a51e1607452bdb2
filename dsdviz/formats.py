"""How numbers are written where tables and figure titles show them (one spelling for both)."""

from __future__ import annotations


def format_params(count: int) -> str:
    """A parameter count as tables and figure titles show it: ``1111299 -> '1.11M'``, ``815875 -> '0.82M'``,
    ``60930000 -> '60.9M'``, ``40000 -> '40.0K'``, ``0 -> '0'``."""
    if count == 0:
        return "0"
    if count >= 10_000_000:
        return f"{count / 1e6:.1f}M"
    if count >= 100_000:
        return f"{count / 1e6:.2f}M"
    return f"{count / 1e3:.1f}K"
