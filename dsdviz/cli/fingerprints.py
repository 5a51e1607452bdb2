"""``dsdviz fingerprint`` (the table of ||DSD_l,a||_1 per image) and ``dsdviz figures`` (the figure registry)."""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

from ..features import resolve_layers
from .outputs import check_output_file, check_output_folder


def _fingerprint(args: argparse.Namespace) -> int:
    from ..data import load_image
    from ..fingerprint import fingerprint_table
    from ..viz.fingerprints import plot_fingerprints

    layers = resolve_layers(args.layers if len(args.layers) > 1 else args.layers[0])
    check_output_file(args.csv, "--csv")
    check_output_file(args.figure, "--figure")
    images = {Path(p).name: load_image(p) for p in args.images}
    table = fingerprint_table(images, args.alpha, layers)
    rows = table[0]
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
        plot_fingerprints(images, table).savefig(args.figure, dpi=100)
        print(f"wrote {args.figure}")
    return 0


def _figures(args: argparse.Namespace) -> int:
    from ..figures import FIGURES, regenerate

    if args.list:
        width = max(len(name) for name in FIGURES) + 2
        for recipe in FIGURES.values():
            print(f"{recipe.name:<{width}}{recipe.description}")
        return 0
    check_output_folder(args.out, "--out")
    for name in args.only or list(FIGURES):
        start = time.perf_counter()
        paths = regenerate([name], quick=not args.full, out_dir=args.out)
        print(f"{name}: {', '.join(map(str, paths))} ({time.perf_counter() - start:.1f} s)", flush=True)
    return 0


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Register ``fingerprint`` and ``figures`` on the ``dsdviz`` parser's subcommands."""
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
    figs.add_argument("--out", type=Path, help="output folder (default: $DSDVIZ_FIGURES, else figures)")
    figs.add_argument("--list", action="store_true", help="list the figures and exit")
    figs.set_defaults(run=_figures)
