"""DSD fingerprints of natural images: per-layer norms and difference matrices (``dsd_fingerprints.png``).

The images are scikit-image's samples plus Set14 from the data folder (``$DSDVIZ_DATA``)
when present; :func:`dsdviz.fingerprint.fingerprint_table` computes the fingerprints and
:func:`dsdviz.viz.fingerprints.plot_fingerprints` draws them.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..data import center_crop, data_root, list_images, load_image
from ..fingerprint import fingerprint_table
from ..samples import SKIMAGE_SAMPLES, skimage_sample
from ..viz.fingerprints import plot_fingerprints
from ..viz.layout import DPI
from .settings import SMOKE_SIZE, smoke


def fingerprint_images(quick: bool) -> dict[str, torch.Tensor]:
    """``{name: (1, 3, H, W)}``: the scikit-image samples and Set14 (quick: its first two images; central
    256 px crops of all). At the smoke size (quick only): one sample, a central 32 px crop."""
    if quick and smoke():
        name = SKIMAGE_SAMPLES[0]
        return {name: center_crop(skimage_sample(name), SMOKE_SIZE)}
    images = {name: skimage_sample(name) for name in SKIMAGE_SAMPLES}
    root = data_root(required=False)
    if root is not None and (root / "Set14" / "HR").is_dir():
        files = list_images(root / "Set14" / "HR")
        for path in files[:2] if quick else files:
            images[f"Set14/{path.stem}"] = load_image(path)
    if quick:
        images = {name: center_crop(x, 256) for name, x in images.items()}
    return images


def fingerprints_figure(quick: bool, out_dir: Path) -> list[Path]:
    """``figures/dsd_fingerprints.png`` of :func:`fingerprint_images` (the ``dsdviz figures`` recipe).

    Quick mode uses central 256 px crops and two Set14 images; the full mode all of
    Set14 at full size. Heat maps of three images in both modes.
    """
    images = fingerprint_images(quick)
    fig = plot_fingerprints(images, fingerprint_table(images))
    path = Path(out_dir) / "dsd_fingerprints.png"
    fig.savefig(path, dpi=DPI if quick else 1.5 * DPI)
    return [path]
