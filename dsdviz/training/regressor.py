"""Training the no-reference DSD regressor psi_a (``"regressor"``) on natural crops.

The loss is the per-layer normalised MSE: ``mean_l mean_batch ((psi_l(y|a) -
||DSD_{l,a}(y)||_1) / s_l)^2`` with ``s_l`` the mean norm over ``calibration_batches``
batches of a separate training stream (the regressor's ``target_scale`` buffer, see
:mod:`dsdviz.models.regressor`). Validation: per layer, mean absolute error, relative error,
Pearson r and the normalised MSE on fixed crops of natural images. The training targets
come from VGG19 under the run's precision plan (Gram matrices in float32); the calibration
and the validation targets are float32.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset

from ..data import Example, NaturalCrops, natural_examples, split_folders
from ..features import VGG19Features, resolve_layers
from ..fingerprint import dsd_unchecked
from ..models import DSDRegressor
from ..precision import AutocastFeatures, PrecisionPlan, autocast
from ..resize import downscale
from ..validation import check_dsd_factor, check_positive_int
from .settings import LoopSettings, TaskSettings, setting
from .tasks import Batch, on_device


@dataclass
class RegressorSettings(TaskSettings):
    """The regressor psi_a: its factor, the calibration of its target scale, the validation crops.

    It sees ``y|a`` crops of ``crop`` px, taken from natural crops ``y`` of ``crop * alpha`` px; a
    fraction ``realistic`` of the training ``y|a`` carry a camera's sensor noise and JPEG
    (:class:`~dsdviz.data.RealisticDegradation`), and with ``blur`` a Gaussian blur of up to ``blur``
    px (at ``y``'s resolution) before the downscale, while the target stays the clean ``y``'s
    DSD: psi learns the DSD a natural image would have from a coarse copy as photographs give it.
    ``data`` may name several folders separated by ``os.pathsep`` (``BSDS500_train:BSDS500_test``);
    the last ``holdout`` images of them are not trained on.
    """

    name = "regressor"

    alpha: float = setting(2.0, "the downscaling factor a of psi_a (2 or 4)")
    calibration_batches: int = setting(8, "batches that set the target scale of each layer")
    val_per_image: int = setting(1, "validation crops per image")
    realistic: float = setting(0.0, "fraction of training coarse copies y|a given sensor noise and JPEG")
    blur: float = setting(0.0, "largest Gaussian blur (px at y's size) of those coarse copies, before the downscale")
    holdout: int = setting(0, "the last N training images (name order) are held out, not trained on")

    def __post_init__(self) -> None:
        super().__post_init__()
        check_dsd_factor(self.alpha)
        check_positive_int(self.calibration_batches, "calibration_batches")
        check_positive_int(self.val_per_image, "val_per_image")
        if not 0 <= self.realistic <= 1:
            raise ValueError(f"realistic: expected a fraction in [0, 1], got {self.realistic!r}")
        if not self.blur >= 0 or (self.blur and not self.realistic):
            raise ValueError(f"blur: expected a standard deviation >= 0 px, with realistic > 0, got {self.blur!r}")
        if self.holdout < 0:
            raise ValueError(f"holdout: expected a number of images >= 0, got {self.holdout!r}")

    def make_task(self, loop: LoopSettings, device: torch.device, plan: PrecisionPlan) -> RegressorTask:
        return RegressorTask(self, loop, device, plan)


class RegressorTask:
    """The DSD regressor psi_a on natural crops of side ``crop * alpha`` (it sees ``crop`` px)."""

    def __init__(
        self, settings: RegressorSettings, loop: LoopSettings, device: torch.device, plan: PrecisionPlan
    ) -> None:
        self.settings, self.loop, self.device, self.plan = settings, loop, device, plan
        self.alpha = float(settings.alpha)
        self.layers = resolve_layers("no_reference")
        self.extractor = VGG19Features(self.layers).to(device)
        self.features = AutocastFeatures(self.extractor, plan)
        self.notes: list[str] = []
        self._examples: list[Example] | None = None

    @property
    def image_crop(self) -> int:
        """Side of the natural crops ``y`` in pixels (the regressor sees ``y|a``, ``crop`` px)."""
        return int(round(self.settings.crop * self.alpha))

    def build_model(self) -> nn.Module:
        return DSDRegressor(alpha=self.alpha, layers=self.layers, crop=self.settings.crop)

    def dataset(self, seed: int | None = None) -> Dataset:
        s = self.settings
        return NaturalCrops(
            split_folders(s.data), crop=self.image_crop, seed=self.loop.seed if seed is None else seed,
            coarse=self.alpha if s.realistic else None, realistic=s.realistic, holdout=s.holdout, blur=s.blur,
        )  # fmt: skip

    def targets(self, y: torch.Tensor, extractor: nn.Module | None = None) -> torch.Tensor:
        """True ``||DSD_{l,a}(y)||_1`` per layer, ``(B, 4)``, without gradient (default: float32 VGG19)."""
        with torch.no_grad():
            norms = dsd_unchecked(y, self.alpha, extractor or self.extractor).norms()
        return torch.stack([norms[name] for name in self.layers], dim=1)

    def prepare(self, model: nn.Module, dataset: Dataset) -> None:
        """Set ``target_scale`` to the mean norms of ``calibration_batches`` batches of a separate stream."""
        calibration = self.dataset(seed=self.loop.seed + 1)
        batch = self.loop.batch_size
        count = self.settings.calibration_batches * batch
        sums = torch.zeros(len(self.layers), dtype=torch.float64)
        for start in range(0, count, batch):
            y = torch.stack([calibration[k]["target"] for k in range(start, start + batch)])
            sums += self.targets(y.to(self.device)).double().sum(dim=0).cpu()
        model.target_scale.copy_((sums / count).float())

    def losses(self, model: nn.Module, batch: Batch) -> dict[str, torch.Tensor]:
        batch = on_device(batch, self.device)
        y = batch["target"]
        truth = self.targets(y, self.features)
        with autocast(self.plan):
            predicted = model(batch["input"] if "input" in batch else downscale(y, self.alpha))
        scale = model.module.target_scale if hasattr(model, "module") else model.target_scale
        per_layer = (((predicted.float() - truth) / scale) ** 2).mean(dim=0)
        terms = {f"mse_{name}": per_layer[i] for i, name in enumerate(self.layers)}
        terms["loss"] = per_layer.mean()
        return terms

    def after_step(self) -> dict[str, torch.Tensor]:
        """Nothing besides the network is trained."""
        return {}

    def state_dict(self) -> dict:
        """The regressor task keeps no state besides the network's."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Nothing to restore."""

    def examples(self) -> list[Example]:
        s = self.settings
        if s.val_data is None:
            return []
        if self._examples is None:
            self._examples = natural_examples(s.val_data, self.image_crop, s.val_per_image, s.val_limit, self.loop.seed)
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


__all__ = ["RegressorSettings", "RegressorTask"]
