"""The numeric path of networks and losses: float32, bfloat16 where the processor has it, or CUDA mixed precision.

One function, :func:`resolve_precision`, turns a requested :data:`Precision` and a device
into a :class:`PrecisionPlan`: the autocast dtype (``None`` for plain float32), whether a
gradient scaler is needed (float16 on CUDA), and a ``reason`` for logs and run metadata.

* ``"fp32"``: float32 everywhere, on every device.
* ``"bf16"``: bfloat16 autocast. On CPU only with native bfloat16 instructions
  (``avx512_bf16`` or AMX on x86, where oneDNN runs convolutions faster: ``benchmarks/``);
  elsewhere the AVX-512 emulation would be a silent slow path. On CUDA where
  ``torch.cuda.is_bf16_supported`` says so (Ampere and newer).
* ``"fp16"``: float16 autocast with loss scaling, on CUDA only.
* ``"auto"``: bf16 on CPUs that support it natively, bf16 (else fp16) on CUDA, fp32 elsewhere.

An unsupported request raises :class:`ValueError` with the reason, or, with
``fallback=True``, warns (:class:`PrecisionFallbackWarning`) and returns the fp32 plan;
``"fp16"`` on CPU always raises. The capability probe (:func:`probe_capability`) can be
replaced by a :class:`Capability` of one's own, which is how the CUDA paths are tested on
a CPU.

Autocast (:func:`autocast`) lowers convolutions and matrix products; reductions stay in
float32. The Gram matrices and L1 terms of the losses are accumulated in float32 whatever
the features' dtype (:func:`dsdviz.fingerprint.gram` and :mod:`dsdviz.distances` cast
bfloat16/float16 inputs to float32 and keep autocast off around the Gram product), so the
one thing a plan changes is where the convolutions run: :class:`AutocastFeatures` runs a
feature extractor under the plan's autocast and can stand in for any ``extractor=`` of the
losses, the optimiser and the trainer (the image resizing of the DSD stays float32).

Accuracy of bfloat16 against float32 (DSD norms, Fig. 12's optimisation, SR training) is measured by
``benchmarks/accuracy_bf16.py``; its last results are in that script's docstring and the README's
"Precision and speed on a CPU". The resize of the DSD's downscaled copy stays float32 (in bf16 it
adds an order of magnitude of error); only the convolutions are lowered.

bf16 is fine for losses, optimisation and training. It stays opt-in on CPUs all the same
(``precision="bf16"``, or ``"auto"``): the default is float32 on a CPU, so that a result does
not depend on which processor computed it, and numbers that are reported (DSD norms, metrics,
Q_DSD, figure captions) are always float32.

Channels-last (:func:`channels_last`): same values (float32: within 1e-5) in a layout
oneDNN prefers; whether it is faster depends on the network (``benchmarks/bench_training.py``).
"""

from __future__ import annotations

import contextlib
import platform
import warnings
from dataclasses import dataclass
from typing import Literal, TypeVar

import torch
from torch import nn

from .validation import check_choice

Precision = Literal["fp32", "bf16", "fp16", "auto"]
PRECISIONS: tuple[str, ...] = ("fp32", "bf16", "fp16", "auto")

_DTYPES = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}

ModuleT = TypeVar("ModuleT", bound=nn.Module)


class PrecisionFallbackWarning(UserWarning):
    """A requested precision is not supported here and float32 is used instead."""


@dataclass(frozen=True)
class Capability:
    """What a device can compute natively.

    Attributes:
        device_type: ``"cpu"``, ``"cuda"``, ... (``torch.device.type``).
        bf16: bfloat16 arithmetic in hardware (CPU: ``avx512_bf16`` or AMX; CUDA: sm_80+).
        fp16: float16 arithmetic in hardware worth using for training (CUDA).
        detail: what was probed, for messages (``"CPU: avx512_bf16"``, ``"NVIDIA H200, sm_90"``).
    """

    device_type: str
    bf16: bool
    fp16: bool = False
    detail: str = ""


def _cpu_capability() -> Capability:
    features = []
    if getattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)():
        features.append("avx512_bf16")
    if getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)():
        features.append("amx")
    arm = platform.machine().lower() in ("aarch64", "arm64")
    if arm and torch.ops.mkldnn._is_mkldnn_bf16_supported():
        features.append("arm bf16")
    native = torch.backends.mkldnn.is_available() and bool(features)
    detail = f"CPU ({torch.backends.cpu.get_cpu_capability()}): " + (", ".join(features) or "no native bfloat16")
    return Capability("cpu", bf16=native, fp16=False, detail=detail)


def probe_capability(device: torch.device | str) -> Capability:
    """The :class:`Capability` of a real device (CUDA: the device's compute capability)."""
    device = torch.device(device)
    if device.type == "cpu":
        return _cpu_capability()
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        major, minor = torch.cuda.get_device_capability(index)
        bf16 = torch.cuda.is_bf16_supported(including_emulation=False)
        detail = f"{torch.cuda.get_device_name(index)}, sm_{major}{minor}"
        return Capability("cuda", bf16=bf16, fp16=True, detail=detail)
    return Capability(device.type, bf16=False, fp16=False, detail=f"{device.type} (no mixed-precision path here)")


@dataclass(frozen=True)
class PrecisionPlan:
    """The resolved numeric path.

    Attributes:
        precision: ``"fp32"``, ``"bf16"`` or ``"fp16"`` (what runs, never ``"auto"``).
        requested: what was asked for (may be ``"auto"``, or differ after a fall-back).
        device_type: the autocast device type (``"cpu"``, ``"cuda"``).
        dtype: the autocast dtype, ``None`` for float32 (autocast off).
        grad_scaler: whether training needs a :class:`torch.amp.GradScaler` (fp16 on CUDA).
        reason: one sentence for logs and run metadata.
    """

    precision: Literal["fp32", "bf16", "fp16"]
    requested: str
    device_type: str
    dtype: torch.dtype | None
    grad_scaler: bool
    reason: str

    @property
    def enabled(self) -> bool:
        """Whether autocast is on (anything but fp32)."""
        return self.dtype is not None

    def metadata(self) -> dict[str, str | bool]:
        """JSON-friendly record for run metadata."""
        return {"precision": self.precision, "requested": self.requested, "grad_scaler": self.grad_scaler,
                "reason": self.reason}  # fmt: skip


def _plan(precision: Literal["fp32", "bf16", "fp16"], requested: str, device_type: str, reason: str) -> PrecisionPlan:
    scaler = precision == "fp16" and device_type == "cuda"
    return PrecisionPlan(precision, requested, device_type, _DTYPES[precision], scaler, reason)


def resolve_precision(
    requested: Precision,
    device: torch.device | str,
    *,
    capability: Capability | None = None,
    fallback: bool = False,
) -> PrecisionPlan:
    """Choose the numeric path for ``requested`` on ``device`` (rules in the module docstring).

    Args:
        requested: ``"fp32"``, ``"bf16"``, ``"fp16"`` or ``"auto"``.
        device: where the computation runs.
        capability: what the device supports; default: :func:`probe_capability` (tests pass a fake one).
        fallback: on an unsupported bf16/fp16 request, warn and return fp32 instead of raising.

    Raises:
        ValueError: an unknown precision; ``"fp16"`` on a CPU; ``"bf16"``/``"fp16"`` where the
            device does not support it (unless ``fallback``). The message gives the reason.
    """
    check_choice(requested, PRECISIONS, "precision")
    device_type = torch.device(device).type
    cap = capability if capability is not None else probe_capability(device)
    if cap.device_type != device_type:
        raise ValueError(f"capability describes a {cap.device_type} device, not {device_type}")
    where = cap.detail or device_type
    if requested == "fp32":
        return _plan("fp32", requested, device_type, "float32 as requested")
    if requested == "auto":
        if cap.bf16:
            return _plan("bf16", requested, device_type, f"auto: bfloat16 autocast, native on {where}")
        if device_type == "cuda" and cap.fp16:
            reason = f"auto: float16 autocast with loss scaling ({where} has no bfloat16)"
            return _plan("fp16", requested, device_type, reason)
        return _plan("fp32", requested, device_type, f"auto: float32 ({where} has no native bfloat16)")
    if requested == "fp16" and device_type == "cpu":
        raise ValueError("precision 'fp16' is for CUDA only; on a CPU use 'bf16' (where supported) or 'fp32'")
    if cap.bf16 if requested == "bf16" else cap.fp16:
        extra = " with loss scaling" if requested == "fp16" else ""
        return _plan(requested, requested, device_type, f"{requested} autocast{extra} as requested, native on {where}")
    problem = f"precision {requested!r} is not supported natively on {where}"
    if not fallback:
        raise ValueError(f"{problem}; use 'fp32' or 'auto' (--precision fp32 or auto on the command line; in "
                         "Python, fallback=True falls back to float32 with a warning)")  # fmt: skip
    warnings.warn(f"{problem}: falling back to float32", PrecisionFallbackWarning, stacklevel=2)
    return _plan("fp32", requested, device_type, f"float32: {problem}")


def autocast(plan: PrecisionPlan) -> contextlib.AbstractContextManager:
    """``torch.autocast`` for the plan (a no-op context for fp32)."""
    return torch.autocast(plan.device_type, dtype=plan.dtype or torch.float32, enabled=plan.enabled)


def grad_scaler(plan: PrecisionPlan) -> torch.amp.GradScaler:
    """A :class:`torch.amp.GradScaler`, enabled only where the plan needs one (fp16 on CUDA)."""
    return torch.amp.GradScaler(plan.device_type, enabled=plan.grad_scaler)


class AutocastFeatures(nn.Module):
    """A feature extractor run under the plan's autocast.

    Wraps any module that maps ``(B, 3, H, W)`` images to ``{layer: (B, C, h, w)}`` (e.g.
    :class:`dsdviz.features.VGG19Features`) and exposes its ``layers``, so it can stand in
    for the extractor of the losses: the convolutions run in the plan's dtype and the maps
    come back in it (bfloat16 or float16; float32 for an fp32 plan, where this is the
    extractor itself). The Gram matrices and L1 terms computed from them are float32.
    """

    def __init__(self, extractor: nn.Module, plan: PrecisionPlan) -> None:
        super().__init__()
        self.extractor, self.plan = extractor, plan
        self.layers = extractor.layers

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        with autocast(self.plan):
            return self.extractor(x)


def channels_last(module: ModuleT) -> ModuleT:
    """Move a network's 4-D parameters and buffers to channels-last (in place; returns it).

    Convolutions then produce channels-last outputs whatever the input layout; values are
    those of the contiguous network (float32: within 1e-5).
    """
    return module.to(memory_format=torch.channels_last)
