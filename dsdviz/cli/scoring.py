"""``dsdviz restore`` (apply a trained network) and ``dsdviz score`` (PSNR, SSIM, DSD distance, Q_DSD)."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from ..models.store import DEFAULT_REGRESSORS, shipped_models


def _restore(args: argparse.Namespace) -> int:
    from ..inference import restore_files

    for path in restore_files(args.model, args.images, args.out, device=args.device):
        print(path)
    return 0


def _reference(folder: Path, image: Path) -> Path:
    """The image of ``folder`` with the stem of ``image``."""
    from ..images import list_images

    if folder.is_file():
        raise ValueError(f"--ref {str(folder)!r} is a file; expected a folder of ground-truth images with those names")
    matches = [p for p in list_images(folder) if p.stem == image.stem]
    if not matches:
        raise ValueError(f"no reference image named {image.stem}.* in {str(folder)!r}")
    return matches[0]


def _score(args: argparse.Namespace) -> int:
    from ..images import load_image
    from ..metrics import protocol_text
    from ..models import load_model
    from ..scoring import score_image

    names = DEFAULT_REGRESSORS if args.regressor == [] else args.regressor or []
    regressors = [load_model(name) for name in names]
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
    return 0


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Register ``restore`` and ``score`` on the ``dsdviz`` parser's subcommands."""
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
        help="trained DSD regressors for Q_DSD: model files or names of shipped ones "
        f"({', '.join(shipped_models())}); --regressor alone: the shipped pair {' and '.join(DEFAULT_REGRESSORS)}",
    )  # fmt: skip
    sc.add_argument("--shave", type=int, default=4, help="border in px removed for PSNR/SSIM (default 4, the SR scale)")
    sc.add_argument("--rgb", action="store_true", help="PSNR/SSIM on RGB instead of the Y channel")
    sc.add_argument("--csv", type=Path, help="also write the table (with the protocol) as CSV")
    sc.set_defaults(run=_score)
