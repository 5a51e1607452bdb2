"""Checks a reader can trust for the no-reference scores: does each score rank the better of two images
of the same scene as more natural, on images whose order nobody disputes?

* (a) the ground truth above bicubic up-sampling of a *realistically* degraded LR photograph
  (:class:`~dsdviz.data.RealisticDegradation`: blur, x4 downscale, sensor noise, JPEG; seeded
  per image), on BSD100 and on the last 50 images of ``BSDS500_test``, which the regressors trained on
  the two BSDS500 pools never saw (:data:`~dsdviz.training.presets.REGRESSOR_HOLDOUT`);
* (b) the official SRGAN result above the official SRResNet one, image by image (all 19 of Set5 and
  Set14), the order of the SRGAN paper's mean-opinion-score study;
* (c) the ground truth above bicubic up-sampling of the clean MATLAB-bicubic LR image (Set5 + Set14);
* (d) the official SRGAN result above bicubic up-sampling of the same clean LR image (Set5 + Set14): a GAN
  method against bicubic, the comparison the maintainers' hold-out of real photographs makes, on clean LR
  (the SRGAN paper's raters put SRGAN far above bicubic);
* (e) the official DeepDeblur result above its motion-blurred input, on the 7 GoPro frames of
  ``deblur/DeepDeblur_examples`` (linear blur, 1280 x 720): a published restoration of real camera frames
  (their blur averages real consecutive frames) against the degraded frame itself, with no ground truth needed;
* (f) a sharp camera frame above bicubic up-sampling of its own x4 LR image (MATLAB bicubic down, rounded to
  8 bits as a test set stores it, and up), on the 2 sharp GoPro frames and the 7 DeepDeblur restorations of
  (e): check (c) on real camera frames.

:func:`lr_blur_rows` repeats check (a) on the hold-out with the LR photographs' Gaussian blur fixed at
growing widths (:data:`LR_BLURS`): how much of a photograph's own blur each score tolerates.

Per check and score (Q_2, Q_4, the two signed excesses, NIQE) the fraction of images ranked right, for
each shipped pair of regressors (:data:`REGRESSOR_PAIRS`). Nothing is trained. The full setting scores every
image of :data:`CHECK_SETS` (399 images, each with every pair) and the sweep's 50; the quick setting the
first :data:`QUICK_LIMIT` of each set, :data:`QUICK_FRAMES` of the 1280 x 720 camera frames.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ..data import (
    Example,
    RealisticDegradation,
    bicubic_upsample,
    data_root,
    heldout_paths,
    item_generator,
    list_images,
    load_image,
    partner_path,
    sr_examples,
    sr_folders,
)
from ..evaluation import write_csv
from ..models import DEFAULT_REGRESSORS, load_model, shipped_models
from ..ranking import central_crop
from ..scoring import Scorer
from ..training.presets import REGRESSOR_HOLDOUT, REGRESSOR_POOLS
from .methods import DEEPDEBLUR_EXAMPLES, GOPRO_SAMPLES, published_sr_outputs
from .settings import smoke, table_stem

#: The shipped regressor pairs compared, ``{label: (psi_2, psi_4)}`` (a pair missing from the package is skipped).
REGRESSOR_PAIRS: dict[str, tuple[str, str]] = {
    "cpu, clean (200 images)": ("dsd_regressor_a2_cpu", "dsd_regressor_a4_cpu"),
    "gpu, clean (200 images)": ("dsd_regressor_a2_gpu", "dsd_regressor_a4_gpu"),
    "cpu, realistic (350 images)": ("dsd_regressor_a2_realistic_cpu", "dsd_regressor_a4_realistic_cpu"),
    "cpu, realistic + blur (350 images)": ("dsd_regressor_a2_blur_cpu", "dsd_regressor_a4_blur_cpu"),
}
#: The scores compared (all lower-is-better), ``{column: label}``.
SCORES = {"q_dsd_a2": "Q_2", "q_dsd_a4": "Q_4", "excess_a2": "excess a=2", "excess_a4": "excess a=4", "niqe": "NIQE"}
#: Set names of the regressors' unseen ``BSDS500_test`` images, of the GoPro frames of check (e) and of
#: the sharp or restored frames of check (f).
HOLDOUT = "BSDS500_test hold-out"
GOPRO = "GoPro, DeepDeblur examples"
CAMERA = "GoPro, sharp and restored frames"
#: The checks, ``{name: (what, better method, worse method, sets)}``.
CHECKS: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "a": ("ground truth above bicubic from a realistic LR", "ground truth", "bicubic, realistic LR",
          ("BSD100", HOLDOUT)),
    "b": ("official SRGAN above official SRResNet", "SRGAN", "SRResNet", ("Set5", "Set14")),
    "c": ("ground truth above bicubic from the clean LR", "ground truth", "bicubic, clean LR", ("Set5", "Set14")),
    "d": ("official SRGAN above bicubic from the clean LR", "SRGAN", "bicubic, clean LR", ("Set5", "Set14")),
    "e": ("official DeepDeblur above its motion-blurred GoPro input", "DeepDeblur", "motion blurred", (GOPRO,)),
    "f": ("sharp camera frame above bicubic from its own x4 LR", "camera frame", "bicubic, clean LR", (CAMERA,)),
}  # fmt: skip
#: Every set a check reads.
CHECK_SETS = ("Set5", "Set14", "BSD100", HOLDOUT, GOPRO, CAMERA)
#: The GoPro frames of check (e): the DeepDeblur examples' inputs and official outputs, linear blur.
GOPRO_FOLDERS = {"motion blurred": f"{DEEPDEBLUR_EXAMPLES}/blur_lin",
                 "DeepDeblur": f"{DEEPDEBLUR_EXAMPLES}/deblurred_lin"}  # fmt: skip
#: The camera frames of check (f), 1280 x 720: the sharp GoPro samples, then DeepDeblur's restorations of (e).
CAMERA_FOLDERS = (f"{GOPRO_SAMPLES}/sharp", GOPRO_FOLDERS["DeepDeblur"])
#: The Gaussian blurs (standard deviation, px at the ground truth's resolution) of :func:`lr_blur_rows`.
LR_BLURS = (1.0, 2.0, 3.0, 4.0, 6.0)
SCALE = 4
#: Images per set in the quick setting (the full one scores them all), and camera frames per set of
#: checks (e) and (f), each about nine times a Set14 image.
QUICK_LIMIT = 5
QUICK_FRAMES = 2


def available_pairs(pairs: Mapping[str, tuple[str, str]] = REGRESSOR_PAIRS) -> dict[str, tuple[str, str]]:
    """The pairs of ``pairs`` whose two models ship with the package."""
    shipped = shipped_models()
    return {label: pair for label, pair in pairs.items() if all(name in shipped for name in pair)}


def check_examples(set_name: str, root: str | os.PathLike | None = None, limit: int | None = None) -> list[Example]:
    """Ground truth and clean x4 LR of a check set: Set5, Set14 and BSD100 with their stored LR files,
    :data:`HOLDOUT` (the regressors' unseen ``BSDS500_test`` images) or :data:`CAMERA` (the frames of
    :data:`CAMERA_FOLDERS`), these two with the 8-bit LR an SR test set would store (MATLAB bicubic)."""
    base = data_root(root)
    if set_name == CAMERA:
        return sr_examples([base / folder for folder in CAMERA_FOLDERS], SCALE, limit=limit)
    if set_name == HOLDOUT:
        paths = heldout_paths([base / pool for pool in REGRESSOR_POOLS], REGRESSOR_HOLDOUT)
        return sr_examples(paths, SCALE, limit=limit)
    hr_folder, lr_folder = sr_folders(set_name, SCALE, base)
    return sr_examples(hr_folder, SCALE, lr_folder, limit=limit)


def realistic_lr(
    example: Example, set_name: str, seed: int = 0, degradation: RealisticDegradation | None = None
) -> torch.Tensor:
    """The realistic x4 LR photograph ``(1, 3, h, w)`` of an example's ground truth, drawn from
    ``(seed, set name, image name)`` by ``degradation`` (default: ``RealisticDegradation()``)."""
    key = zlib.crc32(f"{set_name}/{example.name}".encode())
    degradation = RealisticDegradation() if degradation is None else degradation
    return degradation.low_resolution(example.target[0], SCALE, item_generator(seed, key))[None]


def check_images(
    sets: Sequence[str], root: str | os.PathLike | None = None, limit: int | None = None, seed: int = 0,
    degradation: RealisticDegradation | None = None,
) -> Iterator[tuple[str, str, dict[str, torch.Tensor]]]:
    """``(set, image, {method: image})`` for the checks: the ground truth, bicubic from a realistic LR
    (on the sets of check a, by :func:`realistic_lr` with ``degradation``) or from the clean LR (check c),
    and the official SRGAN / SRResNet outputs (where the data folder has them), all ``(1, 3, H, W)`` in
    ``[0, 1]`` at the ground truth's size; on :data:`GOPRO`, the motion-blurred frame and DeepDeblur's
    output (:data:`GOPRO_FOLDERS`); on :data:`CAMERA`, the frame and bicubic from its x4 LR."""
    for set_name in sets:
        if set_name == CAMERA:
            for example in check_examples(set_name, root, limit):
                images = {"camera frame": example.target, "bicubic, clean LR": bicubic_upsample(example.input, SCALE)}
                yield set_name, example.name, images
            continue
        if set_name == GOPRO:
            folders = {method: data_root(root) / folder for method, folder in GOPRO_FOLDERS.items()}
            for path in list_images(folders["motion blurred"])[:limit]:
                images = {method: load_image(partner_path(path, folder, method)) for method, folder in folders.items()}
                yield set_name, path.stem, images
            continue
        for example in check_examples(set_name, root, limit):
            images = {"ground truth": example.target}
            if set_name in CHECKS["c"][3]:
                images["bicubic, clean LR"] = bicubic_upsample(example.input, SCALE)
            if set_name in CHECKS["a"][3]:
                lr = realistic_lr(example, set_name, seed, degradation)
                images["bicubic, realistic LR"] = bicubic_upsample(lr, SCALE)
            size = example.target.shape[-2:]
            official = published_sr_outputs(("SRGAN", "SRResNet"), set_name, example.name, size, root)
            yield set_name, example.name, {**images, **official}


def check_rows(
    pairs: Mapping[str, Sequence[nn.Module]], sets: Sequence[str] = CHECK_SETS, *,
    root: str | os.PathLike | None = None, limit: int | None = None, seed: int = 0, crop: int | None = None,
    degradation: RealisticDegradation | None = None, progress: bool = True,
) -> list[dict[str, float | str]]:  # fmt: skip
    """Rows ``{"pair", "set", "image", "method", q_dsd_a2, excess_a2, q_dsd_a4, excess_a4, niqe}``: every
    image of :func:`check_images` scored with each pair of regressors (``{label: (psi_2, psi_4)}``; NIQE,
    which needs none, is computed once and repeated in each pair's rows). ``crop``: score the central
    ``crop`` px square of every image (:func:`dsdviz.ranking.central_crop`) instead of the whole image.
    ``degradation``: how check (a)'s LR photographs are made (default: ``RealisticDegradation()``)."""
    scorers = {label: Scorer(regressors, scores=("q_dsd", "excess")) for label, regressors in pairs.items()}
    niqe = Scorer(scores=("niqe",))
    rows = []
    images = check_images(sets, root, limit, seed, degradation)
    for set_name, name, by_method in tqdm(images, desc="no-reference checks", unit="image", disable=not progress):
        for method, image in by_method.items():
            image = central_crop(image, crop)
            base = {"set": set_name, "image": name, "method": method, **niqe(image, full_reference=False)}
            rows += [{"pair": label, **base, **scorer(image, full_reference=False)}
                     for label, scorer in scorers.items()]  # fmt: skip
    return rows


def check_fractions(rows: Sequence[dict[str, float | str]], pair: str) -> dict[str, dict[str, float]]:
    """Per check of :data:`CHECKS` (``"a"`` to ``"f"``) for one pair's rows: ``images`` and, per score
    of :data:`SCORES`, the fraction of images where the better method scores lower (finite scores only)."""
    table = {}
    for check, (_, better, worse, sets) in CHECKS.items():
        scored = [r for r in rows if r["pair"] == pair and r["set"] in sets]
        entry: dict[str, float] = {}
        for column in SCORES:
            values = {(r["set"], r["image"], r["method"]): float(r[column]) for r in scored if column in r}
            pairs = [(value, values.get((s, image, worse), np.nan))
                     for (s, image, method), value in values.items() if method == better]  # fmt: skip
            wins = [first < second for first, second in pairs if np.isfinite([first, second]).all()]
            entry[column] = float(np.mean(wins)) if wins else float("nan")
            entry["images"] = max(entry.get("images", 0.0), float(len(wins)))
        table[check] = entry
    return table


def check_csv_rows(rows: Sequence[dict[str, float | str]]) -> list[dict[str, float | str]]:
    """:func:`check_fractions` for every pair in ``rows``, one CSV row per (pair, check)."""
    pairs = list(dict.fromkeys(str(r["pair"]) for r in rows))
    return [
        {"pair": pair, "check": check, "what": CHECKS[check][0], **entry}
        for pair in pairs
        for check, entry in check_fractions(rows, pair).items()
    ]


def checks_markdown(rows: Sequence[dict[str, float | str]], default: Sequence[str] = DEFAULT_REGRESSORS) -> str:
    """One markdown table per regressor pair: the checks' fractions (:func:`check_fractions`), with
    what each pair is and which is the package's default."""
    lines = []
    for pair in dict.fromkeys(str(r["pair"]) for r in rows):
        names = REGRESSOR_PAIRS.get(pair, ("?", "?"))
        is_default = " (the default)" if tuple(names) == tuple(default) else ""
        header = "| check | images | " + " | ".join(SCORES.values()) + " |"
        lines += [f"Regressors `{names[0]}`, `{names[1]}`: {pair}{is_default}.", "", header,
                  "|---|---|" + "---|" * len(SCORES)]  # fmt: skip
        for check, entry in check_fractions(rows, pair).items():
            cells = " | ".join("-" if not np.isfinite(entry[c]) else f"{entry[c]:.2f}" for c in SCORES)
            lines.append(f"| ({check}) {CHECKS[check][0]} | {entry['images']:.0f} | {cells} |")
        lines.append("")
    return "\n".join(lines)


def checks_page(rows: Sequence[dict[str, float | str]], seed: int = 0) -> str:
    """The checks' section of ``figures/noref_agreement.md``: what was compared, then :func:`checks_markdown`."""
    return (
        "## Checks: the better image of a pair ranked as more natural\n\n"
        "Fraction of images on which each score (lower = more natural) ranks the better image of the pair "
        "first. (a) Realistic LR: `RealisticDegradation().low_resolution` (Gaussian blur 0.4-1.6 px, MATLAB "
        "bicubic x4, Poisson-Gaussian sensor noise, JPEG quality 40-95; drawn per image from seed "
        f"{seed}), up-sampled with MATLAB bicubic. The `BSDS500_test` hold-out is its last "
        f"{REGRESSOR_HOLDOUT} images, which no regressor trained on; the realistic regressors trained on "
        "the other 350 images of the two BSDS500 pools. (b) The official results of the SRGAN release. "
        "(c) Bicubic from the stored MATLAB-bicubic LR files. (d) The official SRGAN against the bicubic of (c): "
        "a GAN method against bicubic, as in the maintainers' hold-out of real photographs, but from a clean LR. "
        "(e) The official DeepDeblur outputs on its 7 GoPro examples (linear blur, 1280 x 720 camera frames) "
        "against their motion-blurred inputs. (f) The 2 sharp GoPro frames and DeepDeblur's 7 restorations of "
        "(e) against bicubic up-sampling of their own MATLAB-bicubic x4 LR, rounded to 8 bits. NIQE uses no "
        "regressor: its column is the same in every table.\n\n"
        + checks_markdown(rows)
    )


def lr_blur_rows(
    pairs: Mapping[str, Sequence[nn.Module]], blurs: Sequence[float] = LR_BLURS, *,
    root: str | os.PathLike | None = None, limit: int | None = None, seed: int = 0, progress: bool = True,
) -> list[dict[str, float | str]]:  # fmt: skip
    """Check (a) on the :data:`HOLDOUT` images with the LR photographs' Gaussian blur fixed at each of
    ``blurs`` (standard deviation in px at the ground truth's resolution; noise and JPEG drawn as in (a)):
    per pair and blur ``{"pair", "blur", "images", <score>: fraction of images whose ground truth the score
    ranks above bicubic}`` (:func:`check_fractions`)."""
    table = []
    for blur in tqdm(blurs, desc="LR blur sweep", unit="blur", disable=not progress):
        degradation = RealisticDegradation(blur=(blur, blur))
        rows = check_rows(pairs, (HOLDOUT,), root=root, limit=limit, seed=seed, degradation=degradation,
                          progress=False)  # fmt: skip
        table += [{"pair": label, "blur": blur, **check_fractions(rows, label)["a"]} for label in pairs]
    return table


def lr_blur_page(rows: Sequence[dict[str, float | str]]) -> str:
    """The sweep's section of ``figures/noref_agreement.md``: per blur, each pair's Q_4 / excess a=4, and NIQE."""
    pairs = list(dict.fromkeys(str(r["pair"]) for r in rows))
    images = max((float(r["images"]) for r in rows), default=0.0)
    psi_4 = [REGRESSOR_PAIRS.get(pair, ("?", pair))[1] for pair in pairs]
    header = "| LR blur (px) | " + " | ".join(f"`{name}`: Q_4 / excess a=4" for name in psi_4)
    lines = [
        "## Check (a) against the LR photograph's own blur\n",
        f"Check (a) on the {images:.0f} hold-out images with the Gaussian blur of the realistic LR fixed (standard "
        "deviation in px at the ground truth's resolution; (a) draws it in 0.4-1.6 px; noise and JPEG as in (a)): "
        "the fraction of images whose ground truth each score ranks above bicubic up-sampling of the LR. A real "
        "low-resolution photograph carries its lens's and its motion's blur; Q_2 and the excess at a = 2 are in "
        "the CSV.\n",
        header + " | NIQE |", "|---|" + "---|" * (len(pairs) + 1),
    ]  # fmt: skip
    for blur in dict.fromkeys(float(r["blur"]) for r in rows):
        cells = {str(r["pair"]): r for r in rows if float(r["blur"]) == blur}
        scores = " | ".join(f"{float(cells[p]['q_dsd_a4']):.2f} / {float(cells[p]['excess_a4']):.2f}" for p in pairs)
        lines.append(f"| {blur:g} | {scores} | {float(cells[pairs[0]]['niqe']):.2f} |")
    return "\n".join(lines) + "\n"


def checks_figure(out_dir: Path, quick: bool = False) -> tuple[str, list[Path]]:
    """The checks and the LR blur sweep for every shipped pair on every image (``quick``: the first
    :data:`QUICK_LIMIT` of each set, :data:`QUICK_FRAMES` camera frames; smoke size: the first one, one blur):
    the markdown sections and the CSVs ``noref_checks.csv`` (:func:`check_csv_rows`) and ``noref_lr_blur.csv``
    (:func:`lr_blur_rows`; quick: ``noref_checks_quick.csv``, ``noref_lr_blur_quick.csv``) written to ``out_dir``."""
    pairs = {label: [load_model(name) for name in names] for label, names in available_pairs().items()}
    limit = 1 if smoke() else QUICK_LIMIT if quick else None
    frames = (GOPRO, CAMERA)
    rows = check_rows(pairs, [name for name in CHECK_SETS if name not in frames], limit=limit)
    rows += check_rows(pairs, frames, limit=min(limit, QUICK_FRAMES) if limit else None)
    blurs = lr_blur_rows(pairs, LR_BLURS[-1:] if smoke() else LR_BLURS, limit=limit)
    paths = [write_csv(Path(out_dir) / f"{table_stem('noref_checks', quick)}.csv", check_csv_rows(rows)),
             write_csv(Path(out_dir) / f"{table_stem('noref_lr_blur', quick)}.csv", blurs)]  # fmt: skip
    return checks_page(rows) + "\n" + lr_blur_page(blurs), paths
