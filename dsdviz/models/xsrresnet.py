"""xSRResNet: the restoration network of the DSD paper (supplementary Table 4).

A residual network of xResBlocks (bias-free 3x3 convolutions around a slim xUnit,
see :mod:`dsdviz.models.xunit`), with leaky ReLU(0.1) elsewhere and pixel-shuffle
up-sampling; the network predicts a correction added to an up-sampled copy of its
input:

    head:  5x5 conv 3 -> 64, leaky ReLU(0.1)
    body:  num_blocks x xResBlock(64)                 (10 in the paper, 5 in its Fig. 13)
    up:    log2(scale) x [3x3 conv 64 -> 256, pixel shuffle x2, leaky ReLU(0.1)]
    tail:  3x3 conv 64 -> 64, leaky ReLU(0.1); 5x5 conv 64 -> 3
    out:   tail + upsample(input, scale)

``scale=4`` is the 4x super-resolution model (1,111,299 parameters with 10 blocks);
``scale=1`` drops the up-sampling stages and adds the input itself: the deblurring
model (815,875 parameters).

The paper does not say how the input is up-sampled for the global skip connection;
the authors' code uses bilinear interpolation (``align_corners=False``), which is the
default here (``skip="bilinear"``); ``"bicubic"`` (PyTorch's, not MATLAB's) is
available.

Initialisation: Kaiming-normal (fan-in) convolutions with zero biases, as in the authors'
code, and in addition the last convolution of every residual branch and the final 5x5
convolution scaled by 0.1 (the residual scaling of ESRGAN's initialisation), so that the
untrained network outputs about its up-sampled input. Without it the ten unnormalised
residual blocks grow the signal to outputs of about +-100 (Set5 PSNR about 9 dB at step
0) and the first thousands of steps (all of a CPU quick run) only undo that.

Memory layout: :func:`dsdviz.precision.channels_last` moves the network to channels-last,
and every convolution (the depthwise xUnit gates included) then runs in that layout
whatever the input's; outputs equal the contiguous network's (float32: within 1e-5) and
come out channels-last (converting the input as well gains nothing; step times:
``benchmarks/bench_training.py`` and the README).
"""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from ..validation import describe
from .xunit import XResBlock

SkipMode = Literal["bilinear", "bicubic"]

#: Factor on the initial weights of the residual branches' last convolutions and the output convolution.
RESIDUAL_INIT_SCALE = 0.1


def check_network_input(x: object, name: str = "x") -> torch.Tensor:
    """Shape and dtype check for a network's input, without a device sync (cheap in a training loop)."""
    if not isinstance(x, torch.Tensor) or x.ndim != 4 or x.shape[1] != 3 or not x.is_floating_point():
        raise ValueError(
            f"{name}: expected a float tensor of shape (B, 3, H, W) with values in [0, 1], got {describe(x)}"
        )
    return x


class XSRResNet(nn.Module):
    """xSRResNet for ``scale``x super-resolution (``scale`` a power of 2) or, with ``scale=1``, deblurring.

    Args:
        scale: output size / input size: 1 (deblurring), 2, 4 (the paper's SR model), 8, ...
        num_blocks: number of xResBlocks (10 in the paper).
        channels: feature channels (64).
        skip: interpolation of the input added to the output (``"bilinear"`` as in the
            authors' code, or ``"bicubic"``); unused for ``scale=1``.

    Input ``(B, 3, H, W)`` RGB in ``[0, 1]``; output ``(B, 3, scale * H, scale * W)``, not
    clamped (clamp before saving or scoring).

    Examples:
        >>> net = XSRResNet(scale=4)
        >>> sum(p.numel() for p in net.parameters())
        1111299
        >>> net(torch.rand(1, 3, 12, 10)).shape
        torch.Size([1, 3, 48, 40])
    """

    kind = "xsrresnet"

    def __init__(self, scale: int = 4, num_blocks: int = 10, channels: int = 64, skip: SkipMode = "bilinear") -> None:
        super().__init__()
        if isinstance(scale, bool) or not isinstance(scale, int) or scale < 1 or scale & (scale - 1):
            raise ValueError(f"scale: expected a power of two (1 for deblurring, 4 for 4x SR), got {scale!r}")
        if isinstance(num_blocks, bool) or not isinstance(num_blocks, int) or num_blocks < 0:
            raise ValueError(f"num_blocks: expected a non-negative integer, got {num_blocks!r}")
        if skip not in ("bilinear", "bicubic"):
            raise ValueError(f"skip: expected 'bilinear' or 'bicubic', got {skip!r}")
        self.config = {"scale": scale, "num_blocks": num_blocks, "channels": channels, "skip": skip}
        self.scale, self.skip = scale, skip
        act = nn.LeakyReLU(0.1)
        self.head = nn.Sequential(nn.Conv2d(3, channels, 5, padding=2), act)
        self.body = nn.Sequential(*(XResBlock(channels) for _ in range(num_blocks)))
        self.up = nn.Sequential(
            *(
                layer
                for _ in range(int(math.log2(scale)))
                for layer in (nn.Conv2d(channels, 4 * channels, 3, padding=1), nn.PixelShuffle(2), act)
            )
        )
        self.tail = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1), act, nn.Conv2d(channels, 3, 5, padding=2)
        )
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_in")
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
        with torch.no_grad():
            for block in self.body:
                block.conv2.weight.mul_(RESIDUAL_INIT_SCALE)
            self.tail[-1].weight.mul_(RESIDUAL_INIT_SCALE)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_network_input(x)
        skip = x if self.scale == 1 else F.interpolate(x, scale_factor=self.scale, mode=self.skip, align_corners=False)
        return self.tail(self.up(self.body(self.head(x)))) + skip

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self.config.items())


def xsrresnet_sr(num_blocks: int = 10, scale: int = 4, skip: SkipMode = "bilinear") -> XSRResNet:
    """The paper's 4x super-resolution xSRResNet (1,111,299 parameters with 10 blocks)."""
    return XSRResNet(scale=scale, num_blocks=num_blocks, skip=skip)


def xsrresnet_deblur(num_blocks: int = 10) -> XSRResNet:
    """The paper's deblurring xSRResNet: no up-sampling, input added to the output (815,875 parameters)."""
    return XSRResNet(scale=1, num_blocks=num_blocks)
