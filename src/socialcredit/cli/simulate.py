"""``socialcredit simulate SCENARIO --out DIR``: run a scenario and write its outputs.

A thin layer over :func:`socialcredit.simulate.runner.run_scenario`; ``--list`` lists the
built-in scenarios; ``--due-process-compare`` switches on the scenario's due-process comparison
(``dueprocess.json``); ``--backend ray [--address ADDR] [--workers N]`` runs the shards as Ray
actors (the same files); ``--feedback-all`` switches every feedback loop on. Above
:data:`STREAM_ABOVE` residents (or with ``--streamed``) a list-rulebook scenario runs *streamed*
(:mod:`socialcredit.simulate.national`): shard after shard, ``--processes`` at a time, with
``summary.json`` and ``daily.csv`` as outputs — how a 1.4-billion-resident year fits one machine.
See docs/simulate.md and docs/deploy.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from socialcredit.cli._common import console, fail, print_json, print_table
from socialcredit.errors import SocialCreditError

#: residents above which a scenario runs streamed unless ``--in-memory`` is given (the in-memory
#: model keeps about 1.3 kB a resident for a whole run: 5 million is some 6.5 GB)
STREAM_ABOVE = 5_000_000


def progress_bar() -> tuple[Any, Any]:
    """A rich progress bar and a ``progress(label, done, total)`` callback driving it."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("days"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    tasks: dict[str, Any] = {}

    def update(label: str, done: int, total: int) -> None:
        if label not in tasks:
            tasks[label] = bar.add_task(label, total=total)
        bar.update(tasks[label], completed=done, total=total)

    return bar, update


def summary_rows(result: Any) -> list[tuple[str, str]]:
    """The lines of a run's text summary (what, value)."""
    m, man = result.model, result.manifest
    rows = [(f"subjects: {k}", f"{n:,}") for k, n in man["population"].items()]
    rows.append(("records (incl. history)", f"{man['records']:,}"))
    for regime, ev in m.evaluations.items():
        for (rb, lst), n in sorted(ev.list_sizes().items()):
            if n:
                rows.append((f"{regime}: on list {rb}:{lst}", f"{n:,}"))
        for (rb, model), dist in sorted(ev.grade_distribution().items()):
            shown = ", ".join(f"{g} {c:,}" for g, c in dist.items() if c)
            if shown:
                rows.append((f"{regime}: grades {rb}/{model}", shown))
        refused = {}
        for a in m.actions:
            n = m.datacollector.total("refused", a, regime)
            if n:
                refused[a] = n
        for a, n in sorted(refused.items(), key=lambda x: -x[1]):
            tried = m.datacollector.total("attempts", a) + m.datacollector.total("retries", a, regime)
            rows.append((f"{regime}: refused {a}", f"{n:,} of {tried:,} attempts"))
    for c in man["comparisons"]:
        rows.append(
            (
                f"compare {c['key']} ({c['reading'][:48]}…)",
                f"{c['scaled']:,} simulated vs {c['reported']:,.0f} reported (x{c['ratio']:.2f})",
            )
        )
    t = man["run"]["timings"]
    rows.append(("agent-days per second (loop)", f"{man['run']['agent_days_per_second']:,.0f}"))
    loop = sum(t[k] for k in ("behaviour", "engine", "decisions", "reporters"))
    rows.append(
        (
            "seconds: population, loop, outputs",
            f"{t['population']:.1f}, {loop:.1f}, {t.get('outputs', 0):.1f}",
        )
    )
    return rows


def simulate(
    scenario: Annotated[
        str | None, typer.Argument(help="A built-in scenario name or a YAML file.", show_default=False)
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Directory for the outputs.", show_default=False)] = None,
    seed: Annotated[int | None, typer.Option(help="Override the scenario's seed.")] = None,
    replicates: Annotated[int | None, typer.Option(min=1, help="Runs with seeds seed, seed+1, ...")] = None,
    size: Annotated[int | None, typer.Option(min=1, help="Override the number of residents.")] = None,
    days: Annotated[int | None, typer.Option(min=1, help="Override the number of days.")] = None,
    shards: Annotated[int | None, typer.Option(min=1, help="Shards (results do not depend on it).")] = None,
    ledger: Annotated[
        bool, typer.Option("--ledger", help="Also write ledger.db (registry and records).")
    ] = False,
    backend: Annotated[
        str, typer.Option(help="Where the shards run: local (this process) or ray (Ray actors).")
    ] = "local",
    address: Annotated[
        str | None,
        typer.Option(
            help="Ray cluster address (--backend ray; default: a local Ray instance).", show_default=False
        ),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="CPUs the shards spread over (--backend ray; default 2).")
    ] = None,
    due_process_compare: Annotated[
        bool,
        typer.Option(
            "--due-process-compare",
            help="Also run the same records with due process off and on (dueprocess.json).",
        ),
    ] = False,
    feedback_all: Annotated[
        bool,
        typer.Option(
            "--feedback-all", help="Switch every feedback loop on (each with its assumed defaults)."
        ),
    ] = False,
    streamed: Annotated[
        bool | None,
        typer.Option(
            "--streamed/--in-memory",
            help=f"Run shard by shard with the compiled kernel (default: above {STREAM_ABOVE:,} residents).",
            show_default=False,
        ),
    ] = None,
    processes: Annotated[
        int | None,
        typer.Option(min=1, help="Shards run at once, one process each (--streamed; default: CPUs)."),
    ] = None,
    records: Annotated[
        bool, typer.Option("--records", help="Also write the records, shard by shard (--streamed).")
    ] = False,
    list_: Annotated[bool, typer.Option("--list", help="List the built-in scenarios and exit.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the manifests as JSON.")] = False,
) -> None:
    """Run a scenario: a synthetic population living under rulebooks, day by day."""
    from socialcredit.simulate import builtin_scenarios, load_scenario
    from socialcredit.simulate.runner import run_scenario
    from socialcredit.simulate.scenario import DueProcessSwitch

    if list_:
        rows = [(name, load_scenario(name).title) for name in builtin_scenarios()]
        if as_json:
            print_json([{"name": n, "title": t} for n, t in rows])
        else:
            print_table("Built-in scenarios", ["name", "title"], rows)
        return
    if scenario is None or out is None:
        fail("give a SCENARIO and --out DIR (or --list to see the built-in scenarios)")
        return
    if backend not in ("local", "ray"):
        fail(f"unknown backend {backend!r}: use local or ray")
        return
    if backend == "local" and (address is not None or workers is not None):
        fail("--address and --workers go with --backend ray")
        return
    try:
        sc = load_scenario(scenario, seed=seed, size=size, days=days)
        if feedback_all:
            sc = sc.model_copy(update={"feedback": sc.feedback.all_on()})
        if streamed is None:
            streamed = sc.size > STREAM_ABOVE
        if streamed:
            if replicates is not None or due_process_compare or ledger or backend != "local":
                fail(
                    "--streamed runs one seed: no --replicates, --due-process-compare, --ledger or --backend"
                )
                return
            _streamed(sc, out, processes, records, as_json)
            return
        if processes is not None or records:
            fail("--processes and --records go with --streamed")
            return
        if replicates is not None:
            sc = sc.model_copy(update={"replicates": replicates, "seeds": None})
        if due_process_compare:
            sw = sc.dueprocess or DueProcessSwitch()
            sc = sc.model_copy(update={"dueprocess": sw.model_copy(update={"compare": True})})
        bar, update = progress_bar()
        with bar:
            results = run_scenario(
                sc,
                out,
                shards=shards,
                ledger=ledger,
                progress=update,
                backend=backend,
                address=address,
                workers=workers,
            )
    except SocialCreditError as exc:
        fail(str(exc).splitlines()[0])
        return
    if as_json:
        print_json([r.manifest for r in results])
        return
    for r in results:
        print_table(f"{sc.name} — seed {r.run.seed} — {r.out}", ["what", "value"], summary_rows(r))
        dp = r.manifest["files"].get("dueprocess.json")
        if dp:
            console.print(f"due process on and off: {r.out / 'dueprocess.json'}")
        if r.ledger:
            console.print(f"ledger: {r.out / 'ledger.db'} ({r.ledger['records']:,} records)")


def _streamed(sc: Any, out: Path, processes: int | None, records: bool, as_json: bool) -> None:
    """Run ``sc`` streamed (see :mod:`socialcredit.simulate.national`) and print its summary."""
    import os

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from socialcredit.simulate.national import NationalRun, NotStreamable

    try:
        run = NationalRun(sc, out=out, records=records)
    except NotStreamable as exc:
        fail(f"{sc.name} cannot run streamed: {exc}")
        return
    for note in run.tables.left_out:
        console.print(f"[yellow]left out by the streamed kernel:[/] {note}")
    bar = Progress(
        TextColumn("shards"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[residents]:,} residents"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    with bar:
        task = bar.add_task("shards", total=len(run.plan), residents=0)
        summary = run.run(
            lambda done, total, residents: bar.update(task, completed=done, residents=residents),
            processes=processes or os.cpu_count() or 1,
        )
    if as_json:
        print_json(summary)
        return
    rows = [
        ("residents (subjects)", f"{summary['residents']:,} ({summary['subjects']:,})"),
        ("days, shards, processes", f"{summary['days']}, {summary['shards']}, {summary['processes']}"),
        ("records (history)", f"{summary['records']:,} ({summary['history_records']:,})"),
        ("attempts", f"{summary['attempts']:,}"),
    ]
    rows += [
        (f"refused {a}", f"{n:,}") for a, n in sorted(summary["refused"].items(), key=lambda x: -x[1])[:8]
    ]
    rows += [
        (
            f"on {lid} at the end (persons, organisations)",
            f"{v['persons_at_end']:,}, {v['organisations_at_end']:,}",
        )
        for lid, v in summary["lists"].items()
        if v["persons_at_end"] or v["organisations_at_end"]
    ]
    rows += [(f"feedback: {k.replace('_', ' ')}", f"{v:,}") for k, v in summary["feedback"].items() if v]
    for c in summary["compare"]:
        rows.append(
            (
                f"compare {c['key']} ({c['reading'][:48]}…)",
                f"{c['scaled']:,} simulated vs {c['reported']:,.0f} reported (x{c['ratio']:.2f})",
            )
        )
    rows.append(("wall seconds (CPU seconds)", f"{summary['wall_s']:,.1f} ({summary['cpu_s']:,.1f})"))
    rows.append(("agent-days per second", f"{summary['agent_days_per_s']:,}"))
    rows.append(("peak memory of a process", f"{summary['peak_rss_mb']:,.0f} MB"))
    print_table(f"{sc.name} — streamed — seed {summary['seed']} — {out}", ["what", "value"], rows)


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate)
