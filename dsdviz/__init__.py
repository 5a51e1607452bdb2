"""dsdviz: deep self-dissimilarity (DSD) fingerprints of images.

Kligvasser, Rott Shaham, Bahat & Michaeli, "Deep Self-Dissimilarities as Powerful
Visual Fingerprints", NeurIPS 2021.
"""

from .features import (
    LAYER_PRESETS,
    VGG19_LAYERS,
    WEIGHTS_ENV,
    VGG19Features,
    WeightsUnavailableError,
    default_extractor,
    vgg19_features,
)
from .fingerprint import DSD, dsd, gram
from .data import load_image, save_image
from .losses import (
    DSDLoss,
    MultiScaleStyleLoss,
    PerceptualLoss,
    RangeLoss,
    StyleLoss,
    dsd_loss,
    multiscale_style_loss,
    perceptual_loss,
    range_loss,
    style_loss,
    target_dsd,
    target_grams,
)
from .optimize import match_fingerprint, minimize_dsd, optimize_image
from .resize import Downscale, downscale, imresize
from .trajectory import Trajectory

__version__ = "0.1.0"

__all__ = [
    "DSD",
    "DSDLoss",
    "Downscale",
    "LAYER_PRESETS",
    "MultiScaleStyleLoss",
    "PerceptualLoss",
    "RangeLoss",
    "StyleLoss",
    "Trajectory",
    "VGG19Features",
    "VGG19_LAYERS",
    "WEIGHTS_ENV",
    "WeightsUnavailableError",
    "default_extractor",
    "downscale",
    "dsd",
    "dsd_loss",
    "gram",
    "imresize",
    "load_image",
    "match_fingerprint",
    "minimize_dsd",
    "multiscale_style_loss",
    "optimize_image",
    "perceptual_loss",
    "range_loss",
    "save_image",
    "style_loss",
    "target_dsd",
    "target_grams",
    "vgg19_features",
]
