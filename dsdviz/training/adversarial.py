"""The adversarial term of stage 2: a critic (:class:`~dsdviz.models.Discriminator`) trained beside the generator.

Each training step first updates the generator with ``weight x`` the generator loss of
:mod:`dsdviz.losses.adversarial` added to its other terms (the critic's weights frozen), then
the critic on the same real crops and the step's detached outputs, with its own Adam
optimiser (the loop's rate, betas and step decay) and, for fp16, its own loss scaler. The critic
sees real and generated crops in one batch (BatchNorm in training mode throughout, so its
running statistics are never used), runs under the run's precision plan, and is built from its
own seed (``seed + 3``) so that adding it changes no other random stream. Its weights,
optimiser, schedule and scaler are part of the run's checkpoint (:meth:`Adversary.state_dict`),
so an interrupted run resumes bit-identically; under DDP its gradients are averaged across
processes like the generator's (BatchNorm statistics stay per process on CPU).
"""

from __future__ import annotations

from typing import Any

import torch
from torch.nn.parallel import DistributedDataParallel
from torch.optim.lr_scheduler import StepLR

from ..losses.adversarial import AdversarialKind, critic_loss, generator_loss
from ..models.discriminator import Discriminator
from ..precision import PrecisionPlan, autocast, channels_last, grad_scaler
from .settings import LoopSettings

#: Offset of the critic's initialisation seed from the run's seed (+1 and +2: calibration and monitor streams).
CRITIC_SEED_OFFSET = 3


class Adversary:
    """The critic of one run, its optimiser, and the two losses.

    Args:
        kind: ``"standard"`` or ``"relativistic"`` (:mod:`dsdviz.losses.adversarial`).
        loop: the run's loop settings (rate, betas, decay, seed).
        device, plan: where and in which precision the critic runs.
        distributed: wrap the critic in DDP for its update (several processes).
        channels: the critic's width (64 as in SRGAN).
    """

    def __init__(
        self, kind: AdversarialKind, loop: LoopSettings, device: torch.device, plan: PrecisionPlan, *,
        distributed: bool = False, channels: int = 64,
    ) -> None:  # fmt: skip
        self.kind, self.plan = kind, plan
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(loop.seed + CRITIC_SEED_OFFSET)
            self.critic = channels_last(Discriminator(channels).to(device))
        self.optimizer = torch.optim.Adam(self.critic.parameters(), lr=loop.lr, betas=loop.betas)
        self.scheduler = StepLR(self.optimizer, step_size=loop.decay_every, gamma=loop.decay_gamma)
        self.scaler = grad_scaler(plan)
        self._update_module: torch.nn.Module = (
            DistributedDataParallel(self.critic, device_ids=[device] if device.type == "cuda" else None)
            if distributed else self.critic
        )  # fmt: skip
        self._pending: tuple[torch.Tensor, torch.Tensor] | None = None

    def _logits(self, module: torch.nn.Module, real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, ...]:
        with autocast(self.plan):
            logits = module(torch.cat([real, fake])).float()
        return logits[: len(real)], logits[len(real) :]

    def generator_term(self, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        """The generator's adversarial loss for outputs ``fake`` and ground truth ``real``, both ``(B, 3, H, W)``.

        The critic's weights get no gradient. In a training step (gradient enabled and ``fake``
        requiring it) the pair is kept for :meth:`update`.
        """
        self.critic.requires_grad_(False)
        try:
            real_logits, fake_logits = self._logits(self.critic, real, fake)
        finally:
            self.critic.requires_grad_(True)
        if torch.is_grad_enabled() and fake.requires_grad:
            self._pending = (real.detach(), fake.detach())
        return generator_loss(self.kind, real_logits, fake_logits)

    def update(self) -> dict[str, torch.Tensor]:
        """One critic step on the pair of the last training step; returns ``{"critic": loss}`` (detached)."""
        if self._pending is None:
            raise RuntimeError("Adversary.update: no generator step since the last update")
        real, fake = self._pending
        self._pending = None
        self.optimizer.zero_grad(set_to_none=True)
        loss = critic_loss(self.kind, *self._logits(self._update_module, real, fake))
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.scheduler.step()
        return {"critic": loss.detach()}

    def state_dict(self) -> dict[str, Any]:
        """The critic's weights, optimiser, schedule and scaler (what a checkpoint keeps)."""
        return {
            "critic": self.critic.state_dict(), "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(), "scaler": self.scaler.state_dict(),
        }  # fmt: skip

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        self.critic.load_state_dict(state["critic"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.scaler.load_state_dict(state["scaler"])


__all__ = ["CRITIC_SEED_OFFSET", "Adversary"]
