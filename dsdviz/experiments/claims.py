"""The claims scorecard: each claim of the supplement, the measurement that tests it here, and a verdict.

:func:`scorecard` reads only the stored numbers in ``figures/`` (the CSVs the figure recipes write:
``fig11_fingerprint_matching.csv``, ``fig12_dsd_minimization.csv``, ``fig13_loss_comparison.csv``,
``sr_metrics.csv``, ``equal_budget.csv``, ``adversarial_weight.csv``, ``deblur_metrics_per_image.csv``,
``deblur_metrics.csv``, ``noref_agreement.csv``, ``noref_checks.csv``) and the shipped models' metadata (their
budgets); it runs no network. Each
claim's rule (:data:`CLAIMS`) turns the numbers into a verdict: ``reproduced``, ``partly``, ``not
reproduced`` or ``not testable here``, with the numbers it used and, for the last two, what budget or
data would test it. ``figures/claims.md`` is written by ``dsdviz figures --only claims``, and a test
recomputes every verdict from the CSVs, so the scorecard cannot drift from the figures.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..evaluation import read_csv
from ..models import DEFAULT_REGRESSORS, model_meta, training_budget
from .equal_budget import ARM_STEPS, ARMS, GAN_VARIANTS
from .methods import OURS_DSD, OURS_SHIPPED
from .noref_checks import REGRESSOR_PAIRS
from .settings import FULL_RUN_TABLES, table_stem

Verdict = Literal["reproduced", "partly", "not reproduced", "not testable here"]
VERDICTS: tuple[str, ...] = ("reproduced", "partly", "not reproduced", "not testable here")

#: The paper's parameter counts (supplementary Tables 4-5, and the text): 4x SR and deblurring xSRResNet.
PAPER_PARAMETERS = {"sr": 1_100_000, "deblur": 810_000}
#: Tolerances of "comparable" (Figs. 14-15): NIQE within this many points, DSD distance and Q_DSD within this fraction.
NIQE_TOLERANCE, RELATIVE_TOLERANCE = 0.5, 0.10


@dataclass(frozen=True)
class Finding:
    """What a claim's rule found: the verdict, the numbers behind it, the budget of the models or runs involved,
    and (for ``not reproduced`` and ``not testable here``) what would test it."""

    verdict: Verdict
    numbers: str
    budget: str
    settle: str = ""


@dataclass(frozen=True)
class Claim:
    """One claim of the supplement and how it is tested here.

    Attributes:
        where: where the paper makes it (``"Fig. 13"``).
        claim: the claim, in a sentence.
        test: the measurement here, in a sentence (with its thresholds).
        files: the CSVs under ``figures/`` it reads.
        rule: ``rule(figures_dir) -> Finding``.
    """

    where: str
    claim: str
    test: str
    files: tuple[str, ...]
    rule: Callable[[Path], Finding]


def _float(value: str) -> float:
    return float(value) if value not in ("", None) else math.nan


#: Tables whose stored version is the ``--full`` run, and the quick run's table a rule reads where the full one is
#: missing (``dsdviz figures`` into a new folder).
QUICK_TABLES = {f"{name}.csv": f"{table_stem(name, quick=True)}.csv" for name in FULL_RUN_TABLES}


def _source(folder: Path, name: str) -> Path | None:
    """``folder/name``, else its quick run's table (:data:`QUICK_TABLES`), else ``None``."""
    for candidate in (name, QUICK_TABLES.get(name)):
        if candidate and (folder / candidate).is_file():
            return folder / candidate
    return None


def _rows(folder: Path, name: str) -> list[dict[str, str]]:
    source = _source(folder, name)
    if source is None:
        raise FileNotFoundError(f"no {name} in {folder}")
    return read_csv(source)


def _vote(hits: int, total: int) -> Verdict:
    """All hold: reproduced; some: partly; none: not reproduced."""
    return "reproduced" if hits == total else "partly" if hits else "not reproduced"


def _budget(*names: str) -> str:
    return "; ".join(f"{name}: {training_budget(model_meta(name))}" for name in names)


class MissingRow(LookupError):
    """A CSV lacks a row a rule reads (a smaller run, such as the smoke size, left it out): not testable."""


def _first(rows: list[dict[str, str]], what: str, keep: Callable[[dict[str, str]], bool]) -> dict[str, str]:
    """The first row ``keep`` accepts. Raises :class:`MissingRow` naming ``what`` when a smaller run left it out."""
    for row in rows:
        if keep(row):
            return row
    raise MissingRow(f"no row of {what}")


def _sr_row(rows: list[dict[str, str]], test_set: str, method: str) -> dict[str, str]:
    """The row of ``method`` on ``test_set`` (:func:`_first`)."""
    return _first(rows, f"{method} on {test_set}", lambda r: r["test_set"].split(",")[0] == test_set
                  and r["method"] == method)  # fmt: skip


def fig11_rule(folder: Path) -> Finding:
    """The DSD-matched results are closer to the reference than every style-matched one in fine detail
    (mean gradient magnitude) and in the DSD distance at the finest scale pair."""
    rows = _rows(folder, "fig11_fingerprint_matching.csv")
    reference = _float(_first(rows, "the reference", lambda r: r["kind"] == "reference")["sharpness"])
    pair = next(k for k in rows[0] if k.startswith("dsd_distance"))
    detail = {kind: min(abs(_float(r["sharpness"]) - reference) for r in rows if r["kind"] == kind)
              for kind in ("style", "dsd")}  # fmt: skip
    distance = {kind: min(_float(r[pair]) for r in rows if r["kind"] == kind) for kind in ("style", "dsd")}
    hits = (detail["dsd"] < detail["style"]) + (distance["dsd"] < distance["style"])
    numbers = (f"|sharpness - reference's| best DSD {detail['dsd']:.4f} vs best style {detail['style']:.4f}; "
               f"{pair.removeprefix('dsd_distance ')} distance {distance['dsd']:.2e} vs {distance['style']:.2e}")  # fmt: skip
    budget = f"{rows[0]['steps']} Adam steps at lr {rows[0]['lr']} per column"
    return Finding(_vote(hits, 2), numbers, budget,
                   "the full setting (whole 480 x 320 images, 3000 steps; `dsdviz figures --full --only "
                   "fig11_fingerprint_matching`, a GPU)")  # fmt: skip


def fig12_rule(folder: Path) -> Finding:
    """Three checks on the shown steps (start, middle, end): sharper at the middle than at the start; closer to the
    ground truth's DSD at the middle than at the start (more natural); worse again at the end than at the middle
    (DSD distance to the ground truth up, or PSNR down: artifacts)."""
    rows = _rows(folder, "fig12_dsd_minimization.csv")
    shown = [r for r in rows if r["step"] != "truth" and r["shown"] == "1"]
    truth = _first(rows, "the ground truth", lambda r: r["step"] == "truth")
    start, middle, end = shown[0], shown[len(shown) // 2], shown[-1]
    value = {key: [_float(r[key]) for r in (start, middle, end)] for key in ("sharpness", "dsd_distance", "psnr")}
    sharper = value["sharpness"][1] > value["sharpness"][0]
    closer = value["dsd_distance"][1] < value["dsd_distance"][0]
    later_worse = value["dsd_distance"][2] > value["dsd_distance"][1] or value["psnr"][2] < value["psnr"][1]
    steps = [r["step"] for r in (start, middle, end)]
    numbers = "; ".join(
        f"{key} at steps {'/'.join(steps)}: " + " / ".join(f"{v:.4g}" for v in values) for key, values in value.items()
    ) + f" (ground truth's sharpness {_float(truth['sharpness']):.4g})"
    budget = f"{rows[0]['steps']} steps at lr {rows[0]['lr']}, crop {rows[0]['crop']}"
    return Finding(_vote(sharper + closer + later_worse, 3), numbers, budget,
                   "the paper's whole image and 5000 steps (`dsdviz figures --full --only fig12_dsd_minimization`)")


def fig13_rule(folder: Path) -> Finding:
    """Mean grid-artifact score (period 4): DSD below both style losses."""
    found = _rows(folder, "fig13_loss_comparison.csv")
    rows = {m: _first(found, m, lambda r, m=m: r["method"] == m) for m in ("DSD", "style", "multi-scale style")}
    grid = {m: _float(row["grid_mean"]) for m, row in rows.items()}
    hits = (grid["DSD"] < grid["style"]) + (grid["DSD"] < grid["multi-scale style"])
    numbers = ", ".join(f"{m} {v:.2f} dB" for m, v in grid.items()) + f" ({rows['DSD']['images']} images)"
    return Finding(_vote(hits, 2), numbers, rows["DSD"]["note"] or "trained here",
                   "the full setting's 5-block networks (200k + 100k steps, a GPU)")


def fig14_15_rule(folder: Path) -> Finding:
    """Ours (DSD) within the tolerances of the official SRGAN on NIQE, DSD distance and Q_DSD a=4, Set5 and Set14."""
    rows = _rows(folder, "sr_metrics.csv")
    hits, total, parts = 0, 0, []
    for test_set in ("Set5", "Set14"):
        ours, gan = _sr_row(rows, test_set, OURS_DSD), _sr_row(rows, test_set, "SRGAN")
        checks = {
            "NIQE": (_float(ours["niqe"]), _float(gan["niqe"]), _float(ours["niqe"]) <= _float(gan["niqe"]) + NIQE_TOLERANCE),
            "DSD distance": (_float(ours["dsd_distance"]), _float(gan["dsd_distance"]),
                             _float(ours["dsd_distance"]) <= _float(gan["dsd_distance"]) * (1 + RELATIVE_TOLERANCE)),
            "Q_DSD a=4": (_float(ours["q_dsd_a4"]), _float(gan["q_dsd_a4"]),
                          _float(ours["q_dsd_a4"]) <= _float(gan["q_dsd_a4"]) * (1 + RELATIVE_TOLERANCE)),
        }  # fmt: skip
        hits += sum(ok for _, _, ok in checks.values())
        total += len(checks)
        parts.append(f"{test_set} ({ours['images']} images), ours vs SRGAN: " + ", ".join(
            f"{name} {a:.3g} vs {b:.3g}" for name, (a, b, _) in checks.items()
        ) + f", PSNR {_float(ours['psnr']):.2f} vs {_float(gan['psnr']):.2f} dB")
    return Finding(_vote(hits, total), f"{hits} of {total} comparable. " + "; ".join(parts),
                   _budget(*OURS_SHIPPED["sr"].values()) + "; SRGAN: about 10^6 steps on ImageNet",
                   "a network trained to the paper's 10^5 stage-2 steps (a GPU); the equal-budget row below is the "
                   "controlled test")  # fmt: skip


def _dsd_against_gan(rows: list[dict[str, str]], dsd: str, gan: str) -> tuple[int, int, list[str]]:
    """``(wins, cells, parts)``: on how many (test set, score) cells of DSD distance, NIQE and Q_DSD a=4 the row
    ``dsd`` scores at least as well as the row ``gan``, and the numbers per test set."""
    sets = list(dict.fromkeys(r["test_set"].split(",")[0] for r in rows))
    if not sets:
        raise MissingRow(f"no row of {dsd} or {gan}")
    wins, cells, parts = 0, 0, []
    for test_set in sets:
        a, b = _sr_row(rows, test_set, dsd), _sr_row(rows, test_set, gan)
        for column in ("dsd_distance", "niqe", "q_dsd_a4"):
            wins += _float(a[column]) <= _float(b[column])
            cells += 1
        parts.append(f"{a['test_set']}: DSD distance {_float(a['dsd_distance']):.3g} vs {_float(b['dsd_distance']):.3g}, "
                     f"NIQE {_float(a['niqe']):.2f} vs {_float(b['niqe']):.2f}, Q_DSD a=4 {_float(a['q_dsd_a4']):.3g} vs "
                     f"{_float(b['q_dsd_a4']):.3g}, PSNR {_float(a['psnr']):.2f} vs {_float(b['psnr']):.2f} dB")  # fmt: skip
    return wins, cells, parts


def _share_verdict(wins: int, cells: int) -> Verdict:
    """At least 3/4 of the cells: reproduced; at least 2/5: partly."""
    return "reproduced" if wins / cells >= 0.75 else "partly" if wins / cells >= 0.4 else "not reproduced"


def equal_budget_rule(folder: Path) -> Finding:
    """At equal budget, (b) + DSD scores at least as well as (c) + GAN on DSD distance, NIQE and Q_DSD a=4,
    per test set: at least 3/4 of the cells reproduced, at least 2/5 partly."""
    dsd, gan = list(ARMS)[1], list(ARMS)[2]
    wins, cells, parts = _dsd_against_gan(_rows(folder, "equal_budget.csv"), dsd, gan)
    return Finding(_share_verdict(wins, cells),
                   f"(b) + DSD at least as good as (c) + GAN in {wins} of {cells}. " + "; ".join(parts),
                   f"{ARM_STEPS} stage-2 steps each from the same stage 1 (2-core CPU, float32)",
                   "the same four runs at the cpu setting's 2,500 steps or the full setting's 10^5 (a GPU)")  # fmt: skip


def adversarial_weight_rule(folder: Path) -> Finding:
    """(b) + DSD against arm (c) with each stronger or other adversary of :data:`GAN_VARIANTS`, as
    :func:`equal_budget_rule` counts, on whole Set5 and Set14 images."""
    rows, dsd = _rows(folder, "adversarial_weight.csv"), list(ARMS)[1]
    wins, cells, parts = 0, 0, []
    for gan in list(GAN_VARIANTS)[1:]:
        won, counted, numbers = _dsd_against_gan(rows, dsd, gan)
        wins, cells = wins + won, cells + counted
        parts.append(f"against {gan}: " + "; ".join(numbers))
    return Finding(_share_verdict(wins, cells), f"(b) + DSD at least as good in {wins} of {cells}. " + ". ".join(parts),
                   f"{ARM_STEPS} stage-2 steps each from the same stage 1 (2-core CPU, float32)",
                   "the sweep at the full setting's budget (a GPU)")  # fmt: skip


def parameters_rule(folder: Path) -> Finding:
    """Our networks' exact counts within 2% of the paper's (4x SR about 1.1M, deblurring about 0.81M)."""
    sr = int(_sr_row(_rows(folder, "sr_metrics.csv"), "Set5", OURS_DSD)["parameters"])
    deblur_rows = _rows(folder, "deblur_metrics.csv")
    deblur = int(_first(deblur_rows, OURS_DSD, lambda r: r["method"] == OURS_DSD)["parameters"])
    hits = sum(abs(n - PAPER_PARAMETERS[k]) / PAPER_PARAMETERS[k] < 0.02 for k, n in (("sr", sr), ("deblur", deblur)))
    return Finding(_vote(hits, 2), f"xSRResNet 4x {sr:,} (paper about 1.1M), deblurring {deblur:,} (about 0.81M)",
                   "architecture only")  # fmt: skip


def fewer_parameters_rule(folder: Path) -> Finding:
    """Ours has fewer parameters than each GAN method with outputs here (SRGAN, ESRGAN)."""
    rows = _rows(folder, "sr_metrics.csv")
    ours = int(_sr_row(rows, "Set5", OURS_DSD)["parameters"])
    others = {m: int(_sr_row(rows, "Set14", m)["parameters"]) for m in ("SRGAN", "ESRGAN")}
    hits = sum(ours < n for n in others.values())
    return Finding(_vote(hits, len(others)), f"ours {ours:,}; " + ", ".join(f"{m} {n:,}" for m, n in others.items()),
                   "architecture only (published counts for the others)")  # fmt: skip


def fig16_rule(folder: Path) -> Finding:
    """Ours (DSD) below DeepDeblur in DSD distance on most images with a ground truth both have, and in NIQE on most
    images both have."""
    rows = _rows(folder, "deblur_metrics_per_image.csv")
    ours = {(r["test_set"], r["image"]): r for r in rows if r["method"] == OURS_DSD}
    theirs = {(r["test_set"], r["image"]): r for r in rows if r["method"] == "DeepDeblur"}
    both = sorted(set(ours) & set(theirs))
    if not both:
        raise MissingRow(f"no row of an image that both {OURS_DSD} and DeepDeblur have")
    with_truth = [k for k in both if ours[k].get("dsd_distance")]
    dsd = [(_float(ours[k]["dsd_distance"]), _float(theirs[k]["dsd_distance"])) for k in with_truth]
    niqe = [(_float(ours[k]["niqe"]), _float(theirs[k]["niqe"])) for k in both if ours[k].get("niqe")]
    dsd_wins, niqe_wins = sum(a < b for a, b in dsd), sum(a < b for a, b in niqe)
    hits = (dsd_wins > len(dsd) / 2) + (niqe_wins > len(niqe) / 2)
    numbers = (f"DSD distance lower on {dsd_wins} of {len(dsd)} images with a ground truth "
               f"({', '.join(f'{a:.2e} vs {b:.2e}' for a, b in dsd)}); NIQE lower on {niqe_wins} of {len(niqe)} "
               f"(means {sum(a for a, _ in niqe) / max(len(niqe), 1):.2f} vs {sum(b for _, b in niqe) / max(len(niqe), 1):.2f})")  # fmt: skip
    return Finding(_vote(hits, 2), numbers, _budget(*OURS_SHIPPED["deblur"].values()) + "; DeepDeblur: the official model",
                   "a deblurring network trained to the paper's budget on GoPro (a GPU), and more DeepDeblur outputs "
                   "with ground truth")  # fmt: skip


def deblurgan_rule(folder: Path) -> Finding:
    """DeblurGAN-v2 has no outputs here."""
    rows = [r for r in _rows(folder, "deblur_metrics.csv") if r["method"] == "DeblurGAN-v2"]
    scored = sum(int(r["images"]) for r in rows)
    verdict: Verdict = "not testable here" if scored == 0 else "partly"
    return Finding(verdict, f"DeblurGAN-v2 outputs on {scored} images", "-",
                   "DeblurGAN-v2's outputs on GoPro (none is published in a repository; its code is not run here)")


def q_dsd_rule(folder: Path) -> Finding:
    """With the default regressors, Q_DSD a=4 ranks the ground truth above bicubic on at least 90% of Set5+Set14
    (clean MATLAB-bicubic LR), the official SRGAN above the official SRResNet on at least 75% (the SRGAN paper's
    raters' order), and the ground truth above bicubic from a realistically degraded LR on at least 90% of BSD100
    and the regressors' ``BSDS500_test`` hold-out (check a of ``noref_checks.csv``)."""
    rows = {r["score"]: r for r in _rows(folder, "noref_agreement.csv")}
    q4 = _first(list(rows.values()), "Q_DSD a=4", lambda r: r["score"] == "q_dsd_a4")
    label = next(label for label, names in REGRESSOR_PAIRS.items() if tuple(names) == tuple(DEFAULT_REGRESSORS))
    realistic = _first(_rows(folder, "noref_checks.csv"), f"check (a) with the {label} pair",
                       lambda r: r["pair"] == label and r["check"] == "a")
    truth, official = _float(q4["gt_above_bicubic"]), _float(q4["srgan_above_srresnet"])
    hits = (truth >= 0.9) + (official >= 0.75) + (_float(realistic["q_dsd_a4"]) >= 0.9)

    def share(fraction: str, count: str) -> str:
        return f"{round(_float(fraction) * _float(count))} of {_float(count):.0f}"

    numbers = "; ".join(
        f"{r['label']}: ground truth above bicubic on {share(r['gt_above_bicubic'], r['images'])} images, "
        f"SRGAN above SRResNet on {share(r['srgan_above_srresnet'], r['official_images'])}, ground truth above "
        f"bicubic from a realistic LR on {share(realistic[r['score']], realistic['images'])}"
        for r in rows.values()
    )
    return Finding(_vote(hits, 3), numbers, "the default regressors: " + _budget(*DEFAULT_REGRESSORS),
                   "regressors trained to the paper's budget, and human opinion scores on real photographs (none "
                   "small and public enough to carry here)")  # fmt: skip


#: The scorecard's claims, in the supplement's order.
CLAIMS: tuple[Claim, ...] = (
    Claim("Fig. 11", "Matching a reference's DSD fingerprint reproduces finer details than matching its style.",
          "Fingerprint matching of a BSD100 crop: the DSD-matched results against the style-matched ones, in fine "
          "detail (|mean gradient magnitude - the reference's|) and DSD distance to the reference.",
          ("fig11_fingerprint_matching.csv",), fig11_rule),
    Claim("Fig. 12", "Minimising ||DSD_4(x)||_1 from an SR result makes it sharper and more natural at about 500 "
          "steps; by 5,000 steps artifacts appear.",
          "The trajectory from the official ESRGAN baboon, three checks: sharper at the middle shown step than at the "
          "start; closer to the ground truth's DSD there; and at the end worse again than at the middle (DSD "
          "distance up or PSNR down).", ("fig12_dsd_minimization.csv",), fig12_rule),
    Claim("Fig. 13", "The DSD loss leaves fewer grid artifacts than the style and multi-scale style losses.",
          "Mean grid-artifact score (period 4) of the three 5-block networks on the test crops.",
          ("fig13_loss_comparison.csv",), fig13_rule),
    Claim("Figs. 14-15", "Sharp, photo-realistic SR comparable with the GAN-based methods, without adversarial "
          "training.",
          f"Ours (DSD) against the official SRGAN on whole Set5 and Set14 images: NIQE within {NIQE_TOLERANCE}, "
          f"DSD distance and Q_DSD a=4 within {RELATIVE_TOLERANCE:.0%} count as comparable.",
          ("sr_metrics.csv",), fig14_15_rule),
    Claim("Figs. 14-15 (controlled)", "The same claim at equal budget: the DSD term does at least as well as an "
          "adversarial term.",
          "Stage 2 from one stage 1 with L1 + perceptual + DSD vs + GAN (SRGAN's loss and weight), same steps: "
          "DSD distance, NIQE and Q_DSD a=4 on Set5, Set14 and BSD100. Caveat: at SRGAN's weight 1e-3 the GAN term "
          "is under 1% of this loss (its perceptual term is conv3_1 L1) and the critic wins from step 100, so (c) "
          "stays near (a); the next row tests a stronger adversary.",
          ("equal_budget.csv",), equal_budget_rule),
    Claim("Figs. 14-15 (controlled)", "... also against stronger adversarial terms and a relativistic critic.",
          "The same comparison with arm (c) at 10 and 100 times SRGAN's adversarial weight (at 1e-1 the GAN term is "
          "4-9% of the loss from step 50 on) and with ESRGAN's relativistic loss at 1e-1, same stage 1 and steps, "
          "on whole Set5 and Set14 images.",
          ("adversarial_weight.csv",), adversarial_weight_rule),
    Claim("Figs. 14-15", "With fewer parameters than the GAN-based methods.",
          "Exact parameter count of ours against the published counts of SRGAN and ESRGAN.",
          ("sr_metrics.csv",), fewer_parameters_rule),
    Claim("Fig. 16", "Deblurring sharper and more natural than DeepDeblur.",
          "Ours (DSD) against the official DeepDeblur outputs on the images both have: lower DSD distance on most "
          "images with a ground truth, lower NIQE on most images.", ("deblur_metrics_per_image.csv",), fig16_rule),
    Claim("Fig. 16", "... and than DeblurGAN-v2.", "DeblurGAN-v2's outputs, where any are in the data folder.",
          ("deblur_metrics.csv",), deblurgan_rule),
    Claim("Tables 4-5", "xSRResNet has about 1.1M parameters (4x SR) and 0.81M (deblurring).",
          "Exact counts of our networks (within 2%).", ("sr_metrics.csv", "deblur_metrics.csv"), parameters_rule),
    Claim("Eq. 5", "Q_DSD ranks natural images as more natural than restored ones.",
          "With the default regressors, Q_DSD a=4 ranks the ground truth above bicubic (clean MATLAB-bicubic LR) on "
          "at least 90% of Set5+Set14, the official SRGAN above the official SRResNet on at least 75% (the SRGAN "
          "paper's raters' order), and the ground truth above bicubic from a realistically degraded LR (blur, noise, "
          "JPEG) on at least 90% of BSD100 and 50 unseen BSDS500 images. Real low-resolution photographs are not "
          "tested here.", ("noref_agreement.csv", "noref_checks.csv"), q_dsd_rule),
)  # fmt: skip


def scorecard(folder: str | Path) -> list[tuple[Claim, Finding]]:
    """Every claim of :data:`CLAIMS` with its finding from the CSVs in ``folder`` (a missing CSV, or a CSV
    without the rows a rule reads, as a smoke-size run writes: not testable)."""
    folder = Path(folder)
    out = []
    for claim in CLAIMS:
        missing = [name for name in claim.files if _source(folder, name) is None]
        if missing:
            finding = Finding("not testable here", f"missing {', '.join(missing)}", "-",
                              f"`dsdviz figures` for the recipes that write {', '.join(missing)}")  # fmt: skip
        else:
            try:
                finding = claim.rule(folder)
            except MissingRow as gap:  # e.g. the smoke size scores one Set5 image (a KeyError stays a bug)
                finding = Finding("not testable here", f"{', '.join(claim.files)}: {gap}", "-",
                                  f"`dsdviz figures` at the quick or full size for {', '.join(claim.files)}")  # fmt: skip
        out.append((claim, finding))
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def claims_markdown(findings: list[tuple[Claim, Finding]]) -> str:
    """``figures/claims.md``: a summary count, then one row per claim."""
    counts = {v: sum(f.verdict == v for _, f in findings) for v in VERDICTS}
    lines = [
        "# The paper's claims, tested here",
        "",
        "Regenerated by `dsdviz figures --only claims` from the CSVs in this folder (no network is run); "
        "`tests/test_claims.py` recomputes every verdict. Verdicts: "
        + ", ".join(f"{n} {v}" for v, n in counts.items()) + ".",
        "",
        "| where | claim | measured here | numbers | budget | verdict | what would settle it |",
        "|---|---|---|---|---|---|---|",
    ]
    for claim, finding in findings:
        settle = finding.settle if finding.verdict in ("not reproduced", "not testable here", "partly") else ""
        cells = (claim.where, claim.claim, claim.test, finding.numbers, finding.budget, f"**{finding.verdict}**", settle)
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def claims_figure(quick: bool, out_dir: Path) -> list[Path]:
    """``claims.md`` from the CSVs in ``out_dir`` (the ``dsdviz figures`` recipe; the same in quick and full)."""
    path = Path(out_dir) / "claims.md"
    path.write_text(claims_markdown(scorecard(out_dir)))
    return [path]


__all__ = ["CLAIMS", "VERDICTS", "Claim", "Finding", "claims_figure", "claims_markdown", "scorecard"]
