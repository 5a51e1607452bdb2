"""Reading and writing images as ``(1, 3, H, W)`` float tensors in ``[0, 1]``.

Conversions are explicit: grey images are replicated to three channels; images with
an alpha channel are composited over a uniform ``background`` (white by default);
8-bit data is divided by 255 and 16-bit data by 65535. Saving rounds to 8 bits.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Union

import numpy as np
import torch
from PIL import Image

from ..validation import check_image, describe

ImageSource = Union[str, os.PathLike, np.ndarray, Image.Image, torch.Tensor]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
#: Grey-level weights (R, G, B) of MATLAB's ``rgb2gray`` (the first row of the inverse of the NTSC matrix): the
#: ITU-R BT.601 luminance weights 0.299, 0.587, 0.114 to within 1.1e-4, and the grey of the NIQE release.
LUMA_WEIGHTS = (0.298936021293775, 0.587043074451121, 0.114020904255103)


def _from_array(array: np.ndarray, background: float) -> np.ndarray:
    """An ``(H, W, 3)`` float64 array in ``[0, 1]`` from grey, RGB or RGBA data."""
    if array.dtype == np.uint8:
        data = array.astype(np.float64) / 255
    elif array.dtype == np.uint16:
        data = array.astype(np.float64) / 65535
    elif array.dtype == np.bool_:
        data = array.astype(np.float64)
    elif np.issubdtype(array.dtype, np.floating):
        data = array.astype(np.float64)
        if not np.isfinite(data).all():
            raise ValueError("image array contains NaN or inf values")
        if data.min() < 0 or data.max() > 1:
            raise ValueError(
                f"float image arrays must be in [0, 1], got [{data.min():.4g}, {data.max():.4g}]"
                " (divide 8-bit data by 255)"
            )
    else:
        raise ValueError(f"unsupported image array dtype {array.dtype}; expected uint8, uint16, bool or float")
    if data.ndim == 2:
        data = data[:, :, None]
    if data.ndim != 3 or data.shape[2] not in (1, 2, 3, 4):
        raise ValueError(
            f"expected an image array of shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), got {array.shape}"
        )
    channels = data.shape[2]
    if channels in (2, 4):  # grey + alpha, RGBA: composite over the background
        colour, alpha = data[:, :, :-1], data[:, :, -1:]
        data = colour * alpha + background * (1 - alpha)
    if data.shape[2] == 1:
        data = np.repeat(data, 3, axis=2)
    return data


def _pil_to_array(image: Image.Image) -> np.ndarray:
    """The pixels of a PIL image as uint8, uint16, bool or float32 data, never clipped.

    16-bit modes stay 16-bit; 32-bit integers (mode ``I``, how Pillow opens 16-bit grey PNGs) are
    16-bit data when they fit in ``[0, 65535]`` and refused otherwise; 32-bit floats (mode ``F``) are
    taken as they are (:func:`_from_array` refuses values outside ``[0, 1]``).
    """
    if image.mode in ("I;16", "I;16B", "I;16L"):
        return np.asarray(image, dtype=np.uint16)
    if image.mode == "I":
        data = np.asarray(image, dtype=np.int64)
        low, high = (int(data.min()), int(data.max())) if data.size else (0, 0)
        if low < 0 or high > 65535:
            raise ValueError(
                f"a 32-bit integer image with values in [{low}, {high}]: only 8- and 16-bit data have a known "
                "white level; convert it to 8 or 16 bits, or pass a float array in [0, 1]"
            )
        return data.astype(np.uint16)
    if image.mode == "F":
        return np.asarray(image, dtype=np.float32)
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif image.mode not in ("L", "LA", "RGB", "RGBA", "1"):
        image = image.convert("RGB")
    return np.asarray(image)


@contextmanager
def open_image(path: str | os.PathLike) -> Iterator[Image.Image]:
    """A PIL image read from ``path`` (pixels loaded), with one clear error for each way it can fail.

    Raises:
        ValueError: the path is missing or a folder, the file is not an image Pillow reads, or its
            header claims more pixels than Pillow's decompression-bomb limit (``PIL.Image.MAX_IMAGE_PIXELS``).
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"image file {str(path)!r} {'is a folder' if path.is_dir() else 'does not exist'}")
    try:
        image = Image.open(path)
        image.load()
    except Image.DecompressionBombError as error:
        raise ValueError(
            f"{str(path)!r} claims more pixels than Pillow opens by default ({error}); if you trust the file, raise "
            "PIL.Image.MAX_IMAGE_PIXELS"
        ) from None
    except OSError as error:
        raise ValueError(f"cannot read {str(path)!r} as an image: {error}") from None
    with image:
        yield image


def load_image(
    source: ImageSource, *, background: float = 1.0, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """Load an image as a ``(1, 3, H, W)`` tensor with values in ``[0, 1]``.

    Args:
        source: a file path, a PIL image, a numpy array (``(H, W)``, ``(H, W, 1|2|3|4)``;
            uint8, uint16, bool, or float in ``[0, 1]``), or a tensor ``(3, H, W)`` /
            ``(1, 3, H, W)`` already in ``[0, 1]``.
        background: grey level in ``[0, 1]`` that transparent pixels are composited over.
        dtype: floating dtype of the result.

    Raises:
        ValueError: unreadable file, unsupported array shape or dtype, values out of range.
    """
    if isinstance(source, torch.Tensor):
        x = source[None] if source.ndim == 3 else source
        check_image(x, "source")
        if x.shape[0] != 1:
            raise ValueError(f"source: expected one image, got a batch {describe(source)}")
        return x.to(dtype)
    if isinstance(source, (str, os.PathLike)):
        with open_image(source) as image:
            try:
                array = _pil_to_array(image)
            except ValueError as error:
                raise ValueError(f"{str(source)!r}: {error}") from None
            except OSError as error:
                raise ValueError(f"cannot read {str(source)!r} as an image: {error}") from None
    elif isinstance(source, Image.Image):
        array = _pil_to_array(source)
    elif isinstance(source, np.ndarray):
        array = source
    else:
        raise ValueError(f"cannot load an image from {type(source).__name__}")
    try:
        data = _from_array(array, background)
    except ValueError as error:
        if isinstance(source, (str, os.PathLike)):  # name the file
            raise ValueError(f"{str(source)!r}: {error}") from None
        raise
    return torch.from_numpy(np.ascontiguousarray(data.transpose(2, 0, 1)))[None].to(dtype)


def to_numpy(x: torch.Tensor) -> np.ndarray:
    """``(1, 3, H, W)`` or ``(3, H, W)`` tensor to an ``(H, W, 3)`` float array clipped to ``[0, 1]`` (for plotting)."""
    if x.ndim == 4:
        if x.shape[0] != 1:
            raise ValueError(f"x: expected one image, got a batch {describe(x)}")
        x = x[0]
    if x.ndim != 3 or x.shape[0] not in (1, 3):
        raise ValueError(f"x: expected (1, 3, H, W) or (3, H, W), got {describe(x)}")
    return x.detach().float().clamp(0, 1).permute(1, 2, 0).cpu().numpy()


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """Round an image to 8 bits: ``(H, W, 3)`` uint8 (values outside ``[0, 1]`` are clipped)."""
    return np.round(to_numpy(x) * 255).astype(np.uint8)


def quantize(x: torch.Tensor) -> torch.Tensor:
    """Images in ``[0, 1]`` (any shape, float) rounded to uint8: ``round(255 x)``, clipped first."""
    return torch.round(x.clamp(0, 1) * 255).to(torch.uint8)


def save_image(x: torch.Tensor, path: str | os.PathLike) -> Path:
    """Save a ``(1, 3, H, W)`` or ``(3, H, W)`` image in ``[0, 1]`` as an 8-bit PNG (or by suffix).

    Parent folders are created. Returns the path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(to_uint8(x)).save(path)
    return path


def find_image(folder: str | os.PathLike, name: str) -> Path | None:
    """``folder/<name><suffix>`` for the first of :data:`IMAGE_SUFFIXES` (lower or upper case) that is
    a file, else ``None``: the image of a folder with a given name, without listing the folder."""
    for suffix in IMAGE_SUFFIXES:
        for spelling in (suffix, suffix.upper()):
            path = Path(folder) / f"{name}{spelling}"
            if path.is_file():
                return path
    return None


def list_images(folder: str | os.PathLike) -> list[Path]:
    """Image files (by suffix) directly in ``folder``, sorted by name.

    Raises:
        ValueError: if the folder does not exist or holds no images.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"image folder {str(folder)!r} does not exist")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise ValueError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in {str(folder)!r}")
    return files


def luma(x: torch.Tensor) -> torch.Tensor:
    """Grey level (luminance) of RGB images ``(B, 3, H, W)`` as MATLAB's ``rgb2gray`` computes it (:data:`LUMA_WEIGHTS`,
    about ``0.299 R + 0.587 G + 0.114 B``): ``(B, H, W)``, in the dtype, device and range of ``x``. The one grey of
    dsdviz besides the studio-range BT.601 Y of PSNR/SSIM (:func:`dsdviz.metrics.rgb_to_y`)."""
    weights = torch.tensor(LUMA_WEIGHTS, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x * weights).sum(dim=1)

