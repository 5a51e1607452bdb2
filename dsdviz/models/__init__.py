"""Networks of the DSD paper: xSRResNet (SR, deblurring) and the no-reference DSD regressor; the shipped models."""

from .discriminator import Discriminator
from .regressor import (
    REGRESSOR_BLOCKS,
    DSDRegressor,
    SEResBlock,
    SqueezeExcitation,
    dsd_regressor,
)
from .serialization import (
    MODEL_KINDS,
    build_model,
    count_parameters,
    load_model,
    model_meta,
    network_caption,
    regressors_caption,
    save_model,
)
from .store import (
    DEFAULT_REGRESSORS,
    SHIPPED_RESTORATION,
    shipped_log,
    shipped_models,
    steps_done,
    training_budget,
)
from .xsrresnet import XSRResNet, xsrresnet_deblur, xsrresnet_sr
from .xunit import XResBlock, XUnit, xunit

__all__ = [
    "DEFAULT_REGRESSORS",
    "Discriminator",
    "DSDRegressor",
    "MODEL_KINDS",
    "REGRESSOR_BLOCKS",
    "SEResBlock",
    "SHIPPED_RESTORATION",
    "SqueezeExcitation",
    "XResBlock",
    "XSRResNet",
    "XUnit",
    "build_model",
    "count_parameters",
    "dsd_regressor",
    "load_model",
    "model_meta",
    "network_caption",
    "regressors_caption",
    "save_model",
    "shipped_log",
    "shipped_models",
    "steps_done",
    "training_budget",
    "xsrresnet_deblur",
    "xsrresnet_sr",
    "xunit",
]
