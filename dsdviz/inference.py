"""Applying trained networks to images, and scoring images with every metric of :mod:`dsdviz.metrics`."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from .degradations import bicubic_upsample, gaussian_blur
from .images import load_image, save_image
from .metrics import dsd_distance, psnr, q_dsd, ssim
from .models import load_model
from .validation import check_image


def restore(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Run a restoration network (xSRResNet) on images, in eval mode and without gradient.

    Args:
        model: e.g. from :func:`dsdviz.models.load_model`.
        x: images ``(B, 3, H, W)`` in ``[0, 1]`` (moved to the model's device and dtype).

    Returns:
        ``(B, 3, scale * H, scale * W)`` clamped to ``[0, 1]``, on the device of ``x``.
    """
    check_image(x, "x")
    parameter = next(model.parameters())
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(x.to(parameter.device, parameter.dtype))
    finally:
        model.train(was_training)
    return out.clamp(0, 1).to(x.device, x.dtype)


def restore_files(
    model_path: str | os.PathLike, images: Sequence[str | os.PathLike], out_dir: str | os.PathLike,
    device: str = "cpu", progress: bool = True,
) -> list[Path]:  # fmt: skip
    """Restore image files with a saved network; writes ``<out_dir>/<name>.png`` for each and returns the paths.

    ``progress``: show a progress bar (a widget in Jupyter, text in a terminal).
    """
    model = load_model(model_path, map_location=device)
    written = []
    for path in tqdm(images, desc="restore", unit="image", disable=not progress):
        x = load_image(path).to(device)
        written.append(save_image(restore(model, x), Path(out_dir) / f"{Path(path).stem}.png"))
    return written


def score_image(
    image: torch.Tensor,
    reference: torch.Tensor | None = None,
    regressors: Sequence[nn.Module] = (),
    *,
    shave: int = 4,
    y_channel: bool = True,
) -> dict[str, float]:
    """Every applicable score of one image ``(1, 3, H, W)`` in ``[0, 1]``.

    With a ``reference`` of the same size: ``psnr``, ``ssim`` (protocol in
    :mod:`dsdviz.metrics`) and ``dsd_distance`` (full reference, alpha 2). For each
    regressor: ``q_dsd_a<alpha>`` (no reference).
    """
    scores: dict[str, float] = {}
    if reference is not None:
        if reference.shape != image.shape:
            raise ValueError(
                f"the reference is {tuple(reference.shape[-2:])} px but the image {tuple(image.shape[-2:])} px"
            )
        scores["psnr"] = float(psnr(image, reference, shave=shave, y_channel=y_channel)[0])
        scores["ssim"] = float(ssim(image, reference, shave=shave, y_channel=y_channel)[0])
        scores["dsd_distance"] = float(dsd_distance(image, reference)["mean"][0])
    for regressor in regressors:
        scores[f"q_dsd_a{regressor.alpha:g}"] = float(q_dsd(image, regressor)[0])
    return scores


def degraded_versions(
    hr: str | os.PathLike, lr: str | os.PathLike | None = None, *, scale: int = 4, limit: int | None = None,
    kernel_size: int = 21, seed: int = 0, gaussian_sigmas: Sequence[float] = (),
) -> dict[str, list[tuple[str, torch.Tensor]]]:  # fmt: skip
    """Natural images and unnatural versions of each, for testing a no-reference score.

    Returns ``{"natural": [...], "bicubic": [...], "blurred": [...], "gaussian <sigma> px": [...]}``,
    lists of ``(name, (1, 3, H, W))`` in ``[0, 1]``: the ground truth (cropped to a multiple of
    ``scale``), its LR image (from ``lr`` or the MATLAB-exact downscale, 8-bit) up-sampled
    back with MATLAB bicubic, the ground truth blurred by a fixed random camera-shake kernel
    of ``kernel_size`` px per image (:func:`dsdviz.data.deblur_examples`, no noise), and one
    version per ``gaussian_sigmas`` entry: an isotropic Gaussian blur of that standard
    deviation in pixels (:func:`gaussian_blur`), e.g. ``(1, 2, 4)`` to see which blur scales
    a score flags.
    """
    from .data import deblur_examples, sr_examples

    pairs = sr_examples(hr, scale, lr, limit=limit)
    blurred = deblur_examples(hr, kernel_size=kernel_size, noise=0.0, limit=limit, seed=seed)
    versions = {
        "natural": [(p.name, p.target) for p in pairs],
        "bicubic": [(p.name, bicubic_upsample(p.input, scale)) for p in pairs],
        "blurred": [(b.name, b.input[..., : p.target.shape[-2], : p.target.shape[-1]]) for b, p in zip(blurred, pairs)],
    }
    for sigma in gaussian_sigmas:
        versions[f"gaussian {sigma:g} px"] = [(p.name, gaussian_blur(p.target, sigma)) for p in pairs]
    return versions


def q_dsd_table(
    versions: dict[str, list[tuple[str, torch.Tensor]]], regressors: Sequence[nn.Module], progress: bool = True
) -> list[dict[str, float | str]]:
    """Q_DSD of every image of :func:`degraded_versions` (or any ``{version: [(name, image)]}``).

    Returns rows ``{"image", "version", "q_dsd_a<alpha>", "excess_a<alpha>", ...}``: per
    regressor, Eq. 5 and the signed relative excess of the measured over the predicted
    norms (the ``"excess"`` of :func:`dsdviz.metrics.q_dsd`). ``progress``: show a
    progress bar over the images (a widget in Jupyter, text in a terminal).
    """
    items = [(version, name, image) for version, images in versions.items() for name, image in images]
    rows: list[dict[str, float | str]] = []
    for version, name, image in tqdm(items, desc="Q_DSD", unit="image", disable=not progress):
        row: dict[str, float | str] = {"image": name, "version": version}
        for regressor in regressors:
            out = q_dsd(image, regressor, per_layer=True)
            row[f"q_dsd_a{regressor.alpha:g}"] = float(out["q_dsd"][0])
            row[f"excess_a{regressor.alpha:g}"] = float(out["excess"][0])
        rows.append(row)
    return rows


def _column_order(column: str) -> tuple[bool, str]:
    return (column.startswith("excess_a"), column)


def q_dsd_summary(rows: Sequence[dict[str, float | str]]) -> dict[str, dict[str, float]]:
    """Per score column of :func:`q_dsd_table` (``q_dsd_a*``, ``excess_a*``; lower is more
    natural for both): the mean per version and, for each degraded version, the fraction of
    images whose natural version scores lower, ``"<version> worse"``."""
    columns = sorted({k for r in rows for k in r if k.startswith(("q_dsd_a", "excess_a"))}, key=_column_order)
    versions = list(dict.fromkeys(str(r["version"]) for r in rows))
    natural = {r["image"]: r for r in rows if r["version"] == "natural"}
    summary: dict[str, dict[str, float]] = {}
    for column in columns:
        entry = {v: float(np.mean([r[column] for r in rows if r["version"] == v])) for v in versions}
        for version in versions:
            if version != "natural" and natural:
                pairs = [(natural[r["image"]][column], r[column]) for r in rows if r["version"] == version]
                entry[f"{version} worse"] = float(np.mean([degraded > clean for clean, degraded in pairs]))
        summary[column] = entry
    return summary
