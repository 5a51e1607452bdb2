"""What the trainer trains, per task: the network, its data, its loss and its validation.

* ``"sr"``: 4x super-resolution with xSRResNet on :class:`~dsdviz.data.SRPairs`;
* ``"deblur"``: deblurring with the scale-1 xSRResNet on :class:`~dsdviz.data.DeblurPairs`;
* ``"regressor"``: the DSD regressor psi_a on :class:`~dsdviz.data.NaturalCrops`.

Restoration losses follow the authors' recipe. Stage ``"psnr"``: L1 only (the "PSNR"
model). Stage ``"dsd"`` (started from the stage-1 weights): ``L1 + perceptual + 100 x DSD``,
where the perceptual term is the L1 distance of VGG19 ``conv5_4`` features (the paper) and
the DSD term is :func:`dsdviz.dsd_loss` with the ``"training"`` layers (relu2_1, relu2_2,
relu3_1) and factor 2. When the VGG19 weights do not reach ``conv5_4`` (the project's
shared file stops at relu3_1), the perceptual loss uses the deepest convolution the
weights cover and the run records a note saying so. Both VGG terms share one feature
pass per image (output, output|2, target, target|2), computed in float32.

The feature-distribution term of stage 2 is chosen by ``feature_loss`` (supplementary
Fig. 13 compares the three on the same network, settings and seed), weighted by
``dsd_weight``:

* ``"dsd"`` (default): :func:`dsdviz.dsd_loss`, layers relu2_1, relu2_2, relu3_1, ``alpha``;
* ``"style"``: :func:`dsdviz.style_loss`, Gram L1 summed over relu1_2, relu2_1, relu3_1;
* ``"multiscale_style"``: :func:`dsdviz.multiscale_style_loss` with factors ``(1, alpha)``
  over the same layers (full and half resolution for ``alpha = 2``, both contributing).

The regressor's loss is the per-layer normalised MSE: ``mean_l mean_batch ((psi_l(y|a) -
||DSD_{l,a}(y)||_1) / s_l)^2`` with ``s_l`` the mean norm over calibration batches of the
training stream (the regressor's ``target_scale`` buffer, see :mod:`dsdviz.models.regressor`).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset

from .data import (
    DeblurPairs,
    Example,
    NaturalCrops,
    SRPairs,
    deblur_examples,
    natural_examples,
    sr_examples,
)
from .degradations import bicubic_upsample
from .features import VGG19Features, resolve_layers
from .fingerprint import dsd_unchecked
from .losses import available_perceptual_layer, feature_layers, restoration_loss
from .metrics import dsd_distance, psnr, ssim
from .models import DSDRegressor, XSRResNet
from .resize import downscale

if TYPE_CHECKING:
    from .training import TrainConfig

TaskName = Literal["sr", "deblur", "regressor"]
TASKS: tuple[str, ...] = ("sr", "deblur", "regressor")
Batch = dict[str, torch.Tensor]


def _autocast(device: torch.device, dtype: torch.dtype | None):
    return torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None)


def _on(batch: Batch, device: torch.device) -> Batch:
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}


class RestorationTask:
    """SR (``scale`` > 1) or deblurring (``scale`` = 1) with xSRResNet."""

    def __init__(self, config: TrainConfig, device: torch.device) -> None:
        self.config, self.device = config, device
        self.scale = config.scale if config.task == "sr" else 1
        self.notes: list[str] = []
        self.extractor: VGG19Features | None = None
        self.perceptual_layer = config.perceptual_layer
        if config.stage == "dsd":
            if config.perceptual_weight:
                self.perceptual_layer, note = available_perceptual_layer(config.perceptual_layer)
                if note:
                    self.notes.append(note)
                    warnings.warn(note, stacklevel=2)
            layers = list(feature_layers(config.feature_loss))
            if config.perceptual_weight and self.perceptual_layer not in layers:
                layers.append(self.perceptual_layer)
            self.extractor = VGG19Features(layers).to(device)
        self._baseline: dict[str, float] | None = None
        self._examples: list[Example] | None = None

    def build_model(self) -> nn.Module:
        return XSRResNet(scale=self.scale, num_blocks=self.config.num_blocks)

    def dataset(self, seed: int | None = None) -> Dataset:
        c = self.config
        seed = c.seed if seed is None else seed
        if c.task == "sr":
            return SRPairs(c.data, scale=c.scale, crop=c.crop, lr=c.lr_data, seed=seed)
        return DeblurPairs(
            c.data, crop=c.crop, blurred=c.blur_data, kernels=c.kernels, kernel_size=c.kernel_size,
            noise=c.noise, seed=seed,
        )  # fmt: skip

    def prepare(self, model: nn.Module, dataset: Dataset) -> None:
        """Nothing to calibrate for restoration networks."""

    def losses(self, model: nn.Module, batch: Batch, amp_dtype: torch.dtype | None) -> dict[str, torch.Tensor]:
        batch = _on(batch, self.device)
        with _autocast(self.device, amp_dtype):
            output = model(batch["input"])
        c = self.config
        dsd_stage = c.stage == "dsd"
        return restoration_loss(
            output.float(), batch["target"], self.extractor, l1_weight=c.l1_weight,
            perceptual_weight=c.perceptual_weight if dsd_stage else 0.0,
            dsd_weight=c.dsd_weight if dsd_stage else 0.0, perceptual_layer=self.perceptual_layer,
            alpha=c.alpha, feature_loss=c.feature_loss,
        )  # fmt: skip

    def examples(self) -> list[Example]:
        c = self.config
        if c.val_data is None:
            return []
        if self._examples is None:
            if c.task == "sr":
                self._examples = sr_examples(c.val_data, c.scale, c.val_lr, c.val_crop, c.val_limit)
            else:
                self._examples = deblur_examples(
                    c.val_data, c.val_blur, kernels=c.kernels, kernel_size=c.kernel_size, noise=c.noise,
                    crop=c.val_crop, limit=c.val_limit, seed=c.seed,
                )  # fmt: skip
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
    into.setdefault(f"psnr{suffix}", []).append(float(psnr(image, target, shave=shave)[0]))
    into.setdefault(f"ssim{suffix}", []).append(float(ssim(image, target, shave=shave)[0]))
    into.setdefault(f"dsd_distance{suffix}", []).append(float(dsd_distance(image, target)["mean"][0]))


class RegressorTask:
    """The DSD regressor psi_a on natural crops of side ``crop * alpha`` (it sees ``crop`` px)."""

    def __init__(self, config: TrainConfig, device: torch.device) -> None:
        self.config, self.device = config, device
        self.alpha = float(config.alpha)
        self.layers = resolve_layers("no_reference")
        self.extractor = VGG19Features(self.layers).to(device)
        self.notes: list[str] = []
        self._examples: list[Example] | None = None

    @property
    def image_crop(self) -> int:
        """Side of the natural crops ``y`` in pixels (the regressor sees ``y|a``, ``crop`` px)."""
        return int(round(self.config.crop * self.alpha))

    def build_model(self) -> nn.Module:
        return DSDRegressor(alpha=self.alpha, layers=self.layers, crop=self.config.crop)

    def dataset(self, seed: int | None = None) -> Dataset:
        return NaturalCrops(self.config.data, crop=self.image_crop, seed=self.config.seed if seed is None else seed)

    def targets(self, y: torch.Tensor) -> torch.Tensor:
        """True ``||DSD_{l,a}(y)||_1`` per layer, ``(B, 4)``, without gradient."""
        with torch.no_grad():
            norms = dsd_unchecked(y, self.alpha, self.extractor).norms()
        return torch.stack([norms[name] for name in self.layers], dim=1)

    def prepare(self, model: nn.Module, dataset: Dataset) -> None:
        """Set ``target_scale`` to the mean norms of ``calibration_batches`` batches of a separate stream."""
        calibration = self.dataset(seed=self.config.seed + 1)
        count = self.config.calibration_batches * self.config.batch_size
        sums = torch.zeros(len(self.layers), dtype=torch.float64)
        for start in range(0, count, self.config.batch_size):
            y = torch.stack([calibration[k]["target"] for k in range(start, start + self.config.batch_size)])
            sums += self.targets(y.to(self.device)).double().sum(dim=0).cpu()
        model.target_scale.copy_((sums / count).float())

    def losses(self, model: nn.Module, batch: Batch, amp_dtype: torch.dtype | None) -> dict[str, torch.Tensor]:
        y = _on(batch, self.device)["target"]
        truth = self.targets(y)
        with _autocast(self.device, amp_dtype):
            predicted = model(downscale(y, self.alpha))
        scale = model.module.target_scale if hasattr(model, "module") else model.target_scale
        per_layer = (((predicted.float() - truth) / scale) ** 2).mean(dim=0)
        terms = {f"mse_{name}": per_layer[i] for i, name in enumerate(self.layers)}
        terms["loss"] = per_layer.mean()
        return terms

    def examples(self) -> list[Example]:
        c = self.config
        if c.val_data is None:
            return []
        if self._examples is None:
            self._examples = natural_examples(c.val_data, self.image_crop, c.val_per_image, c.val_limit, c.seed)
        return self._examples

    @torch.no_grad()
    def validate(self, model: nn.Module) -> tuple[dict[str, float], list[tuple[str, torch.Tensor]]]:
        """Per layer: mean absolute error, relative error (MAE / mean true norm), Pearson r, normalised MSE."""
        predicted, true = [], []
        for start in range(0, len(self.examples()), 16):
            y = torch.cat([e.target for e in self.examples()[start : start + 16]]).to(self.device)
            true.append(self.targets(y).cpu())
            predicted.append(model(downscale(y, self.alpha)).float().cpu())
        if not true:
            return {}, []
        p, t = torch.cat(predicted).double().numpy(), torch.cat(true).double().numpy()
        scale = model.target_scale.double().cpu().numpy()
        metrics: dict[str, float] = {"mse": float((((p - t) / scale) ** 2).mean())}
        for i, name in enumerate(self.layers):
            error = np.abs(p[:, i] - t[:, i])
            metrics[f"mae_{name}"] = float(error.mean())
            metrics[f"rel_{name}"] = float(error.mean() / t[:, i].mean())
            metrics[f"r_{name}"] = float(np.corrcoef(p[:, i], t[:, i])[0, 1]) if len(t) > 1 else float("nan")
        return metrics, []


class Task(Protocol):
    """What :class:`dsdviz.training.Trainer` needs from a task."""

    notes: list[str]

    def build_model(self) -> nn.Module: ...

    def dataset(self, seed: int | None = None) -> Dataset: ...

    def prepare(self, model: nn.Module, dataset: Dataset) -> None: ...

    def losses(self, model: nn.Module, batch: Batch, amp_dtype: torch.dtype | None) -> dict[str, torch.Tensor]: ...

    def examples(self) -> list[Example]: ...

    def validate(self, model: nn.Module) -> tuple[dict[str, float], list[tuple[str, torch.Tensor]]]: ...


def make_task(config: TrainConfig, device: torch.device) -> Task:
    """The task object for ``config.task``."""
    if config.task == "regressor":
        return RegressorTask(config, device)
    if config.task in ("sr", "deblur"):
        return RestorationTask(config, device)
    raise ValueError(f"task: expected one of {', '.join(TASKS)}, got {config.task!r}")
