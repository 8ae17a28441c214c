"""The report as one self-contained HTML file (Jinja2).

The Vega, Vega-Lite and vega-embed JavaScript comes from ``vl-convert-python``'s bundle and is
inlined, as are the specs with their data: the page makes no network request when opened.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import jinja2
import vl_convert as vlc

from socialcredit.report.export import VL_VERSION
from socialcredit.report.sections import Section

__all__ = ["render_html"]

_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
body { font: 15px/1.5 Helvetica, Arial, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       color: #222; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { margin-top: 2.5rem; border-bottom: 1px solid #ddd; }
.sub { color: #555; margin-top: 0; } .note { color: #7a4b00; background: #fff6e0; padding: .5rem .8rem; }
table { border-collapse: collapse; font-size: 12.5px; margin: .8rem 0; }
td, th { border: 1px solid #ddd; padding: 2px 6px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.chart { margin: 1rem 0; } .files { font-size: 12.5px; color: #555; } code { background: #f4f4f4; }
nav a { margin-right: .8rem; }
</style>
</head>
<body>
<h1>{{ title }}</h1>
<p class="sub">{{ subtitle }}</p>
<p class="sub">All people in this simulation are synthetic. Every figure is also saved as PNG, SVG and CSV in
<code>{{ figures_dir }}</code>.</p>
<nav>{% for s in sections %}<a href="#{{ s.id }}">{{ s.title }}</a>{% endfor %}</nav>
{% for s in sections %}
<section id="{{ s.id }}">
<h2>{{ s.title }}</h2>
{% if s.note %}<p class="note">{{ s.note }}</p>{% else %}
<p>{{ s.reading }}</p>
{% for f in s.figures %}
<div class="chart" id="fig-{{ f.id }}" data-figure="{{ f.id }}"></div>
<p class="files">{{ f.title }}: <a href="{{ figures_dir }}/{{ f.id }}.png">PNG</a>,
<a href="{{ figures_dir }}/{{ f.id }}.svg">SVG</a>, <a href="{{ figures_dir }}/{{ f.id }}.csv">CSV</a></p>
{% endfor %}
{% if s.table %}
<table>
<thead><tr>{% for c in columns(s.table) %}<th>{{ c }}</th>{% endfor %}</tr></thead>
<tbody>{% for r in s.table[:limit] %}<tr>{% for c in columns(s.table) %}{% set v = r.get(c) %}
<td{% if v is number %} class="num"{% endif %}>{{ fmt(v) }}</td>{% endfor %}</tr>{% endfor %}</tbody>
</table>
{% if s.extra %}
<table>
<thead><tr>{% for c in columns(s.extra) %}<th>{{ c }}</th>{% endfor %}</tr></thead>
<tbody>{% for r in s.extra %}<tr>{% for c in columns(s.extra) %}{% set v = r.get(c) %}
<td{% if v is number %} class="num"{% endif %}>{{ fmt(v) }}</td>{% endfor %}</tr>{% endfor %}</tbody>
</table>
{% endif %}
{% if s.table|length > limit %}<p class="files">First {{ limit }} of {{ s.table|length }} rows;
all in <a href="{{ figures_dir }}/{{ s.id }}_table.csv">{{ s.id }}_table.csv</a>.</p>{% endif %}
{% endif %}
{% endif %}
</section>
{% endfor %}
<script>{{ bundle }}</script>
<script type="application/json" id="specs">{{ specs }}</script>
<script>
(function () {
  const specs = JSON.parse(document.getElementById("specs").textContent);
  for (const [id, spec] of Object.entries(specs)) {
    vegaEmbed("#fig-" + id, spec, {renderer: "svg", actions: false}).catch(function (err) {
      console.error("figure " + id + ": " + err);
    });
  }
})();
</script>
</body>
</html>
"""


@lru_cache(maxsize=1)
def js_bundle() -> str:
    """Vega, Vega-Lite and vega-embed in one script, safe to inline in a <script> element."""
    return vlc.javascript_bundle(vl_version=VL_VERSION).replace("</script", "<\\/script")


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, list | tuple):
        return "; ".join(map(str, v))
    return str(v)


def _columns(rows: list[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(k for r in rows for k in r))


def render_html(
    title: str,
    subtitle: str,
    sections: list[Section],
    specs: dict[str, dict[str, Any]],
    figures_dir: str,
    limit: int = 60,
) -> str:
    """The page: every section with its reading, charts (by figure id in ``specs``) and numbers."""
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    data = json.dumps(specs, separators=(",", ":"), default=str).replace("</", "<\\/")
    return env.from_string(_TEMPLATE).render(
        title=title,
        subtitle=subtitle,
        sections=sections,
        figures_dir=figures_dir,
        limit=limit,
        columns=_columns,
        fmt=_fmt,
        bundle=jinja2.utils.markupsafe.Markup(js_bundle()),
        specs=jinja2.utils.markupsafe.Markup(data),
    )
