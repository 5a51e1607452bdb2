"""Figures of DSD fingerprints: per-layer norms as bars, difference matrices as heat maps."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure

from ..features import Layers, resolve_layers
from ..fingerprint import DSD, dsd
from ..images import center_crop, list_images, load_image, to_numpy
from ..samples import SKIMAGE_SAMPLES, data_root, skimage_sample


def fingerprint_table(
    images: Mapping[str, torch.Tensor], alphas: Sequence[float] = (2, 4), layers: Layers = "dsd"
) -> tuple[list[dict[str, float | str]], dict[tuple[str, float], DSD]]:
    """``||DSD_{l,a}||_1`` of each image for each factor.

    Args:
        images: ``{name: (1, 3, H, W)}`` tensors in ``[0, 1]``.
        alphas: downscaling factors.
        layers: VGG19 layers or a preset.

    Returns:
        ``rows``: one dict per (image, alpha) with keys ``image``, ``alpha``, ``height``,
        ``width``, each layer and ``mean``; and the fingerprints ``{(image, alpha): DSD}``.
    """
    rows: list[dict[str, float | str]] = []
    fingerprints: dict[tuple[str, float], DSD] = {}
    for name, x in images.items():
        for alpha in alphas:
            with torch.no_grad():
                result = dsd(x, alpha, layers)
            fingerprints[(name, alpha)] = result
            norms = {k: float(v[0]) for k, v in result.norms().items()}
            rows.append({"image": name, "alpha": alpha, "height": x.shape[-2], "width": x.shape[-1], **norms})
    return rows, fingerprints


def plot_fingerprints(
    images: Mapping[str, torch.Tensor],
    alphas: Sequence[float] = (2, 4),
    layers: Layers = "dsd",
    heatmap_layers: Sequence[str] = ("relu2_1", "relu3_1"),
    heatmap_alpha: float = 2,
    max_heatmap_rows: int = 6,
) -> Figure:
    """Bars of ``||DSD_{l,a}||_1`` per layer and image, and heat maps of ``DSD_{l,a}`` matrices.

    The heat maps of one layer share a symmetric colour scale (99th percentile of
    ``|entry|`` over the shown images), so images can be compared by eye.
    """
    names = resolve_layers(layers)
    rows, fingerprints = fingerprint_table(images, alphas, names)
    shown = list(images)[:max_heatmap_rows]
    n_cols = 1 + len(heatmap_layers)
    fig = Figure(figsize=(3.0 * max(n_cols, len(alphas)) + 1, 3.2 + 2.4 * len(shown)), layout="constrained")
    grid = fig.add_gridspec(1 + len(shown), max(n_cols, len(alphas)), height_ratios=[1.4] + [1] * len(shown))
    width = 0.8 / len(images)
    for col, alpha in enumerate(alphas):
        ax = fig.add_subplot(grid[0, col])
        for k, name in enumerate(images):
            values = [r[layer] for r in rows if r["image"] == name and r["alpha"] == alpha for layer in names]
            ax.bar(np.arange(len(names)) + (k - (len(images) - 1) / 2) * width, values, width, label=name)
        ax.set_xticks(range(len(names)), names)
        ax.set_ylabel(r"$\|DSD_{l,a}\|_1$ (mean |entry|)")
        ax.set_title(f"DSD norms, a = {alpha:g}")
        if col == 0:
            ax.legend(fontsize="x-small", ncols=2)
    scales = {
        layer: float(
            np.percentile(
                np.concatenate([fingerprints[(n, heatmap_alpha)].matrices[layer].abs().flatten().numpy() for n in shown]),
                99,
            )
        )
        for layer in heatmap_layers
    }
    for row, name in enumerate(shown, start=1):
        ax = fig.add_subplot(grid[row, 0])
        x = images[name]
        ax.imshow(to_numpy(x))
        ax.set_title(f"{name} ({x.shape[-2]}x{x.shape[-1]})", fontsize="small")
        ax.axis("off")
        for col, layer in enumerate(heatmap_layers, start=1):
            ax = fig.add_subplot(grid[row, col])
            matrix = fingerprints[(name, heatmap_alpha)].matrices[layer][0].numpy()
            vmax = scales[layer] or 1.0
            im = ax.imshow(matrix, cmap="RdBu_r", vmin=-vmax, vmax=vmax)
            ax.set_title(f"DSD at {layer}, a = {heatmap_alpha:g} ({matrix.shape[0]} channels)", fontsize="small")
            ax.set_xticks([])
            ax.set_yticks([])
            if row == len(shown):
                fig.colorbar(im, ax=ax, orientation="horizontal", fraction=0.05, label="G(x) - G(x|a)")
    fig.suptitle("Deep self-dissimilarity fingerprints (VGG19, ImageNet)")
    return fig


def fingerprints_figure(quick: bool, out_dir: Path) -> list[Path]:
    """``figures/dsd_fingerprints.png``: scikit-image samples plus Set14 (from ``$DSDVIZ_DATA``) when present.

    Quick mode uses central 256 px crops and two Set14 images; the full mode all of
    Set14 at full size.
    """
    images = {name: skimage_sample(name) for name in SKIMAGE_SAMPLES}
    root = data_root(required=False)
    if root is not None and (root / "Set14" / "HR").is_dir():
        files = list_images(root / "Set14" / "HR")
        for path in files[:2] if quick else files:
            images[f"Set14/{path.stem}"] = load_image(path)
    if quick:
        images = {name: center_crop(x, 256) for name, x in images.items()}
    fig = plot_fingerprints(images)
    path = Path(out_dir) / "dsd_fingerprints.png"
    fig.savefig(path, dpi=80 if quick else 110)
    return [path]
