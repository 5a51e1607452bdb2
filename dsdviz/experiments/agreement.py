"""How well the no-reference scores (Q_DSD, its signed excess, NIQE) agree with the full-reference ones.

Every SR method with a ground truth in the data folder is scored per image: bicubic (MATLAB
bicubic from the x4 LR files), our shipped CPU-trained xSRResNets run on the same LR files
(:data:`OURS`) and the published outputs of :data:`~dsdviz.experiments.methods.SR_OUTPUTS`
(:data:`METHODS`, where present). Over all ``(image, method)`` pairs, each no-reference score's
Spearman correlation with the DSD distance and with PSNR to the ground truth; per score the fraction
of images whose ground truth it ranks as more natural than bicubic, and the fraction of images where
it ranks the official SRGAN as more natural than the official SRResNet (the SRGAN paper's raters put
SRGAN far above SRResNet on these images); and each method's mean scores, on Set5 and Set14
(:data:`AGREEMENT_SETS`, where the published outputs are). ``figures/noref_agreement.md`` (recipe
``noref_agreement``) adds the checks of :mod:`dsdviz.experiments.noref_checks`, whose size is what the quick
and the full setting change. Nothing is trained: the shipped regressors and SR models are loaded.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from scipy.stats import rankdata
from torch import nn
from tqdm.auto import tqdm

from ..data import bicubic_upsample, sr_examples, sr_folders
from ..evaluation import write_csv
from ..inference import restore
from ..models import DEFAULT_REGRESSORS, load_model
from ..scores import score_of
from ..scoring import Scorer
from .methods import OURS_SHIPPED, published_sr_outputs
from .noref_checks import checks_figure
from .settings import smoke, table_stem
from .stages import load_regressors

#: The registry scores of the agreement rows.
AGREEMENT_SCORES = ("psnr", "ssim", "dsd_distance", "q_dsd", "excess", "niqe")
#: Published methods scored where their folder of :data:`~dsdviz.experiments.methods.SR_OUTPUTS` exists.
METHODS = ("SRResNet", "SRGAN", "ESRGAN", "nESRGAN+", "RCAN")
#: The sets of the agreement table: those with the published outputs (BSD100 would add bicubic and ours only).
AGREEMENT_SETS = ("Set5", "Set14")
#: The pair of official results whose order a no-reference score should reproduce: (more natural, less).
OFFICIAL_PAIR = ("SRGAN", "SRResNet")
#: Our SR models, ``{label: shipped model name}``: stage 1 (L1 only) and stage 2 from it (L1 + perceptual + DSD).
OURS: dict[str, str] = OURS_SHIPPED["sr"]
#: No-reference scores compared (all lower-is-better) and their labels (the registry's, :mod:`dsdviz.scores`).
NO_REFERENCE = {column: score_of(column)[0].title(score_of(column)[1])
                for column in ("q_dsd_a2", "q_dsd_a4", "excess_a2", "excess_a4", "niqe")}  # fmt: skip
SCALE = 4


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rank correlation of two equal-length samples (ties get their average rank)."""
    rx, ry = rankdata(np.asarray(x, dtype=np.float64)), rankdata(np.asarray(y, dtype=np.float64))
    rx, ry = rx - rx.mean(), ry - ry.mean()
    return float((rx * ry).sum() / np.sqrt((rx * rx).sum() * (ry * ry).sum()))


def score_pairs(
    sets: Sequence[str], regressors: Sequence[nn.Module], *, root: str | os.PathLike | None = None,
    methods: Sequence[str] = METHODS, networks: Mapping[str, nn.Module] | None = None, limit: int | None = None,
    progress: bool = True,
) -> list[dict[str, float | str]]:  # fmt: skip
    """Rows ``{"set", "image", "method", <scores>}`` for the ground truth (``method="ground truth"``,
    no-reference scores only), bicubic, each of ``networks`` (``{label: SR network}``, 4x, run on
    the LR file with :func:`dsdviz.inference.restore`) and each of ``methods`` present in the data
    folder (``limit``: the first images of each set). Outputs larger than the ground truth are
    cropped to it (top left); smaller ones are skipped."""
    scorer, rows = Scorer(regressors, scores=AGREEMENT_SCORES, shave=SCALE), []
    for set_name in sets:
        hr_folder, lr_folder = sr_folders(set_name, SCALE, root)
        pairs = sr_examples(hr_folder, SCALE, lr_folder, limit=limit)
        for pair in tqdm(pairs, desc=f"agreement {set_name}", unit="image", disable=not progress):
            scorer.set_reference(pair.target)
            images = {"bicubic": bicubic_upsample(pair.input, SCALE)}
            images.update({label: restore(net, pair.input) for label, net in (networks or {}).items()})
            images.update(published_sr_outputs(methods, set_name, pair.name, pair.target.shape[-2:], root))
            rows.append({"set": set_name, "image": pair.name, "method": "ground truth",
                         **scorer(pair.target, full_reference=False)})  # fmt: skip
            rows += [{"set": set_name, "image": pair.name, "method": m, **scorer(x)} for m, x in images.items()]
    return rows


def agreement(rows: Sequence[dict[str, float | str]]) -> dict[str, dict[str, float]]:
    """Per no-reference score of :func:`score_pairs`' rows: ``rho_dsd`` and ``rho_psnr`` (Spearman over
    the ``(image, method)`` pairs with a ground truth, rows with a NaN score left out), ``pairs``,
    ``gt_above_bicubic`` (fraction of images where the ground truth scores lower than bicubic),
    ``images``, ``srgan_above_srresnet`` (fraction of the images with both official results where
    SRGAN scores lower than SRResNet, :data:`OFFICIAL_PAIR`) and ``official_images``."""
    scored = [r for r in rows if r["method"] != "ground truth"]
    truth = {(r["set"], r["image"]): r for r in rows if r["method"] == "ground truth"}
    bicubic = [r for r in rows if r["method"] == "bicubic" and (r["set"], r["image"]) in truth]
    table = {}
    for column in NO_REFERENCE:
        usable = [r for r in scored if np.isfinite(r[column])]
        wins = [truth[(r["set"], r["image"])][column] < r[column] for r in bicubic]
        official = ranked_above(rows, *OFFICIAL_PAIR, column)
        table[column] = {
            "rho_dsd": spearman([r[column] for r in usable], [r["dsd_distance"] for r in usable]),
            "rho_psnr": spearman([r[column] for r in usable], [r["psnr"] for r in usable]),
            "pairs": float(len(usable)),
            "gt_above_bicubic": float(np.mean(wins)) if wins else float("nan"),
            "images": float(len(wins)),
            "srgan_above_srresnet": float(np.mean(official)) if official else float("nan"),
            "official_images": float(len(official)),
        }
    return table


def ranked_above(rows: Sequence[dict[str, float | str]], better: str, worse: str, column: str) -> list[bool]:
    """Per image scored for both methods (finite scores): whether ``better`` scores lower in ``column``."""
    by_image = {(r["set"], r["image"], r["method"]): r[column] for r in rows if np.isfinite(r.get(column, np.nan))}
    return [
        bool(value < by_image[(set_name, image, worse)])
        for (set_name, image, method), value in by_image.items()
        if method == better and (set_name, image, worse) in by_image
    ]


def method_means(rows: Sequence[dict[str, float | str]]) -> dict[str, dict[str, float]]:
    """Per method of :func:`score_pairs`' rows (in order of appearance, the ground truth first): the
    mean of every score over its finite values (PSNR and DSD distance: NaN for the ground truth) and
    ``images``, the number of images it was scored on."""
    methods: dict[str, list[dict[str, float | str]]] = {}
    for r in rows:
        methods.setdefault(str(r["method"]), []).append(r)
    means = {}
    for method, scored in methods.items():
        entry = {"images": float(len(scored))}
        for column in ("psnr", "dsd_distance", *NO_REFERENCE):
            values = [float(r[column]) for r in scored if column in r and np.isfinite(r[column])]
            entry[column] = float(np.mean(values)) if values else float("nan")
        means[method] = entry
    return means


def _cell(value: float, spec: str) -> str:
    return "-" if not np.isfinite(value) else format(value, spec)


def agreement_markdown(rows: Sequence[dict[str, float | str]], ours: Mapping[str, str] | None = None) -> str:
    """The markdown tables of :func:`agreement` and :func:`method_means`, with what was scored and how
    to read the signs; ``ours``: ``{label: shipped model name}`` of our models among the rows (the
    note names them)."""
    ours = dict(ours or {})
    counts: dict[str, int] = {}
    for r in rows:
        if r["method"] != "ground truth":
            counts[f"{r['method']} on {r['set']}"] = counts.get(f"{r['method']} on {r['set']}", 0) + 1
    better, worse = OFFICIAL_PAIR
    lines = [
        "| score (lower = more natural) | Spearman vs DSD distance | Spearman vs PSNR | pairs "
        f"| ground truth ranked above bicubic | official {better} ranked above official {worse} |",
        "|---|---|---|---|---|---|",
    ]
    for column, entry in agreement(rows).items():
        ranked = f"{entry['gt_above_bicubic']:.2f} ({entry['images']:.0f} images)"
        official = (f"{entry['srgan_above_srresnet']:.2f} ({entry['official_images']:.0f} images)"
                    if entry["official_images"] else "-")  # fmt: skip
        lines.append(f"| {NO_REFERENCE[column]} | {entry['rho_dsd']:+.3f} | {entry['rho_psnr']:+.3f} "
                     f"| {entry['pairs']:.0f} | {ranked} | {official} |")  # fmt: skip
    if ours:
        named = ", ".join(f'"{label}" = {name}' for label, name in ours.items())
        ours_text = f" Ours: the shipped CPU-trained xSRResNets {named} (model card: dsdviz/models/weights/README.md)."
    else:
        ours_text = " None of our SR models is scored."
    lines += [
        "",
        "Agreement with the full-reference scores reads as a positive correlation with the DSD distance "
        "(lower is better for both) and a negative one with PSNR (higher is better). Pairs (image, method): "
        + ", ".join(f"{k} ({v})" for k, v in counts.items())
        + f". Bicubic is MATLAB bicubic from the x{SCALE} LR files; Q_DSD uses the package's default "
        f"regressors ({', '.join(DEFAULT_REGRESSORS)}); NIQE is dsdviz.niqe (MATLAB release's "
        "pristine model); PSNR on Y, border shave 4." + ours_text,
        "",
        f"The last column is the ordering of the SRGAN paper's mean-opinion-score study, where raters put "
        f"{better} far above {worse}: the fraction of images where the score ranks the official {better} "
        f"result as more natural than the official {worse} one (both on all 19 images of Set5 and Set14).",
        "",
        "Mean scores per method, over the images it has (ESRGAN, nESRGAN+ and RCAN only on a few: compare "
        "them with the others on those images only):",
        "",
        "| method | images | PSNR (dB) | DSD distance | " + " | ".join(NO_REFERENCE.values()) + " |",
        "|---|---|---|---|" + "---|" * len(NO_REFERENCE),
    ]
    for method, entry in method_means(rows).items():
        scores = " | ".join(_cell(entry[c], ".3g" if c.startswith("q_dsd") else ".3f") for c in NO_REFERENCE)
        lines.append(f"| {method} | {entry['images']:.0f} | {_cell(entry['psnr'], '.2f')} "
                     f"| {_cell(entry['dsd_distance'], '.3g')} | {scores} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def agreement_rows(
    regressors: Sequence[nn.Module], ours: Mapping[str, str] | None = None, sets: Sequence[str] = AGREEMENT_SETS
) -> tuple[list[str], list[dict[str, float | str]]]:
    """``(sets, rows)``: :func:`score_pairs` over ``sets`` with ``regressors`` and our SR models ``ours``
    (``{label: shipped model name}``; default :data:`OURS`); at the smoke size the first image of Set5."""
    ours = dict(OURS if ours is None else ours)
    networks = {label: load_model(name) for label, name in ours.items()}
    sets, limit = (["Set5"], 1) if smoke() else (list(sets), None)
    return sets, score_pairs(sets, regressors, networks=networks, limit=limit)


def agreement_markdown_page(sets: Sequence[str], rows: Sequence[dict[str, float | str]],
                            ours: Mapping[str, str] | None = None) -> str:  # fmt: skip
    """The page of ``figures/noref_agreement.md``: a heading naming the sets, then :func:`agreement_markdown`."""
    return f"# No-reference vs full-reference scores ({', '.join(sets)})\n\n" + agreement_markdown(
        rows, OURS if ours is None else ours
    )


def agreement_table(regressors: Sequence[nn.Module], ours: Mapping[str, str] | None = None,
                    sets: Sequence[str] = AGREEMENT_SETS) -> str:  # fmt: skip
    """The agreement part of ``figures/noref_agreement.md`` (:func:`agreement_rows`,
    :func:`agreement_markdown_page`); ``sets=("Set5", "Set14", "BSD100")`` adds BSD100's bicubic and ours."""
    sets, rows = agreement_rows(regressors, ours, sets)
    return agreement_markdown_page(sets, rows, ours)


def agreement_csv_rows(rows: Sequence[dict[str, float | str]]) -> list[dict[str, float | str]]:
    """:func:`agreement` as CSV rows, one per no-reference score (``score``, its label, then the entry)."""
    return [{"score": column, "label": NO_REFERENCE[column], **entry} for column, entry in agreement(rows).items()]


def noref_agreement_figure(quick: bool, out_dir: Path) -> list[Path]:
    """``figures/noref_agreement.md`` and its numbers ``noref_agreement.csv`` (:func:`agreement_csv_rows`),
    with the default regressors and the shipped SR models, then the checks of every shipped regressor
    pair (:func:`dsdviz.experiments.noref_checks.checks_figure`, ``noref_checks.csv``). The quick run checks
    the first images of each set only and writes ``noref_agreement_quick.{md,csv}`` and
    ``noref_checks_quick.csv`` (and the LR blur sweep's ``noref_lr_blur``), so that it leaves the full tables
    (what the claims scorecard reads) as they are."""
    sets, rows = agreement_rows(load_regressors())
    checks, checks_csvs = checks_figure(out_dir, quick)
    path = Path(out_dir) / f"{table_stem('noref_agreement', quick)}.md"
    path.write_text(agreement_markdown_page(sets, rows) + "\n" + checks)
    return [path, write_csv(path.with_suffix(".csv"), agreement_csv_rows(rows)), *checks_csvs]
