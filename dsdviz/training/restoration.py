"""Restoration tasks with xSRResNet: 4x super-resolution (``"sr"``) and deblurring (``"deblur"``).

Losses follow the authors' recipe. Stage ``"psnr"``: L1 only (the "PSNR" model). Stage
``"dsd"`` (started from the stage-1 weights): ``L1 + perceptual + 100 x DSD``, where the
perceptual term is the L1 distance of VGG19 ``conv5_4`` features (the paper) and the DSD term
is :func:`dsdviz.dsd_loss` with the ``"training"`` layers (relu2_1, relu2_2, relu3_1) and
factor 2. When the VGG19 weights do not reach ``conv5_4`` (the project's shared file stops at
relu3_1), the perceptual loss uses the deepest convolution the weights cover and the run
records a note saying so. Both VGG terms share one feature pass per image (output,
output|2, target, target|2) (:func:`dsdviz.losses.restoration_loss`), run under the run's
precision plan with the Gram matrices and L1 terms in float32.

The feature-distribution term of stage 2 is chosen by ``feature_loss`` (supplementary
Fig. 13 compares the three on the same network, settings and seed), weighted by
``feature_weight``:

* ``"dsd"`` (default): :func:`dsdviz.dsd_loss`, layers relu2_1, relu2_2, relu3_1, ``alpha``;
* ``"style"``: :func:`dsdviz.style_loss`, Gram L1 summed over relu1_2, relu2_1, relu3_1;
* ``"multiscale_style"``: :func:`dsdviz.multiscale_style_loss` with factors ``(1, alpha)``
  over the same layers (full and half resolution for ``alpha = 2``, both contributing).

With ``adversarial`` set (``"standard"`` or ``"relativistic"``), stage 2 adds
``adversarial_weight x`` a GAN term against an SRGAN-style critic trained beside the network
(:mod:`dsdviz.training.adversarial`): the equal-budget baseline for the DSD term.

Validation: mean PSNR/SSIM (Y channel, border shave = scale) and DSD distance of the outputs
and of the baseline the network improves on (MATLAB bicubic up-sampling, or the blurred input).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import Dataset

from ..data import DeblurPairs, Example, SRPairs, bicubic_upsample, deblur_examples, sr_examples
from ..features import VGG19Features
from ..losses import ADVERSARIAL_KINDS, FEATURE_LOSSES, available_perceptual_layer, feature_layers, restoration_loss
from ..scoring import Scorer
from ..models import XSRResNet
from ..precision import AutocastFeatures, PrecisionPlan, autocast
from ..validation import check_choice, check_dsd_factor, check_positive, check_positive_int
from .adversarial import Adversary
from .settings import LoopSettings, TaskSettings, setting
from .tasks import Batch, on_device


@dataclass
class RestorationSettings(TaskSettings):
    """Settings shared by SR and deblurring: the network, the stage and its loss weights."""

    stage: Literal["psnr", "dsd"] = setting(
        "psnr", "psnr: L1 only; dsd: L1 + perceptual + feature_weight x feature loss, from --init"
    )
    num_blocks: int = setting(10, "xResBlocks of xSRResNet", "--blocks")
    val_crop: int | None = setting(None, "central validation crop in px (default: whole images)")
    l1_weight: float = setting(1.0, "weight of the L1 term")
    perceptual_weight: float = setting(1.0, "stage dsd: weight of the perceptual term")
    feature_weight: float = setting(100.0, "stage dsd: weight of the feature-distribution term (DSD or style)")
    feature_loss: Literal["dsd", "style", "multiscale_style"] = setting(
        "dsd", "stage dsd: the feature-distribution term (the style losses: supp. Fig. 13)"
    )
    perceptual_layer: str = setting("conv5_4", "stage dsd: VGG19 layer of the perceptual term")
    alpha: float = setting(2.0, "stage dsd: factor between the compared scales of the DSD term")
    adversarial: Literal["none", "standard", "relativistic"] = setting(
        "none", "stage dsd: add a GAN term against an SRGAN-style critic (standard or relativistic average loss)"
    )
    adversarial_weight: float = setting(1e-3, "stage dsd: weight of the GAN term when --adversarial is set (SRGAN's)")

    def __post_init__(self) -> None:
        super().__post_init__()
        check_choice(self.stage, ("psnr", "dsd"), "stage")
        check_choice(self.feature_loss, FEATURE_LOSSES, "feature_loss")
        check_choice(self.adversarial, ("none", *ADVERSARIAL_KINDS), "adversarial")
        check_positive_int(self.num_blocks, "num_blocks")
        check_dsd_factor(self.alpha)
        check_positive(self.adversarial_weight, "adversarial_weight")

    @property
    def label(self) -> str:
        return f"{self.name} {self.stage}"

    def stream(self, seed: int) -> Dataset:
        """The endless training pairs ``{"input", "target"}``."""
        raise NotImplementedError

    def validation_examples(self, seed: int) -> list[Example]:
        """The fixed validation pairs (``val_data`` is set)."""
        raise NotImplementedError

    def make_task(self, loop: LoopSettings, device: torch.device, plan: PrecisionPlan) -> RestorationTask:
        return RestorationTask(self, loop, device, plan)


@dataclass
class SRSettings(RestorationSettings):
    """4x super-resolution: HR training images, LR from ``lr_data`` or MATLAB bicubic on the fly."""

    name = "sr"

    scale: int = setting(4, "up-sampling factor")
    lr_data: str | None = setting(None, "LR images matching --data (default: MATLAB bicubic on the fly)")
    val_lr: str | None = setting(None, "validation LR images matching --val-data (default: MATLAB bicubic)")

    def stream(self, seed: int) -> Dataset:
        return SRPairs(self.data, scale=self.scale, crop=self.crop, lr=self.lr_data, seed=seed)

    def validation_examples(self, seed: int) -> list[Example]:
        return sr_examples(self.val_data, self.scale, self.val_lr, self.val_crop, self.val_limit)


@dataclass
class DeblurSettings(RestorationSettings):
    """Deblurring: sharp training images, blurred from ``blur_data`` or by random camera-shake kernels."""

    name = "deblur"
    #: The network keeps the size of its input.
    scale: ClassVar[int] = 1

    blur_data: str | None = setting(None, "blurred images matching --data (default: synthesised)")
    kernels: str | None = setting(None, "folder of .npy blur kernels (default: random camera shake)")
    val_blur: str | None = setting(None, "validation blurred images matching --val-data (default: synthesised)")
    kernel_size: int = setting(31, "side of the random camera-shake kernels in px")
    noise: float = setting(0.01, "standard deviation of the noise added after blurring")

    def stream(self, seed: int) -> Dataset:
        return DeblurPairs(
            self.data, crop=self.crop, blurred=self.blur_data, kernels=self.kernels, kernel_size=self.kernel_size,
            noise=self.noise, seed=seed,
        )  # fmt: skip

    def validation_examples(self, seed: int) -> list[Example]:
        return deblur_examples(
            self.val_data, self.val_blur, kernels=self.kernels, kernel_size=self.kernel_size, noise=self.noise,
            crop=self.val_crop, limit=self.val_limit, seed=seed,
        )  # fmt: skip


class RestorationTask:
    """SR (``scale`` > 1) or deblurring (``scale`` = 1) with xSRResNet."""

    def __init__(
        self, settings: RestorationSettings, loop: LoopSettings, device: torch.device, plan: PrecisionPlan
    ) -> None:
        self.settings, self.loop, self.device, self.plan = settings, loop, device, plan
        self.scale = settings.scale
        self.notes: list[str] = []
        self.extractor: AutocastFeatures | None = None
        self.perceptual_layer = settings.perceptual_layer
        if settings.stage == "dsd":
            if settings.perceptual_weight:
                self.perceptual_layer, note = available_perceptual_layer(settings.perceptual_layer)
                if note:
                    self.notes.append(note)
                    warnings.warn(note, stacklevel=2)
            layers = list(feature_layers(settings.feature_loss))
            if settings.perceptual_weight and self.perceptual_layer not in layers:
                layers.append(self.perceptual_layer)
            self.extractor = AutocastFeatures(VGG19Features(layers).to(device), plan)
        self.adversary: Adversary | None = None
        if settings.stage == "dsd" and settings.adversarial != "none":
            distributed = dist.is_initialized() and dist.get_world_size() > 1
            self.adversary = Adversary(settings.adversarial, loop, device, plan, distributed=distributed)
        self._baseline: dict[str, float] | None = None
        self._examples: list[Example] | None = None

    def build_model(self) -> nn.Module:
        return XSRResNet(scale=self.scale, num_blocks=self.settings.num_blocks)

    def dataset(self, seed: int | None = None) -> Dataset:
        return self.settings.stream(self.loop.seed if seed is None else seed)

    def prepare(self, model: nn.Module, dataset: Dataset) -> None:
        """Nothing to calibrate for restoration networks."""

    def losses(self, model: nn.Module, batch: Batch) -> dict[str, torch.Tensor]:
        batch = on_device(batch, self.device)
        with autocast(self.plan):
            output = model(batch["input"])
        s = self.settings
        dsd_stage = s.stage == "dsd"
        terms = restoration_loss(
            output.float(), batch["target"], self.extractor, l1_weight=s.l1_weight,
            perceptual_weight=s.perceptual_weight if dsd_stage else 0.0,
            dsd_weight=s.feature_weight if dsd_stage else 0.0, perceptual_layer=self.perceptual_layer,
            alpha=s.alpha, feature_loss=s.feature_loss,
        )  # fmt: skip
        if self.adversary is not None:
            terms["adversarial"] = self.adversary.generator_term(output.float(), batch["target"])
            terms["loss"] = terms["loss"] + s.adversarial_weight * terms["adversarial"]
        return terms

    def after_step(self) -> dict[str, torch.Tensor]:
        """After the network's update: the critic's (``{"critic": loss}``; ``{}`` without an adversarial term)."""
        return {} if self.adversary is None else self.adversary.update()

    def state_dict(self) -> dict:
        """What a checkpoint keeps of the task besides the network: the critic's state, if any."""
        return {} if self.adversary is None else {"adversary": self.adversary.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict`."""
        if self.adversary is not None:
            if "adversary" not in state:
                raise ValueError("the checkpoint holds no critic for this run's adversarial term")
            self.adversary.load_state_dict(state["adversary"])

    def examples(self) -> list[Example]:
        if self.settings.val_data is None:
            return []
        if self._examples is None:
            self._examples = self.settings.validation_examples(self.loop.seed)
        return self._examples

    def _baseline_input(self, example: Example) -> torch.Tensor:
        """What the network improves on: MATLAB bicubic up-sampling (SR) or the blurred input."""
        if self.scale == 1:
            return example.input
        return bicubic_upsample(example.input, self.scale)

    @torch.no_grad()
    def validate(self, model: nn.Module) -> tuple[dict[str, float], list[tuple[str, torch.Tensor]]]:
        """Mean PSNR/SSIM (Y, shave = scale) and DSD distance of the outputs, and of the baseline."""
        shave = self.scale if self.scale > 1 else 0
        scores: dict[str, list[float]] = {}
        baseline: dict[str, list[float]] = {}
        outputs = []
        for example in self.examples():
            target = example.target.to(self.device)
            output = model(example.input.to(self.device)).float().clamp(0, 1)
            outputs.append((example.name, output.cpu()))
            _score(scores, "", output, target, shave)
            if self._baseline is None:
                _score(baseline, "_baseline", self._baseline_input(example).to(self.device), target, shave)
        if self._baseline is None:
            self._baseline = {k: float(np.mean(v)) for k, v in baseline.items()}
        return {**{k: float(np.mean(v)) for k, v in scores.items()}, **self._baseline}, outputs


def _score(into: dict[str, list[float]], suffix: str, image: torch.Tensor, target: torch.Tensor, shave: int) -> None:
    """Append the full-reference scores of the registry (PSNR, SSIM, DSD distance) of ``image`` to ``into``."""
    scorer = Scorer(scores=("psnr", "ssim", "dsd_distance"), shave=shave)
    scorer.set_reference(target)
    for column, value in scorer(image).items():
        into.setdefault(f"{column}{suffix}", []).append(value)


__all__ = ["DeblurSettings", "RestorationSettings", "RestorationTask", "SRSettings"]
