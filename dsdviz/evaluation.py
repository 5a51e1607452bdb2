"""Scoring folders of method outputs against a test set: the metrics tables of supplementary Figs. 14-16.

:func:`metrics_table` scores, for each method, the images ``<folder>/<name>.<ext>`` against
``<reference>/<name>.<ext>`` with every metric of :mod:`dsdviz.metrics`: PSNR and SSIM
(Y channel, border shaved by the scale, 8-bit images), the full-reference DSD distance and,
for each given regressor, the no-reference Q_DSD. A method scores the test images it has;
one without any says so ("n/a (outputs not available)") instead of disappearing from the
table, and one with only some of them says how many. With ``reference_row``, a first row
scores the ground truth itself with Q_DSD: the value natural images get, against which a
no-reference score is read. :func:`write_tables` saves one or more tables as markdown and
CSV with the protocol beside the numbers.

Example (your own methods' folders)::

    from dsdviz.evaluation import metrics_table, write_tables
    from dsdviz.models import load_model

    psi = [load_model("dsd_regressor_a2_cpu")]  # shipped with the package
    table = metrics_table({"mine": "out/mine", "theirs": "out/theirs"}, "Set14/HR", test_set="Set14",
                          shave=4, regressors=psi, reference_row="ground truth")
    print(table.to_markdown())
"""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from torch import nn
from tqdm.auto import tqdm

from .formats import format_params
from .data import IMAGE_SUFFIXES, list_images, load_image
from .scores import default_scores, protocol_text, score_of
from .scoring import Scorer

#: Parameter counts of other methods as published (the DSD paper's Figs. 14-16; RCAN: Zhang et al.,
#: ECCV 2018; RCAN+ is RCAN with self-ensemble). The third-party SRGAN re-implementation uses
#: SRGAN's generator (16 residual blocks, 64 channels), hence SRGAN's count.
PUBLISHED_PARAMETERS: dict[str, int] = {
    "SRResNet": 1_540_000,
    "SRGAN": 1_540_000,
    "SRGAN (re-impl., brade31919)": 1_540_000,
    "ESRGAN": 16_700_000,
    "RCAN": 15_600_000,
    "RCAN+": 15_600_000,
    "DeepDeblur": 11_720_000,
    "DeblurGAN-v2": 60_930_000,
}

MISSING = "n/a (outputs not available)"
#: The note of a table's ground-truth row (``metrics_table(..., reference_row=...)``).
REFERENCE_NOTE = "the ground truth itself: how natural images score (no-reference columns only)"

@dataclass(frozen=True)
class MethodScores:
    """One row of a :class:`MetricsTable`: a method's mean scores over the test images it has.

    Attributes:
        method: the method's name.
        params: parameter count (``None``: unknown).
        scored: how many test images the method has (and were scored).
        total: images in the test set.
        means: ``{"psnr", "ssim", "dsd_distance", "q_dsd_a<alpha>", ...: mean}``; empty when ``scored == 0``
            (the ground-truth row has only the no-reference ``q_dsd_a*`` columns).
        is_reference: the row of the ground-truth images themselves (``metrics_table``'s ``reference_row``).
    """

    method: str
    params: int | None
    scored: int
    total: int
    means: dict[str, float]
    is_reference: bool = False

    @property
    def note(self) -> str:
        """``"n/a (outputs not available)"``, ``"scored on 2 of 14 images"``, the ground-truth remark or ``""``."""
        if self.is_reference:
            return REFERENCE_NOTE
        if self.scored == 0:
            return MISSING
        if self.scored < self.total:
            return f"scored on {self.scored} of {self.total} images"
        return ""


@dataclass
class MetricsTable:
    """Scores of several methods on one test set; :meth:`to_markdown`, :meth:`csv_rows`.

    Attributes:
        test_set: its name, e.g. ``"Set14"``.
        rows: one :class:`MethodScores` per method, in the given order.
        per_image: ``{"method", "image", <scores>}`` for every scored image.
        names: the test images (file stems).
        protocol: how the numbers were computed.
        columns: the score columns, e.g. ``["psnr", "ssim", "dsd_distance", "q_dsd_a2"]``.
        reference_row: the method name of the ground-truth row, if the table has one.
    """

    test_set: str
    rows: list[MethodScores]
    per_image: list[dict[str, float | str]]
    names: list[str]
    protocol: str
    columns: list[str] = field(default_factory=list)
    reference_row: str | None = None

    def row(self, method: str) -> MethodScores:
        """The row of ``method``."""
        for row in self.rows:
            if row.method == method:
                return row
        raise ValueError(f"no method {method!r} in the {self.test_set} table; it has {[r.method for r in self.rows]}")

    def to_markdown(self) -> str:
        """A markdown table (heading, one line per method); arrows mark the better direction."""
        headers = ["method", "parameters", "images", *(_header(c) for c in self.columns), "note"]
        lines = [
            f"### {self.test_set} ({len(self.names)} images)",
            "",
            "| " + " | ".join(headers) + " |",
            "|" + "---|" * len(headers),
        ]
        for row in self.rows:
            params = "–" if row.is_reference else "?" if row.params is None else format_params(row.params)
            cells = [row.method, params, f"{row.scored}/{row.total}"]
            if row.scored == 0:
                cells += ["n/a"] * len(self.columns)
            else:
                cells += [format(row.means[c], _format(c)) if c in row.means else "–" for c in self.columns]
            lines.append("| " + " | ".join([*cells, row.note]) + " |")
        return "\n".join(lines)

    def subset(self, names: Sequence[str], test_set: str) -> MetricsTable:
        """The same table over some of its images, from the per-image scores (nothing is scored again)."""
        unknown = sorted(set(names) - set(self.names))
        if unknown:
            raise ValueError(f"subset: {unknown} are not images of the {self.test_set} table")
        chosen = [entry for entry in self.per_image if entry["image"] in set(names)]
        params = {row.method: row.params for row in self.rows}
        rows = _method_rows(params, chosen, len(names), self.columns, self.reference_row)
        return MetricsTable(test_set, rows, chosen, list(names), self.protocol, self.columns, self.reference_row)

    def csv_rows(self) -> list[dict[str, float | int | str]]:
        """One dict per method: test set, method, parameters, images, total, the scores, note, protocol."""
        return [
            {
                "test_set": self.test_set, "method": row.method, "parameters": "" if row.params is None else row.params,
                "images": row.scored, "total": row.total,
                **{c: row.means.get(c, "") for c in self.columns}, "note": row.note, "protocol": self.protocol,
            }  # fmt: skip
            for row in self.rows
        ]


def _header(column: str) -> str:
    """A column's header with its direction, from the registry (:meth:`dsdviz.scores.Score.header`)."""
    score, alpha = score_of(column)
    return score.header(alpha)


def _format(column: str) -> str:
    return score_of(column)[0].format


def _method_rows(
    params: Mapping[str, int | None],
    per_image: Sequence[dict[str, float | str]],
    total: int,
    columns: Sequence[str],
    reference_row: str | None = None,
) -> list[MethodScores]:
    """One :class:`MethodScores` per method of ``params`` (in its order): means of its per-image scores
    (of the columns its entries have: the ground-truth row has only the no-reference ones)."""
    rows = []
    for method, count in params.items():
        mine = [entry for entry in per_image if entry["method"] == method]
        means = {c: float(np.mean([entry[c] for entry in mine])) for c in columns if mine and c in mine[0]}
        rows.append(MethodScores(method, count, len(mine), total, means, is_reference=method == reference_row))
    return rows


def _images_by_name(folder: str | os.PathLike | None) -> dict[str, Path]:
    """``{stem: path}`` of the images in ``folder``; empty when the folder is ``None`` or does not exist."""
    if folder is None or not Path(folder).is_dir():
        return {}
    return {path.stem: path for path in Path(folder).iterdir() if path.suffix.lower() in IMAGE_SUFFIXES}


def _check_request(
    methods: Mapping[str, object], reference: object, regressors: Sequence[nn.Module], reference_row: str | None
) -> None:
    """:func:`metrics_table`'s checks of what it is asked: scores it can compute, a ground-truth row it can fill."""
    if reference is None and not regressors:
        raise ValueError("metrics_table: without a reference folder only Q_DSD can be computed; give regressors")
    if reference_row is not None:
        if reference is None or not regressors:
            raise ValueError("metrics_table: a reference_row scores the ground truth with Q_DSD; it needs the "
                             "reference folder and regressors")  # fmt: skip
        if reference_row in methods:
            raise ValueError(f"metrics_table: reference_row {reference_row!r} is also the name of a method")


def _test_names(
    found: Mapping[str, Mapping[str, Path]], reference: str | os.PathLike | None, targets: Mapping[str, Path],
    names: Sequence[str] | None,
) -> list[str]:  # fmt: skip
    """The test images of a table: ``names``, or every image of ``reference`` (``targets``: its ``{stem: path}``),
    or of the first method folder that has images (``found``: ``{method: {stem: path}}``); each with its ground
    truth when there is a ``reference``."""
    if names is None:
        if reference is not None:
            names = sorted(targets)
        else:
            existing = [images for images in found.values() if images]
            if not existing:
                raise ValueError("metrics_table: no method folder holds any image")
            names = sorted(existing[0])
    names = list(names)
    if not names:
        raise ValueError("metrics_table: no test images")
    missing = [name for name in names if reference is not None and name not in targets]
    if missing:
        raise ValueError(f"metrics_table: no ground truth for {missing} in {str(reference)!r}")
    return names


def _score_images(
    scorer: Scorer, found: Mapping[str, Mapping[str, Path]], targets: Mapping[str, Path] | None,
    names: Sequence[str], reference_row: str | None, desc: str, progress: bool,
) -> list[dict[str, float | str]]:  # fmt: skip
    """One row of scores per (method, image) that ``found`` (``{method: {name: path}}``) holds, grouped by
    image: each ground truth (``targets``: ``{stem: path}``, ``None`` without one) is loaded and fingerprinted
    once (and is the ``reference_row``'s image)."""
    reference, current = targets is not None, None
    jobs = [(method, name) for name in names for method in found if name in found[method]]
    per_image: list[dict[str, float | str]] = []
    for method, name in tqdm(jobs, desc=desc, disable=not progress):
        if reference and name != current:
            scorer.set_reference(load_image(targets[name]))
            current = name
        image = scorer.reference if method == reference_row else load_image(found[method][name])
        if reference and scorer.reference.shape != image.shape:
            raise ValueError(
                f"{method}: {found[method][name].name} is {tuple(image.shape[-2:])} px but its ground truth "
                f"{tuple(scorer.reference.shape[-2:])} px"
            )
        per_image.append({"method": method, "image": name, **scorer(image, full_reference=method != reference_row)})
    return per_image


def _table_protocol(
    full_reference: bool, shave: int, y_channel: bool, grid_period: int | None, regressors: Sequence[nn.Module]
) -> str:
    """The protocol line of a metrics table."""
    protocol = protocol_text(shave, y_channel) if full_reference else "no reference"
    if grid_period is not None and full_reference:
        protocol += f"; grid artifacts: dsdviz.artifacts.grid_artifact_score of the error, period {grid_period} px (dB)"
    if regressors:
        protocol += "; Q_DSD regressors trained for alpha " + ", ".join(f"{psi.alpha:g}" for psi in regressors)
    return protocol + "; means over the test images each method has"


def metrics_table(
    methods: Mapping[str, str | os.PathLike | None],
    reference: str | os.PathLike | None,
    *,
    test_set: str = "",
    names: Sequence[str] | None = None,
    shave: int = 4,
    regressors: Sequence[nn.Module] = (),
    params: Mapping[str, int | None] | None = None,
    y_channel: bool = True,
    reference_row: str | None = None,
    progress: bool = True,
    grid_period: int | None = None,
) -> MetricsTable:
    """Score each method's output folder on a test set.

    Args:
        methods: ``{method: folder}`` in display order; a folder may be ``None`` or absent
            (the method's row then says "n/a (outputs not available)").
        reference: folder of ground-truth images; ``None`` for a no-reference table
            (Q_DSD only, then ``regressors`` are needed).
        test_set: name shown in the table.
        names: test image stems (default: every image of ``reference``, or without it of
            the first method folder that exists).
        shave: border removed for PSNR/SSIM (the SR scale; 0 for deblurring).
        regressors: trained DSD regressors (e.g. the shipped ``load_model("dsd_regressor_a2_cpu")``),
            one Q_DSD column each.
        params: ``{method: parameter count}`` (default: :data:`PUBLISHED_PARAMETERS`).
        y_channel: PSNR/SSIM on the luma (default) or on RGB.
        reference_row: if given, a first row of that name scores the ground-truth images
            themselves with the no-reference columns (Q_DSD), the yardstick a no-reference
            score is read against (how natural images score); its full-reference cells are
            "–". Needs ``reference`` and ``regressors``.
        progress: show a progress bar.
        grid_period: also score grid artifacts of the error at this period (px; 4 for 4x SR), see
            :class:`dsdviz.scoring.Scorer`.

    Returns:
        A :class:`MetricsTable`; means are over the images each method has.

    Raises:
        ValueError: no reference and no regressor, no test images, an output whose size
            differs from its ground truth, or a ``reference_row`` without reference and
            regressors or named like a method.
    """
    _check_request(methods, reference, regressors, reference_row)
    params = PUBLISHED_PARAMETERS if params is None else params
    # each folder is listed once; a reference folder that is missing or holds no image is an error here
    targets = {} if reference is None else {path.stem: path for path in list_images(reference)}
    found = {method: _images_by_name(folder) for method, folder in methods.items()}
    names = _test_names(found, reference, targets, names)
    chosen = None if grid_period is None else (*default_scores(), "grid_artifacts")
    scorer = Scorer(regressors, scores=chosen, shave=shave, y_channel=y_channel, grid_period=grid_period)
    columns = scorer.columns(full_reference=reference is not None)
    if reference_row is not None:
        found = {reference_row: targets, **found}
    per_image = _score_images(scorer, found, None if reference is None else targets, names, reference_row,
                              f"scoring {test_set}".strip(), progress)  # fmt: skip
    counts = {method: None if method == reference_row else params.get(method) for method in found}
    rows = _method_rows(counts, per_image, len(names), columns, reference_row)
    protocol = _table_protocol(reference is not None, shave, y_channel, grid_period, regressors)
    return MetricsTable(test_set, rows, per_image, names, protocol, columns, reference_row)


def write_tables(
    tables: Sequence[MetricsTable], path: str | os.PathLike, *, title: str, notes: Sequence[str] = ()
) -> list[Path]:
    """Save tables as ``<path>.md`` (title, notes, one table per test set, protocol), ``<path>.csv``
    (one row per method and test set, with the protocol) and ``<path>_per_image.csv``.

    ``path`` is given without suffix (a ``.md`` or ``.csv`` suffix is dropped).

    Returns:
        The three paths written.
    """
    path = Path(path)
    if path.suffix in (".md", ".csv"):
        path = path.with_suffix("")
    path.parent.mkdir(parents=True, exist_ok=True)
    protocols = list(dict.fromkeys(table.protocol for table in tables))
    parts = [f"# {title}", "", *[f"- {note}" for note in notes], ""]
    for table in tables:
        parts += [table.to_markdown(), ""]
    parts += ["Protocol: " + " | ".join(protocols), ""]
    markdown = path.with_suffix(".md")
    markdown.write_text("\n".join(parts))
    summary = path.with_suffix(".csv")
    rows = [row for table in tables for row in table.csv_rows()]
    write_csv(summary, rows)
    detail = path.with_name(f"{path.name}_per_image.csv")
    write_csv(detail, [
        {"test_set": table.test_set, "method": entry["method"], "image": entry["image"],
         **{c: entry.get(c, "") for c in table.columns}}
        for table in tables for entry in table.per_image
    ])  # fmt: skip
    return [markdown, summary, detail]


def write_csv(path: str | os.PathLike, rows: Sequence[Mapping[str, object]]) -> Path:
    """Write dict rows as a CSV (the union of their keys as columns, in order of appearance); returns the path."""
    fields = list(dict.fromkeys(key for row in rows for key in row))
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, restval="")
        writer.writeheader()
        writer.writerows(rows)
    return Path(path)


def read_csv(path: str | os.PathLike) -> list[dict[str, str]]:
    """The rows of a CSV written by :func:`write_csv` (values as strings)."""
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))
