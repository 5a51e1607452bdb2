"""The no-reference DSD regressor psi of the DSD paper (supplementary Table 5).

Given the downscaled copy ``y|a`` of an image ``y``, psi predicts the four norms
``||DSD_{l,a}(y)||_1`` (relu1_2, relu2_1, relu2_2, relu3_1) that a *natural* image with
that coarse version would have. Comparing the prediction with the norms actually
measured on ``y`` gives the no-reference score Q_DSD (Eq. 5, :func:`dsdviz.metrics.q_dsd`).

Architecture (Table 5):

    stem:    5x5 conv 3 -> 32 (no bias), BatchNorm, ReLU
    blocks:  SE-ResBlocks with (channels, stride) = (32, 1), (32, 1), (32, 2), (32, 1),
             (64, 2), (64, 1), (128, 2), (128, 1); each is 3x3 conv (stride), BN, ReLU,
             3x3 conv, BN, squeeze-and-excitation, plus the shortcut (identity, or
             1x1 conv + BN where the shape changes), then ReLU
    head:    adaptive average pool, Linear 128 -> 32, leaky ReLU(0.1), Linear 32 -> 4, ReLU

Squeeze-and-excitation (Hu et al., CVPR 2018) gates the residual branch's channels with
``sigmoid(W2 relu(W1 avgpool(x)))``, reduction 16, before the addition. (The authors'
code applies its SE module to the shortcut path instead; we follow the paper's
description.)

Output scaling: the norms are small numbers (about 1e-3 to 1e-1) that differ by an order
of magnitude between layers. The network's last ReLU output is multiplied by a fixed
per-layer scale, the buffer ``target_scale`` (the mean target norm of the training
data, set by the trainer before training, stored in the state dict), so that the
network learns values of order 1 and the per-layer normalised MSE of the training
loss is the plain MSE of the network's own output. Predictions stay non-negative.

Initialisation as in ResNet practice (and the authors' code): Kaiming-normal (fan-out)
convolutions, BN weight 1 and bias 0 except a zero weight on the last BN of each
residual branch (each block starts as its shortcut), small normal linear weights;
the last bias is 1 so that every output starts at the mean target and inside the
final ReLU's active range.

Memory layout: :func:`dsdviz.precision.channels_last` gives the same outputs (float32:
within 1e-5, batch norm in training and eval mode); step times: ``benchmarks/bench_training.py``
and the README.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..features import LAYER_PRESETS
from ..validation import check_dsd_factor
from .xsrresnet import check_network_input

#: (channels, stride) of the residual blocks, in order (Table 5).
REGRESSOR_BLOCKS: tuple[tuple[int, int], ...] = (
    (32, 1), (32, 1), (32, 2), (32, 1), (64, 2), (64, 1), (128, 2), (128, 1),
)  # fmt: skip


class SqueezeExcitation(nn.Module):
    """Channel gate ``x * sigmoid(W2 relu(W1 mean_hw(x)))`` with ``C // ratio`` hidden units."""

    def __init__(self, channels: int, ratio: int = 16) -> None:
        super().__init__()
        hidden = max(1, channels // ratio)
        self.gate = nn.Sequential(nn.Linear(channels, hidden), nn.ReLU(), nn.Linear(hidden, channels), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gate(x.mean(dim=(2, 3)))[:, :, None, None]


class SEResBlock(nn.Module):
    """``relu(SE(BN(conv(relu(BN(conv(x)))))) + shortcut(x))`` with a projection shortcut where the shape changes."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.branch = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            SqueezeExcitation(out_channels),
        )
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False), nn.BatchNorm2d(out_channels)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.branch(x) + self.shortcut(x))


class DSDRegressor(nn.Module):
    """psi_a: predicts ``||DSD_{l,a}(y)||_1`` per layer from the downscaled image ``y|a``.

    Args:
        alpha: the downscaling factor the regressor is trained for (2 or 4 in the paper).
        layers: the predicted layers (default: the ``"no_reference"`` preset, all four).
        stem: channels of the stem convolution (32).
        blocks: ``(channels, stride)`` of the residual blocks (default: Table 5).
        crop: the side of ``y|a`` in the training crops (``None``: unknown). The norms
            depend on the image size (VGG's zero padding weighs more in small images), so
            :func:`dsdviz.metrics.q_dsd` scores large images on tiles of ``crop * alpha`` px.

    Input: ``y|a`` as ``(B, 3, h, w)`` RGB in ``[0, 1]`` (any size of at least 8 px; the
    head pools globally). Output: ``(B, len(layers))`` non-negative norms, in the units of
    ``DSD.norms()``.

    Examples:
        >>> psi = DSDRegressor(alpha=2)
        >>> psi.eval()(torch.rand(2, 3, 40, 40)).shape
        torch.Size([2, 4])
    """

    kind = "dsd_regressor"

    def __init__(
        self,
        alpha: float = 2,
        layers: Sequence[str] = LAYER_PRESETS["no_reference"],
        stem: int = 32,
        blocks: Sequence[tuple[int, int]] = REGRESSOR_BLOCKS,
        crop: int | None = None,
    ) -> None:
        super().__init__()
        alpha = check_dsd_factor(alpha)
        layers, blocks = tuple(layers), tuple((int(c), int(s)) for c, s in blocks)
        self.config = {
            "alpha": alpha, "layers": list(layers), "stem": stem, "blocks": [list(b) for b in blocks], "crop": crop,
        }  # fmt: skip
        self.alpha, self.layers, self.crop = alpha, layers, crop
        self.stem = nn.Sequential(nn.Conv2d(3, stem, 5, padding=2, bias=False), nn.BatchNorm2d(stem), nn.ReLU())
        stages, channels = [], stem
        for out_channels, stride in blocks:
            stages.append(SEResBlock(channels, out_channels, stride))
            channels = out_channels
        self.blocks = nn.Sequential(*stages)
        self.head = nn.Sequential(nn.Linear(channels, stem), nn.LeakyReLU(0.1), nn.Linear(stem, len(layers)), nn.ReLU())
        self.register_buffer("target_scale", torch.ones(len(layers)))
        self._initialise()

    def _initialise(self) -> None:
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, std=0.01)
                nn.init.zeros_(module.bias)
        for block in self.blocks:
            nn.init.zeros_(block.branch[4].weight)  # the last BN of the branch: blocks start as identities
        nn.init.ones_(self.head[2].bias)  # outputs start at target_scale, the mean norm

    def forward(self, y_a: torch.Tensor) -> torch.Tensor:
        check_network_input(y_a, "y_a")
        features = self.blocks(self.stem(y_a)).mean(dim=(2, 3))
        return self.head(features) * self.target_scale

    def extra_repr(self) -> str:
        return f"alpha={self.alpha:g}, layers={self.layers}"


def dsd_regressor(alpha: float = 2, crop: int | None = None) -> DSDRegressor:
    """The paper's DSD regressor psi_a for downscaling factor ``alpha`` (Table 5)."""
    return DSDRegressor(alpha=alpha, crop=crop)
