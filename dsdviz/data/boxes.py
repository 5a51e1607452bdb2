"""Rectangles of an image: the one :class:`Box` type of dsdviz, central boxes and crops.

A box is given in pixels of the image it is drawn on or cut from: ``top`` and ``left`` are the
row and column of its first pixel, ``height`` and ``width`` its size (a square has
``height == width``). The same box serves a crop (:func:`crop_box`), a zoom rectangle of a
comparison figure (:mod:`dsdviz.viz.compare`, :mod:`dsdviz.viz.optimization`) and the region of a
test image an example covers (:class:`dsdviz.data.Example`).
"""

from __future__ import annotations

from typing import NamedTuple

import torch


class Box(NamedTuple):
    """A rectangle ``(top, left, height, width)`` in pixels.

    Examples:
        >>> Box.square(0, 300, 64)
        Box(top=0, left=300, height=64, width=64)
        >>> Box(8, 12, 32, 48).downscaled(4)
        Box(top=2, left=3, height=8, width=12)
    """

    top: int
    left: int
    height: int
    width: int

    @classmethod
    def square(cls, top: int, left: int, size: int) -> Box:
        """The ``size x size`` px square whose first pixel is ``(top, left)``."""
        return cls(top, left, size, size)

    def downscaled(self, factor: int) -> Box:
        """The same region in an image ``factor`` times smaller (every value floor-divided by ``factor``):
        the LR box of an HR box aligned to the SR scale."""
        return Box(*(value // factor for value in self))


def crop_box(x: torch.Tensor, box: Box) -> torch.Tensor:
    """The ``box`` crop of images ``(..., H, W)`` (clipped to the image), a view of ``x``.

    Examples:
        >>> crop_box(torch.zeros(1, 3, 20, 20), Box.square(15, 15, 10)).shape
        torch.Size([1, 3, 5, 5])
    """
    top, left, height, width = box
    return x[..., max(0, top) : top + height, max(0, left) : left + width]


def center_box(height: int, width: int, size: int | tuple[int, int] | None, multiple: int = 1) -> Box:
    """The central box of at most ``size`` px (an ``int`` or ``(height, width)``; ``None``: the whole
    ``height x width`` image) whose size and offset are multiples of ``multiple`` (e.g. the SR scale, so that
    :meth:`Box.downscaled` by it is the matching box of the LR image).

    Examples:
        >>> center_box(64, 72, 30)
        Box(top=17, left=21, height=30, width=30)
        >>> center_box(64, 72, 30, multiple=4)
        Box(top=16, left=20, height=28, width=28)
    """
    if size is None:
        return Box(0, 0, height, width)
    rows, cols = (size, size) if isinstance(size, int) else size
    h, w = min(height, rows) // multiple * multiple, min(width, cols) // multiple * multiple
    return Box((height - h) // 2 // multiple * multiple, (width - w) // 2 // multiple * multiple, h, w)


def center_crop(x: torch.Tensor, size: int | tuple[int, int] | None, multiple: int = 1) -> torch.Tensor:
    """Central crop of images ``(..., H, W)`` of at most ``size`` px, an ``int`` or ``(height, width)``
    (no crop along an axis shorter than the size, nor with ``size=None``); :func:`center_box` with
    ``multiple`` aligns it to a grid."""
    return crop_box(x, center_box(x.shape[-2], x.shape[-1], size, multiple))
