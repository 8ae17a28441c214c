"""The newer rulebook format: fines, rules on several categories, measures on score thresholds and
a rulebook's status and end — lint errors with file, line, field and fix; what the engine makes
of them in the converted built-ins (Shanghai honking, Jinan's dog licence, Sesame, Suining);
``rulebook show``."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from socialcredit.cli import app
from socialcredit.engine import Engine
from socialcredit.engine.cases import case_records, case_registry
from socialcredit.records import records_table
from socialcredit.registry import Registry
from socialcredit.rulebooks import lint, load_rulebook
from socialcredit.rulebooks.cases import load_cases
from socialcredit.rulebooks.summary import summarise

runner = CliRunner()

HEAD = """\
id: x
title: X
jurisdiction: Generic City
{header}
sources:
  s: {{title: T, publisher: P, date: "2020", url: "https://example.org", confidence: M}}
versions:
  - {{id: a, effective: 2020-01-01, summary: s, source: s}}
scores:
  - id: pts
    label: P
    model: points
    subject_kinds: [person]
    base: 100
    source: s
    grades: [{{grade: A, min: 90}}, {{grade: B}}]
  - id: tier
    label: T
    model: tiers
    subject_kinds: [person]
    source: s
    tiers: [{{grade: any}}]
"""


def write(tmp_path: Path, body: str, header: str = "") -> Path:
    path = tmp_path / "x.yaml"
    path.write_text(HEAD.format(header=header) + textwrap.dedent(body), "utf-8")
    return path


def line_with(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


# ------------------------------------------------------------------ lint


@pytest.mark.parametrize(
    ("body", "header", "needle", "field", "words"),
    [
        (
            "rules:\n  - {id: r, label: r, category: traffic.ticket, categories: [traffic.red_light],"
            " points: -1, source: s}\n",
            "",
            "id: r,",
            "rules[0].categories",
            "exactly one input",
        ),
        (
            "rules:\n  - id: r\n    label: r\n    categories:\n      - traffic.ticket\n"
            "      - traffic.jaywalk\n    points: -1\n    source: s\n",
            "",
            "traffic.jaywalk",
            "rules[0].categories[1]",
            "unknown record category",
        ),
        (
            "rules:\n  - id: r\n    label: r\n    categories: [traffic.ticket, social.volunteering]\n"
            "    points: -1\n    source: s\n",
            "",
            "categories: [",
            "rules[0].categories",
            "mix trust-breaking and trust-keeping",
        ),
        (
            "rules:\n  - id: r\n    label: r\n    category: traffic.honking\n"
            "    fine: {yuan: 200, steps: [2]}\n    source: s\n",
            "",
            "fine:",
            "rules[0].fine.steps",
            "has none",
        ),
        (
            "rules:\n  - id: r\n    label: r\n    category: traffic.honking\n"
            "    escalation: {steps: [-1, -2]}\n    fine:\n      yuan: 200\n      steps: [3]\n"
            "    source: s\n",
            "",
            "steps: [3]",
            "rules[0].fine.steps[0]",
            "outside the escalation's steps 1..2",
        ),
        (
            "rules:\n  - id: r\n    label: r\n    category: traffic.honking\n"
            "    fine:\n      yuan: 500\n      max_yuan: 200\n    source: s\n",
            "",
            "max_yuan: 200",
            "rules[0].fine.max_yuan",
            "below yuan",
        ),
        (
            "rules:\n  - id: r\n    label: r\n    category: traffic.honking\n"
            "    fine: {yuan: nothing}\n    source: s\n",
            "",
            "fine:",
            "rules[0].fine.yuan",
            "valid number",
        ),
        (
            "measures:\n  - id: m\n    on: {score_at_least: 650}\n    effect: reward\n"
            "    action: rental.deposit_free\n    source: s\n",
            "",
            "score_at_least: 650",
            "measures[0].on.score",
            "needs the `score`",
        ),
        (
            "measures:\n  - id: m\n    on: {score_at_least: 650, score: tier}\n    effect: reward\n"
            "    action: rental.deposit_free\n    source: s\n",
            "",
            "score: tier",
            "measures[0].on.score",
            "tiers model",
        ),
        (
            "measures:\n  - id: m\n    on: {score_at_least: 90, score_below: 80, score: pts}\n"
            "    effect: reward\n    action: rental.deposit_free\n    source: s\n",
            "",
            "score_below: 80",
            "measures[0].on.score_below",
            "the band is empty",
        ),
        (
            "measures:\n  - id: m\n    on: {grade: [A], score_at_least: 90, score: pts}\n"
            "    effect: reward\n    action: rental.deposit_free\n    source: s\n",
            "",
            "grade: [A]",
            "measures[0].on",
            "exactly one of `list`, `grade` or a score threshold",
        ),
        ("", "status: ended", "status: ended", "status", "needs the day it ended"),
        ("", "ended: {on: 2021-01-01, source: s}", "ended:", "ended", "`status` is 'active'"),
        (
            "",
            "status: ended\nended: {on: 2019-01-01, source: s}",
            "ended:",
            "ended.on",
            "before its first version",
        ),
        ("", "status: ended\nended: 2021-01-01", "ended:", "ended", "no citation"),
        ("", "status: finished", "status:", "status", "Input should be"),
    ],
)
def test_new_format_problems_name_line_field_and_fix(
    tmp_path: Path, body: str, header: str, needle: str, field: str, words: str
) -> None:
    path = write(tmp_path, body, header)
    errors = lint([path])
    assert errors, "expected a problem"
    err = next((e for e in errors if e.field == field), errors[0])
    assert (err.field, err.line) == (field, line_with(path, needle)), [str(e) for e in errors]
    assert words in err.problem
    assert err.fix


def test_the_new_fields_lint_clean_together(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        rules:
          - id: offences
            label: Offences of two types, counted together
            categories: [traffic.red_light, traffic.illegal_parking]
            escalation: {steps: [-3, -6]}
            fine: {yuan: 200, max_yuan: 500, steps: [2], source: s, ref: "2nd offence"}
            source: s
          - {id: honk, label: Honking, category: traffic.honking, fine: {yuan: 100}, source: s}
        measures:
          - id: m
            on: {score_at_least: 90, score: pts}
            effect: reward
            action: rental.deposit_free
            source: s
          - {id: n, on: {score_below: 50, score: pts}, effect: restrict, action: finance.loan, source: s}
        """,
        "status: ended\nended: {on: 2022-06-01, source: s, ref: 'abandoned'}",
    )
    assert [str(e) for e in lint([path])] == []
    book = load_rulebook(path)
    assert book.status == "ended" and book.ended_on.isoformat() == "2022-06-01"
    assert book.in_force("2022-05-31") and not book.in_force("2022-06-01")
    rule = book.latest.rules["offences"]
    assert rule.cats == ["traffic.red_light", "traffic.illegal_parking"]
    assert rule.describe_points() == "escalating -3, -6; fine 200–500 yuan at step 2"
    assert book.latest.rules["honk"].effect_kind == "fine"


# ------------------------------------------------------------------ the converted built-ins


def evaluation(ident: str, case_name: str):
    case = next(c for c in load_cases(ident) if case_name in c.name)
    return Engine([ident]).evaluate(case_records(case), case_registry(case), case.as_of)


def test_honking_fines_follow_the_version_of_each_honk_and_are_explained() -> None:
    ev = evaluation("shanghai-honking", "under the rules of its own day")
    assert ev.fines_of("van") == 300
    rows = ev.fines.to_pylist()
    assert [(r["version"], r["yuan"], r["record"]) for r in rows] == [
        ("2007", 200.0, "r1"),
        ("2016", 100.0, "r2"),
    ]
    rb = ev.explain("van").to_dict()["rulebooks"][0]
    assert [f["citation"]["source"] for f in rb["fines"]] == ["futurecartrends_2007", "shine_2019b"]
    assert rb["scores"] == []  # the vehicle is fined, not scored
    assert "fines: 300 yuan" in ev.explain("van").render()


def test_jinan_counts_offences_across_types_and_fines_the_second() -> None:
    ev = evaluation("jinan-dogs", "counted together")
    parts = ev.explain("bobo").to_dict()["rulebooks"][0]["scores"][0]["parts"]
    offences = [(p["category"], p["points"]) for p in parts if p["rule"] == "offences"]
    assert offences == [("pet.dog_waste_not_cleaned", -3.0), ("pet.dog_no_tag", -6.0)]
    (fine,) = ev.explain("bobo").to_dict()["rulebooks"][0]["fines"]
    assert (fine["category"], fine["yuan"], fine["max_yuan"]) == ("pet.dog_no_tag", 200.0, 500.0)
    assert fine["citation"]["source"] == "mothership_2018" and fine["citation"]["assumed"]


def test_sesame_perks_hang_on_score_thresholds_with_the_score_as_reason() -> None:
    ev = evaluation("sesame", "perk thresholds")
    dan = ev.decide("dan", "dating.profile_boost")
    assert dan.outcome == "rewarded"
    assert dan.reasons[0]["score"].startswith("sesame 734") and dan.reasons[0]["score"].endswith("≥ 700")
    assert ev.decide("dan", "visa.fast_track").outcome == "allowed"  # 734 < 750
    assert ev.decide("chen", "visa.fast_track").outcome == "rewarded"  # 755 ≥ 750
    chain = next(
        m
        for m in ev.explain("chen").to_dict()["rulebooks"][0]["measures"]
        if m["measure"] == "perk_vip_checkin"
    )
    assert chain["chain"]["score"].endswith("≥ 750") and chain["chain"]["grade"] is None


def test_an_ended_rulebook_applies_nothing_from_its_end_and_says_so() -> None:
    registry = Registry.from_lines([{"id": "ma", "kind": "person", "name": "Ma", "region": "Suining"}])
    records = records_table(
        [
            {
                "id": "p1",
                "subject": "ma",
                "occurred_at": "2010-02-15",
                "category": "public_order.illegal_petitioning",
                "source": "petition_office",
            }
        ]
    )
    bound = Engine(["suining"]).bind(records, registry)
    before, after = bound.evaluate("2010-12-31"), bound.evaluate("2011-01-01")
    assert before.score_of("ma")[0] == 950 and before.lists_of("ma") == [("suining", "published_offenders")]
    assert after.score_of("ma") == (None, None, None) and after.lists_of("ma") == []
    assert after.disclosed("ma") == [] and after.outcomes("ma") == {}
    text = after.explain("ma").render()
    assert "ended 2011-01-01: none of its rules apply any more" in text
    assert after.explain("ma").to_dict()["rulebooks"][0]["ended"] == "2011-01-01"


def test_show_prints_status_fines_categories_and_thresholds() -> None:
    s = summarise("suining")
    assert s["status"] == "ended" and s["ended"]["on"] == "2011-01-01" and "assumed" in s["ended"]["citation"]
    jinan = summarise("jinan-dogs")["rules_by_area"]["social"]
    offences = next(r for r in jinan if r["id"] == "offences")
    assert offences["reads"].startswith("categories pet.dog_off_leash, pet.dog_no_tag")
    assert offences["fine"]["text"] == "200–500 yuan at step 2"
    sesame = {m["id"]: m["on"] for m in summarise("sesame")["measures"]}
    assert sesame["perk_visa_fast_track"] == "sesame ≥ 750"
    shown = " ".join(runner.invoke(app, ["rulebook", "show", "suining"]).output.split())
    assert "status: ended" in shown and "ended: 2011-01-01 — from this day none of its rules apply" in shown
    listed = json.loads(runner.invoke(app, ["rulebook", "list", "--json"]).output)
    assert {r["id"]: r["ended"] for r in listed}["suining"] == "2011-01-01"
    assert {r["id"]: r["status"] for r in listed}["national"] == "active"


def test_a_rule_with_one_category_still_reads_as_before() -> None:
    rule = load_rulebook("rongcheng").latest.rules["traffic_ticket"]
    assert rule.category == "traffic.ticket" and rule.categories is None and rule.cats == ["traffic.ticket"]


def test_the_worked_example_runs_on_the_engine(tmp_path: Path) -> None:
    """The docs' Haixing example (status, a rule on two categories with a fine at its second
    step, a fine alone, a measure on a score threshold) passes its cases on the engine."""
    from socialcredit.rulebooks.cases import engine_evaluator, run_cases

    text = (Path(__file__).resolve().parents[1] / "docs" / "rulebooks.md").read_text("utf-8")
    for block in text.split("```yaml\n")[1:]:
        body = block.split("```", 1)[0]
        first = body.splitlines()[0]
        if first.startswith("# file: "):
            (tmp_path / first.removeprefix("# file: ").strip()).write_text(body, "utf-8")
    book = load_rulebook(tmp_path / "haixing.yaml")
    assert book.status == "pilot"
    assert book.latest.rules["nuisances"].fine.steps == [2]
    results = run_cases(tmp_path / "haixing.yaml", engine_evaluator())
    assert [r.status for r in results] == ["passed"] * 4, [p for r in results for p in r.problems]


def test_a_case_expecting_consequences_after_the_end_is_reported(tmp_path: Path) -> None:
    from socialcredit.rulebooks.cases import run_cases

    cases = tmp_path / "late.cases.yaml"
    cases.write_text(
        textwrap.dedent(
            """\
            rulebook: suining
            cases:
              - name: a grade after the scheme was abandoned
                as_of: 2012-01-01
                registry:
                  - {id: ma, kind: person, region: Suining}
                expect:
                  ma:
                    grade: A
                    decisions: {employment.civil_service: rewarded}
            """
        ),
        "utf-8",
    )
    (result,) = run_cases(cases)
    assert result.status == "invalid"
    problems = {(e.field, e.line) for e in result.errors}
    assert problems == {
        ("cases[0].expect.ma.grade", line_with(cases, "grade: A")),
        ("cases[0].expect.ma.decisions.employment.civil_service", line_with(cases, "decisions:")),
    }
    assert all("ended on 2011-01-01" in e.problem for e in result.errors)
