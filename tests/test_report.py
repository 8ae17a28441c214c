"""The research report (issue 10): numbers checked against the Parquet outputs, computed here
independently with pyarrow, and the HTML opened in headless Chromium (no console errors, one
SVG per chart, no network requests)."""

from __future__ import annotations

import csv
import json
import shutil
from collections import defaultdict
from itertools import pairwise
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from socialcredit.report import figures_dir, write_report
from socialcredit.simulate import load_scenario
from socialcredit.simulate.runner import run_scenario

SIZE, DAYS = 600, 150


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("classroom")
    run_scenario(load_scenario("classroom", size=SIZE, days=DAYS), out)
    return out


@pytest.fixture(scope="module")
def report(run: Path) -> Path:
    return write_report(run)


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _daily(run: Path, reporter: str, regime: str = "main"):
    d = pq.read_table(run / "daily.parquet")
    return d.filter(pc.and_(pc.equal(d["reporter"], reporter), pc.equal(d["regime"], regime)))


def _final(run: Path) -> list[dict]:
    return pq.read_table(run / "final" / "main.parquet").to_pylist()


BLACK_LISTS_EXCLUDED = ("integrity_models", "honesty_models")  # the red lists of the classroom rulebooks


def _black(lists: list[str] | None) -> list[str]:
    return [x for x in lists or [] if not x.endswith(BLACK_LISTS_EXCLUDED)]


def test_files_beside_the_report(report: Path) -> None:
    assert report == report.parent / "report.html" and report.is_file()
    folder = figures_dir(report)
    figs = sorted(p.stem for p in folder.glob("*.png"))
    assert {
        "grade_shares",
        "list_sizes",
        "refusals_by_action",
        "refusals_vs_reported",
        "who_listed",
        "reach",
        "trajectories",
    } <= set(figs)
    for stem in figs:
        assert (folder / f"{stem}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert "<svg" in (folder / f"{stem}.svg").read_text("utf-8")[:500]
        assert (folder / f"{stem}.csv").stat().st_size > 0
    html = report.read_text("utf-8")
    assert "https://" not in html.split("<script>")[0]  # no external links in the page body
    assert "Feedback effects" in html and "not simulated" in html
    assert "one regime" in html  # the comparison section's note
    assert 'id="dueprocess"' not in html  # no dueprocess.json, no due-process section


def test_grade_shares_match_daily(run: Path, report: Path) -> None:
    g = _daily(run, "grade").to_pylist()
    last = max(r["day"] for r in g)
    month = f"{g[-1]['date'].year:04d}-{g[-1]['date'].month:02d}"
    counts = {
        r["key"].rsplit(":", 1)[1]: r["value"]
        for r in g
        if r["day"] == last and r["key"].startswith("rongcheng/person_points:")
    }
    total = sum(counts.values())
    rows = [r for r in _csv(figures_dir(report) / "grade_shares.csv") if r["month"] == month]
    assert {r["grade"]: int(r["subjects"]) for r in rows} == counts
    for r in rows:
        assert float(r["share"]) == pytest.approx(counts[r["grade"]] / total, abs=1e-6)


def test_list_sizes_match_daily_and_final_state(run: Path, report: Path) -> None:
    ls = _daily(run, "list_size").to_pylist()
    last = max(r["day"] for r in ls)
    end = {r["key"]: r["value"] for r in ls if r["day"] == last}
    on_final: dict[str, int] = defaultdict(int)
    for r in _final(run):
        for key in r["lists"] or []:
            on_final[key] += 1
    table = {r["list"]: r for r in _csv(figures_dir(report) / "lists_table.csv")}
    assert set(table) == set(end)
    for key, n in end.items():
        assert int(table[key]["end"]) == n == on_final.get(key, 0)
    series = _csv(figures_dir(report) / "list_sizes.csv")
    values = [int(r["size"]) for r in series if r["list"] == "national:judgment_defaulters"]
    diffs = [b - a for a, b in pairwise(values)]
    row = table["national:judgment_defaulters"]
    assert int(row["entries"]) == sum(d for d in diffs if d > 0)
    assert int(row["exits"]) == -sum(d for d in diffs if d < 0)
    assert table["national:integrity_models"]["kind"] == "red"


def test_refusals_scaled(run: Path, report: Path) -> None:
    refused = _daily(run, "refused")
    by_action = {k: v for k, v in zip(refused["key"].to_pylist(), refused["value"].to_pylist(), strict=True)}
    sums: dict[str, int] = defaultdict(int)
    for k, v in zip(refused["key"].to_pylist(), refused["value"].to_pylist(), strict=True):
        sums[k] += v
    assert by_action  # the classroom refuses some tickets
    rows = {r["action"]: r for r in _csv(figures_dir(report) / "refusals_by_action.csv")}
    assert set(rows) == set(sums)
    for action, n in sums.items():
        assert float(rows[action]["refused"]) == n
        assert int(rows[action]["scaled_to_1_4bn"]) == round(n * 365 / DAYS * 1.4e9 / SIZE)
    comp = _csv(figures_dir(report) / "refusals_vs_reported.csv")
    rail = [r for r in comp if r["mode"] == "rail"]
    assert {int(r["reported"]) for r in rail} == {5_500_000, 5_470_000, 1_800_000, 1_650_000}
    flight = [r for r in comp if r["mode"] == "flight"]
    assert {int(r["reported"]) for r in flight} == {17_500_000, 17_460_000, 8_100_000, 4_900_000}
    expect = round(sums.get("travel.high_speed_rail", 0) * 365 / DAYS * 1.4e9 / SIZE)
    assert all(int(r["simulated_scaled"]) == expect for r in rail)


def test_who_gets_listed_by_sex_and_income(run: Path, report: Path) -> None:
    subjects = pq.read_table(run / "subjects.parquet").to_pylist()
    listed = {r["subject"]: bool(_black(r["lists"])) for r in _final(run) if r["kind"] == "person"}
    rows = _csv(figures_dir(report) / "who_listed.csv")
    for column, label in (("sex", "sex"), ("income_band", "income band")):
        n: dict[str, int] = defaultdict(int)
        k: dict[str, int] = defaultdict(int)
        for s in subjects:
            if s["kind"] == "person":
                n[str(s[column])] += 1
                k[str(s[column])] += listed[s["subject"]]
        mine = {r["group"]: r for r in rows if r["dimension"] == label}
        assert set(mine) == set(n)
        rates = {g: k[g] / n[g] for g in n}
        ref = min((r for r in rates.values() if r > 0), default=None)
        for g in n:
            assert int(mine[g]["persons"]) == n[g] and int(mine[g]["listed"]) == k[g]
            assert float(mine[g]["rate"]) == pytest.approx(rates[g], abs=1e-6)
            assert float(mine[g]["rate_lo"]) <= rates[g] <= float(mine[g]["rate_hi"])
            if ref:
                assert float(mine[g]["di_ratio"]) == pytest.approx(rates[g] / ref, abs=1e-3)


def test_reach_through_relations(run: Path, report: Path) -> None:
    persons = [r for r in _final(run) if r["kind"] == "person"]
    restricted = [r for r in persons if r["denied"] or r["restricted"]]
    no_list = [r for r in restricted if not _black(r["lists"])]
    rows = {r["reason"]: r for r in _csv(figures_dir(report) / "reach.csv")}
    assert sum(int(r["persons"]) for r in rows.values()) == len(restricted)
    via = int(rows["no list of their own: a measure through a relation"]["persons"])
    other = int(rows["other (grade or score)"]["persons"])
    assert via + other == len(no_list)
    assert all(r["denied"] == ["education.private_school"] for r in no_list) == (other == 0)


def test_trajectories_match(run: Path, report: Path) -> None:
    t = pq.read_table(run / "trajectories.parquet").to_pylist()
    table = _csv(figures_dir(report) / "trajectories_table.csv")
    rows = [r for r in table if r["source"] == "sampled"]
    assert rows
    for r in rows:
        scores = [
            x["score"]
            for x in sorted(t, key=lambda x: x["day"])
            if x["subject"] == r["subject"] and x["score"] is not None
        ]
        assert float(r["first_score"]) == scores[0] and float(r["lowest_score"]) == min(scores)
        assert float(r["last_score"]) == scores[-1]
    # spirals replayed by the engine end where the run's final state ends
    final = {r["subject"]: r for r in _final(run)}
    replayed = [r for r in table if r["source"] == "replayed"]
    for r in replayed:
        assert float(r["last_score"]) == pytest.approx(final[r["subject"]]["score"])
        assert r["last_lists"] == ";".join(final[r["subject"]]["lists"])
        assert float(r["lowest_score"]) < float(r["first_score"])
    assert replayed, "the classroom run has spirals among its listed persons"
    assert (figures_dir(report) / "spirals.png").is_file()


def test_provenance_lists_manifest_hashes(run: Path, report: Path) -> None:
    manifest = json.loads((run / "manifest.json").read_text("utf-8"))
    rows = _csv(figures_dir(report) / "provenance_table.csv")
    values = {r["item"]: r["value"] for r in rows}
    for name, digest in manifest["files"].items():
        assert values[f"file {name} sha256"] == digest
    for rb, digest in manifest["rulebooks"]["main"].items():
        assert values[f"rulebook main/{rb} sha256"] == digest
    assert values["seed"] == str(manifest["seed"])


def test_html_renders_offline_in_chromium(report: Path, tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    html = report.read_text("utf-8")
    charts = html.count('class="chart"')
    assert charts >= 7
    errors: list[str] = []
    outside: list[str] = []

    def route(r) -> None:
        url = r.request.url
        if url.startswith(("file:", "data:")):
            r.continue_()
        else:
            outside.append(url)
            r.abort()

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.route("**/*", route)
            page.goto(report.as_uri())
            page.wait_for_function(
                "document.querySelectorAll('.chart').length === "
                "document.querySelectorAll('.chart > svg, .chart > canvas').length",
                timeout=30_000,
            )
            drawn = page.eval_on_selector_all(
                ".chart", "els => els.map(e => e.querySelectorAll(':scope > svg, :scope > canvas').length)"
            )
        finally:
            browser.close()
    assert errors == []
    assert outside == []
    assert drawn == [1] * charts


def test_cli_report(run: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from socialcredit.cli import app

    out = tmp_path / "r.html"
    res = CliRunner().invoke(app, ["report", str(run), "--out", str(out), "--no-images"])
    assert res.exit_code == 0, res.output
    assert out.is_file() and (tmp_path / "r_figures" / "who_listed.csv").is_file()
    assert not (tmp_path / "r_figures" / "who_listed.png").exists()
    res = CliRunner().invoke(app, ["report", str(tmp_path / "missing")])
    assert res.exit_code == 2


def test_replicates_give_intervals(tmp_path: Path) -> None:
    sc = load_scenario("classroom", size=300, days=20).model_copy(update={"replicates": 2, "seeds": None})
    run_scenario(sc, tmp_path / "runs")
    out = write_report(tmp_path / "runs", tmp_path / "rep.html", images=False)
    rows = _csv(figures_dir(out) / "who_listed.csv")
    assert rows and all(r["rate_lo"] != "" and r["rate_hi"] != "" for r in rows)
    assert "2 runs" in out.read_text("utf-8")
    shutil.rmtree(tmp_path / "runs")


def test_rulebook_comparison(tmp_path: Path) -> None:
    sc = load_scenario(
        "classroom",
        size=300,
        days=20,
        rulebooks=None,
        regimes={"points": ["national", "rongcheng"], "lists": ["national"]},
    )
    run_scenario(sc, tmp_path / "two")
    out = write_report(tmp_path / "two", images=False)
    rows = _csv(figures_dir(out) / "comparison_table.csv")
    values = {(r["regime"], r["measure"]): int(r["value"]) for r in rows}
    listed = {}
    for regime in ("points", "lists"):
        final = pq.read_table(tmp_path / "two" / "final" / f"{regime}.parquet").to_pylist()
        listed[regime] = {r["subject"] for r in final if r["kind"] == "person" and _black(r["lists"])}
        assert values[(regime, "persons on a black list")] == len(listed[regime])
        restricted = sum(1 for r in final if r["kind"] == "person" and (r["denied"] or r["restricted"]))
        assert values[(regime, "persons restricted (last day)")] == restricted
    both = len(listed["points"] & listed["lists"])
    assert values[("points and lists", "persons listed under both")] == both


def test_due_process_section(tmp_path: Path) -> None:
    history = [
        {
            "category": "judicial.judgment_default",
            "share": 0.03,
            "window": ["2017-06-01", "2017-12-31"],
            "assumed": True,
            "reason": "test",
        }
    ]
    switch = {"compare": True, "error_rate": 0.5, "object_rate": 1.0, "step_days": 5}
    sc = load_scenario("classroom", size=500, days=40, history=history, dueprocess=switch)
    run_scenario(sc, tmp_path / "dp")
    out = write_report(tmp_path / "dp", images=False)
    dp = json.loads((tmp_path / "dp" / "dueprocess.json").read_text())
    rows = {r["list"]: r for r in _csv(figures_dir(out) / "dueprocess_table.csv")}
    assert set(rows) == set(dp["lists"])
    for name, r in dp["lists"].items():
        got = rows[name]
        assert int(got["listings avoided"]) == r["avoided"]
        assert int(got["wrongful listings reversed"]) == r["wrongful_reversed"]
        assert int(got["subject-days wrongly listed (original)"]) == r["wrongful_days_original"]
        assert int(got["subject-days wrongly listed (due process)"]) == r["wrongful_days_due_process"]
    days = _csv(figures_dir(out) / "dueprocess_days.csv")
    wrongful = [n for n, r in dp["lists"].items() if r["wrongful"]]
    assert wrongful and {d["list"] for d in days} == set(wrongful)
    html = out.read_text("utf-8")
    assert 'id="dueprocess"' in html and "Due process" in html
    assert "assumptions of the experiment" in html and "50% of listing records" in html
