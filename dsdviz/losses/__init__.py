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

Mixed precision: every loss may run under :func:`torch.autocast` (e.g.
``with dsdviz.precision.autocast(plan): loss = dsd_loss(output, target)``, the plan from
:func:`dsdviz.precision.resolve_precision`), or take ``extractor=AutocastFeatures(net, plan)``
(:class:`dsdviz.precision.AutocastFeatures`, which keeps the resizing in float32 as well).
Either way the VGG19 convolutions run in bfloat16 (or float16) while the Gram matrices and
L1 terms are accumulated in float32: the loss and its gradient are float32. Measured on a
CPU with native bfloat16 (128 px crops of skimage's chelsea against coffee, default layers):
relative difference to float32 0.08% (DSD, alpha 2), 0.03% (style), 0.06% (multi-scale
style), 0.02% (perceptual, conv3_1). Reported numbers stay float32 (:mod:`dsdviz.precision`).
"""

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
    "dsd_loss",
    "feature_layers",
    "multiscale_style_loss",
    "perceptual_loss",
    "range_loss",
    "restoration_loss",
    "style_loss",
    "target_dsd",
    "target_grams",
]
