"""Command line: ``dsdviz <command>``: fingerprint, figures, minimize-dsd, match-fingerprint, train, restore, score.

Run ``dsdviz <command> --help`` for the options of each command.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from .data import DATA_ENV
from .features import WEIGHTS_ENV, WeightsUnavailableError, resolve_layers


def _fingerprint(args: argparse.Namespace) -> int:
    from .images import load_image
    from .viz.fingerprints import fingerprint_table, plot_fingerprints

    layers = resolve_layers(args.layers if len(args.layers) > 1 else args.layers[0])
    images = {Path(p).name: load_image(p) for p in args.images}
    rows, _ = fingerprint_table(images, args.alpha, layers)
    columns = ["image", "alpha", "height", "width", *layers, "mean"]
    width = max(len(str(r["image"])) for r in rows) + 2
    print(f"{'image':<{width}}{'a':>4}{'size':>11}" + "".join(f"{c:>10}" for c in (*layers, "mean")))
    for r in rows:
        size = f"{r['height']}x{r['width']}"
        print(f"{r['image']:<{width}}{r['alpha']:>4g}{size:>11}" + "".join(f"{r[c]:>10.5f}" for c in (*layers, "mean")))
    print("||DSD_l,a||_1 = mean |entry| of G_l(x) - G_l(x|a); VGG19 ImageNet; MATLAB bicubic downscale")
    if args.csv:
        with open(args.csv, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
        print(f"wrote {args.csv}")
    if args.figure:
        plot_fingerprints(images, args.alpha, layers).savefig(args.figure, dpi=100)
        print(f"wrote {args.figure}")
    return 0


def _figures(args: argparse.Namespace) -> int:
    from .figures import FIGURES, regenerate

    if args.list:
        width = max(len(name) for name in FIGURES) + 2
        for recipe in FIGURES.values():
            print(f"{recipe.name:<{width}}{recipe.description}")
        return 0
    for name in args.only or list(FIGURES):
        start = time.perf_counter()
        paths = regenerate([name], quick=not args.full, out_dir=args.out)
        print(f"{name}: {', '.join(map(str, paths))} ({time.perf_counter() - start:.1f} s)", flush=True)
    return 0


def _train(args: argparse.Namespace) -> int:
    from .training import preset, train

    overrides = {
        name: value
        for name, value in {
            "data": args.data, "out": args.out, "init": args.init, "lr_data": args.lr_data,
            "blur_data": args.blur_data, "kernels": args.kernels, "val_data": args.val_data, "val_lr": args.val_lr,
            "val_blur": args.val_blur, "alpha": args.alpha, "steps": args.steps, "batch_size": args.batch_size,
            "crop": args.crop, "num_blocks": args.blocks, "device": args.device, "workers": args.workers,
            "seed": args.seed, "checkpoint_every": args.checkpoint_every, "val_every": args.val_every,
            "lr": args.lr, "feature_loss": args.feature_loss,
        }.items()
        if value is not None
    }  # fmt: skip
    if args.no_amp:
        overrides["amp"] = False
    if args.no_progress:
        overrides["progress"] = False
    config = preset(args.task, args.quick, stage=args.stage, root=args.root, **overrides)
    try:
        trainer = train(config, resume=args.resume)
    except KeyboardInterrupt as stop:
        print(f"dsdviz train: interrupted: {stop}; continue with the same command and --resume", file=sys.stderr)
        return 130
    for note in trainer.notes:
        print(f"note: {note}")
    last = [e for e in trainer.history if e["split"] == "val"][-1:]
    if last:
        print("validation at step {step}: ".format(**last[0]) + ", ".join(
            f"{k} {v:.4g}" for k, v in last[0].items() if k not in ("step", "split")))  # fmt: skip
    print(f"model: {Path(config.loop.out) / 'model.pt'} (checkpoint: {trainer.checkpoint_path})")
    return 0


def _restore(args: argparse.Namespace) -> int:
    from .inference import restore_files

    for path in restore_files(args.model, args.images, args.out, device=args.device):
        print(path)
    return 0


def _score(args: argparse.Namespace) -> int:
    from .images import list_images, load_image
    from .metrics import protocol_text
    from .models import load_model
    from .scoring import score_image

    regressors = [load_model(path) for path in args.regressor or []]
    rows = []
    for path in map(Path, args.images):
        x = load_image(path)
        reference = None
        if args.ref is not None:
            matches = [p for p in list_images(args.ref) if p.stem == path.stem]
            if not matches:
                raise ValueError(f"no reference image named {path.stem}.* in {str(args.ref)!r}")
            reference = load_image(matches[0])
        scores = score_image(x, reference, regressors, shave=args.shave, y_channel=not args.rgb)
        rows.append({"image": path.name, "height": x.shape[-2], "width": x.shape[-1], **scores})
    names = [k for k in rows[0] if k not in ("image", "height", "width")]
    if not names:
        raise ValueError("nothing to score: give --ref DIR (PSNR, SSIM, DSD distance) and/or --regressor PSI.pt (Q_DSD)")
    means = {name: sum(r[name] for r in rows) / len(rows) for name in names}
    width = max(len(r["image"]) for r in rows + [{"image": "mean"}]) + 2
    print(f"{'image':<{width}}" + "".join(f"{n:>14}" for n in names))
    for r in rows + [{"image": "mean", **means}]:
        print(f"{r['image']:<{width}}" + "".join(f"{r[n]:>14.5g}" for n in names))
    protocol = protocol_text(args.shave, not args.rgb)
    print(protocol)
    if args.csv:
        with open(args.csv, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=["image", "height", "width", *names, "protocol"])
            writer.writeheader()
            for r in rows + [{"image": "mean", "height": "", "width": "", **means}]:
                writer.writerow({**r, "protocol": protocol})
        print(f"wrote {args.csv}")
    return 0


def _add_training_commands(commands: argparse._SubParsersAction) -> None:
    tr = commands.add_parser(
        "train",
        help="train xSRResNet (sr, deblur) or the DSD regressor",
        description="Train a network of the DSD paper. Default: the paper's settings (meant for a GPU); "
        "--quick: a CPU run of minutes. Data default to $DSDVIZ_DATA (BSDS500_train, Set5/Set14/BSD100). "
        "Several GPUs: torchrun --nproc_per_node=N -m dsdviz.cli train ...",
    )
    tr.add_argument("task", choices=["sr", "deblur", "regressor"])
    tr.add_argument("--data", type=Path, help="training images (HR / sharp / natural)")
    tr.add_argument("--root", type=Path, help="data folder for the defaults (default: $DSDVIZ_DATA)")
    tr.add_argument("--out", type=Path, help="run folder: checkpoint.pt, model.pt, log.jsonl, samples/")
    tr.add_argument("--stage", choices=["psnr", "dsd"], default="psnr",
                    help="psnr: L1 only; dsd: L1 + perceptual + 100 x DSD, from --init (sr, deblur)")  # fmt: skip
    tr.add_argument("--init", type=Path, help="start from these weights (e.g. the psnr stage's model.pt)")
    tr.add_argument("--feature-loss", choices=["dsd", "style", "multiscale_style"],
                    help="stage dsd: the feature-distribution term (default dsd; the style losses: supp. Fig. 13)")
    tr.add_argument("--lr-data", type=Path, help="SR: LR images matching --data (default: bicubic on the fly)")
    tr.add_argument("--blur-data", type=Path, help="deblur: blurred images matching --data (default: synthesised)")
    tr.add_argument("--kernels", type=Path, help="deblur: folder of .npy blur kernels (default: random camera shake)")
    tr.add_argument("--val-data", type=Path, help="validation ground truth (HR / sharp / natural)")
    tr.add_argument("--val-lr", type=Path, help="validation LR images (SR)")
    tr.add_argument("--val-blur", type=Path, help="validation blurred images (deblur)")
    tr.add_argument("--alpha", type=float,
                    help="downscaling factor: the regressor's (2 or 4), or stage dsd's DSD term's (default 2)")
    tr.add_argument("--steps", type=int)
    tr.add_argument("--batch-size", type=int, help="global batch size")
    tr.add_argument("--crop", type=int, help="network input crop in px (LR for SR, y|a for the regressor)")
    tr.add_argument("--blocks", type=int, help="xResBlocks (default 10)")
    tr.add_argument("--lr", type=float, help="learning rate (default 2e-4)")
    tr.add_argument("--device", help="cpu, cuda, cuda:1 (default: cuda if available)")
    tr.add_argument("--workers", type=int, help="DataLoader worker processes")
    tr.add_argument("--seed", type=int)
    tr.add_argument("--checkpoint-every", type=int)
    tr.add_argument("--val-every", type=int)
    tr.add_argument("--quick", action="store_true", help="CPU quick mode: small crops, batches and step counts")
    tr.add_argument("--resume", action="store_true", help="continue from <out>/checkpoint.pt if it exists")
    tr.add_argument("--no-amp", action="store_true", help="no mixed precision on GPU")
    tr.add_argument("--no-progress", action="store_true", help="no progress bar")
    tr.set_defaults(run=_train)

    rs = commands.add_parser("restore", help="apply a trained xSRResNet to images")
    rs.add_argument("model", type=Path, help="model.pt or checkpoint.pt from dsdviz train")
    rs.add_argument("images", nargs="+", type=Path)
    rs.add_argument("--out", type=Path, required=True, help="output folder (PNG, same names)")
    rs.add_argument("--device", default="cpu")
    rs.set_defaults(run=_restore)

    sc = commands.add_parser(
        "score", help="PSNR, SSIM, DSD distance (with --ref) and Q_DSD (with --regressor) per image and on average"
    )
    sc.add_argument("images", nargs="+", type=Path)
    sc.add_argument("--ref", type=Path, help="folder of ground-truth images with the same names")
    sc.add_argument("--regressor", type=Path, nargs="+", help="trained DSD regressor(s), e.g. checkpoints/*.pt")
    sc.add_argument("--shave", type=int, default=4, help="border in px removed for PSNR/SSIM (default 4, the SR scale)")
    sc.add_argument("--rgb", action="store_true", help="PSNR/SSIM on RGB instead of the Y channel")
    sc.add_argument("--csv", type=Path, help="also write the table (with the protocol) as CSV")
    sc.set_defaults(run=_score)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dsdviz",
        description="Deep self-dissimilarity (DSD) fingerprints of images.",
        epilog=f"VGG19 weights: set {WEIGHTS_ENV} to a local state dict when offline. Data: {DATA_ENV}.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    fp = commands.add_parser("fingerprint", help="print ||DSD_l,a||_1 per image, layer and scale")
    fp.add_argument("images", nargs="+", help="image files")
    fp.add_argument("--alpha", type=float, nargs="+", default=[2.0, 4.0], help="downscaling factors (default: 2 4)")
    fp.add_argument("--layers", nargs="+", default=["dsd"], help="VGG19 layers or a preset (default: dsd)")
    fp.add_argument("--csv", type=Path, help="also write the table as CSV")
    fp.add_argument("--figure", type=Path, help="save a figure of norms and DSD matrices")
    fp.set_defaults(run=_fingerprint)

    figs = commands.add_parser("figures", help="regenerate the project's figures")
    speed = figs.add_mutually_exclusive_group()
    speed.add_argument("--quick", action="store_true", help="small sizes and few steps (the default; CPU, minutes)")
    speed.add_argument("--full", action="store_true", help="the paper's sizes and step counts (meant for a GPU)")
    figs.add_argument("--only", nargs="+", metavar="NAME", help="figure names (see --list)")
    figs.add_argument("--out", type=Path, default=Path("figures"), help="output folder (default: figures)")
    figs.add_argument("--list", action="store_true", help="list the figures and exit")
    figs.set_defaults(run=_figures)

    from .cli_optimize import add_commands as add_optimize_commands  # minimize-dsd, match-fingerprint

    add_optimize_commands(commands)
    _add_training_commands(commands)  # train, restore, score
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``dsdviz`` command."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, WeightsUnavailableError) as error:
        print(f"dsdviz {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
