"""Losses built on VGG19 features: style, multi-scale style, DSD, perceptual, range, and the trainer's sum.

Every loss is a function (:mod:`.functional`) plus a thin ``nn.Module`` (:mod:`.modules`)
whose ``forward`` calls it; :mod:`.restoration` holds the trainer's weighted sum. The
first argument (``output``) is what is being optimised: an image or a network's output,
which may leave ``[0, 1]`` during optimisation (``range_loss`` penalises that), so only
its shape, dtype and finiteness are checked. Targets are data: they are range-checked and
their features are computed without gradient.

Conventions (those of the DSD authors' training code, computed by :mod:`dsdviz.distances`):
a term per layer is the mean absolute difference (L1, averaged over entries) and the
terms are summed over layers. ``reduction="mean"`` averages over the batch; ``"none"``
returns one value per item. A target may be given pre-computed (Gram matrices or a
:class:`~dsdviz.fingerprint.DSD`) so that an optimisation loop with a fixed target does not
recompute it at every step; the module forms cache it when constructed with ``target=``.

Mixed precision: give a loss ``extractor=AutocastFeatures(net, plan)``
(:class:`dsdviz.precision.AutocastFeatures`, the plan from
:func:`dsdviz.precision.resolve_precision`): the VGG19 convolutions run in bfloat16 (or
float16) while the MATLAB resize, the Gram matrices and the L1 terms stay float32, so the
loss and its gradient are float32. Measured on a CPU with native bfloat16 (128 px crops of
skimage's chelsea against coffee, default layers): relative difference to float32 0.08%
(DSD, alpha 2), 0.03% (style), 0.06% (multi-scale style), 0.02% (perceptual, conv3_1).
Wrapping the call in ``with dsdviz.precision.autocast(plan):`` instead also works, but then
the downscaled copies are resized in bfloat16 too, which costs an order of magnitude in
accuracy (``||DSD||`` 0.8% instead of 0.08% off on Set14, ``benchmarks/accuracy_bf16.py``).
Reported numbers stay float32 (:mod:`dsdviz.precision`).
"""

from .adversarial import ADVERSARIAL_KINDS, AdversarialKind, critic_loss, generator_loss
from .functional import (
    GramTarget,
    Reduction,
    check_size,
    dsd_loss,
    multiscale_style_loss,
    perceptual_loss,
    range_loss,
    style_loss,
    target_dsd,
    target_grams,
)
from .modules import DSDLoss, MultiScaleStyleLoss, PerceptualLoss, RangeLoss, StyleLoss
from .restoration import (
    FEATURE_LOSS_LABELS,
    FEATURE_LOSSES,
    FeatureLoss,
    available_perceptual_layer,
    feature_layers,
    restoration_loss,
)

__all__ = [
    "ADVERSARIAL_KINDS",
    "AdversarialKind",
    "DSDLoss",
    "FEATURE_LOSSES",
    "FEATURE_LOSS_LABELS",
    "FeatureLoss",
    "GramTarget",
    "MultiScaleStyleLoss",
    "PerceptualLoss",
    "RangeLoss",
    "Reduction",
    "StyleLoss",
    "available_perceptual_layer",
    "check_size",
    "critic_loss",
    "dsd_loss",
    "feature_layers",
    "generator_loss",
    "multiscale_style_loss",
    "perceptual_loss",
    "range_loss",
    "restoration_loss",
    "style_loss",
    "target_dsd",
    "target_grams",
]
