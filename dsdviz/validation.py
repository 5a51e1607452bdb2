"""Input checks shared by every public function.

Each public entry point calls :func:`check_image` (or one of the small helpers
below) once, at the boundary, so that bad input fails with a ``ValueError`` that
says what was received and what is expected, instead of a shape error deep inside
a convolution or, worse, a silently wrong number.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch

FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)

#: Values this far outside ``[0, 1]`` are still accepted as "in range" (float32 rounding
#: of a resize or a colour conversion can overshoot by a few ulps).
RANGE_TOLERANCE = 1e-4


def describe(x: object) -> str:
    """Short description of a value for error messages, e.g. ``(3, 256, 256) uint8``."""
    if isinstance(x, torch.Tensor):
        return f"{tuple(x.shape)} {str(x.dtype).replace('torch.', '')}"
    return type(x).__name__


def check_image(
    x: object,
    name: str = "image",
    *,
    channels: int | None = 3,
    value_range: tuple[float, float] | None = (0.0, 1.0),
    min_size: int = 1,
) -> torch.Tensor:
    """Validate a batch of images and return it unchanged.

    Args:
        x: expected a floating tensor of shape ``(B, C, H, W)``.
        name: what to call the argument in error messages.
        channels: required ``C`` (``None`` accepts any).
        value_range: required value range, checked with a tolerance of
            :data:`RANGE_TOLERANCE`; ``None`` skips the check (e.g. for the output of a
            network being trained, which may leave ``[0, 1]``).
        min_size: smallest allowed ``H`` and ``W`` in pixels.

    Raises:
        ValueError: on a non-tensor, wrong rank, channel count, dtype, a NaN/inf value,
            a value out of range, or an image smaller than ``min_size``.
    """
    shape_text = f"(B, {channels if channels is not None else 'C'}, H, W)"
    expected = f"a float tensor of shape {shape_text}"
    if value_range is not None:
        expected += f" with values in [{value_range[0]:g}, {value_range[1]:g}]"
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{name}: expected {expected}, got {describe(x)}")
    if x.ndim != 4:
        hint = " (add a batch dimension with x[None])" if x.ndim == 3 else ""
        raise ValueError(f"{name}: expected {expected}, got {describe(x)}{hint}")
    if x.dtype not in FLOAT_DTYPES:
        hint = " (convert 8-bit images with x.float() / 255)" if x.dtype == torch.uint8 else ""
        raise ValueError(f"{name}: expected {expected}, got {describe(x)}{hint}")
    if channels is not None and x.shape[1] != channels:
        hint = ""
        if channels == 3 and x.shape[1] in (1, 4):
            hint = " (load images with dsdviz.load_image, which converts grey and RGBA to RGB)"
        raise ValueError(f"{name}: expected {expected}, got {describe(x)}{hint}")
    if x.shape[0] == 0:
        raise ValueError(f"{name}: expected {expected}, got an empty batch {describe(x)}")
    if min(x.shape[-2:]) < min_size:
        raise ValueError(
            f"{name}: expected height and width of at least {min_size} px, got "
            f"{x.shape[-2]} x {x.shape[-1]}"
        )
    _check_values(x, name, value_range)
    return x


def _check_values(x: torch.Tensor, name: str, value_range: tuple[float, float] | None) -> None:
    """One device sync for finiteness and range together."""
    values = x.detach()
    finite = torch.isfinite(values).all()
    if value_range is None:
        if not bool(finite):
            raise ValueError(f"{name}: contains NaN or inf values")
        return
    stats = torch.stack([finite.to(values.dtype), values.min(), values.max()]).float().tolist()
    if stats[0] < 1:
        raise ValueError(f"{name}: contains NaN or inf values")
    low, high = value_range
    if stats[1] < low - RANGE_TOLERANCE or stats[2] > high + RANGE_TOLERANCE:
        hint = " (8-bit images must be divided by 255)" if stats[2] > 2 else " (clamp with x.clamp(0, 1))"
        raise ValueError(
            f"{name}: expected values in [{low:g}, {high:g}], got [{stats[1]:.4g}, {stats[2]:.4g}]{hint}"
        )


def check_same_shape(a: torch.Tensor, b: torch.Tensor, names: tuple[str, str] = ("output", "target")) -> None:
    """Raise ``ValueError`` unless two image batches have the same shape."""
    if a.shape != b.shape:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}"
        )


def check_factor(alpha: object, name: str = "alpha") -> float:
    """Validate a downscaling factor (a finite number >= 1) and return it as float."""
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not math.isfinite(alpha):
        raise ValueError(f"{name}: expected a finite number >= 1, got {alpha!r}")
    if alpha < 1:
        raise ValueError(
            f"{name}: expected a downscaling factor >= 1 (e.g. 2 or 4), got {alpha!r}; "
            "use dsdviz.imresize for upscaling"
        )
    return float(alpha)


def check_dsd_factor(alpha: object, name: str = "alpha") -> float:
    """Validate the factor between a DSD's two scales (a finite number > 1) and return it as float."""
    alpha = check_factor(alpha, name)
    if alpha == 1:
        raise ValueError(
            f"{name}: a factor of 1 compares an image with itself, so its DSD is all zeros; use a factor > 1 (2 or 4)"
        )
    return alpha


def check_positive(value: object, name: str, allow_zero: bool = False) -> float:
    """``value`` as a float; a ``ValueError`` naming ``name`` unless it is finite and > 0 (>= 0)."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name}: expected a finite number {bound}, got {value!r}")
    return float(value)


def check_positive_int(value: object, name: str) -> int:
    """Validate a positive integer (e.g. a step count)."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    return value


def check_choice(value: object, choices: Sequence[str], name: str) -> str:
    """Validate that ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name}: expected one of {', '.join(map(repr, choices))}, got {value!r}")
    return value  # type: ignore[return-value]
