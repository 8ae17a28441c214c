"""Rulebooks: loading, linting with file/line/field errors, citations, versions, extends, and the
worked example in docs/rulebooks.md."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
import yaml

from socialcredit.errors import RulebookError
from socialcredit.rulebooks import (
    RulebookFileError,
    RulebookInvalid,
    builtin_rulebooks,
    lint,
    load_rulebook,
)
from socialcredit.rulebooks.cases import run_cases
from socialcredit.rulebooks.checks import blocks
from socialcredit.rulebooks.lists import combine
from socialcredit.rulebooks.loader import builtin_paths

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).with_name("fixtures") / "rulebooks"
DOCS = ROOT / "docs" / "rulebooks.md"


def line_with(path: Path, needle: str) -> int:
    """The 1-based number of the first line of ``path`` that contains ``needle``."""
    for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


# ------------------------------------------------------------------ built-ins


def test_the_two_first_builtins_exist() -> None:
    assert {"national", "rongcheng"} <= set(builtin_rulebooks())


def test_builtins_lint_clean() -> None:
    assert [str(e) for e in lint()] == []


@pytest.mark.parametrize("ident", builtin_rulebooks())
def test_every_rule_list_and_measure_is_cited(ident: str) -> None:
    """Walk each built-in file (every version's changes too): a known source, or an assumption
    with a reason. Rulebooks added later are covered without touching this test."""
    book = load_rulebook(ident)
    sources = set(book.sources)
    uncited = []
    for loc, block in blocks(book.file):
        for kind in ("scores", "rules", "lists", "measures"):
            for item in getattr(block, kind):
                where = f"{ident}: {'.'.join(map(str, loc))}.{kind}.{item.id}"
                if item.source is not None:
                    assert item.source in sources, f"{where} cites unknown source {item.source}"
                elif not (item.assumed and item.reason and item.reason.strip()):
                    uncited.append(where)
    assert uncited == []


@pytest.mark.parametrize("ident", builtin_rulebooks())
def test_every_source_can_be_checked_by_a_reader(ident: str) -> None:
    for sid, doc in load_rulebook(ident).file.sources.items():
        assert doc.url or doc.file, sid
        assert doc.confidence in ("H", "M", "L", "UNVERIFIED")


def test_builtin_paths_are_the_yaml_files_without_cases() -> None:
    paths = builtin_paths()
    assert all(p.suffix == ".yaml" and not p.name.endswith(".cases.yaml") for p in paths.values())
    assert list(paths) == sorted(paths)


def test_national_has_no_score_and_the_defaulter_list_as_documented() -> None:
    v = load_rulebook("national").version_on("2019-06-01")
    assert v.scores == {}
    lst = v.lists["judgment_defaulters"]
    assert lst.kind == "black" and lst.objection_suspends is False
    assert str(lst.delist_within) == "3 working days"
    assert lst.exempt is not None and lst.exempt.under_age == 18
    terms = {str(e.duration) for e in lst.enter if e.duration}
    assert terms == {"2 years"}
    ext = next(e.extensions for e in lst.enter if e.extensions)
    assert (str(ext.min), str(ext.max), str(ext.total_max)) == ("1 year", "3 years", "5 years")
    assert any(p.relation == "legal_representative_of" for p in lst.propagate)


def test_rongcheng_score_grades_and_consent() -> None:
    rc = load_rulebook("rongcheng")
    assert rc.chain == ("rongcheng", "national")
    v = rc.version_on("2016-06-01")
    score = v.scores["person_points"]
    assert score.model == "points" and score.base == 1000
    assert score.grade_names == ["AAA", "AA", "A", "B", "C", "D"]
    assert all(g.unverified for g in score.grades)
    assert score.grade_for(1000) == "A" and score.grade_for(599) == "D"
    assert v.options.warning is not None and v.options.warning.before_punishment
    assert v.options.consent is not None and not v.options.consent.required
    assert rc.version_on("2022-01-01").options.consent.required


# ------------------------------------------------------------------ versions in force


def test_version_in_force_on_a_date() -> None:
    national = load_rulebook("national")
    assert national.version_on("2015-07-21").id == "2013"
    assert "hs_high_speed_rail" not in national.version_on("2015-07-21").measures
    assert national.version_on("2015-07-22").id == "2015"
    assert "hs_high_speed_rail" in national.version_on("2015-07-22").measures
    assert national.version_on("2030-01-01").id == national.latest.id
    with pytest.raises(RulebookError, match="no version in force"):
        national.version_on("2013-09-30")


def test_extended_timeline_follows_both_files() -> None:
    rc = load_rulebook("rongcheng")
    assert rc.version_on("2017-06-01").label == "2016 + national 2017"
    assert "org_points" not in rc.version_on("2017-06-01").scores
    assert "org_points" in rc.version_on("2018-06-01").scores
    assert "d_loan_restricted" in rc.version_on("2020-12-31").measures
    assert "d_loan_restricted" not in rc.version_on("2021-01-01").measures
    with pytest.raises(RulebookError):
        rc.version_on("2015-12-31")  # national is in force, but Rongcheng's rulebook is not


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), "utf-8")
    return path


CITE = "assumed: true, reason: test"


def test_extends_overrides_by_id_and_removes(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "child.yaml",
        f"""\
        id: child
        title: Child
        jurisdiction: Generic City
        extends: national
        versions:
          - {{id: "2019", effective: 2019-01-01, summary: first, {CITE}}}
          - id: "2020"
            effective: 2020-01-01
            summary: second
            assumed: true
            reason: test
            changes:
              measures:
                - {{id: hs_travel, on: {{list: spending_restricted}}, effect: deny,
                   action: travel.flight, {CITE}}}
        remove:
          measures: [op_restaurants]
        measures:
          - {{id: hs_travel, on: {{list: spending_restricted}}, effect: restrict,
             action: [travel.flight, travel.soft_sleeper], {CITE}}}
        """,
    )
    assert lint([path]) == []
    book = load_rulebook(path)
    v = book.version_on("2019-06-01")
    assert v.measures["hs_travel"].effect == "restrict"
    assert v.origin[("measures", "hs_travel")] == "child"
    assert v.origin[("measures", "hs_property")] == "national"
    assert "op_restaurants" not in v.measures
    assert "judgment_defaulters" in v.lists
    later = book.version_on("2020-06-01")
    assert later.measures["hs_travel"].effect == "deny"
    assert "op_restaurants" not in later.measures
    assert load_rulebook("national").version_on("2019-06-01").measures["hs_travel"].effect == "deny"


def test_a_change_to_the_parent_reaches_the_child(tmp_path: Path) -> None:
    parent = write(
        tmp_path,
        "parent.yaml",
        f"""\
        id: parent
        title: Parent
        jurisdiction: Generic Province
        versions:
          - {{id: p1, effective: 2020-01-01, summary: first, {CITE}}}
        scores:
          - {{id: pts, label: P, model: points, subject_kinds: [person], base: 100, {CITE}}}
        rules:
          - {{id: r, label: R, category: traffic.red_light, points: -5, {CITE}}}
        """,
    )
    child = write(
        tmp_path,
        "child.yaml",
        f"""\
        id: child
        title: Child
        jurisdiction: Generic City
        extends: parent
        versions:
          - {{id: c1, effective: 2020-06-01, summary: first, {CITE}}}
        """,
    )
    assert load_rulebook(child).version_on("2020-07-01").rules["r"].points == -5
    parent.write_text(parent.read_text().replace("points: -5", "points: -7"), "utf-8")
    import os

    os.utime(parent, ns=(1, 1))  # a different modification time, whatever the clock
    assert load_rulebook(child).version_on("2020-07-01").rules["r"].points == -7


# ------------------------------------------------------------------ malformed rulebooks

MALFORMED = [
    # (file, text on the line at fault, field)
    ("unknown_field.yaml", "pionts:", "rules[0].pionts"),
    ("bad_type.yaml", "points: ten", "rules[0].points"),
    ("duplicate_rule.yaml", "Red light again", "rules[2].id"),
    ("unknown_category.yaml", "category: traffic.jaywalking", "rules[0].category"),
    ("unknown_action.yaml", "travel.teleport", "measures[0].action[1]"),
    ("grades_out_of_order.yaml", "grade: B, min: 980", "scores[0].grades[1].min"),
]


@pytest.mark.parametrize(("name", "needle", "field"), MALFORMED)
def test_malformed_rulebook_names_file_line_and_field(name: str, needle: str, field: str) -> None:
    path = FIXTURES / name
    errors = lint([path])
    assert errors, f"{name} should not lint clean"
    err = errors[0]
    assert Path(err.file).resolve() == path.resolve()
    assert err.line == line_with(path, needle)
    assert err.field == field
    assert err.fix
    assert str(err).startswith(f"{err.file}:{err.line}: {field}: ")
    with pytest.raises(RulebookInvalid) as info:
        load_rulebook(path)
    assert (info.value.file, info.value.line, info.value.field) == (err.file, err.line, field)


def test_extends_cycle_names_file_line_and_field() -> None:
    errors = lint([FIXTURES / "cycle_a.yaml"])
    assert len(errors) == 1
    err = errors[0]
    assert Path(err.file).name in ("cycle_a.yaml", "cycle_b.yaml")
    assert err.line == line_with(FIXTURES / Path(err.file).name, "extends:")
    assert err.field == "extends"
    assert "cycle" in err.problem


@pytest.mark.parametrize(
    ("text", "needle", "field", "words"),
    [
        ("id: x\ntitle: X\n  bad: indent\n", "bad: indent", "", "not valid YAML"),
        ("id: x\ntitle: X\nid: y\n", "id: y", "id", "duplicate key"),
        (
            "id: x\ntitle: X\njurisdiction: Atlantis\nversions:\n  - {id: a, effective: 2020-01-01,"
            " summary: s, assumed: true, reason: r}\n",
            "Atlantis",
            "jurisdiction",
            "unknown jurisdiction",
        ),
        (
            "id: x\ntitle: X\njurisdiction: Generic City\nversions:\n  - {id: a, effective: "
            "2020-01-01, summary: s}\n",
            "summary: s",
            "versions[0]",
            "no citation",
        ),
        (
            "id: x\ntitle: X\njurisdiction: Generic City\nextends: nowhere\nversions:\n  - {id: a, "
            "effective: 2020-01-01, summary: s, source: q}\n",
            "extends:",
            "extends",
            "cannot find",
        ),
    ],
)
def test_more_problems_point_at_their_line(
    tmp_path: Path, text: str, needle: str, field: str, words: str
) -> None:
    path = write(tmp_path, "x.yaml", text)
    err = lint([path])[0]
    assert (err.line, err.field) == (line_with(path, needle), field)
    assert words in err.problem


def test_lint_lists_every_problem_and_accepts_directories() -> None:
    errors = lint([FIXTURES])
    files = {Path(e.file).name for e in errors}
    assert {n for n, _, _ in MALFORMED} <= files
    assert {"cycle_a.yaml", "cycle_b.yaml"} & files
    assert all(isinstance(e, RulebookFileError) and e.line > 0 for e in errors)


def test_unknown_path_or_id_is_reported() -> None:
    errors = lint(["no-such-rulebook"])
    assert len(errors) == 1 and "built-in" in errors[0].problem and "national" in errors[0].fix


# ------------------------------------------------------------------ combination rule


def test_deny_beats_restrict_beats_reward() -> None:
    assert combine(["reward", "restrict"]) == "restricted"
    assert combine(["reward", "deny", "restrict"]) == "denied"
    assert combine(["reward"]) == "rewarded"
    assert combine(["disclose"]) == "allowed"
    assert combine([]) == "allowed"


# ------------------------------------------------------------------ docs/rulebooks.md


def doc_blocks() -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", DOCS.read_text("utf-8"), re.S)


def test_the_worked_example_in_the_docs_loads_and_its_cases_check(tmp_path: Path) -> None:
    files = {}
    for block in doc_blocks():
        first = block.splitlines()[0]
        if first.startswith("# file: "):
            name = first.removeprefix("# file: ").strip()
            (tmp_path / name).write_text(block, "utf-8")
            files[name] = tmp_path / name
    assert set(files) == {"haixing.yaml", "haixing.cases.yaml"}
    assert [str(e) for e in lint([files["haixing.yaml"]])] == []
    book = load_rulebook(files["haixing.yaml"])
    assert book.chain == ("haixing", "national")
    v = book.version_on("2021-06-01")
    assert v.label == "2020 + national 2018"
    assert v.scores["citizen_points"].grade_for(95) == "B"
    assert v.measures["hs_high_speed_rail"].effect == "restrict"  # overridden by id
    assert v.origin[("measures", "hs_high_speed_rail")] == "haixing"
    assert v.rules["listed_friends"].via.aggregate == "share"
    later = book.version_on("2023-06-01")
    assert later.rules["illegal_parking"].escalation.steps == [-5, -10, -20]
    assert "low_score_loans" not in later.measures
    assert later.options.consent.required
    results = run_cases(files["haixing.yaml"])
    assert [r.status for r in results] == ["shape-ok"] * 4, [str(e) for r in results for e in r.errors]


def test_the_score_model_snippets_in_the_docs_are_valid(tmp_path: Path) -> None:
    scores = []
    for block in doc_blocks():
        if block.startswith("# snippet: score"):
            scores += yaml.safe_load(block)
    assert {s["model"] for s in scores} == {"factors", "tiers"}
    path = write(tmp_path, "snippets.yaml", "")
    path.write_text(
        yaml.safe_dump(
            {
                "id": "snippets",
                "title": "Snippets",
                "jurisdiction": "Generic City",
                "extends": "national",
                "versions": [
                    {"id": "1", "effective": "2020-01-01", "summary": "s", "assumed": True, "reason": "test"}
                ],
                "scores": scores,
            },
            allow_unicode=True,
        ),
        "utf-8",
    )
    assert [str(e) for e in lint([path])] == []


def test_the_docs_table_lists_every_builtin() -> None:
    text = DOCS.read_text("utf-8")
    for ident in builtin_rulebooks():
        assert f"| `{ident}` |" in text


# ------------------------------------------------------------------ docstring examples


def test_docstring_examples_run() -> None:
    import doctest
    import importlib
    import pkgutil

    import socialcredit.rulebooks as package
    import socialcredit.vocabulary

    modules = [package, socialcredit.vocabulary] + [
        importlib.import_module(f"{package.__name__}.{info.name}")
        for info in pkgutil.iter_modules(package.__path__)
    ]
    for module in modules:
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0, module.__name__
