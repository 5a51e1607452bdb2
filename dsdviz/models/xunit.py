"""The slim xUnit activation and the residual block built around it.

xUnit (Kligvasser, Rott Shaham & Michaeli, "xUnit: Learning a Spatial Activation
Function for Efficient Image Restoration", CVPR 2018) replaces a pointwise
non-linearity by a learned spatial gate. The slim variant used by xSRResNet gates
every channel with a sigmoid of a depthwise 7x7 convolution of the input itself:

    xunit(x) = x * sigmoid(DWConv7x7(x))

It has ``C * (k * k + 1)`` parameters (3,200 for 64 channels and k = 7).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def xunit(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """Slim xUnit gate ``x * sigmoid(depthwise_conv(x))``.

    Args:
        x: feature maps ``(B, C, H, W)``.
        weight: depthwise kernels ``(C, 1, k, k)`` with odd ``k`` (same-size output).
        bias: ``(C,)`` or ``None``.

    Returns:
        ``(B, C, H, W)``, same dtype as ``x``.
    """
    padding = weight.shape[-1] // 2
    return x * torch.sigmoid(F.conv2d(x, weight, bias, padding=padding, groups=x.shape[1]))


class XUnit(nn.Module):
    """Module form of :func:`xunit` with its own depthwise ``kernel_size`` convolution (with bias)."""

    def __init__(self, channels: int = 64, kernel_size: int = 7) -> None:
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f"kernel_size: expected an odd number, got {kernel_size}")
        self.gate = nn.Conv2d(channels, channels, kernel_size, padding=kernel_size // 2, groups=channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return xunit(x, self.gate.weight, self.gate.bias)


class XResBlock(nn.Module):
    """``x + conv3x3(xunit(conv3x3(x)))``: two bias-free 3x3 convolutions around a slim xUnit.

    Shape-preserving on ``(B, channels, H, W)``; ``2 * 9 * C^2 + C * 50`` parameters
    (76,928 for 64 channels).
    """

    def __init__(self, channels: int = 64, kernel_size: int = 7) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.xunit = XUnit(channels, kernel_size)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(self.xunit(self.conv1(x)))
