"""The trained networks shipped inside the package, found by name after any ``pip install``.

The files live in ``dsdviz/models/weights/`` (package data, read relative to this module,
never to a source checkout), each described in ``weights/README.md`` (data, steps, scores,
the command that made it). :func:`dsdviz.models.load_model` takes a name or a path.

Shipped today: ``dsd_regressor_a2_cpu`` and ``dsd_regressor_a4_cpu``, small CPU-trained DSD
regressors psi_2 and psi_4 for demonstrations of Q_DSD, and ``xsrresnet_sr_x4_psnr_cpu``, the x4
xSRResNet after stage 1 (L1) trained for 31 minutes on a CPU (not the paper's networks).
"""

from __future__ import annotations

import os
from pathlib import Path

#: Folder of the shipped model files (``<name>.pt``) and their model card (``README.md``).
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"

#: The regressor pair Q_DSD uses when no other regressors are named (alpha 2 and 4).
DEFAULT_REGRESSORS: tuple[str, ...] = ("dsd_regressor_a2_cpu", "dsd_regressor_a4_cpu")


def shipped_models() -> dict[str, Path]:
    """``{name: path}`` of every model file shipped with the package, sorted by name."""
    return {path.stem: path for path in sorted(WEIGHTS_DIR.glob("*.pt"))}


def model_path(model: str | os.PathLike) -> Path:
    """The file of ``model``: an existing path, or the name of a shipped model (with or without ``.pt``).

    Raises:
        ValueError: neither a file nor a shipped name; the message lists the shipped names.
    """
    path = Path(model)
    if path.exists():
        return path
    shipped = shipped_models()
    name = path.name.removesuffix(".pt")
    if path.parent == Path(".") and name in shipped:
        return shipped[name]
    raise ValueError(
        f"model file {str(model)!r} does not exist, nor is it a shipped model ({', '.join(shipped) or 'none'})"
    )


__all__ = ["DEFAULT_REGRESSORS", "WEIGHTS_DIR", "model_path", "shipped_models"]
