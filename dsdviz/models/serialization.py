"""Saving and loading trained networks together with the configuration that rebuilds them.

A model file is a dict ``{"format": "dsdviz-model-1", "kind": ..., "config": {...},
"state_dict": {...}, "meta": {...}}`` readable with ``torch.load(weights_only=True)``.
Training checkpoints (:mod:`dsdviz.training`) hold the same ``kind``/``config``/
``state_dict`` keys, so :func:`load_model` reads either.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..torchfiles import read_torch_file
from .regressor import DSDRegressor
from .store import model_path
from .xsrresnet import XSRResNet

MODEL_FORMAT = "dsdviz-model-1"

#: ``kind`` -> network class; each class takes its ``config`` as keyword arguments.
MODEL_KINDS: dict[str, type[nn.Module]] = {XSRResNet.kind: XSRResNet, DSDRegressor.kind: DSDRegressor}


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters (buffers such as BatchNorm statistics excluded)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def network_caption(model: nn.Module) -> str:
    """``"xSRResNet 4x, 1,111,299 parameters"``, ``"xSRResNet deblurring, ..."``, ``"DSD regressor psi_2, ..."``."""
    if hasattr(model, "alpha"):
        name = f"DSD regressor psi_{model.alpha:g}"
    elif getattr(model, "scale", 1) > 1:
        name = f"xSRResNet {model.scale}x"
    else:
        name = "xSRResNet deblurring"
    return f"{name}, {count_parameters(model):,} parameters"


def regressors_caption(regressors: Sequence[nn.Module]) -> str:
    """``"regressors psi_2, psi_4 (745,508 parameters)"`` (the distinct parameter counts, ``/``-separated)."""
    sizes = " / ".join(f"{n:,}" for n in sorted({count_parameters(r) for r in regressors}))
    return f"regressors {', '.join(f'psi_{r.alpha:g}' for r in regressors)} ({sizes} parameters)"


def build_model(kind: str, config: dict[str, Any] | None = None) -> nn.Module:
    """A fresh network of ``kind`` (``"xsrresnet"`` or ``"dsd_regressor"``) built from ``config``."""
    if kind not in MODEL_KINDS:
        raise ValueError(f"unknown model kind {kind!r}; expected one of {', '.join(MODEL_KINDS)}")
    return MODEL_KINDS[kind](**(config or {}))


def model_record(model: nn.Module, half: bool = False, meta: dict[str, Any] | None = None) -> dict[str, Any]:
    """The dict :func:`save_model` writes (``half`` stores floating tensors as float16)."""
    model = model.module if hasattr(model, "module") else model  # unwrap DistributedDataParallel
    if not hasattr(model, "kind") or not hasattr(model, "config"):
        raise ValueError(f"cannot save a {type(model).__name__}: expected a dsdviz network with .kind and .config")
    state = {
        k: (v.detach().cpu().half() if half and v.is_floating_point() else v.detach().cpu().clone())
        for k, v in model.state_dict().items()
    }
    return {"format": MODEL_FORMAT, "kind": model.kind, "config": model.config, "state_dict": state, "meta": meta or {}}


def atomic_save(obj: Any, path: str | os.PathLike) -> Path:
    """``torch.save`` to a temporary file in the same folder, fsync, then ``os.replace``.

    A reader (or a run killed mid-write) sees either the previous file or the new one,
    never a truncated one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as handle:
            torch.save(obj, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):  # the clean-up never hides the error that stopped the save
            tmp.unlink(missing_ok=True)
    return path


def save_model(
    model: nn.Module, path: str | os.PathLike, *, half: bool = False, meta: dict[str, Any] | None = None
) -> Path:
    """Write a network's kind, config and weights (optionally float16) atomically to ``path``."""
    return atomic_save(model_record(model, half, meta), path)


def model_meta(model: str | os.PathLike) -> dict[str, Any]:
    """The metadata stored with a model file or shipped model (training settings, step, validation scores,
    code version, precision; shipped models also ``train_seconds`` and ``hardware``); ``{}`` if none.

    Raises:
        ValueError: as :func:`load_model`, for a missing or unreadable file.
    """
    path = model_path(model)
    record = read_torch_file(path, "a dsdviz model file or training checkpoint", "cpu")
    if not isinstance(record, dict):
        raise ValueError(f"{str(path)!r} is not a dsdviz model file or checkpoint")
    return dict(record.get("meta") or {})


def load_model(model: str | os.PathLike, map_location: str | torch.device = "cpu") -> nn.Module:
    """Rebuild a network from a model file, a training checkpoint or a shipped model's name, in eval mode and float32.

    Args:
        model: a path, or the name of a model shipped with the package
            (:func:`dsdviz.models.shipped_models`, e.g. ``"dsd_regressor_a2_cpu"``).

    Raises:
        ValueError: if the file does not exist, is unreadable (truncated, another format) or
            does not hold a dsdviz network, or holds NaN/infinite weights; the message names the file.
    """
    path = model_path(model)
    expected = "a dsdviz model file or training checkpoint (dsdviz train's model.pt or checkpoint.pt)"
    record = read_torch_file(path, expected, map_location)
    if not isinstance(record, dict) or not {"kind", "config", "state_dict"} <= set(record):
        raise ValueError(f"{str(path)!r} is not a dsdviz model file or checkpoint (no kind/config/state_dict)")
    state = record["state_dict"]
    bad = [k for k, v in state.items() if isinstance(v, torch.Tensor) and v.is_floating_point() and not v.isfinite().all()]
    if bad:
        raise ValueError(f"{str(path)!r} holds NaN or infinite weights ({', '.join(bad[:3])}{', ...' if len(bad) > 3 else ''}): "
                         "a diverged or corrupted run; use an earlier checkpoint")  # fmt: skip
    try:
        network = build_model(record["kind"], record["config"])
        network.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    except (TypeError, RuntimeError, AttributeError) as error:  # a config or weights that do not fit the network
        reason = (str(error).strip().splitlines() or [""])[0][:160]
        raise ValueError(f"{str(path)!r} does not rebuild a {record['kind']!r} network: {reason}") from None
    return network.to(map_location).eval()
