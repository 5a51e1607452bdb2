"""One training loop for every network of the DSD paper, configured per task.

:class:`~dsdviz.training.TrainConfig` holds the loop's and the task's settings;
:func:`~dsdviz.training.preset` gives the paper's settings (the default, meant for a GPU),
the cpu setting of the shipped models, or a quick or smoke setting (minutes, seconds) that runs the
same code with smaller crops, batches and step counts. :class:`Trainer` runs it:

* Adam (lr 2e-4, betas (0.9, 0.99)) with step decay (``decay_gamma`` every
  ``decay_every`` steps); the data stream of :mod:`dsdviz.data`, indexed by step;
* the numeric path of ``precision``, resolved once per run by
  :func:`dsdviz.precision.resolve_precision` (default: mixed precision on CUDA, bfloat16
  where supported, else float16 with loss scaling; float32 on CPU): the trained network
  and the VGG19 of the losses run under its autocast, the Gram matrices and L1 terms are
  float32 (the DSD is a small difference of two Gram matrices, which half precision would
  cancel away). The plan's reason is printed, logged (``split: "precision"``) and stored in
  checkpoints and model files (``"precision"``). The trained network is channels-last
  (:func:`dsdviz.precision.channels_last`; faster on CPU, same values, layout-free files);
* several processes with PyTorch DDP when launched by ``torchrun`` (NCCL on GPUs, gloo
  on CPU); each process takes its contiguous share of every global batch, so the run
  sees the same batches as one process would. BatchNorm layers (the regressor) are
  synchronised across GPUs; on CPU each process keeps its own batch statistics;
* atomic checkpoints (:func:`dsdviz.models.serialization.atomic_save`) every
  ``checkpoint_every`` steps, at the end and on SIGINT/SIGTERM (after finishing the
  current step), holding the model, optimiser, scheduler, loss scaler, the task's own state (the
  critic of an adversarial term), step, every RNG
  state and the history; ``resume=True`` continues from it. The data stream restarts at
  the checkpoint's step, so on CPU with a fixed seed an interrupted and resumed run ends
  with bit-identical weights to an uninterrupted one. A ``kill -9`` loses at most
  ``checkpoint_every`` steps. Checkpoints and exported models record the code that wrote
  them (:func:`~dsdviz.training.provenance.code_version`); resuming a run written by other code warns and says so in
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

import json
import os
import random
import shutil
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from ..data import StepSampler, save_image
from ..models.serialization import atomic_save, load_model, model_record
from ..precision import PrecisionPlan, channels_last, grad_scaler, resolve_precision
from ..runlock import RunLock
from .checkpoints import (
    CHECKPOINT_FORMAT,
    PREVIOUS_CHECKPOINT,
    RUN_FILES,
    read_latest_checkpoint,
    resumed_config,
    rng_state,
    set_rng_state,
)
from .config import TrainConfig
from .distributed import StopOnSignal, any_process, distributed_setup
from .provenance import code_changes, code_version
from .settings import DEFAULT_PRECISION


def _load_init(model: nn.Module, path: str) -> None:
    """Start ``model`` from the weights of the network in ``path`` (a model file or checkpoint of the same network)."""
    start = load_model(path)
    try:
        if type(start) is not type(model):
            raise TypeError(f"it holds a {start.kind} network")
        model.load_state_dict(start.state_dict())
    except (TypeError, RuntimeError) as error:
        reason = str(error).strip().splitlines()[0]
        raise ValueError(f"init {path!r} does not fit the {model.kind} network of this run ({reason})") from None


def _seed_everything(seed: int) -> None:
    """Seed torch, NumPy and Python's ``random`` (the weights' initialisation and anything else drawn globally)."""
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)


class Trainer:
    """Runs one :class:`~dsdviz.training.TrainConfig`: ``Trainer(config).run()``.

    Args:
        config: the run's settings.
        resume: continue from ``<out>/checkpoint.pt`` when it exists (else start fresh); when that file is
            unreadable (truncated), from the previous checkpoint ``checkpoint.prev.pt``, with a warning and a note.
        overwrite: delete the run already in ``out`` (checkpoints, model, log, samples) and start again.
            Without ``resume`` or ``overwrite``, a folder that holds a run is an error.

    The output folder is locked (:class:`~dsdviz.runlock.RunLock`) from construction to :meth:`close`: a
    second run on the same folder from another process is refused.

    Attributes:
        model: the network (wrapped in DDP when distributed; :attr:`network` unwraps it).
        step: optimisation steps done.
        history: log entries, ``{"step", "split": "train", "lr", "loss", <terms>, "seconds"}``,
            ``{"step", "split": "val", <scores>}`` and ``{"step", "split": "monitor", "loss", <terms>}``.
        notes: remarks about the run (e.g. a perceptual-layer fallback), also in the checkpoint.
        plan: the resolved :class:`~dsdviz.precision.PrecisionPlan` (``plan.metadata()`` is
            stored in checkpoints and model files under ``"precision"``).
    """

    def __init__(self, config: TrainConfig, *, resume: bool = False, overwrite: bool = False) -> None:
        """Lock the output folder, seed, resolve the precision, build the task, network and optimiser, then
        start the network from the checkpoint (``resume``), the ``init`` weights or the task's preparation."""
        self.rank, self.world, self.device, self._owns_group = distributed_setup(config.loop.device)
        self.out = Path(config.loop.out)
        self.checkpoint_path = self.out / "checkpoint.pt"
        self._lock = RunLock(self.out, folder=True).acquire() if self.rank == 0 else None
        try:
            config, checkpoint = self._start(config, resume, overwrite)
        except BaseException:
            self.close()
            raise
        self.config = config
        loop = config.loop
        _seed_everything(loop.seed)
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True
        requested = loop.precision or DEFAULT_PRECISION.get(self.device.type, "fp32")
        self.plan: PrecisionPlan = resolve_precision(requested, self.device)
        self.task = config.task.make_task(loop, self.device, self.plan)
        self.notes = list(self.task.notes)
        self.dataset = self.task.dataset()
        model = channels_last(self.task.build_model().to(self.device))
        self.optimizer = torch.optim.Adam(model.parameters(), lr=loop.lr, betas=loop.betas)
        self.scheduler = StepLR(self.optimizer, step_size=loop.decay_every, gamma=loop.decay_gamma)
        self.scaler = grad_scaler(self.plan)
        self.step = 0
        self.history: list[dict[str, Any]] = []
        self._monitor_batch: dict[str, torch.Tensor] | None = None
        self._initialise(model, checkpoint)
        if self.world > 1:
            if self.device.type == "cuda":
                model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
            model = DistributedDataParallel(model, device_ids=[self.device] if self.device.type == "cuda" else None)
        self.model = model
        self._open_log()

    def _initialise(self, model: nn.Module, checkpoint: dict[str, Any] | None) -> None:
        """Start ``model`` (and the optimiser, schedule, history) from ``checkpoint``, else from the ``init``
        weights, else as the task prepares a fresh network; notes a resume with other code than wrote it."""
        loop = self.config.loop
        if checkpoint is None:
            if loop.init is not None:
                _load_init(model, loop.init)
            else:
                self.task.prepare(model, self.dataset)
            return
        self._restore(model, checkpoint)
        if checkpoint.get("fallback"):
            self.notes.append(checkpoint["fallback"])
        changes = code_changes(checkpoint.get("code"))
        if changes:
            note = f"resumed at step {self.step} of {loop.steps} with other code than wrote the checkpoint ({changes})"
            self.notes.append(note)
            warnings.warn(
                f"{loop.out}: {note}; a finished run is loaded as it is. To retrain with the current code, "
                "delete that folder or choose another output folder",
                stacklevel=3,
            )

    def _open_log(self) -> None:
        """Rewrite ``log.jsonl`` from the history (the log of record is the checkpoint's), say the precision, and
        log it where it differs from the last recorded one."""
        if self.rank == 0:
            self.out.mkdir(parents=True, exist_ok=True)
            with open(self.out / "log.jsonl", "w") as handle:
                for entry in self.history:
                    handle.write(json.dumps(entry) + "\n")
            if self.config.loop.progress:
                tqdm.write(f"{self.config.task.label}: precision {self.plan.precision} ({self.plan.reason})")
        recorded = [e for e in self.history if e["split"] == "precision"]
        last = {k: v for k, v in recorded[-1].items() if k not in ("step", "split")} if recorded else None
        if last != self.plan.metadata():
            self._log({"step": self.step, "split": "precision", **self.plan.metadata()})

    def _start(
        self, config: TrainConfig, resume: bool, overwrite: bool
    ) -> tuple[TrainConfig, dict[str, Any] | None]:
        """The run's config and the checkpoint it resumes from (``None``: a fresh start), after checking the folder."""
        existing = [name for name in RUN_FILES if (self.out / name).exists()]
        if not resume:
            if overwrite and self.rank == 0:
                for name in existing:
                    target = self.out / name
                    shutil.rmtree(target) if target.is_dir() else target.unlink()
            elif not overwrite and set(existing) & set(RUN_FILES[:3]):
                raise ValueError(
                    f"{self.out} holds a run ({', '.join(existing)}): continue it with resume=True (--resume), start "
                    "again with overwrite=True (--overwrite), or choose another output folder"
                )
            return config, None
        checkpoint = read_latest_checkpoint(self.out)
        if checkpoint is None:
            return config, None
        if checkpoint.get("fallback"):
            warnings.warn(checkpoint["fallback"], stacklevel=3)
        return resumed_config(config, checkpoint), checkpoint

    @property
    def network(self) -> nn.Module:
        """The trained network itself (without the DDP wrapper)."""
        return self.model.module if isinstance(self.model, DistributedDataParallel) else self.model

    def _restore(self, model: nn.Module, checkpoint: dict[str, Any]) -> None:
        model.load_state_dict(checkpoint["state_dict"])
        self.optimizer.load_state_dict(checkpoint["optimizer"])
        self.scheduler.load_state_dict(checkpoint["scheduler"])
        self.scaler.load_state_dict(checkpoint["scaler"])
        self.step = int(checkpoint["step"])
        self.history = list(checkpoint["history"])
        self.notes = list(checkpoint["notes"])
        set_rng_state(checkpoint["rng"])
        self.task.load_state_dict(checkpoint.get("task_state", {}))

    def _loader(self) -> DataLoader:
        sampler = StepSampler(self.config.loop.batch_size, self.step, self.rank, self.world)
        return DataLoader(
            self.dataset, batch_size=sampler.local_batch, sampler=sampler, num_workers=self.config.loop.workers,
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
        if self.checkpoint_path.is_file():  # keep the previous one: a checkpoint truncated later falls back to it
            keep_previous(self.checkpoint_path, self.out / PREVIOUS_CHECKPOINT)
        record.update(
            format=CHECKPOINT_FORMAT, train_config=self.config.flat(), optimizer=self.optimizer.state_dict(),
            scheduler=self.scheduler.state_dict(), scaler=self.scaler.state_dict(), step=self.step,
            rng=rng_state(), history=self.history, notes=self.notes, code=code_version(),
            precision=self.plan.metadata(), task_state=self.task.state_dict(),
        )  # fmt: skip
        return atomic_save(record, self.checkpoint_path)

    def export(self, path: str | os.PathLike | None = None, *, half: bool = False) -> Path | None:
        """Write the network alone (``model.pt`` by default; float16 with ``half``) with its last validation scores.

        Read it back with :func:`dsdviz.models.load_model`.
        """
        if self.rank != 0:
            return None
        validations = [e for e in self.history if e["split"] == "val"]
        settings = self.config.flat()
        meta = {
            "task": settings["task"], "stage": settings.get("stage"), "step": self.step, "notes": self.notes,
            "train_config": settings, "validation": validations[-1] if validations else {}, "code": code_version(),
            "precision": self.plan.metadata(),
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
            for name, image in outputs[: self.config.loop.samples]:
                save_image(image, self.out / "samples" / f"step_{self.step:07d}" / f"{name}.png")
            self._log({"step": self.step, "split": "val", **scores})
        if self.world > 1:
            dist.barrier()
        return scores

    def monitor(self) -> dict[str, float]:
        """The loss terms on the fixed monitor batch (rank 0; eval mode, no gradient), logged as ``"monitor"``.

        Returns ``{}`` when ``monitor_every`` is ``None`` and on other ranks.
        """
        loop = self.config.loop
        if self.rank != 0 or loop.monitor_every is None:
            return {}
        if self._monitor_batch is None:
            stream = self.task.dataset(seed=loop.seed + 2)  # seed + 1: the regressor's calibration
            items = [stream[k] for k in range(loop.monitor_batch)]
            self._monitor_batch = {key: torch.stack([item[key] for item in items]) for key in items[0]}
        network = self.network
        network.eval()
        try:
            with torch.no_grad():
                terms = self.task.losses(network, self._monitor_batch)
        finally:
            network.train()
        values = {name: float(value) for name, value in terms.items()}
        self._log({"step": self.step, "split": "monitor", **values})
        return values

    def train_step(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """One optimisation step on one (local) batch; returns the detached loss terms.

        Then the task's own update, if it trains more than the network (the critic of an adversarial
        term: its loss is returned as ``"critic"``).

        The gradients stay in the parameters' ``.grad`` until the next step (averaged
        over processes under DDP).
        """
        self.optimizer.zero_grad(set_to_none=True)
        terms = self.task.losses(self.model, batch)
        self.scaler.scale(terms["loss"]).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.scheduler.step()
        terms.update(self.task.after_step())
        self.step += 1
        return {name: value.detach() for name, value in terms.items()}

    def run(self, until: int | None = None, *, seconds: float | None = None) -> list[dict[str, Any]]:
        """Train up to step ``until`` (default: ``config.steps``); returns :attr:`history`.

        Validates at step 0 (before training), every ``val_every`` steps and at
        ``config.steps``; checkpoints every ``checkpoint_every`` steps and when it stops.
        On SIGINT/SIGTERM it finishes the current step, saves a checkpoint and raises
        ``KeyboardInterrupt``.

        ``seconds`` bounds the wall time of this call (a lease on a GPU, say): the step during
        which it runs out is the last; the run then validates, checkpoints and exports ``model.pt``
        with the weights so far (its metadata's ``step`` says how far the run got), so that a later
        stage can start from it and ``resume=True`` continues this one on its schedule. All
        processes of a DDP run stop at the same step.
        """
        c = self.config.loop
        until = c.steps if until is None else min(until, c.steps)
        if seconds is not None and not seconds > 0:
            raise ValueError(f"seconds must be positive, got {seconds}")
        deadline = None if seconds is None else time.monotonic() + seconds
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
        bar = tqdm(total=until, initial=self.step, desc=self.config.task.label,
                   disable=self.rank != 0 or not c.progress, dynamic_ncols=True)  # fmt: skip
        batches = iter(self._loader())
        try:
            with StopOnSignal() as guard:
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
                    late = deadline is not None and time.monotonic() >= deadline
                    stop, late = any_process((guard.requested is not None, late), self.world, self.device)
                    if stop:
                        self.save_checkpoint()
                        raise KeyboardInterrupt(
                            f"stopped at step {self.step}; checkpoint saved to {self.checkpoint_path}"
                        )
                    if late:
                        break
        finally:
            bar.close()
            del batches
        out_of_time = deadline is not None and self.step < until
        if out_of_time and self.step % c.val_every:  # the exported weights carry their own scores
            self.validate()
        if out_of_time or self.step % c.checkpoint_every:
            self.save_checkpoint()
        if self.step == c.steps or out_of_time:
            self.export()
        return self.history

    def close(self) -> None:
        """Release the output folder's lock, and leave the process group if this trainer created it."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None
        if self._owns_group and dist.is_initialized():
            dist.destroy_process_group()
            self._owns_group = False


def keep_previous(path: Path, previous: Path) -> None:
    """Make ``previous`` a copy of ``path`` (a hard link where the file system has them), atomically:
    ``path`` itself is never missing, whenever the process is killed."""
    staged = previous.with_name(f".{previous.name}.{os.getpid()}.tmp")
    staged.unlink(missing_ok=True)
    try:
        os.link(path, staged)
    except OSError:
        shutil.copy2(path, staged)
    os.replace(staged, previous)


def train(
    config: TrainConfig, *, resume: bool = False, seconds: float | None = None, overwrite: bool = False
) -> Trainer:
    """Run ``config`` to the end, or for ``seconds`` of wall time (resuming if asked, or replacing the run in its
    folder with ``overwrite``); returns the :class:`Trainer`."""
    trainer = Trainer(config, resume=resume, overwrite=overwrite)
    try:
        trainer.run(seconds=seconds)
    finally:
        trainer.close()
    return trainer


def history_table(history: list[dict[str, Any]], split: str = "train") -> dict[str, np.ndarray]:
    """The log entries of one split as columns: ``{"step": (N,), "<name>": (N,)}`` (NaN where missing)."""
    entries = [e for e in history if e["split"] == split]
    names = [k for k in dict.fromkeys(k for e in entries for k in e) if k != "split"]
    return {name: np.array([e.get(name, np.nan) for e in entries], dtype=float) for name in names}


__all__ = ["Trainer", "history_table", "train"]
