"""Adversarial losses on a critic's logits: the standard GAN loss (SRGAN) and the relativistic average one (ESRGAN).

A critic maps images to one logit each, positive for "real". With ``r`` the logits of real
images and ``f`` those of generated ones (both ``(B,)``) and ``BCE`` the binary cross-entropy
on logits, averaged over the batch:

* ``"standard"`` (Goodfellow et al.; SRGAN's ``-log D(G(z))`` form for the generator):
  critic ``BCE(r, 1) + BCE(f, 0)``, generator ``BCE(f, 1)``;
* ``"relativistic"`` (the relativistic average GAN of Jolicoeur-Martineau, as in ESRGAN):
  with ``r' = r - mean(f)`` and ``f' = f - mean(r)``, critic ``(BCE(r', 1) + BCE(f', 0)) / 2``,
  generator ``(BCE(r', 0) + BCE(f', 1)) / 2``, where the generator's ``r`` carries no gradient.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F

AdversarialKind = Literal["standard", "relativistic"]
ADVERSARIAL_KINDS: tuple[str, ...] = ("standard", "relativistic")


def _bce(logits: torch.Tensor, real: bool) -> torch.Tensor:
    target = torch.ones_like(logits) if real else torch.zeros_like(logits)
    return F.binary_cross_entropy_with_logits(logits, target)


def _check(kind: str, real: torch.Tensor, fake: torch.Tensor) -> None:
    if kind not in ADVERSARIAL_KINDS:
        raise ValueError(f"kind: expected one of {', '.join(ADVERSARIAL_KINDS)}, got {kind!r}")
    if real.ndim != 1 or fake.ndim != 1 or not real.numel() or not fake.numel():
        raise ValueError(f"expected logits of shape (B,), got {tuple(real.shape)} and {tuple(fake.shape)}")


def critic_loss(kind: AdversarialKind, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """The critic's loss (a scalar) from the logits of real images ``(B,)`` and generated ones ``(B',)``."""
    _check(kind, real, fake)
    if kind == "standard":
        return _bce(real, True) + _bce(fake, False)
    return (_bce(real - fake.mean(), True) + _bce(fake - real.mean(), False)) / 2


def generator_loss(kind: AdversarialKind, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """The generator's adversarial term (a scalar); ``real`` is detached here, ``fake`` carries the gradient."""
    _check(kind, real, fake)
    if kind == "standard":
        return _bce(fake, True)
    real = real.detach()
    return (_bce(real - fake.mean(), False) + _bce(fake - real.mean(), True)) / 2


__all__ = ["ADVERSARIAL_KINDS", "AdversarialKind", "critic_loss", "generator_loss"]
