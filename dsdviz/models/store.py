"""The trained networks shipped inside the package, found by name after any ``pip install``.

The files live in ``dsdviz/models/weights/`` (package data, read relative to this module,
never to a source checkout), each described in ``weights/README.md`` (data, steps, scores,
the command that made it). :func:`dsdviz.models.load_model` takes a name or a path.

Shipped: CPU-trained networks (``*_cpu``, the quick-mode figures' models: the x4 and deblurring
xSRResNets after stage 1 and stage 2, Fig. 13's 5-block networks, the DSD regressors psi_2 and psi_4)
and the same networks trained for minutes in the paper's full setting on a GPU (``*_gpu``). None is the
paper's model; ``weights/README.md`` says how far each got.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

#: Folder of the shipped model files (``<name>.pt``) and their model card (``README.md``).
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"

#: The regressor pair Q_DSD uses when no other regressors are named (alpha 2 and 4).
DEFAULT_REGRESSORS: tuple[str, ...] = ("dsd_regressor_a2_cpu", "dsd_regressor_a4_cpu")
#: The shipped CPU-trained xSRResNets per task (``"sr"``, ``"deblur"``): stage 1 (L1 only) and stage 2
#: (L1 + perceptual + 100 x DSD, from stage 1), the "ours" of the restoration figures' quick mode.
SHIPPED_RESTORATION: dict[str, tuple[str, str]] = {
    "sr": ("xsrresnet_sr_x4_psnr_cpu", "xsrresnet_sr_x4_dsd_cpu"),
    "deblur": ("xsrresnet_deblur_psnr_cpu", "xsrresnet_deblur_dsd_cpu"),
}


def shipped_models() -> dict[str, Path]:
    """``{name: path}`` of every model file shipped with the package, sorted by name."""
    return {path.stem: path for path in sorted(WEIGHTS_DIR.glob("*.pt"))}


def model_path(model: str | os.PathLike) -> Path:
    """The file of ``model``: an existing path, or the name of a shipped model (with or without ``.pt``).

    Raises:
        ValueError: neither a file nor a shipped name; the message lists the shipped names.
    """
    if not isinstance(model, (str, os.PathLike)):
        raise ValueError(f"model: expected a file path or a shipped model's name, got {type(model).__name__}")
    path = Path(model)
    if path.is_dir():
        raise ValueError(f"model file {str(model)!r} is a folder; expected a model file or a shipped model's name")
    if path.exists():
        return path
    shipped = shipped_models()
    name = path.name.removesuffix(".pt")
    if path.parent == Path(".") and name in shipped:
        return shipped[name]
    raise ValueError(
        f"model file {str(model)!r} does not exist, nor is it a shipped model ({', '.join(shipped) or 'none'})"
    )


def shipped_log(name: str) -> list[dict[str, Any]]:
    """The training log of a shipped model (``weights/<name>.log.jsonl``, the entries of
    :attr:`dsdviz.training.Trainer.history`: ``split`` "train", "val" or "monitor"), for plotting its curves.

    Raises:
        ValueError: ``name`` is not a shipped model, or no log was shipped with it.
    """
    path = model_path(name).with_suffix(".log.jsonl")
    if path.parent != WEIGHTS_DIR or not path.is_file():
        logged = sorted(p.name.removesuffix(".log.jsonl") for p in WEIGHTS_DIR.glob("*.log.jsonl"))
        raise ValueError(f"no training log is shipped for {name!r} (shipped logs: {', '.join(logged) or 'none'})")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def steps_done(meta: dict[str, Any]) -> str:
    """The steps a model was trained for, from its metadata: ``"7,000 steps"``, or ``"9,238 of 200,000
    steps"`` for a run stopped part-way through its schedule (``dsdviz train --minutes``)."""
    step = meta.get("step", 0)
    planned = meta.get("train_config", {}).get("steps", step)
    return f"{step:,}" + (f" of {planned:,}" if planned != step else "") + " steps"


def training_budget(meta: dict[str, Any]) -> str:
    """A model's training budget from its metadata (:func:`dsdviz.models.model_meta`), e.g.
    ``"7,000 steps, 31 min on 2 CPU cores (bf16)"`` (the steps as :func:`steps_done` says them);
    without a recorded time, the steps alone."""
    text = steps_done(meta)
    seconds, hardware = meta.get("train_seconds"), meta.get("hardware")
    if seconds is not None:
        text += f", {seconds / 60:.0f} min" + (f" on {hardware}" if hardware else "")
    precision = (meta.get("precision") or {}).get("precision")
    return text + (f" ({precision})" if precision else "")


__all__ = [
    "DEFAULT_REGRESSORS",
    "SHIPPED_RESTORATION",
    "WEIGHTS_DIR",
    "model_path",
    "shipped_log",
    "shipped_models",
    "steps_done",
    "training_budget",
]
