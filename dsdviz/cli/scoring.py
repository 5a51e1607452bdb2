"""``dsdviz restore`` (apply a trained network), ``dsdviz score`` (PSNR, SSIM, DSD distance, Q_DSD;
``--map``: where in the image, as an overlay PNG of per-tile Q_DSD and excess) and ``dsdviz rank`` (which of
two folders of restorations each no-reference score finds more natural, image by image)."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path
from typing import TYPE_CHECKING

from ..models.store import DEFAULT_REGRESSORS
from .outputs import check_output_file, check_output_folder

if TYPE_CHECKING:
    import torch
    from torch import nn


def _restore(args: argparse.Namespace) -> int:
    from ..inference import restore_files

    check_output_folder(args.out, "--out")
    for path in restore_files(args.model, args.images, args.out, device=args.device):
        print(path)
    return 0


def _reference(folder: Path, image: Path) -> Path:
    """The image of ``folder`` with the stem of ``image``."""
    from ..data import find_image

    if folder.is_file():
        raise ValueError(f"--ref {str(folder)!r} is a file; expected a folder of ground-truth images with those names")
    if not folder.is_dir():
        raise ValueError(f"--ref folder {str(folder)!r} does not exist")
    found = find_image(folder, image.stem)
    if found is None:
        raise ValueError(f"no reference image named {image.stem}.* in {str(folder)!r}")
    return found


def _write_map(args: argparse.Namespace, image: torch.Tensor, regressors: list[nn.Module]) -> None:
    """``--map``: the overlay of :func:`dsdviz.viz.quality_map.plot_quality_maps` for the one image, a map
    per regressor (:func:`dsdviz.quality_map.q_dsd_map` with ``--tile``, ``--stride``)."""
    from ..quality_map import q_dsd_map
    from ..viz.layout import save_png
    from ..viz.quality_map import plot_quality_maps

    name = Path(args.images[0]).name
    maps = [q_dsd_map(image, regressor, args.tile, args.stride, progress=True) for regressor in regressors]
    fig = plot_quality_maps({name: image}, {name: maps}, title=f"Where is {name} unnatural?")
    print(f"wrote {save_png(fig, args.map)}")


def _score(args: argparse.Namespace) -> int:
    from ..data import load_image
    from ..scores import protocol_text
    from ..models import load_model
    from ..scoring import score_image

    if args.map is None and (args.tile is not None or args.stride is not None):
        raise ValueError("--tile and --stride set the tiles of --map FILE; give --map too")
    if args.map is not None and len(args.images) != 1:
        raise ValueError(f"--map draws one image; got {len(args.images)} images")
    check_output_file(args.csv, "--csv")
    check_output_file(args.map, "--map")
    default = args.regressor == [] or (args.regressor is None and args.map is not None)
    names = DEFAULT_REGRESSORS if default else args.regressor or []
    regressors = [load_model(name) for name in names]
    mapped = None if args.map is None else load_image(args.images[0])
    if mapped is not None:  # the tile errors before the table's work
        from ..quality_map import check_tiling

        for regressor in regressors:
            check_tiling(regressor, args.tile, args.stride, tuple(mapped.shape[-2:]))
    rows = []
    for path in map(Path, args.images):
        x = load_image(path)
        reference = None if args.ref is None else load_image(_reference(args.ref, path))
        scores = score_image(x, reference, regressors, shave=args.shave, y_channel=not args.rgb)
        rows.append({"image": path.name, "height": x.shape[-2], "width": x.shape[-1], **scores})
    names = [k for k in rows[0] if k not in ("image", "height", "width")]
    if not names:
        raise ValueError("nothing to score: give --ref DIR (PSNR, SSIM, DSD distance) and/or --regressor (Q_DSD)")
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
    if mapped is not None:
        _write_map(args, mapped, regressors)
    return 0


def _rank(args: argparse.Namespace) -> int:
    from ..evaluation import write_csv
    from ..experiments.noref_checks import available_pairs
    from ..models import load_model
    from ..ranking import rank_folders, rank_summary, rank_text

    check_output_file(args.csv, "--csv")
    if args.all_pairs and args.regressor:
        raise ValueError("--all-pairs scores with every shipped regressor pair; give it or --regressor, not both")
    if args.all_pairs:
        chosen = available_pairs()
    else:
        names = tuple(args.regressor or DEFAULT_REGRESSORS)
        chosen = {"default pair" if names == tuple(DEFAULT_REGRESSORS) else "regressors": names}
    pairs = {f"{label}: {', '.join(map(str, names))}": [load_model(name) for name in names]
             for label, names in chosen.items()}  # fmt: skip
    rows = rank_folders(args.first, args.second, pairs, crop=args.crop)
    print(rank_text(rank_summary(rows), str(args.first), str(args.second)))
    if args.csv:
        print(f"wrote {write_csv(args.csv, rows)}")
    return 0


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Register ``restore``, ``score`` and ``rank`` on the ``dsdviz`` parser's subcommands."""
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
    sc.add_argument(
        "--regressor", nargs="*", metavar="MODEL",
        help="trained DSD regressors for Q_DSD: model files or names of shipped ones (dsdviz.models.shipped_models()); "
        f"--regressor alone: the shipped pair {' and '.join(DEFAULT_REGRESSORS)}",
    )  # fmt: skip
    sc.add_argument("--shave", type=int, default=4, help="border in px removed for PSNR/SSIM (default 4, the SR scale)")
    sc.add_argument("--rgb", action="store_true", help="PSNR/SSIM on RGB instead of the Y channel")
    sc.add_argument("--csv", type=Path, help="also write the table (with the protocol) as CSV")
    sc.add_argument(
        "--map", type=Path, metavar="FILE",
        help="also write FILE (PNG): where the one IMAGE is unnatural, Q_DSD and its signed excess per tile as "
        "overlays (with the shipped regressor pair unless --regressor names others)",
    )  # fmt: skip
    sc.add_argument("--tile", type=int, metavar="N",
                    help="--map tile side in px (default: the regressor's training size, 64 for a = 2, 96 for a = 4)")
    sc.add_argument("--stride", type=int, metavar="N", help="--map tile spacing in px (default: tile / 4)")
    sc.set_defaults(run=_score)

    rk = commands.add_parser(
        "rank", help="on how many images does each no-reference score find FIRST more natural than SECOND?",
        description="Pair the images of two folders by name (restorations of the same scenes, e.g. a method and "
        "bicubic up-sampling of the same low-resolution photographs) and count, for Q_DSD at a = 2 and 4, the "
        "signed excess at both and NIQE, the images where FIRST scores lower (more natural), with a two-sided "
        "sign test against chance.",
    )  # fmt: skip
    rk.add_argument("first", type=Path, help="folder of images")
    rk.add_argument("second", type=Path, help="folder of images with the same names and sizes")
    rk.add_argument(
        "--regressor", nargs="+", metavar="MODEL",
        help=f"DSD regressors (files or shipped names; default: {' and '.join(DEFAULT_REGRESSORS)})",
    )  # fmt: skip
    rk.add_argument("--all-pairs", action="store_true", help="a table for every shipped regressor pair")
    rk.add_argument("--crop", type=int, metavar="N", help="score the central N x N px of each image")
    rk.add_argument("--csv", type=Path, help="also write the per-image scores as CSV")
    rk.set_defaults(run=_rank)
