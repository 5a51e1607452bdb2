"""Image optimisation toward DSD targets: one gradient-descent engine and its two uses.

:func:`optimize_image` optimises the pixels of one image (the parameter is the image
itself, kept in ``[0, 1]`` by projection after every update or by a range penalty) with
Adam and a learning-rate schedule, for any objective built from the losses. It records
the objective and every term the objective reports at every step, keeps snapshots at
chosen steps, shows a progress bar, returns the partial trajectory on Ctrl-C, and can
checkpoint atomically and resume exactly (see :class:`~dsdviz.trajectory.Trajectory`).

On top of it, the two experiments of the DSD paper's supplementary material
(Kligvasser et al., NeurIPS 2021):

* :func:`match_fingerprint` (Fig. 11): make a content image's DSD fingerprint, or for
  comparison its style (Gram matrices), match a reference image's. The reference's
  fingerprint is computed once.
* :func:`minimize_dsd` (Fig. 12): gradient descent on ``||DSD_alpha(x)||_1`` from, e.g., a
  super-resolution result. Run with a constant learning rate, the state at step ``k``
  does not depend on the planned number of steps, so one 5K-step run shows every
  shorter one.

Step ``k`` means "after ``k`` updates": step 0 is the start image and the values
recorded at step ``k`` are those of the image of step ``k``.
"""

from __future__ import annotations

import copy
import hashlib
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import torch
from tqdm.auto import tqdm

from .features import Layers, VGG19Features, default_extractor, resolve_layers
from .fingerprint import DSD, check_dsd_input, dsd, dsd_unchecked, grams
from .losses import check_size, range_loss, target_dsd, target_grams
from .resize import downscale
from .trajectory import Trajectory, log_steps
from .validation import check_choice, check_factor, check_image, check_positive_int

#: ``objective(x)`` for an image ``x`` ``(1, 3, H, W)``: ``{"objective": scalar to minimise,
#: <name>: scalar recorded at every step, ...}``.
Objective = Callable[[torch.Tensor], Mapping[str, torch.Tensor]]
Schedule = Literal["constant", "step", "cosine"]
RangeMode = Literal["clamp", "penalty"]
MatchKind = Literal["dsd", "style"]

SCHEDULES = ("constant", "step", "cosine")
RANGE_MODES = ("clamp", "penalty")

#: settings that may differ when a run is resumed
_RESUMABLE_DIFFERENCES = ("steps", "snapshot_steps", "device")
#: how often (in steps) recorded values are gathered from the device and shown
_SYNC_EVERY = 20


def default_device() -> torch.device:
    """CUDA when available, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def learning_rate(step: int, steps: int, lr: float, schedule: Schedule) -> float:
    """Learning rate of update ``step`` (0-based) of a ``steps``-update run.

    * ``"constant"``: ``lr`` throughout;
    * ``"step"``: halved after each third of the run (``lr``, ``lr / 2``, ``lr / 4``), the
      schedule of the DSD authors' image-optimisation experiments;
    * ``"cosine"``: ``lr * (1 + cos(pi * step / steps)) / 2``, from ``lr`` down to 0.
    """
    if schedule == "constant":
        return lr
    if schedule == "step":
        return lr * 0.5 ** min(2, 3 * step // steps)
    if schedule == "cosine":
        return lr * 0.5 * (1 + math.cos(math.pi * min(step, steps) / steps))
    raise ValueError(f"schedule: expected one of {', '.join(map(repr, SCHEDULES))}, got {schedule!r}")


def _check_positive(value: object, name: str, allow_zero: bool = False) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name}: expected a finite number {bound}, got {value!r}")
    return float(value)


def _snapshot_plan(snapshots: Sequence[int] | None, steps: int) -> list[int]:
    if snapshots is None:
        return log_steps(steps)
    chosen = set()
    for step in snapshots:
        if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step <= steps:
            raise ValueError(f"snapshots: expected integer steps in [0, {steps}], got {step!r}")
        chosen.add(step)
    return sorted(chosen | {0, steps})


def _one_image(x: object, name: str) -> torch.Tensor:
    image = check_image(x, name)
    if image.shape[0] != 1:
        raise ValueError(f"{name}: expected one image (1, 3, H, W), got a batch of {image.shape[0]}")
    return image


def _check_resume(previous: Trajectory, settings: dict[str, Any], start: torch.Tensor) -> None:
    if previous.resume_state is None:
        raise ValueError("resume: the trajectory holds no optimiser state, so it cannot be continued")
    keys = (set(previous.settings) | set(settings)) - set(_RESUMABLE_DIFFERENCES)
    differing = sorted(k for k in keys if previous.settings.get(k) != settings.get(k))
    if differing:
        details = "; ".join(f"{k}: {previous.settings.get(k)!r} vs {settings.get(k)!r}" for k in differing)
        raise ValueError(f"resume: the run's settings differ from the trajectory's ({details})")
    if previous.settings["steps"] != settings["steps"] and settings["schedule"] != "constant":
        raise ValueError(
            f"resume: changing the number of steps ({previous.settings['steps']} -> {settings['steps']}) "
            f"changes the {settings['schedule']!r} learning-rate schedule; only a constant schedule can be extended"
        )
    if previous.final_step > settings["steps"]:
        raise ValueError(
            f"resume: the trajectory already has {previous.final_step} steps, more than steps={settings['steps']}"
        )
    if previous.start.dtype != start.dtype or not torch.equal(previous.start, start.detach().cpu()):
        raise ValueError("resume: the start image differs from the trajectory's start (snapshot 0)")


def optimize_image(
    start: torch.Tensor,
    objective: Objective,
    *,
    steps: int,
    lr: float = 1e-3,
    schedule: Schedule = "constant",
    keep_in_range: RangeMode = "clamp",
    range_weight: float = 1.0,
    snapshots: Sequence[int] | None = None,
    settings: Mapping[str, Any] | None = None,
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: int = 500,
    resume: Trajectory | str | os.PathLike | None = None,
    progress: bool = True,
    description: str = "optimising",
) -> Trajectory:
    """Optimise the pixels of an image with Adam, keeping snapshots and per-step records.

    Args:
        start: the initial image ``(1, 3, H, W)`` in ``[0, 1]``; the run happens on its
            device and in its dtype.
        objective: ``objective(x) -> {"objective": scalar, <name>: scalar, ...}``; the
            ``"objective"`` entry is minimised and every entry is recorded at every step.
            It is also called once under ``torch.no_grad()`` for the final image.
        steps: number of updates (> 0).
        lr: Adam's learning rate, in image units (``[0, 1]`` range) per step.
        schedule: ``"constant"``, ``"step"`` (halved after each third) or ``"cosine"``;
            see :func:`learning_rate`.
        keep_in_range: ``"clamp"`` projects the image onto ``[0, 1]`` after every update;
            ``"penalty"`` adds ``range_weight * range_loss(x)`` to the objective instead
            (recorded as ``"range_penalty"``) and leaves the values free.
        range_weight: weight of the range penalty (``keep_in_range="penalty"`` only).
        snapshots: steps at which to keep the image (0 and ``steps`` are always kept);
            default: :func:`~dsdviz.trajectory.log_steps` (0, 1, 2, 5, 10, 25, 50, ...).
        settings: plain values describing the objective, stored with the trajectory and
            compared on resume.
        checkpoint: a file to save the trajectory to (atomically) every
            ``checkpoint_every`` steps and when the run ends or is interrupted.
        checkpoint_every: steps between checkpoints.
        resume: a trajectory (or its file) of the same run to continue from its last
            step, with its optimiser state: the result equals an uninterrupted run. A
            finished run with a constant schedule can be extended to more steps.
        progress: show a tqdm progress bar.
        description: the progress bar's label.

    Returns:
        A :class:`~dsdviz.trajectory.Trajectory`. Its ``history`` has ``"objective"``,
        every entry of the objective, ``"range_penalty"`` (penalty mode) and ``"lr"`` (the
        rate of the update made from that step). On ``KeyboardInterrupt`` (Ctrl-C) the run
        stops and the partial trajectory is returned with ``interrupted=True``: its last
        snapshot is the current image, the history covers the steps before it.

    Raises:
        ValueError: bad image, ``steps``, ``lr``, schedule, mode or snapshot steps; an
            objective without an ``"objective"`` entry or with non-scalar entries; a
            ``resume`` trajectory from a different run.
    """
    _one_image(start, "start")
    steps = check_positive_int(steps, "steps")
    lr = _check_positive(lr, "lr")
    check_choice(schedule, SCHEDULES, "schedule")
    check_choice(keep_in_range, RANGE_MODES, "keep_in_range")
    range_weight = _check_positive(range_weight, "range_weight", allow_zero=True)
    checkpoint_every = check_positive_int(checkpoint_every, "checkpoint_every")
    plan = _snapshot_plan(snapshots, steps)
    run_settings: dict[str, Any] = {
        **dict(settings or {}),
        "steps": steps,
        "lr": lr,
        "schedule": schedule,
        "keep_in_range": keep_in_range,
        "range_weight": range_weight,
        "snapshot_steps": plan,
        "size": list(start.shape[-2:]),
        "dtype": str(start.dtype).removeprefix("torch."),
        "device": str(start.device),
    }

    image = start.detach().clone().requires_grad_(True)
    optimizer = torch.optim.Adam([image], lr=lr)
    names: list[str] | None = None
    done, wall_time = 0, 0.0
    prefix: list[torch.Tensor] = []  # (n, len(names)) float64 rows of a resumed trajectory
    rows: list[torch.Tensor] = []  # gathered rows
    pending: list[torch.Tensor] = []  # rows still on the device
    rates: list[float] = []
    kept: dict[int, torch.Tensor] = {0: start.detach().to("cpu", copy=True)}
    if resume is not None:
        previous = resume if isinstance(resume, Trajectory) else Trajectory.load(resume)
        _check_resume(previous, run_settings, start)
        done, wall_time = previous.final_step, previous.wall_time
        with torch.no_grad():
            image.copy_(previous.final)
        optimizer.load_state_dict(previous.resume_state)  # type: ignore[arg-type]
        names = [name for name in previous.history if name != "lr"]
        prefix = [torch.stack([previous.history[name][:done] for name in names], dim=1)]
        rates = previous.history["lr"][:done].tolist()
        planned = set(plan) | set(previous.settings.get("snapshot_steps", ()))
        kept = {k: v for k, v in previous.snapshots.items() if k in planned}

    def evaluate(x: torch.Tensor, rate: float) -> torch.Tensor:
        nonlocal names
        terms = dict(objective(x))
        if "objective" not in terms:
            raise ValueError(f"objective must return a dict with an 'objective' entry, got keys {list(terms)}")
        loss = terms["objective"]
        if keep_in_range == "penalty":
            terms["range_penalty"] = range_loss(x)
            loss = loss + range_weight * terms["range_penalty"]
        bad = [name for name, value in terms.items() if not isinstance(value, torch.Tensor) or value.numel() != 1]
        if bad:
            raise ValueError(f"objective entries must be one-element tensors; not so: {bad}")
        if names is None:
            names = ["objective", *(name for name in terms if name != "objective")]
        elif set(terms) != set(names):
            raise ValueError(f"objective returned entries {list(terms)}, expected {names} as before")
        pending.append(torch.stack([terms[name].detach().reshape(()).to(torch.float64) for name in names]))
        rates.append(rate)
        return loss

    def gather() -> None:
        if pending:
            rows.append(torch.stack(pending).cpu())
            pending.clear()

    def assemble(interrupted: bool) -> Trajectory:
        gather()
        table = torch.cat(prefix + rows) if prefix or rows else torch.zeros(0, len(names or []), dtype=torch.float64)
        count = min(len(table), len(rates))
        history = {name: table[:count, i].clone() for i, name in enumerate(names or [])}
        history["lr"] = torch.tensor(rates[:count], dtype=torch.float64)
        state = copy.deepcopy(optimizer.state_dict())
        for values in state["state"].values():
            for key, value in values.items():
                if isinstance(value, torch.Tensor):
                    values[key] = value.cpu()
        return Trajectory(dict(sorted(kept.items())), history, run_settings, wall_time, interrupted, state)

    bar = tqdm(total=steps, initial=done, desc=description, unit="step", disable=not progress, leave=True)
    interrupted = False
    started = time.perf_counter()
    try:
        while done < steps:
            rate = learning_rate(done, steps, lr, schedule)
            for group in optimizer.param_groups:
                group["lr"] = rate
            optimizer.zero_grad(set_to_none=True)
            evaluate(image, rate).backward()
            optimizer.step()
            if keep_in_range == "clamp":
                with torch.no_grad():
                    image.clamp_(0, 1)
            done += 1
            if done in plan:
                kept[done] = image.detach().to("cpu", copy=True)
            bar.update(1)
            if done % _SYNC_EVERY == 0:
                gather()
                bar.set_postfix(objective=f"{float(rows[-1][-1, 0]):.4g}")
            if checkpoint is not None and done % checkpoint_every == 0 and done < steps:
                wall_time += time.perf_counter() - started
                started = time.perf_counter()
                kept[done] = image.detach().to("cpu", copy=True)
                assemble(interrupted=True).save(checkpoint)
                if done not in plan:
                    del kept[done]
        with torch.no_grad():
            evaluate(image, learning_rate(steps, steps, lr, schedule))
    except KeyboardInterrupt:
        interrupted = done < steps
        gather()
        del rates[done:]
        with torch.no_grad():
            if keep_in_range == "clamp":
                image.clamp_(0, 1)
        kept[done] = image.detach().to("cpu", copy=True)
    finally:
        bar.close()
    wall_time += time.perf_counter() - started
    result = assemble(interrupted)
    if checkpoint is not None:
        result.save(checkpoint)
    return result


def _resolve_device(device: torch.device | str | None) -> torch.device:
    return default_device() if device is None else torch.device(device)


def _digest(x: torch.Tensor) -> str:
    """Short fingerprint of a tensor's values, to recognise the same reference on resume."""
    return hashlib.sha256(x.detach().cpu().contiguous().numpy().tobytes()).hexdigest()[:16]


def dsd_label(alpha: float, base: float = 1.0) -> str:
    """The paper's notation: ``DSD_2(x)`` (full vs 1/2) or ``DSD_2(x|2)`` (1/2 vs 1/4)."""
    return f"DSD_{alpha:g}(x)" if base == 1 else f"DSD_{alpha:g}(x|{base:g})"


def _match_scales(kind: str, scales: Sequence[float] | None) -> tuple[float, ...]:
    if scales is None:
        return (1.0, 2.0) if kind == "dsd" else (1.0,)
    factors = tuple(check_factor(s, "scales") for s in scales)
    if kind == "dsd" and (len(factors) != 2 or factors[1] <= factors[0]):
        raise ValueError(
            f"scales: DSD matching compares two scales, given as downscaling factors (fine, coarse) with "
            f"coarse > fine, e.g. (1, 2) for DSD_2(x) or (2, 4) for DSD_2(x|2); got {scales!r}"
        )
    if kind == "style" and (not factors or len(set(factors)) != len(factors)):
        raise ValueError(
            f"scales: style matching needs distinct downscaling factors, e.g. (1,) or (1, 2); got {scales!r}"
        )
    return factors


def _dsd_matching(target: DSD, names: tuple[str, ...], net: VGG19Features) -> Objective:
    def objective(x: torch.Tensor) -> dict[str, torch.Tensor]:
        mine = dsd_unchecked(x, target.alpha, net, target.base)
        out: dict[str, torch.Tensor] = {}
        for name in names:
            out[f"distance/{name}"] = (mine.matrices[name] - target.matrices[name]).abs().mean()
            out[f"dsd/{name}"] = mine.matrices[name].detach().abs().mean()
        total = torch.stack([out[f"distance/{name}"] for name in names]).sum()
        return {"objective": total, **out}

    return objective


def _style_matching(
    targets: Sequence[dict[str, torch.Tensor]], factors: tuple[float, ...], names: tuple[str, ...], net: VGG19Features
) -> Objective:
    def objective(x: torch.Tensor) -> dict[str, torch.Tensor]:
        out: dict[str, torch.Tensor] = {}
        for factor, target in zip(factors, targets):
            mine = grams(downscale(x, factor), net)
            for name in names:
                out[f"style@{factor:g}/{name}"] = (mine[name] - target[name]).abs().mean()
        return {"objective": torch.stack(list(out.values())).sum(), **out}

    return objective


def match_fingerprint(
    content: torch.Tensor,
    reference: torch.Tensor,
    kind: MatchKind = "dsd",
    scales: Sequence[float] | None = None,
    layers: Layers = "dsd",
    *,
    steps: int = 3000,
    lr: float = 5e-4,
    schedule: Schedule = "step",
    keep_in_range: RangeMode = "clamp",
    range_weight: float = 1.0,
    snapshots: Sequence[int] | None = None,
    device: torch.device | str | None = None,
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: int = 500,
    resume: Trajectory | str | os.PathLike | None = None,
    progress: bool = True,
) -> Trajectory:
    """Optimise ``content`` so that its DSD fingerprint (or style) matches ``reference``'s.

    Supplementary Fig. 11 of the DSD paper: starting from the content image, minimise
    ``sum_l mean|DSD_l(x) - DSD_l(reference)|`` (``kind="dsd"``, as :func:`dsdviz.dsd_loss`)
    or ``sum_s sum_l mean|G_l(x|s) - G_l(reference|s)|`` (``kind="style"``, as
    :func:`dsdviz.multiscale_style_loss`). The reference's fingerprint or Gram matrices
    are computed once, before the first step.

    Args:
        content: the start image ``(1, 3, H, W)`` in ``[0, 1]``.
        reference: the image ``(1, 3, H', W')`` in ``[0, 1]`` to match (any size).
        kind: ``"dsd"`` or ``"style"``.
        scales: downscaling factors. DSD: the two compared scales ``(fine, coarse)``,
            default ``(1, 2)`` = ``DSD_2(x)``; ``(2, 4)`` = ``DSD_2(x|2)``. Style: the scales
            whose Gram matrices are matched (summed), default ``(1,)``; ``(2,)`` matches
            the style of the half-resolution copies.
        layers: VGG19 layers or a preset (default: the four DSD layers).
        steps, lr, schedule, keep_in_range, range_weight, snapshots, checkpoint,
        checkpoint_every, resume, progress: as in :func:`optimize_image` (default: the
            DSD authors' 3000 steps at 5e-4, halved after each third).
        device: where to run (default: CUDA if available); the trajectory is on the CPU.

    Returns:
        A trajectory whose history has, per layer, ``"distance/<layer>"`` and
        ``"dsd/<layer>"`` (``||DSD_l(x)||_1``) for DSD matching, or ``"style@<s>/<layer>"``
        for style matching.

    Raises:
        ValueError: unknown ``kind`` or layer, bad scales (``< 1``, not two increasing
            factors for DSD), bad images, an image too small for the deepest layer at the
            coarsest scale, or bad optimisation arguments.

    Examples:
        >>> result = match_fingerprint(content, reference, "dsd", scales=(2, 4), steps=500)  # doctest: +SKIP
        >>> dsd(result.final, 2, base=2).distance(dsd(reference, 2, base=2))["mean"]  # doctest: +SKIP
    """
    check_choice(kind, ("dsd", "style"), "kind")
    names = resolve_layers(layers)
    factors = _match_scales(kind, scales)
    _one_image(content, "content")
    _one_image(reference, "reference")
    if kind == "dsd":
        base, alpha = factors[0], factors[1] / factors[0]
        check_dsd_input(content, alpha, names, base, "content")
        check_dsd_input(reference, alpha, names, base, "reference")
        description = f"match {dsd_label(alpha, base)}"
    else:
        for image, name in ((content, "content"), (reference, "reference")):
            check_size(image, names, max(factors), name)
        description = "match style at " + ", ".join(f"1/{f:g}" if f != 1 else "1" for f in factors)
    run_device = _resolve_device(device)
    content = content.to(run_device)
    reference = reference.to(device=run_device, dtype=content.dtype)
    net = default_extractor(names, device=run_device, dtype=content.dtype)
    if kind == "dsd":
        objective = _dsd_matching(target_dsd(reference, names, alpha, base=base, extractor=net), names, net)
    else:
        objective = _style_matching([target_grams(reference, names, f, net) for f in factors], factors, names, net)
    settings = {
        "objective": description,
        "kind": kind,
        "scales": list(factors),
        "layers": list(names),
        "reference_size": list(reference.shape[-2:]),
        "reference_digest": _digest(reference),
    }
    return optimize_image(
        content,
        objective,
        steps=steps,
        lr=lr,
        schedule=schedule,
        keep_in_range=keep_in_range,
        range_weight=range_weight,
        snapshots=snapshots,
        settings=settings,
        checkpoint=checkpoint,
        checkpoint_every=checkpoint_every,
        resume=resume,
        progress=progress,
        description=description,
    )


def minimize_dsd(
    image: torch.Tensor,
    alpha: float = 4,
    layers: Layers = "dsd",
    *,
    base: float = 1.0,
    steps: int = 5000,
    lr: float = 2e-4,
    schedule: Schedule = "constant",
    keep_in_range: RangeMode = "clamp",
    range_weight: float = 1.0,
    snapshots: Sequence[int] | None = None,
    device: torch.device | str | None = None,
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: int = 500,
    resume: Trajectory | str | os.PathLike | None = None,
    progress: bool = True,
) -> Trajectory:
    """Gradient descent on ``||DSD_alpha(x)||_1`` from ``image`` (supplementary Fig. 12).

    The objective is ``||DSD_{l,alpha}(x)||_1`` (mean absolute entry) averaged over the
    layers, i.e. ``dsd(x, alpha, layers).norms()["mean"]``. Started from a 4x
    super-resolution result, a few hundred steps sharpen it; thousands of steps create
    artifacts: natural images do not have the smallest DSD.

    Args:
        image: the start image ``(1, 3, H, W)`` in ``[0, 1]``.
        alpha: downscaling factor ``>= 1`` of the fingerprint (4 in the paper).
        layers: VGG19 layers or a preset (default: relu1_2, relu2_1, relu2_2, relu3_1).
        base: minimise ``||DSD_alpha(x|base)||_1`` instead (default 1: ``x`` itself).
        steps: number of updates (the paper shows 500 and 5000).
        lr, schedule, keep_in_range, range_weight, snapshots, checkpoint,
        checkpoint_every, resume, progress: as in :func:`optimize_image` (default: a
            constant rate, so that the snapshot at step ``k`` is the result of a
            ``k``-step run).
        device: where to run (default: CUDA if available); the trajectory is on the CPU.

    Returns:
        A trajectory whose history has ``"dsd/<layer>"`` per layer (the objective is
        their mean).

    Raises:
        ValueError: ``alpha < 1``, unknown layers, a bad image or one too small for the
            deepest layer at scale ``1 / (base * alpha)``, or bad optimisation arguments.
    """
    names = resolve_layers(layers)
    alpha, base = check_factor(alpha), check_factor(base, "base")
    _one_image(image, "image")
    check_dsd_input(image, alpha, names, base, "image")
    run_device = _resolve_device(device)
    image = image.to(run_device)
    net = default_extractor(names, device=run_device, dtype=image.dtype)

    def objective(x: torch.Tensor) -> dict[str, torch.Tensor]:
        norms = {f"dsd/{name}": m.abs().mean() for name, m in dsd_unchecked(x, alpha, net, base).matrices.items()}
        return {"objective": torch.stack(list(norms.values())).mean(), **norms}

    label = f"||{dsd_label(alpha, base)}||_1"
    settings = {"objective": f"minimise {label}", "alpha": alpha, "base": base, "layers": list(names)}
    return optimize_image(
        image,
        objective,
        steps=steps,
        lr=lr,
        schedule=schedule,
        keep_in_range=keep_in_range,
        range_weight=range_weight,
        snapshots=snapshots,
        settings=settings,
        checkpoint=checkpoint,
        checkpoint_every=checkpoint_every,
        resume=resume,
        progress=progress,
        description=f"minimise {label}",
    )


def dsd_distances(
    images: Mapping[str, torch.Tensor],
    reference: torch.Tensor,
    scales: Sequence[tuple[float, float]] = ((1, 2), (2, 4)),
    layers: Layers = "dsd",
) -> dict[str, dict[str, float]]:
    """Distance of each image's DSD fingerprint to the reference's, for several scale pairs.

    Args:
        images: ``{name: (1, 3, H, W)}`` in ``[0, 1]``.
        reference: ``(1, 3, H', W')`` in ``[0, 1]``.
        scales: ``(fine, coarse)`` downscaling factors per fingerprint, as in
            :func:`match_fingerprint` (default: ``DSD_2(x)`` and ``DSD_2(x|2)``).
        layers: VGG19 layers or a preset.

    Returns:
        ``{name: {"DSD_2(x)": d, "DSD_2(x|2)": d}}`` with ``d`` the mean over layers of the
        mean absolute entry of ``DSD_l(image) - DSD_l(reference)`` (:meth:`DSD.distance`).
    """
    names = resolve_layers(layers)
    out: dict[str, dict[str, float]] = {name: {} for name in images}
    for fine, coarse in scales:
        factors = _match_scales("dsd", (fine, coarse))
        alpha, base = factors[1] / factors[0], factors[0]
        target = target_dsd(reference, names, alpha, base=base)
        with torch.no_grad():
            for name, x in images.items():
                value = dsd(x.to(reference), alpha, names, base=base).distance(target)["mean"]
                out[name][dsd_label(alpha, base)] = float(value[0])
    return out
