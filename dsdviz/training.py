"""One training loop for every network of the DSD paper, configured per task.

:class:`TrainConfig` holds every setting; :func:`preset` gives the paper's settings
(``quick=False``, meant for a GPU) or a CPU quick mode (minutes) that runs the same
code with smaller crops, batches and step counts. :class:`Trainer` runs it:

* Adam (lr 2e-4, betas (0.9, 0.99)) with step decay (``decay_gamma`` every
  ``decay_every`` steps); the data stream of :mod:`dsdviz.data`, indexed by step;
* on CUDA, mixed precision for the trained network (bfloat16 where supported, else
  float16 with loss scaling); VGG19 losses stay in float32 (the DSD is a small difference
  of two Gram matrices, which half precision would cancel away);
* several processes with PyTorch DDP when launched by ``torchrun`` (NCCL on GPUs, gloo
  on CPU); each process takes its contiguous share of every global batch, so the run
  sees the same batches as one process would. BatchNorm layers (the regressor) are
  synchronised across GPUs; on CPU each process keeps its own batch statistics;
* atomic checkpoints (:func:`dsdviz.models.serialization.atomic_save`) every
  ``checkpoint_every`` steps, at the end and on SIGINT/SIGTERM (after finishing the
  current step), holding the model, optimiser, scheduler, loss scaler, step, every RNG
  state and the history; ``resume=True`` continues from it. The data stream restarts at
  the checkpoint's step, so on CPU with a fixed seed an interrupted and resumed run ends
  with bit-identical weights to an uninterrupted one. A ``kill -9`` loses at most
  ``checkpoint_every`` steps. Checkpoints and exported models record the code that wrote
  them (:func:`code_version`); resuming a run written by other code warns and says so in
  the run's notes, since a finished run is loaded as it is (its results are the old
  code's);
* a log of losses (``log.jsonl``, also kept in :attr:`Trainer.history`), validation
  scores (PSNR/SSIM with scikit-image, DSD distance; regressor errors per layer) at step
  0, every ``val_every`` steps and at the end, sample images under ``samples/``, and a
  ``tqdm`` progress bar. The final weights go to ``model.pt``
  (:func:`dsdviz.models.load_model`);
* with ``monitor_every``, the same loss terms on one *fixed* batch of ``monitor_batch``
  training-like pairs (drawn from the stream with seed ``seed + 2``), without gradient and
  with the network in eval mode, at step 0, every ``monitor_every`` steps and at the end
  (``split: "monitor"`` in the history). Each training batch is a new random draw, so the
  logged training loss mixes learning with batch-to-batch variation (large for small
  crops, where the perceptual and DSD terms depend strongly on the crop's content); the
  fixed-batch curve shows the learning alone.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import random
import signal
import threading
import time
import warnings
from dataclasses import MISSING, asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from .data import StepSampler, data_root
from .images import save_image
from .losses import FEATURE_LOSSES
from .models.serialization import atomic_save, load_model, model_record
from .tasks import TASKS, make_task
from .validation import check_choice, check_positive_int

CHECKPOINT_FORMAT = "dsdviz-checkpoint-1"

#: Settings that may change between a checkpoint and its resumption (they do not change the result).
RESUMABLE_CHANGES = frozenset(
    {"steps", "out", "checkpoint_every", "val_every", "log_every", "workers", "samples", "device", "init", "progress",
     "monitor_every", "monitor_batch"}
)


@dataclass
class TrainConfig:
    """Every setting of a training run. Paths are strings; see :func:`preset` for the paper's values.

    Sizes: ``crop`` is the side of the network's *input* crop in pixels (the LR crop for
    SR, the blurred crop for deblurring, ``y|a`` for the regressor, whose natural crops
    are ``crop * alpha`` px). ``batch_size`` is global (split across DDP processes).

    Stage ``"dsd"`` of SR/deblurring adds ``perceptual_weight x perceptual +
    dsd_weight x <feature_loss>``; ``feature_loss`` is ``"dsd"`` (the paper), ``"style"`` or
    ``"multiscale_style"`` (Fig. 13's alternatives, see :mod:`dsdviz.tasks`); ``alpha`` is the
    factor between the compared scales (DSD, multi-scale style) and the regressor's factor.
    ``monitor_every`` (``None``: off) logs the loss terms on a fixed batch of
    ``monitor_batch`` pairs (see the module docstring).
    """

    task: Literal["sr", "deblur", "regressor"]
    data: str
    out: str = "runs/train"
    stage: Literal["psnr", "dsd"] = "psnr"
    init: str | None = None
    lr_data: str | None = None
    blur_data: str | None = None
    kernels: str | None = None
    val_data: str | None = None
    val_lr: str | None = None
    val_blur: str | None = None
    val_crop: int | None = None
    val_limit: int | None = None
    val_per_image: int = 1
    scale: int = 4
    num_blocks: int = 10
    alpha: float = 2.0
    steps: int = 1000
    batch_size: int = 16
    crop: int = 40
    lr: float = 2e-4
    betas: tuple[float, float] = (0.9, 0.99)
    decay_every: int = 100_000
    decay_gamma: float = 0.5
    l1_weight: float = 1.0
    perceptual_weight: float = 1.0
    dsd_weight: float = 100.0
    feature_loss: Literal["dsd", "style", "multiscale_style"] = "dsd"
    perceptual_layer: str = "conv5_4"
    kernel_size: int = 31
    noise: float = 0.01
    calibration_batches: int = 8
    seed: int = 0
    device: str = "auto"
    amp: bool = True
    workers: int = 4
    checkpoint_every: int = 1000
    val_every: int = 5000
    log_every: int = 10
    monitor_every: int | None = None
    monitor_batch: int = 32
    samples: int = 3
    progress: bool = True

    def __post_init__(self) -> None:
        check_choice(self.task, TASKS, "task")
        check_choice(self.stage, ("psnr", "dsd"), "stage")
        check_choice(self.feature_loss, FEATURE_LOSSES, "feature_loss")
        for name in ("steps", "batch_size", "crop", "decay_every", "checkpoint_every", "val_every", "log_every",
                     "monitor_batch"):  # fmt: skip
            check_positive_int(getattr(self, name), name)
        if self.monitor_every is not None:
            check_positive_int(self.monitor_every, "monitor_every")
        self.betas = tuple(self.betas)  # type: ignore[assignment]
        for name in ("data", "out", "init", "lr_data", "blur_data", "kernels", "val_data", "val_lr", "val_blur"):
            value = getattr(self, name)
            if value is not None:
                setattr(self, name, str(value))


def preset(
    task: str, quick: bool = True, *, stage: str = "psnr", root: str | os.PathLike | None = None, **overrides: Any
) -> TrainConfig:
    """The paper's settings (``quick=False``) or the CPU quick mode, on the data folder ``root``.

    Data (``root`` defaults to ``$DSDVIZ_DATA``): training on ``BSDS500_train``; SR
    validation on Set5 (quick: 3 central 128 px crops) or Set14 with their MATLAB-bicubic
    LR files; deblurring validation on Set5 blurred with fixed random camera-shake
    kernels (quick: 2 crops of 128 px); regressor validation on BSD100 (quick: the first
    24 images, one central crop each; full: all 100, 4 crops each).

    Full settings: batch 16, LR crop 40 (SR), 160 px (deblurring), ``y|a`` 80 px (regressor,
    as in the authors' code); SR/deblurring stage 1 for 200k steps and stage 2 for 100k
    (lr halved every 50k / 25k); regressor 100k steps (halved every 25k). The paper trains
    per epoch on DIV2K-sized data; these step counts are our equivalent, stated here. Quick
    mode halves the rate after 3/4 of its steps. ``decay_every`` follows the preset's step
    count, not an overridden ``steps`` (so that a resumed, extended run keeps its schedule).
    The loss on a fixed batch is logged every 1000 steps (full; 32 pairs) or about 10 times
    per run (quick; 16 pairs).

    ``overrides`` replace any field, e.g. ``preset("sr", steps=10, out="runs/x")``.
    """
    check_choice(task, TASKS, "task")
    base = data_root(root, required="data" not in overrides)
    settings: dict[str, Any] = {}
    if base is not None:
        settings["data"] = str(base / "BSDS500_train")
        if task == "sr":
            benchmark = base / ("Set5" if quick else "Set14")
            settings.update(val_data=str(benchmark / "HR"), val_lr=str(benchmark / "LR_bicubic" / "X4"))
        else:
            settings["val_data"] = str(base / ("Set5" if task == "deblur" else "BSD100") / "HR")
    if "val_data" in overrides:  # the default LR / blurred folders belong to the default validation set
        settings.pop("val_lr", None)
    if quick:
        sizes = {
            "sr": {"crop": 16, "batch_size": 8, "steps": 100 if stage == "psnr" else 60, "val_crop": 128, "val_limit": 3},
            "deblur": {"crop": 32, "batch_size": 8, "steps": 80 if stage == "psnr" else 40, "val_crop": 96,
                       "val_limit": 2, "kernel_size": 15},
            "regressor": {"crop": 32, "batch_size": 8, "steps": 200, "val_limit": 24, "calibration_batches": 2},
        }[task]  # fmt: skip
        sizes["decay_every"] = sizes["steps"] * 3 // 4
        settings.update(sizes, workers=0, checkpoint_every=20, log_every=1, samples=2)
    else:
        steps = {"sr": (200_000, 100_000), "deblur": (200_000, 100_000), "regressor": (100_000, 100_000)}[task]
        settings.update(
            crop={"sr": 40, "deblur": 160, "regressor": 80}[task], batch_size=16,
            steps=steps[0] if stage == "psnr" else steps[1], val_every=5000, checkpoint_every=1000, log_every=20,
            monitor_every=1000,
        )  # fmt: skip
        settings["decay_every"] = settings["steps"] // 4
        if task == "regressor":
            settings.update(val_per_image=4)
    settings.update(task=task, stage=stage, out=f"runs/{task}" + ("" if task == "regressor" else f"_{stage}"))
    settings.update(overrides)
    if quick:  # validate before and after only; the loss on a fixed batch of 16 about 10 times
        settings.setdefault("val_every", settings["steps"])
        settings.setdefault("monitor_every", max(1, settings["steps"] // 10))
        settings.setdefault("monitor_batch", 16)
    return TrainConfig(**settings)


def _distributed_setup(requested: str) -> tuple[int, int, torch.device, bool]:
    """``(rank, world_size, device, initialised_here)`` from torchrun's environment variables."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if requested == "auto":
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        device = torch.device(requested)
    if device.type == "cuda" and world > 1:
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    initialised = False
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        initialised = True
    return rank, world, device, initialised


#: Code that only draws figures or reads command lines: a training run never calls it, so editing it
#: does not change :func:`code_version`.
PRESENTATION_CODE = ("viz/", "cli.py", "cli_optimize.py", "figures.py")


def source_digest(package: str | os.PathLike) -> str:
    """16 hex digits of SHA-256 over the names and contents of ``<package>/**/*.py`` except
    :data:`PRESENTATION_CODE`: it changes with any edit of the code a run may execute."""
    package = Path(package)
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        name = path.relative_to(package).as_posix()
        if not name.startswith(PRESENTATION_CODE):
            digest.update(name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


@functools.cache
def code_version() -> dict[str, str]:
    """What computes a run: ``{"dsdviz": source_digest of this package, "torch": version}``; it tells
    apart results of different code even within one release."""
    return {"dsdviz": source_digest(Path(__file__).resolve().parent), "torch": str(torch.__version__)}


def code_changes(recorded: dict[str, str] | None) -> str | None:
    """How the code that wrote a checkpoint (its ``"code"`` entry) differs from :func:`code_version`;
    ``None`` when it is the same."""
    if recorded is None:
        return "the checkpoint records no code version (an older dsdviz wrote it)"
    current = code_version()
    changed = [f"{name} {recorded.get(name)} -> {value}" for name, value in current.items()
               if recorded.get(name) != value]  # fmt: skip
    return ", ".join(changed) or None


def rng_state() -> dict[str, Any]:
    """Every RNG state of the process (torch CPU and CUDA, numpy, Python), loadable with ``weights_only``."""
    kind, keys, position, has_gauss, cached = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": {
            "kind": kind,
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "pos": position,
            "has_gauss": has_gauss,
            "cached": cached,
        },  # fmt: skip
        "python": random.getstate(),
    }


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore :func:`rng_state`."""
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["cached"]))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))


class _StopOnSignal:
    """Turn the first SIGINT/SIGTERM into a request to stop after the current step (main thread only).

    A second signal interrupts at once.
    """

    def __init__(self) -> None:
        self.requested: int | None = None
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested is not None:
            raise KeyboardInterrupt
        self.requested = signum

    def __enter__(self) -> _StopOnSignal:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)


class Trainer:
    """Runs one :class:`TrainConfig`: ``Trainer(config).run()``.

    Args:
        config: the run's settings.
        resume: continue from ``<out>/checkpoint.pt`` when it exists (else start fresh).
            Without it, an existing checkpoint is an error rather than being overwritten.

    Attributes:
        model: the network (wrapped in DDP when distributed; :attr:`network` unwraps it).
        step: optimisation steps done.
        history: log entries, ``{"step", "split": "train", "lr", "loss", <terms>, "seconds"}``,
            ``{"step", "split": "val", <scores>}`` and ``{"step", "split": "monitor", "loss", <terms>}``.
        notes: remarks about the run (e.g. a perceptual-layer fallback), also in the checkpoint.
    """

    def __init__(self, config: TrainConfig, *, resume: bool = False) -> None:
        self.rank, self.world, self.device, self._owns_group = _distributed_setup(config.device)
        self.out = Path(config.out)
        self.checkpoint_path = self.out / "checkpoint.pt"
        checkpoint = None
        if not resume and self.checkpoint_path.is_file():
            raise ValueError(
                f"{self.checkpoint_path} exists: continue that run with resume=True (--resume), "
                "or choose another output folder"
            )
        if resume and self.checkpoint_path.is_file():
            checkpoint = torch.load(self.checkpoint_path, map_location="cpu", weights_only=True)
            config = self._merge(config, checkpoint)
        self.config = config
        torch.manual_seed(config.seed)
        np.random.seed(config.seed % 2**32)
        random.seed(config.seed)
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True
        self.task = make_task(config, self.device)
        self.notes = list(self.task.notes)
        self.dataset = self.task.dataset()
        model = self.task.build_model().to(self.device)
        self.optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, betas=config.betas)
        self.scheduler = StepLR(self.optimizer, step_size=config.decay_every, gamma=config.decay_gamma)
        self.amp_dtype: torch.dtype | None = None
        if config.amp and self.device.type == "cuda":
            self.amp_dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=self.amp_dtype == torch.float16)
        self.step = 0
        self.history: list[dict[str, Any]] = []
        self._monitor_batch: dict[str, torch.Tensor] | None = None
        if checkpoint is not None:
            self._restore(model, checkpoint)
            changes = code_changes(checkpoint.get("code"))
            if changes:
                note = (f"resumed at step {self.step} of {config.steps} with other code than wrote the checkpoint "
                        f"({changes})")  # fmt: skip
                self.notes.append(note)
                warnings.warn(
                    f"{config.out}: {note}; a finished run is loaded as it is. To retrain with the current code, "
                    "delete that folder or choose another output folder",
                    stacklevel=2,
                )
        else:
            if config.init is not None:
                model.load_state_dict(load_model(config.init).state_dict())
            else:
                self.task.prepare(model, self.dataset)
        if self.world > 1:
            if self.device.type == "cuda":
                model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
            model = DistributedDataParallel(model, device_ids=[self.device] if self.device.type == "cuda" else None)
        self.model = model
        if self.rank == 0:
            self.out.mkdir(parents=True, exist_ok=True)
            with open(self.out / "log.jsonl", "w") as handle:  # the log of record is the checkpoint's history
                for entry in self.history:
                    handle.write(json.dumps(entry) + "\n")

    @property
    def network(self) -> nn.Module:
        """The trained network itself (without the DDP wrapper)."""
        return self.model.module if isinstance(self.model, DistributedDataParallel) else self.model

    @staticmethod
    def _merge(config: TrainConfig, checkpoint: dict[str, Any]) -> TrainConfig:
        # settings added after a checkpoint was written take their defaults: what that run used
        defaults = {f.name: f.default for f in fields(TrainConfig) if f.default is not MISSING}
        saved = {**defaults, **checkpoint["train_config"]}
        saved["betas"] = tuple(saved["betas"])
        changed = [
            f.name
            for f in fields(TrainConfig)
            if f.name not in RESUMABLE_CHANGES and getattr(config, f.name) != saved[f.name]
        ]
        if changed:
            detail = ", ".join(f"{name}: {saved[name]!r} -> {getattr(config, name)!r}" for name in changed)
            raise ValueError(
                f"cannot resume {config.out}: the checkpoint was trained with other settings ({detail}); "
                "use another --out folder or the original settings"
            )
        return replace(config, **{name: saved[name] for name in saved if name not in RESUMABLE_CHANGES})

    def _restore(self, model: nn.Module, checkpoint: dict[str, Any]) -> None:
        model.load_state_dict(checkpoint["state_dict"])
        self.optimizer.load_state_dict(checkpoint["optimizer"])
        self.scheduler.load_state_dict(checkpoint["scheduler"])
        self.scaler.load_state_dict(checkpoint["scaler"])
        self.step = int(checkpoint["step"])
        self.history = list(checkpoint["history"])
        self.notes = list(checkpoint["notes"])
        set_rng_state(checkpoint["rng"])

    def _loader(self) -> DataLoader:
        sampler = StepSampler(self.config.batch_size, self.step, self.rank, self.world)
        return DataLoader(
            self.dataset, batch_size=sampler.local_batch, sampler=sampler, num_workers=self.config.workers,
            pin_memory=self.device.type == "cuda", persistent_workers=False,
        )  # fmt: skip

    def _log(self, entry: dict[str, Any]) -> None:
        self.history.append(entry)
        if self.rank == 0:
            with open(self.out / "log.jsonl", "a") as handle:
                handle.write(json.dumps(entry) + "\n")

    def save_checkpoint(self) -> Path | None:
        """Write ``checkpoint.pt`` atomically (rank 0); returns its path there, ``None`` elsewhere."""
        if self.rank != 0:
            return None
        record = model_record(self.network)
        record.update(
            format=CHECKPOINT_FORMAT, train_config=asdict(self.config), optimizer=self.optimizer.state_dict(),
            scheduler=self.scheduler.state_dict(), scaler=self.scaler.state_dict(), step=self.step,
            rng=rng_state(), history=self.history, notes=self.notes, code=code_version(),
        )  # fmt: skip
        return atomic_save(record, self.checkpoint_path)

    def export(self, path: str | os.PathLike | None = None, *, half: bool = False) -> Path | None:
        """Write the network alone (``model.pt`` by default; float16 with ``half``) with its last validation scores.

        Read it back with :func:`dsdviz.models.load_model`.
        """
        if self.rank != 0:
            return None
        validations = [e for e in self.history if e["split"] == "val"]
        meta = {
            "task": self.config.task, "stage": self.config.stage, "step": self.step, "notes": self.notes,
            "train_config": asdict(self.config), "validation": validations[-1] if validations else {},
            "code": code_version(),
        }  # fmt: skip
        record = model_record(self.network, half=half, meta=meta)
        return atomic_save(record, path or self.out / "model.pt")

    def validate(self) -> dict[str, float]:
        """Score the validation set (rank 0), log it, save sample outputs; returns the scores."""
        scores: dict[str, float] = {}
        if self.rank == 0 and self.task.examples():
            network = self.network
            network.eval()
            try:
                scores, outputs = self.task.validate(network)
            finally:
                network.train()
            for name, image in outputs[: self.config.samples]:
                save_image(image, self.out / "samples" / f"step_{self.step:07d}" / f"{name}.png")
            self._log({"step": self.step, "split": "val", **scores})
        if self.world > 1:
            dist.barrier()
        return scores

    def monitor(self) -> dict[str, float]:
        """The loss terms on the fixed monitor batch (rank 0; eval mode, no gradient), logged as ``"monitor"``.

        Returns ``{}`` when ``monitor_every`` is ``None`` and on other ranks.
        """
        if self.rank != 0 or self.config.monitor_every is None:
            return {}
        if self._monitor_batch is None:
            stream = self.task.dataset(seed=self.config.seed + 2)  # seed + 1: the regressor's calibration
            items = [stream[k] for k in range(self.config.monitor_batch)]
            self._monitor_batch = {key: torch.stack([item[key] for item in items]) for key in items[0]}
        network = self.network
        network.eval()
        try:
            with torch.no_grad():
                terms = self.task.losses(network, self._monitor_batch, self.amp_dtype)
        finally:
            network.train()
        values = {name: float(value) for name, value in terms.items()}
        self._log({"step": self.step, "split": "monitor", **values})
        return values

    def _stop_requested(self, guard: _StopOnSignal) -> bool:
        flag = torch.tensor([float(guard.requested is not None)])
        if self.world > 1:
            if self.device.type == "cuda":
                flag = flag.to(self.device)
            dist.all_reduce(flag)
        return bool(flag.item() > 0)

    def train_step(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """One optimisation step on one (local) batch; returns the detached loss terms.

        The gradients stay in the parameters' ``.grad`` until the next step (averaged
        over processes under DDP).
        """
        self.optimizer.zero_grad(set_to_none=True)
        terms = self.task.losses(self.model, batch, self.amp_dtype)
        self.scaler.scale(terms["loss"]).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.scheduler.step()
        self.step += 1
        return {name: value.detach() for name, value in terms.items()}

    def run(self, until: int | None = None) -> list[dict[str, Any]]:
        """Train up to step ``until`` (default: ``config.steps``); returns :attr:`history`.

        Validates at step 0 (before training), every ``val_every`` steps and at
        ``config.steps``; checkpoints every ``checkpoint_every`` steps and when it stops.
        On SIGINT/SIGTERM it finishes the current step, saves a checkpoint and raises
        ``KeyboardInterrupt``.
        """
        c = self.config
        until = c.steps if until is None else min(until, c.steps)
        if self.step == 0 and not any(e["split"] == "val" for e in self.history):
            self.validate()
        if self.step == 0 and c.monitor_every and not any(e["split"] == "monitor" for e in self.history):
            self.monitor()
        if self.step >= until:
            return self.history
        network = self.network
        network.train()
        sums: dict[str, torch.Tensor] = {}
        count, started = 0, time.perf_counter()
        bar = tqdm(total=until, initial=self.step, desc=f"{c.task} {c.stage if c.task != 'regressor' else ''}".strip(),
                   disable=self.rank != 0 or not c.progress, dynamic_ncols=True)  # fmt: skip
        batches = iter(self._loader())
        try:
            with _StopOnSignal() as guard:
                while self.step < until:
                    terms = self.train_step(next(batches))
                    for name, value in terms.items():
                        sums[name] = sums.get(name, 0) + value
                    count += 1
                    bar.update(1)
                    if self.step % c.log_every == 0 or self.step == until:
                        means = {name: float(total) / count for name, total in sums.items()}
                        if not np.isfinite(means["loss"]):
                            raise FloatingPointError(f"the loss is {means['loss']} at step {self.step}; lower lr?")
                        lr = self.scheduler.get_last_lr()[0]
                        self._log({"step": self.step, "split": "train", "lr": lr, **means,
                                   "seconds": (time.perf_counter() - started) / count})  # fmt: skip
                        bar.set_postfix(loss=f"{means['loss']:.4g}")
                        sums, count, started = {}, 0, time.perf_counter()
                    if self.step % c.val_every == 0 or self.step == c.steps:
                        self.validate()
                    if c.monitor_every and (self.step % c.monitor_every == 0 or self.step == c.steps):
                        self.monitor()
                    if self.step % c.checkpoint_every == 0:  # after the scores, so that they are in it
                        self.save_checkpoint()
                    if self._stop_requested(guard):
                        self.save_checkpoint()
                        raise KeyboardInterrupt(
                            f"stopped at step {self.step}; checkpoint saved to {self.checkpoint_path}"
                        )
        finally:
            bar.close()
            del batches
        if self.step % c.checkpoint_every:
            self.save_checkpoint()
        if self.step == c.steps:
            self.export()
        return self.history

    def close(self) -> None:
        """Leave the process group if this trainer created it."""
        if self._owns_group and dist.is_initialized():
            dist.destroy_process_group()
            self._owns_group = False


def train(config: TrainConfig, *, resume: bool = False) -> Trainer:
    """Run ``config`` to the end (resuming if asked) and return the finished :class:`Trainer`."""
    trainer = Trainer(config, resume=resume)
    try:
        trainer.run()
    finally:
        trainer.close()
    return trainer


def history_table(history: list[dict[str, Any]], split: str = "train") -> dict[str, np.ndarray]:
    """The log entries of one split as columns: ``{"step": (N,), "<name>": (N,)}`` (NaN where missing)."""
    entries = [e for e in history if e["split"] == split]
    names = [k for k in dict.fromkeys(k for e in entries for k in e) if k != "split"]
    return {name: np.array([e.get(name, np.nan) for e in entries], dtype=float) for name in names}


__all__ = ["TrainConfig", "Trainer", "code_version", "history_table", "preset", "train"]
