"""The claims scorecard (dsdviz.experiments.claims): every verdict recomputed from the stored CSVs, and the rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsdviz.evaluation import write_csv
from dsdviz.experiments.claims import CLAIMS, VERDICTS, Finding, claims_markdown, fig13_rule, scorecard
from dsdviz.experiments.settings import FULL_RUN_TABLES, table_stem

FIGURES = Path(__file__).resolve().parents[1] / "figures"


def test_the_stored_scorecard_equals_the_one_recomputed_from_the_stored_csvs():
    findings = scorecard(FIGURES)
    assert (FIGURES / "claims.md").read_text() == claims_markdown(findings)
    assert len(findings) == len(CLAIMS) and all(f.verdict in VERDICTS for _, f in findings)
    for claim, finding in findings:
        assert finding.numbers and finding.budget, claim.claim
        if finding.verdict in ("not reproduced", "not testable here"):
            assert finding.settle, f"{claim.where}: a negative verdict must say what would test it"


def test_every_claim_reads_only_stored_csvs():
    assert all(name.endswith(".csv") and (FIGURES / name).is_file() for claim in CLAIMS for name in claim.files)


def fig13_rows(dsd: float, style: float, multiscale: float) -> list[dict[str, object]]:
    return [{"test_set": "Set5", "method": m, "images": 5, "grid_mean": v, "note": "trained for a test"}
            for m, v in (("DSD", dsd), ("style", style), ("multi-scale style", multiscale))]  # fmt: skip


@pytest.mark.parametrize(
    ("scores", "verdict"),
    [((1.0, 2.0, 3.0), "reproduced"), ((2.5, 2.0, 3.0), "partly"), ((4.0, 2.0, 3.0), "not reproduced")],
)
def test_fig13_rule_reads_the_mean_grid_scores(tmp_path, scores, verdict):
    write_csv(tmp_path / "fig13_loss_comparison.csv", fig13_rows(*scores))
    finding = fig13_rule(tmp_path)
    assert finding.verdict == verdict and f"DSD {scores[0]:.2f} dB" in finding.numbers
    assert finding.budget == "trained for a test"


def test_a_missing_csv_is_not_testable_and_says_what_would_make_it(tmp_path):
    write_csv(tmp_path / "fig13_loss_comparison.csv", fig13_rows(1.0, 2.0, 3.0))
    findings = dict((claim.where + claim.claim, f) for claim, f in scorecard(tmp_path))
    verdicts = [f.verdict for f in findings.values()]
    assert verdicts.count("reproduced") == 1 and verdicts.count("not testable here") == len(CLAIMS) - 1
    missing = next(f for f in findings.values() if f.verdict == "not testable here")
    assert missing.numbers.startswith("missing ") and "dsdviz figures" in missing.settle


def test_a_csv_without_the_rows_a_rule_reads_is_not_testable(tmp_path):
    write_csv(tmp_path / "sr_metrics.csv", [{"test_set": "Set5", "method": "bicubic", "parameters": 0}])
    findings = {claim.claim: f for claim, f in scorecard(tmp_path) if claim.files == ("sr_metrics.csv",)}
    assert findings and all(f.verdict == "not testable here" and "no row of" in f.numbers for f in findings.values())


def test_the_tables_stored_from_a_full_run_and_their_quick_names():
    for name in FULL_RUN_TABLES:  # make figures (quick) wrote the one, dsdviz figures --full the other
        assert table_stem(name, quick=False) == name and table_stem(name, quick=True) == f"{name}_quick"
        assert (FIGURES / f"{name}.csv").is_file() and (FIGURES / f"{name}_quick.csv").is_file()
    with pytest.raises(ValueError, match="'sr_metrics' is not one of the tables stored from a full run"):
        table_stem("sr_metrics", quick=True)


def test_without_the_full_equal_budget_table_the_quick_one_is_read(tmp_path):
    (tmp_path / "equal_budget_quick.csv").write_text((FIGURES / "equal_budget_quick.csv").read_text())
    (finding,) = [f for claim, f in scorecard(tmp_path) if claim.files == ("equal_budget.csv",)]
    assert finding.verdict in VERDICTS[:3] and "BSD100, first 10 of 100 images: DSD distance" in finding.numbers
    (stored,) = [f for claim, f in scorecard(FIGURES) if claim.files == ("equal_budget.csv",)]
    assert "BSD100: DSD distance" in stored.numbers  # the stored full run, all 100 images, comes first


def test_without_the_full_noref_tables_the_quick_ones_are_read(tmp_path):
    for name in ("noref_agreement_quick.csv", "noref_checks_quick.csv"):
        (tmp_path / name).write_text((FIGURES / name).read_text())
    files = ("noref_agreement.csv", "noref_checks.csv")
    (finding,) = [f for claim, f in scorecard(tmp_path) if claim.files == files]
    assert finding.verdict in VERDICTS[:3] and "from a realistic LR on" in finding.numbers
    assert finding.numbers.endswith(" of 10")  # the first 5 of BSD100 and of the hold-out
    (stored,) = [f for claim, f in scorecard(FIGURES) if claim.files == files]
    assert stored.numbers.endswith(" of 150")  # the stored full run checks all 150 images


def test_csvs_with_no_rows_make_every_claim_not_testable_and_nothing_crashes(tmp_path):
    for name in {name for claim in CLAIMS for name in claim.files}:  # the stored headers, no row
        (tmp_path / name).write_text((FIGURES / name).read_text().splitlines()[0] + "\n")
    findings = scorecard(tmp_path)
    assert [f.verdict for _, f in findings] == ["not testable here"] * len(CLAIMS)
    assert all("no row of" in f.numbers or "on 0 images" in f.numbers for _, f in findings)


def test_markdown_escapes_cells_and_counts_verdicts():
    claim = CLAIMS[0]
    text = claims_markdown([(claim, Finding("partly", "a | b", "1 step", "more steps"))])
    assert "a \\| b" in text and "0 reproduced, 1 partly" in text and "| **partly** | more steps |" in text
