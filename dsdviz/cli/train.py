"""``dsdviz train``: its options are the fields of the training settings, generated, not copied.

Each field of :class:`~dsdviz.training.LoopSettings` and of the task settings
(:class:`~dsdviz.training.SRSettings`, :class:`~dsdviz.training.DeblurSettings`,
:class:`~dsdviz.training.RegressorSettings`) becomes ``--<field-name>`` (``_`` -> ``-``,
other spellings from ``metadata["flags"]``) with its type, choices and help text; a
boolean that defaults to true becomes ``--no-<name>``. Only the options given on the
command line override :func:`dsdviz.training.preset`; one that is not a setting of the
chosen task is an error naming the task it belongs to.
"""

from __future__ import annotations

import argparse
import math
import sys
import types
from dataclasses import Field, fields
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from ..training.config import TASK_SETTINGS, TASKS
from ..training.presets import SETTINGS, preset_fields
from ..training.settings import LoopSettings

#: Settings that ``dsdviz train`` takes from elsewhere: ``stage`` is the preset's argument (it sets the step count).
NOT_OPTIONS = frozenset({"stage"})


def _setting_fields() -> dict[str, tuple[Field, Any, list[str]]]:
    """``{name: (field, type, tasks)}`` over the loop's and every task's settings, in that order."""
    found: dict[str, tuple[Field, Any, list[str]]] = {}
    for owner, cls in [("", LoopSettings), *TASK_SETTINGS.items()]:
        hints = get_type_hints(cls)
        for item in fields(cls):
            if item.name in found:
                found[item.name][2].append(owner)
            else:
                found[item.name] = (item, hints[item.name], [owner] if owner else [])
    return found


def _help(name: str, item: Field, tasks: list[str]) -> str:
    """The field's help; for a field of some tasks only, which (per task where the meaning differs)."""
    meanings: dict[str, list[str]] = {}
    for task in tasks:
        meaning = next(f for f in fields(TASK_SETTINGS[task]) if f.name == name).metadata["help"]
        meanings.setdefault(meaning, []).append(task)
    if not tasks or (len(meanings) == 1 and len(tasks) == len(TASK_SETTINGS)):
        text = item.metadata["help"]
    else:
        text = "; ".join(f"{', '.join(owners)}: {meaning}" for meaning, owners in meanings.items())
    return text


def _default(name: str, item: Field) -> str:
    """How the help states the default: the preset's, or the settings' own."""
    if name in preset_fields():
        return " (default: the preset's)"
    if item.default is None or isinstance(item.default, bool):
        return ""
    return f" (default {' '.join(map(str, item.default)) if isinstance(item.default, tuple) else item.default})"


def _add_option(parser: argparse.ArgumentParser, name: str, item: Field, kind: Any, tasks: list[str]) -> None:
    flags = [f"--{name.replace('_', '-')}", *item.metadata.get("flags", ())]
    help_text = _help(name, item, tasks) + _default(name, item)
    if get_origin(kind) in (Union, types.UnionType):  # X | None: the option is X
        kind = next(arg for arg in get_args(kind) if arg is not type(None))
    if kind is bool:
        if item.default:
            parser.add_argument(f"--no-{name.replace('_', '-')}", dest=name, action="store_false", default=None,
                                help=f"no {help_text}")  # fmt: skip
        else:
            parser.add_argument(*flags, dest=name, action="store_true", default=None, help=help_text)
    elif get_origin(kind) is Literal:
        parser.add_argument(*flags, dest=name, choices=get_args(kind), help=help_text)
    elif get_origin(kind) is tuple:
        parts = get_args(kind)
        parser.add_argument(*flags, dest=name, type=parts[0], nargs=len(parts), help=help_text)
    else:
        parser.add_argument(*flags, dest=name, type=kind, help=help_text)


def _train(args: argparse.Namespace) -> int:
    from ..training import preset, train

    names = [name for name in _setting_fields() if name not in NOT_OPTIONS]
    overrides = {name: getattr(args, name) for name in names if getattr(args, name) is not None}
    if args.minutes is not None and not (math.isfinite(args.minutes) and args.minutes > 0):
        raise ValueError(f"--minutes: expected a positive number of minutes, got {args.minutes:g}")
    if args.resume and args.overwrite:
        raise ValueError("--resume continues the run in --out and --overwrite replaces it: give one of them")
    config = preset(args.task, args.setting, stage=args.stage, root=args.root, **overrides)
    try:
        trainer = train(config, resume=args.resume, overwrite=args.overwrite,
                        seconds=None if args.minutes is None else 60 * args.minutes)  # fmt: skip
    except KeyboardInterrupt as stop:
        print(f"dsdviz train: interrupted: {stop}; continue with the same command and --resume", file=sys.stderr)
        return 130
    if trainer.step < config.loop.steps:
        print(f"stopped after {args.minutes:g} minutes at step {trainer.step} of {config.loop.steps}; "
              "continue with the same command and --resume")  # fmt: skip
    for note in trainer.notes:
        print(f"note: {note}")
    last = [e for e in trainer.history if e["split"] == "val"][-1:]
    if last:
        print("validation at step {step}: ".format(**last[0]) + ", ".join(
            f"{k} {v:.4g}" for k, v in last[0].items() if k not in ("step", "split")))  # fmt: skip
    print(f"model: {Path(config.loop.out) / 'model.pt'} (checkpoint: {trainer.checkpoint_path})")
    return 0


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Register ``train`` on the ``dsdviz`` parser's subcommands."""
    parser = commands.add_parser(
        "train",
        help="train xSRResNet (sr, deblur) or the DSD regressor",
        description="Train a network of the DSD paper. Default: the paper's settings (meant for a GPU); "
        "--setting cpu: the shipped CPU models' (about an hour a run on 2 cores, bf16); --setting quick "
        "(--quick): a CPU run of minutes; --setting smoke: 2 steps (does it run?). Data default to $DSDVIZ_DATA (BSDS500_train, Set5/Set14/BSD100). "
        "Options override the preset; those marked sr, deblur or regressor belong to that task only. "
        "Several GPUs: torchrun --nproc_per_node=N -m dsdviz.cli train ...",
    )
    parser.add_argument("task", choices=TASKS)
    parser.add_argument("--setting", choices=SETTINGS, default="full",
                        help="full: the paper's (a GPU); cpu: the shipped *_cpu models' (hours on a CPU); quick: "
                        "minutes; smoke: 2 steps (default full, as preset())")  # fmt: skip
    parser.add_argument("--quick", dest="setting", action="store_const", const="quick", help="--setting quick")
    parser.add_argument("--resume", action="store_true", help="continue from <out>/checkpoint.pt if it exists")
    parser.add_argument("--overwrite", action="store_true",
                        help="delete the run already in --out (checkpoints, model, log, samples) and start again")  # fmt: skip
    parser.add_argument("--minutes", type=float,
                        help="stop after this much wall time with a checkpoint and model.pt of the weights so far "
                        "(a GPU lease, say); --resume continues")  # fmt: skip
    parser.add_argument("--root", type=Path, help="data folder for the defaults (default: $DSDVIZ_DATA)")
    settings = _setting_fields()
    stage, _, tasks = settings["stage"]
    stage_help = _help("stage", stage, tasks) + " (default psnr)"
    parser.add_argument("--stage", choices=("psnr", "dsd"), default="psnr", help=stage_help)
    for name, (item, kind, tasks) in settings.items():
        if name not in NOT_OPTIONS:
            _add_option(parser, name, item, kind, tasks)
    parser.set_defaults(run=_train)
