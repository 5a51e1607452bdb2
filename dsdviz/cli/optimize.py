"""``dsdviz minimize-dsd`` and ``dsdviz match-fingerprint``: optimising an image's DSD fingerprint.

Both write the trajectory to ``--out`` as they run (atomically, every
``--checkpoint-every`` steps and on Ctrl-C); ``--resume`` continues from that file. This
is the way to run the full-size experiments on a GPU machine and view them elsewhere
(``Trajectory.load`` and ``TrajectoryViewer`` in a notebook).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..devices import DEVICE_HELP
from ..precision import PRECISIONS
from ..runlock import RunLock
from .outputs import check_output_file


def _load(path: str, args: argparse.Namespace):
    from ..data import Box, center_crop, crop_box, load_image

    image = load_image(path)
    if args.box:
        return crop_box(image, Box.square(*args.box))
    return center_crop(image, args.crop) if args.crop else image


def _common(parser: argparse.ArgumentParser, steps: int, lr: float) -> None:
    parser.add_argument("--layers", nargs="+", default=["dsd"], help="VGG19 layers or a preset (default: dsd)")
    parser.add_argument("--steps", type=int, default=steps, help=f"number of updates (default: {steps})")
    parser.add_argument("--lr", type=float, default=lr, help=f"Adam learning rate (default: {lr:g})")
    parser.add_argument("--schedule", choices=("constant", "step", "cosine"), help="learning-rate schedule")
    crop = parser.add_mutually_exclusive_group()
    crop.add_argument("--crop", type=int, metavar="SIZE", help="central square crop of the input(s), in px")
    crop.add_argument("--box", type=int, nargs=3, metavar=("TOP", "LEFT", "SIZE"), help="square crop of the input(s)")
    parser.add_argument("--device", help=f"{DEVICE_HELP} (default: auto)")
    parser.add_argument("--precision", choices=PRECISIONS, default="fp32",
                        help="VGG19 under autocast: bf16 where the CPU has it natively (about 2x), fp16 (CUDA), "
                             "auto (default: fp32)")  # fmt: skip
    parser.add_argument("--out", type=Path, help="trajectory file, saved as the run goes (e.g. run.pt)")
    parser.add_argument("--resume", action="store_true", help="continue the run saved in --out when it exists")
    parser.add_argument("--overwrite", action="store_true", help="replace the run saved in --out")
    parser.add_argument("--checkpoint-every", type=int, default=500, help="steps between saves of --out (default: 500)")
    parser.add_argument("--figure", type=Path, help="also save the figure of the run")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _check_outputs(args: argparse.Namespace) -> RunLock | None:
    """Check ``--out`` and ``--figure`` before the run, and lock ``--out`` (returned; ``None`` without it).

    Raises:
        ValueError: unwritable outputs; an existing ``--out`` without ``--resume`` or ``--overwrite``;
            ``--out`` in use by another run.
    """
    from ..devices import resolve_device

    if args.device is not None:
        resolve_device(args.device)
    check_output_file(args.figure, "--figure")
    if args.out is None:
        if args.resume or args.overwrite:
            raise ValueError("--resume and --overwrite act on the trajectory file of --out; give --out too")
        return None
    check_output_file(args.out, "--out")
    if args.resume and args.overwrite:
        raise ValueError("--resume continues the run in --out and --overwrite replaces it: give one of them")
    lock = RunLock(args.out, folder=False).acquire()
    if args.out.exists() and not (args.resume or args.overwrite):
        lock.release()
        raise ValueError(f"--out {str(args.out)!r} holds a run: continue it with --resume, replace it with "
                         "--overwrite, or choose another file")  # fmt: skip
    return lock


def _run_options(args: argparse.Namespace) -> dict:
    from ..features import resolve_layers

    options = {
        "layers": resolve_layers(args.layers if len(args.layers) > 1 else args.layers[0]),
        "steps": args.steps,
        "lr": args.lr,
        "device": args.device,
        "precision": args.precision,
        "checkpoint": args.out,
        "checkpoint_every": args.checkpoint_every,
        "resume": args.out if args.resume and args.out is not None and args.out.is_file() else None,
        "progress": not args.quiet,
    }
    if args.schedule:
        options["schedule"] = args.schedule
    return options


def _report_end(trajectory, args: argparse.Namespace) -> int:
    """Print how the run ended; the exit status: 0, or 130 when it was interrupted (Ctrl-C)."""
    state = "interrupted" if trajectory.interrupted else "finished"
    print(f"{state} at step {trajectory.final_step} of {args.steps} in {trajectory.wall_time:.1f} s")
    if args.out is not None:
        print(f"wrote {args.out}" + (" (continue with --resume)" if trajectory.interrupted else ""))
    return 130 if trajectory.interrupted else 0


def _minimize_dsd(args: argparse.Namespace) -> int:
    from ..optimize import minimize_dsd
    from ..sharpness import mean_gradient_magnitude
    from ..trajectory import log_steps, snapshot_table
    from ..viz.optimization import plot_dsd_minimization

    lock = _check_outputs(args)
    try:
        image = _load(args.image, args)
        shown = args.shown or [0, max(1, args.steps // 10), args.steps]
        snapshots = sorted(set(log_steps(args.steps)) | {s for s in shown if 0 <= s <= args.steps})
        trajectory = minimize_dsd(image, args.alpha, base=args.base, snapshots=snapshots, **_run_options(args))
    finally:
        if lock is not None:
            lock.release()
    names = [name for name in trajectory.history if name.startswith("dsd/")]
    layers = "".join(f"{name.removeprefix('dsd/'):>10}" for name in names)
    print(f"{'step':>6}{'||DSD||_1':>12}{layers}{'sharpness':>11}")
    table = snapshot_table(trajectory, {"sharpness": mean_gradient_magnitude}, ["objective", *names])
    for row in table:
        values = "".join(f"{row[n]:>10.3e}" for n in names)
        print(f"{row['step']:>6}{row['objective']:>12.4e}{values}{row['sharpness']:>11.4f}")
    print(f"||DSD||_1: mean |entry| of G_l(x|{args.base:g}) - G_l(x|{args.base * args.alpha:g}), mean over layers; "
          "sharpness: mean luminance gradient magnitude")
    status = _report_end(trajectory, args)
    if args.figure:
        sharpness = {int(row["step"]): float(row["sharpness"]) for row in table}
        plot_dsd_minimization(trajectory, shown, sharpness=sharpness).savefig(args.figure, dpi=110)
        print(f"wrote {args.figure}")
    return status


def _match_fingerprint(args: argparse.Namespace) -> int:
    from ..fingerprint import dsd_distances
    from ..optimize import match_fingerprint
    from ..viz.optimization import plot_fingerprint_matching

    lock = _check_outputs(args)
    try:
        content, reference = _load(args.content, args), _load(args.reference, args)
        trajectory = match_fingerprint(content, reference, args.kind, args.scales, **_run_options(args))
    finally:
        if lock is not None:
            lock.release()
    column = trajectory.settings["objective"]
    images = {"start": trajectory.start, column: trajectory.final}
    distances = dsd_distances(images, reference, layers=trajectory.settings["layers"])
    labels = list(distances["start"])
    print(f"{'':<12}" + "".join(f"{label:>14}" for label in labels))
    for name, row in distances.items():
        print(f"{name:<12}" + "".join(f"{row[label]:>14.4e}" for label in labels))
    print("distance to the reference's DSD: mean over layers of mean |DSD_l(x) - DSD_l(reference)|")
    status = _report_end(trajectory, args)
    if args.figure:
        figure = plot_fingerprint_matching(content, reference, {column: trajectory}, distances=distances)
        figure.savefig(args.figure, dpi=110)
        print(f"wrote {args.figure}")
    return status


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Register ``minimize-dsd`` and ``match-fingerprint`` on the ``dsdviz`` parser's subcommands."""
    minimize = commands.add_parser(
        "minimize-dsd", help="gradient descent on ||DSD_a(x)||_1 from an image (supp. Fig. 12), with snapshots"
    )
    minimize.add_argument("image", help="start image, e.g. a 4x super-resolution result")
    minimize.add_argument("--alpha", type=float, default=4.0, help="downscaling factor (default: 4)")
    minimize.add_argument("--base", type=float, default=1.0, help="minimise DSD_a(x|base) (default: 1)")
    minimize.add_argument("--shown", type=int, nargs="+", help="steps drawn in --figure (default: 0, steps/10, steps)")
    _common(minimize, steps=5000, lr=2e-4)
    minimize.set_defaults(run=_minimize_dsd)

    match = commands.add_parser(
        "match-fingerprint", help="optimise an image toward a reference's DSD fingerprint or style (supp. Fig. 11)"
    )
    match.add_argument("content", help="start image")
    match.add_argument("reference", help="image whose fingerprint or style is matched")
    match.add_argument("--kind", choices=("dsd", "style"), default="dsd", help="what to match (default: dsd)")
    match.add_argument(
        "--scales", type=float, nargs="+", help="downscaling factors: DSD (fine, coarse), default 1 2; style: default 1"
    )
    _common(match, steps=3000, lr=5e-4)
    match.set_defaults(run=_match_fingerprint)
