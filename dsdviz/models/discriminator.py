"""The critic of the adversarial baseline: a discriminator in the style of SRGAN's (Ledig et al., CVPR 2017).

    stem:   3x3 conv 3 -> c, leaky ReLU(0.2)
    body:   7 blocks of [3x3 conv, BatchNorm, leaky ReLU(0.2)], strides 2, 1, 2, 1, 2, 1, 2,
            channels c, 2c, 2c, 4c, 4c, 8c, 8c
    head:   global average pooling, 1x1 conv 8c -> 16c, leaky ReLU(0.2), 1x1 conv 16c -> 1

``c = 64`` as in SRGAN. SRGAN flattens a fixed 6 x 6 map into dense layers (96 px crops); the
pooled head here is the same two dense layers after averaging, so any crop of at least 16 px
works. The output is one logit per image, ``(B,)``: "real" is positive. It is used only in
training (:mod:`dsdviz.training.adversarial`), never shipped.
"""

from __future__ import annotations

import torch
from torch import nn

from .xsrresnet import check_network_input

#: Stride and channel multiple of each block after the stem.
BLOCKS: tuple[tuple[int, int], ...] = ((2, 1), (1, 2), (2, 2), (1, 4), (2, 4), (1, 8), (2, 8))
#: The smallest input side: four stride-2 blocks leave at least 1 px.
MIN_SIDE = 16


class Discriminator(nn.Module):
    """SRGAN-style discriminator with a pooled head: ``(B, 3, H, W)`` in ``[0, 1]`` -> logits ``(B,)``.

    Args:
        channels: width of the stem (64 in SRGAN); the blocks use 1, 2, 4 and 8 times it.

    Examples:
        >>> critic = Discriminator(channels=8)
        >>> critic(torch.rand(2, 3, 32, 32)).shape
        torch.Size([2])
    """

    kind = "discriminator"

    def __init__(self, channels: int = 64) -> None:
        super().__init__()
        if isinstance(channels, bool) or not isinstance(channels, int) or channels < 1:
            raise ValueError(f"channels: expected a positive integer, got {channels!r}")
        self.config = {"channels": channels}
        layers: list[nn.Module] = [nn.Conv2d(3, channels, 3, padding=1), nn.LeakyReLU(0.2)]
        width = channels
        for stride, multiple in BLOCKS:
            layers += [
                nn.Conv2d(width, channels * multiple, 3, stride=stride, padding=1, bias=False),
                nn.BatchNorm2d(channels * multiple),
                nn.LeakyReLU(0.2),
            ]
            width = channels * multiple
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Conv2d(width, 2 * width, 1), nn.LeakyReLU(0.2), nn.Conv2d(2 * width, 1, 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_network_input(x)
        if min(x.shape[-2:]) < MIN_SIDE:
            raise ValueError(f"x: the discriminator needs images of at least {MIN_SIDE} px, got {tuple(x.shape)}")
        return self.head(self.features(x)).flatten()


__all__ = ["Discriminator"]
