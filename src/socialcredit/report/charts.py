"""Altair (Vega-Lite) charts for the report's figures, sized for a paper's column.

:func:`chart` turns a :class:`~socialcredit.report.sections.Figure` (its rows and kind) into an
``alt.Chart``; the data are inlined as values, so the spec renders without any file or network.
"""

from __future__ import annotations

from typing import Any

import altair as alt

from socialcredit.report.sections import Figure

__all__ = ["WIDTH", "chart", "spec"]

WIDTH, HEIGHT = 380, 220
_FONT = "Helvetica, Arial, sans-serif"


def _base(rows: list[dict[str, Any]]) -> alt.Chart:
    return alt.Chart(alt.Data(values=rows))


def _grades(fig: Figure) -> alt.Chart:
    order = fig.options.get("order")
    return (
        _base(fig.rows)
        .mark_bar()
        .encode(
            x=alt.X("month:O", title="Month (last evaluation day)"),
            y=alt.Y(
                "share:Q",
                title="Share of scored subjects",
                axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1]),
            ),
            color=alt.Color(
                "grade:N", title="Grade", sort=order, scale=alt.Scale(scheme="redyellowgreen", reverse=True)
            ),
            order=alt.Order("grade_rank:Q"),
            tooltip=["month:O", "grade:N", "subjects:Q", alt.Tooltip("share:Q", format=".2%")],
        )
        .transform_calculate(grade_rank=f"indexof({order!r}, datum.grade)")
    )


def _quantiles(fig: Figure) -> alt.Chart:
    base = _base(fig.rows).encode(x=alt.X("month:O", title="Month (last evaluation day)"))
    outer = base.mark_area(opacity=0.25, color="#4c78a8").encode(
        y=alt.Y("p10:Q", title="Score", scale=alt.Scale(zero=False)), y2="p90:Q"
    )
    inner = base.mark_area(opacity=0.45, color="#4c78a8").encode(y="p25:Q", y2="p75:Q")
    median = base.mark_line(point=True, color="#1f3b63").encode(
        y="median:Q",
        tooltip=["month:O", "persons:Q", "min:Q", "p10:Q", "p25:Q", "median:Q", "p75:Q", "p90:Q", "max:Q"],
    )
    low = base.mark_line(strokeDash=[3, 3], color="#e45756").encode(y="min:Q")
    return alt.layer(outer, inner, median, low)


def _lists(fig: Figure) -> alt.Chart:
    shown = sorted({r["list"] for r in fig.rows if r["size"] > 0}) or sorted({r["list"] for r in fig.rows})
    rows = [r for r in fig.rows if r["list"] in shown]
    return (
        _base(rows)
        .mark_line(interpolate="step-after")
        .encode(
            x=alt.X("date:T", title="Date"),
            y=alt.Y("size:Q", title="Subjects on the list"),
            color=alt.Color(
                "list:N", title="List", legend=alt.Legend(orient="bottom", columns=2, labelLimit=260)
            ),
            strokeDash=alt.StrokeDash("kind:N", title="Kind", legend=alt.Legend(orient="bottom")),
            tooltip=["date:T", "list:N", "kind:N", "size:Q"],
        )
    )


def _refusals(fig: Figure) -> alt.Chart:
    return (
        _base(fig.rows)
        .mark_bar()
        .encode(
            y=alt.Y("action:N", title="Action", sort="-x"),
            x=alt.X("scaled_to_1_4bn:Q", title="Refusals per year, scaled to 1.4 billion"),
            color=alt.Color("year:O", title="Year", legend=alt.Legend(orient="bottom")),
            yOffset="year:O",
            tooltip=["year:O", "action:N", "refused:Q", "first_attempts:Q", "scaled_to_1_4bn:Q"],
        )
    )


def _compare(fig: Figure) -> alt.Chart:
    rows = []
    for mode in ("flight", "rail"):
        mine = [r for r in fig.rows if r["mode"] == mode]
        if mine:
            rows.append(
                {"mode": mode, "figure": "simulated, scaled", "refusals": mine[0]["simulated_scaled"]}
            )
        rows += [{"mode": mode, "figure": r["label"], "refusals": r["reported"]} for r in mine]
    order = ["simulated, scaled", *dict.fromkeys(r["label"] for r in fig.rows)]
    return (
        _base(rows)
        .mark_bar()
        .encode(
            y=alt.Y("figure:N", title=None, sort=order, axis=alt.Axis(labelLimit=330)),
            x=alt.X("refusals:Q", title="Refusals (millions)", axis=alt.Axis(labelExpr="datum.value / 1e6")),
            color=alt.Color(
                "figure:N",
                sort=order,
                legend=None,
                scale=alt.Scale(range=["#e45756", "#4c78a8", "#72b7b2", "#54a24b", "#b7b7b7"]),
            ),
            row=alt.Row(
                "mode:N",
                title=None,
                header=alt.Header(labelAngle=0, labelAlign="left", labelFontWeight="bold"),
            ),
            tooltip=["mode:N", "figure:N", alt.Tooltip("refusals:Q", format=",")],
        )
        .properties(width=WIDTH - 150, height=alt.Step(16))
    )


def _who(fig: Figure) -> alt.Chart:
    charts = []
    for dim in dict.fromkeys(r["dimension"] for r in fig.rows):
        rows = [r for r in fig.rows if r["dimension"] == dim]
        base = _base(rows).encode(y=alt.Y("group:N", title=dim, sort=None))
        bars = base.mark_bar(color="#4c78a8").encode(
            x=alt.X("rate:Q", title="Share on a black list", axis=alt.Axis(format="%")),
            tooltip=[
                "group:N",
                "persons:Q",
                "listed:Q",
                alt.Tooltip("rate:Q", format=".2%"),
                "di_ratio:Q",
                "di_lo:Q",
                "di_hi:Q",
            ],
        )
        err = base.mark_rule(color="#333").encode(x="rate_lo:Q", x2="rate_hi:Q")
        text = base.mark_text(align="left", dx=4, fontSize=10).encode(
            x="rate_hi:Q", text=alt.Text("di_ratio:Q", format=".2f")
        )
        charts.append(alt.layer(bars, err, text).properties(width=WIDTH - 90, height=alt.Step(14)))
    return alt.vconcat(*charts).resolve_scale(x="shared")


def _reach(fig: Figure) -> alt.Chart:
    return (
        _base(fig.rows)
        .mark_bar(color="#f58518")
        .encode(
            y=alt.Y("reason:N", title=None, sort=None, axis=alt.Axis(labelLimit=330)),
            x=alt.X("persons:Q", title="Persons restricted on the last day"),
            tooltip=["reason:N", "persons:Q", alt.Tooltip("share_of_restricted:Q", format=".1%")],
        )
        .properties(width=WIDTH - 170, height=alt.Step(22))
    )


def _trajectories(fig: Figure) -> alt.Chart:
    base = _base(fig.rows).encode(
        x=alt.X("date:T", title="Date"),
        y=alt.Y("score:Q", title="Score", scale=alt.Scale(zero=False)),
        color=alt.Color(
            "subject:N",
            title=fig.options.get("legend", "Sampled person"),
            legend=alt.Legend(orient="bottom", columns=2),
        ),
    )
    line = base.mark_line(interpolate="step-after")
    on = (
        base.mark_point(filled=True, size=30)
        .encode(tooltip=["date:T", "subject:N", "score:Q", "grade:N", "lists:N"])
        .transform_filter("datum.listed")
    )
    return alt.layer(line, on)


def _comparison(fig: Figure) -> alt.Chart:
    return (
        _base(fig.rows)
        .mark_bar()
        .encode(
            y=alt.Y("regime:N", title=None),
            x=alt.X("value:Q", title="Count"),
            color=alt.Color("regime:N", legend=None),
            row=alt.Row("measure:N", title=None, header=alt.Header(labelAngle=0, labelAlign="left")),
            tooltip=["regime:N", "measure:N", "value:Q"],
        )
        .properties(width=WIDTH - 120, height=alt.Step(18))
        .resolve_scale(x="independent")
    )


def _feedback(fig: Figure) -> alt.Chart:
    return (
        _base(fig.rows)
        .mark_line(point=True)
        .encode(
            x=alt.X("month:O", title="Month"),
            y=alt.Y("count:Q", title="Count"),
            color=alt.Color("effect:N", title="Effect", legend=alt.Legend(orient="bottom")),
        )
    )


def _dueprocess(fig: Figure) -> alt.Chart:
    return (
        _base(fig.rows)
        .mark_bar()
        .encode(
            y=alt.Y("list:N", title=None, axis=alt.Axis(labelLimit=260)),
            x=alt.X("days:Q", title="Subject-days wrongly listed"),
            color=alt.Color(
                "regime:N",
                title="Regime",
                sort=["original", "due process"],
                scale=alt.Scale(range=["#e45756", "#4c78a8"]),
                legend=alt.Legend(orient="bottom"),
            ),
            yOffset=alt.YOffset("regime:N", sort=["original", "due process"]),
            tooltip=["list:N", "regime:N", "days:Q"],
        )
        .properties(width=WIDTH - 120, height=alt.Step(14))
    )


_KINDS = {
    "grades": _grades,
    "quantiles": _quantiles,
    "lists": _lists,
    "refusals": _refusals,
    "compare": _compare,
    "who": _who,
    "reach": _reach,
    "trajectories": _trajectories,
    "comparison": _comparison,
    "feedback": _feedback,
    "dueprocess": _dueprocess,
}
_SIZED = {"grades", "quantiles", "lists", "refusals", "trajectories", "feedback"}


def chart(fig: Figure) -> alt.TopLevelMixin:
    """The figure's chart with its title and the report's fonts."""
    c = _KINDS[fig.kind](fig)
    if fig.kind in _SIZED:
        c = c.properties(width=WIDTH, height=HEIGHT)
    return (
        c.properties(
            title=alt.Title(fig.title, subtitle=fig.options.get("subtitle", ""), fontSize=13, anchor="start")
        )
        .configure(font=_FONT, background="white")
        .configure_axis(labelFontSize=11, titleFontSize=12)
        .configure_legend(labelFontSize=11, titleFontSize=11)
        .configure_header(labelFontSize=11)
    )


def spec(fig: Figure) -> dict[str, Any]:
    """The Vega-Lite spec (JSON-ready dict) of the figure's chart."""
    return chart(fig).to_dict(validate=False)
