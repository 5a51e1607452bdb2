"""VGG19 (ImageNet) feature maps at named layers, with offline-friendly weights.

The layer names follow the usual convention (``conv1_1``, ``relu1_1``, ..., ``pool5``)
and map to indices of ``torchvision.models.vgg19().features`` through the single table
:data:`VGG19_LAYERS`. The extractor is truncated after the deepest requested layer,
normalises RGB input in ``[0, 1]`` with the ImageNet mean and standard deviation, is
frozen and in eval mode, and returns every requested layer from one forward pass.

Weights (Simonyan & Zisserman, ICLR 2015; torchvision's ``VGG19_Weights.IMAGENET1K_V1``)
are resolved in this order:

1. the environment variable :data:`WEIGHTS_ENV` (``DSDVIZ_VGG19_WEIGHTS``), a path to a
   state dict, overrides any ``weights`` argument except ``None``;
2. ``weights="imagenet"``: torchvision's file in the torch hub cache
   (``$TORCH_HOME/hub/checkpoints``), downloaded there when online;
3. ``weights=<path>``: a local state dict.

A state dict may be torchvision's full VGG19 (``features.0.weight``, ...), its
``features`` part (``0.weight``, ...), or a truncated ``features`` part that covers
the requested layers (for example the ``conv1_1`` to ``conv3_1`` file enough for
every DSD layer). ``weights=None`` gives random weights, and only when asked.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Literal, Union

import torch
from torch import nn
from torchvision.models import VGG19_Weights
from torchvision.models.vgg import cfgs, make_layers

from .torchfiles import read_torch_file
from .validation import check_image

WEIGHTS_ENV = "DSDVIZ_VGG19_WEIGHTS"

#: Layer name -> index in ``torchvision.models.vgg19().features``.
VGG19_LAYERS: dict[str, int] = {}


def _build_layer_table() -> None:
    index = 0
    for block, convs in enumerate((2, 2, 4, 4, 4), start=1):
        for conv in range(1, convs + 1):
            VGG19_LAYERS[f"conv{block}_{conv}"] = index
            VGG19_LAYERS[f"relu{block}_{conv}"] = index + 1
            index += 2
        VGG19_LAYERS[f"pool{block}"] = index
        index += 1


_build_layer_table()

LayerName = str
Layers = Union[Sequence[LayerName], Literal["dsd", "training", "full_reference", "no_reference", "style"]]

#: Named layer sets, so that no module scatters its own constants.
LAYER_PRESETS: dict[str, tuple[LayerName, ...]] = {
    # every layer of the DSD fingerprint (and of the no-reference score, Eq. 5)
    "dsd": ("relu1_2", "relu2_1", "relu2_2", "relu3_1"),
    # the DSD training loss of the authors' code
    "training": ("relu2_1", "relu2_2", "relu3_1"),
    # the authors' full-reference DSD distance
    "full_reference": ("relu1_2", "relu2_1", "relu3_1"),
    # the no-reference score Q_DSD uses all four layers
    "no_reference": ("relu1_2", "relu2_1", "relu2_2", "relu3_1"),
    # the authors' style loss
    "style": ("relu1_2", "relu2_1", "relu3_1"),
}

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

Weights = Union[Literal["imagenet"], str, os.PathLike, None]


class WeightsUnavailableError(RuntimeError):
    """The VGG19 weights could not be found or downloaded."""


def resolve_layers(layers: Layers) -> tuple[LayerName, ...]:
    """Expand a preset name or validate a sequence of layer names.

    Raises:
        ValueError: on an unknown preset or layer name, or an empty or repeated list.
    """
    if isinstance(layers, str):
        if layers in LAYER_PRESETS:
            return LAYER_PRESETS[layers]
        if layers in VGG19_LAYERS:
            return (layers,)
        raise ValueError(
            f"layers: unknown layer or preset {layers!r}; presets: {', '.join(LAYER_PRESETS)}; "
            f"layers: conv1_1 ... relu5_4, pool1 ... pool5"
        )
    names = tuple(layers)
    if not names:
        raise ValueError("layers: expected at least one layer name")
    unknown = [name for name in names if name not in VGG19_LAYERS]
    if unknown:
        raise ValueError(
            f"layers: unknown VGG19 layer(s) {', '.join(map(repr, unknown))}; "
            "expected names like 'relu1_2', 'conv3_1', 'pool2'"
        )
    if len(set(names)) != len(names):
        raise ValueError(f"layers: repeated layer names in {names}")
    return names


def min_input_size(layers: Layers) -> int:
    """Smallest image side (px) for which every layer has at least one pixel.

    Each max-pooling layer before (or at) a layer halves the size, rounding down.
    """
    deepest = max(VGG19_LAYERS[name] for name in resolve_layers(layers))
    pools = sum(1 for name, index in VGG19_LAYERS.items() if name.startswith("pool") and index <= deepest)
    return 2**pools


def _hub_checkpoint() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(VGG19_Weights.IMAGENET1K_V1.url).name


def _read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise WeightsUnavailableError(
            f"VGG19 weights file {str(path)!r} {'is a folder' if path.is_dir() else 'does not exist'}; set "
            f"{WEIGHTS_ENV} to a state dict of torchvision's VGG19 (e.g. vgg19-dcbb9e9d.pth)"
        )
    expected = "a state dict of torchvision's VGG19 weights (e.g. vgg19-dcbb9e9d.pth)"
    state = read_torch_file(path, expected)
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(value, torch.Tensor) for value in state.values()):
        raise ValueError(f"VGG19 weights file {str(path)!r} holds a {type(state).__name__} of other things; "
                         f"expected {expected}")  # fmt: skip
    bad = [key for key, value in state.items() if value.is_floating_point() and not value.isfinite().all()]
    if bad:
        raise ValueError(f"VGG19 weights file {str(path)!r} holds NaN or infinite values ({', '.join(bad[:3])}); "
                         f"a corrupted copy? Point {WEIGHTS_ENV} at a good one")  # fmt: skip
    return {
        key.removeprefix("features."): value
        for key, value in state.items()
        if not key.startswith("classifier.")
    }


def load_state_dict(weights: Weights = "imagenet") -> dict[str, torch.Tensor] | None:
    """Resolve ``weights`` (see the module docstring) to a ``features`` state dict.

    Returns:
        A dict with keys ``"<index>.weight"`` and ``"<index>.bias"``, or ``None`` for
        ``weights=None`` (random initialisation).

    Raises:
        WeightsUnavailableError: when the file does not exist, or ``"imagenet"`` is not
            cached and cannot be downloaded; the message names :data:`WEIGHTS_ENV`.
        ValueError: when the file is not a readable state dict (truncated, random bytes,
            another format); the message names the file.
    """
    if weights is None:
        return None
    override = os.environ.get(WEIGHTS_ENV, "").strip()
    if override:
        return _read_state_dict(Path(override).expanduser())
    if weights != "imagenet":
        return _read_state_dict(Path(weights).expanduser())
    cached = _hub_checkpoint()
    if cached.is_file():
        return _read_state_dict(cached)
    try:
        state = VGG19_Weights.IMAGENET1K_V1.get_state_dict(progress=True)
    except Exception as error:  # offline: URLError, socket errors, HTTP errors
        raise WeightsUnavailableError(
            f"the ImageNet VGG19 weights are not in the torch cache ({cached}) and could not be "
            f"downloaded ({type(error).__name__}: {error}). Offline, set the environment variable "
            f"{WEIGHTS_ENV} to a local VGG19 state dict, or pass weights=<path>."
        ) from None
    return {key.removeprefix("features."): value for key, value in state.items() if key.startswith("features.")}


class VGG19Features(nn.Module):
    """Frozen VGG19 returning feature maps at named layers in one forward pass.

    Args:
        layers: layer names (``"relu1_2"``, ``"conv3_1"``, ...) or a preset of
            :data:`LAYER_PRESETS`; the network is truncated after the deepest one.
        weights: ``"imagenet"``, a path to a state dict, or ``None`` for random
            weights (see the module docstring; ``DSDVIZ_VGG19_WEIGHTS`` overrides).
        normalize: subtract the ImageNet mean and divide by its std first.
        channels_last: run the convolutions in channels-last memory layout (same values;
            about 1.1-1.4x faster on CPU with oneDNN, and the usual choice on GPU).

    Input: RGB images ``(B, 3, H, W)`` in ``[0, 1]`` (not range-checked here: outputs of
    a network being trained may leave it). Output: ``{layer: (B, C_l, H_l, W_l)}`` in the
    order of ``layers``.

    Raises:
        ValueError: on unknown layers, or weights that do not cover the requested
            layers (the message names the missing ones).
        WeightsUnavailableError: when the weights cannot be found (names the variable).
    """

    def __init__(
        self, layers: Layers = "dsd", weights: Weights = "imagenet", normalize: bool = True, channels_last: bool = True
    ) -> None:
        super().__init__()
        self.layers = resolve_layers(layers)
        depth = max(VGG19_LAYERS[name] for name in self.layers) + 1
        body = make_layers(cfgs["E"])[:depth]  # torchvision's VGG19 feature layers, without the classifier
        for index, module in enumerate(body):
            if isinstance(module, nn.ReLU):
                body[index] = nn.ReLU(inplace=False)  # keep conv outputs intact for conv taps
        state = load_state_dict(weights)
        if state is not None:
            self._load(body, state, weights)
        self.channels_last = channels_last
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.body = body.eval().requires_grad_(False).to(memory_format=self.memory_format)
        self.normalize = normalize
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self._taps = {VGG19_LAYERS[name]: name for name in self.layers}

    def _load(self, body: nn.Sequential, state: dict[str, torch.Tensor], weights: Weights) -> None:
        needed = body.state_dict()
        missing = sorted({int(key.split(".")[0]) for key in needed if key not in state})
        if missing:
            by_index = {index: name for name, index in VGG19_LAYERS.items() if name.startswith("conv")}
            names = ", ".join(by_index[index] for index in missing)
            blocked = [name for name in self.layers if VGG19_LAYERS[name] >= missing[0]]
            source = os.environ.get(WEIGHTS_ENV) or weights
            raise ValueError(
                f"the VGG19 weights ({source}) do not cover layer(s) {', '.join(blocked)}: missing {names}. "
                "Use torchvision's full VGG19 weights or request shallower layers."
            )
        for key, tensor in needed.items():
            if state[key].shape != tensor.shape:
                raise ValueError(
                    f"VGG19 weights: {key} has shape {tuple(state[key].shape)}, expected {tuple(tensor.shape)}"
                )
        body.load_state_dict({key: state[key] for key in needed})

    def train(self, mode: bool = True) -> VGG19Features:
        """The extractor stays in eval mode (it has no dropout or batch norm to train)."""
        return super().train(False)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        if self.normalize:
            x = (x - self.mean.to(x.dtype)) / self.std.to(x.dtype)
        x = x.contiguous(memory_format=self.memory_format)
        out: dict[str, torch.Tensor] = {}
        for index, module in enumerate(self.body):
            x = module(x)
            if index in self._taps:
                out[self._taps[index]] = x
        return {name: out[name] for name in self.layers}

    def extra_repr(self) -> str:
        return f"layers={self.layers}"


@lru_cache(maxsize=16)
def _cached_extractor(
    layers: tuple[str, ...], weights: Weights, override: str, device: torch.device, dtype: torch.dtype
) -> VGG19Features:
    return VGG19Features(layers, weights).to(device=device, dtype=dtype)


def default_extractor(
    layers: Layers = "dsd",
    weights: Weights = "imagenet",
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
) -> VGG19Features:
    """A shared, cached :class:`VGG19Features` for the given layers, device and dtype.

    The functional API (:func:`dsdviz.dsd`, the losses) uses this so that weights are
    read once per process. The cache key includes ``DSDVIZ_VGG19_WEIGHTS``.
    """
    weights = str(weights) if isinstance(weights, os.PathLike) else weights
    return _cached_extractor(
        resolve_layers(layers), weights, os.environ.get(WEIGHTS_ENV, ""), torch.device(device), dtype
    )


def vgg19_features(
    x: torch.Tensor, layers: Layers = "dsd", weights: Weights = "imagenet"
) -> dict[str, torch.Tensor]:
    """VGG19 feature maps of RGB images ``x`` ``(B, 3, H, W)`` in ``[0, 1]``.

    Returns:
        ``{layer: (B, C_l, H_l, W_l)}``; e.g. ``relu3_1`` has 256 channels at ``H / 4``.

    Raises:
        ValueError: on bad input (see :func:`dsdviz.validation.check_image`) or an
            image smaller than :func:`min_input_size` for the layers.
    """
    names = resolve_layers(layers)
    check_image(x, "x", min_size=min_input_size(names))
    return default_extractor(names, weights, x.device, x.dtype)(x)
