"""``socialcredit rulebook list | show | lint | test``."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from socialcredit.cli import app
from socialcredit.rulebooks import builtin_rulebooks

runner = CliRunner()
FIXTURES = Path(__file__).with_name("fixtures") / "rulebooks"


def flat(text: str) -> str:
    """Output with rich's line wrapping undone (all whitespace runs become one space)."""
    return " ".join(text.split())


def test_list_shows_id_jurisdiction_versions_and_score_model() -> None:
    result = runner.invoke(app, ["rulebook", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["id"]: r for r in json.loads(result.stdout)}
    assert set(rows) == set(builtin_rulebooks())
    assert rows["national"]["score_models"] == "none"
    assert rows["rongcheng"]["jurisdiction"] == "Rongcheng"
    assert rows["rongcheng"]["extends"] == ["national"]
    assert rows["rongcheng"]["score_models"].startswith("points")
    assert [v["id"] for v in rows["rongcheng"]["versions"]] == ["2016", "2018", "2021"]
    text = runner.invoke(app, ["rulebook", "list"])
    assert text.exit_code == 0 and "rongcheng" in text.stdout


def test_show_rongcheng_prints_model_grades_areas_citations_lists_measures() -> None:
    result = runner.invoke(app, ["rulebook", "show", "rongcheng"])
    assert result.exit_code == 0, result.output
    out = flat(result.stdout)
    expected = {
        "model": ["points model for person", "base 1000", "consent"],
        "grades": ["AAA", "1050", "UNVERIFIED"],
        "areas": ["Commercial integrity", "Social integrity", "Judicial credibility"],
        "rules with points": ["-20 per event", "loan_arrears", "grade at most C"],
        "citations": ["cites rc_standard: commercial / contracts; facts 1.3"],
        "lists": ["black list judgment_defaulters", "delisted within 3 working days"],
        "measures": ["deny travel.flight", "reward government.green_channel"],
    }
    for what, needles in expected.items():
        for needle in needles:
            assert needle in out, f"{what}: {needle!r} missing"


def test_show_json_on_a_date() -> None:
    result = runner.invoke(app, ["rulebook", "show", "rongcheng", "--on", "2017-06-01", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["version"]["label"] == "2016 + national 2017"
    assert [s["id"] for s in data["scores"]] == ["person_points"]
    assert data["rules_by_area"]["commercial"][0]["citation"].startswith("rc_standard")
    assert {m["id"] for m in data["measures"]} >= {"d_loan_restricted", "hs_travel"}


def test_show_national_says_there_is_no_score() -> None:
    result = runner.invoke(app, ["rulebook", "show", "national"])
    assert result.exit_code == 0, result.output
    assert "No score" in result.stdout


def test_show_unknown_or_broken_rulebook_fails() -> None:
    assert runner.invoke(app, ["rulebook", "show", "atlantis"]).exit_code == 2
    broken = runner.invoke(app, ["rulebook", "show", str(FIXTURES / "bad_type.yaml")])
    assert broken.exit_code == 1
    bad_date = runner.invoke(app, ["rulebook", "show", "national", "--on", "soon"])
    assert bad_date.exit_code == 2


def test_lint_builtins_is_clean() -> None:
    result = runner.invoke(app, ["rulebook", "lint"])
    assert result.exit_code == 0, result.output
    assert "clean" in result.stdout


def test_lint_malformed_exits_1_with_file_line_field() -> None:
    path = FIXTURES / "unknown_category.yaml"
    result = runner.invoke(app, ["rulebook", "lint", str(path)])
    assert result.exit_code == 1
    assert f"{path.name}:18: rules[0].category: unknown record category" in result.stdout
    as_json = runner.invoke(app, ["rulebook", "lint", "--json", str(FIXTURES)])
    assert as_json.exit_code == 1
    data = json.loads(as_json.stdout)
    assert not data["ok"] and all(
        {"file", "line", "field", "problem", "fix"} <= set(p) for p in data["problems"]
    )


def test_test_command_checks_builtin_cases() -> None:
    result = runner.invoke(app, ["rulebook", "test", "--shape-only", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["ok"] and data["mode"] == "shape"
    assert {r["rulebook"] for r in data["results"]} == set(builtin_rulebooks())
    text = runner.invoke(app, ["rulebook", "test", "--shape-only", "rongcheng"])
    assert text.exit_code == 0 and "0 failing" in text.stdout


def test_test_command_reports_a_malformed_case_file() -> None:
    result = runner.invoke(app, ["rulebook", "test", "--shape-only", str(FIXTURES / "cases")])
    assert result.exit_code == 1
    out = flat(result.stdout)
    assert "bad_field.cases.yaml:10: cases[0].expected: unknown field" in out
    assert "cases[1].records[0].category" in out


def test_vocabulary_listings() -> None:
    cats = runner.invoke(app, ["categories", "list", "--json", "--area", "judicial"])
    assert cats.exit_code == 0, cats.output
    rows = json.loads(cats.stdout)
    assert rows and {r["area"] for r in rows} == {"judicial"}
    acts = runner.invoke(app, ["actions", "list", "--json"])
    assert acts.exit_code == 0, acts.output
    assert {"id": "travel.flight", "department": "civil_aviation"}.items() <= next(
        r for r in json.loads(acts.stdout) if r["id"] == "travel.flight"
    ).items()
    assert runner.invoke(app, ["categories", "list"]).exit_code == 0
    assert runner.invoke(app, ["actions", "list"]).exit_code == 0
