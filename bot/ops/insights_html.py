"""``policybot insights --format html``: the report as one self-contained page with charts.

The charts are SVG drawn by pygal and written inline, so the file opens offline, from an
e-mail attachment or a shared drive, with nothing to fetch: no script, font or style sheet
from elsewhere (pygal's tooltip script is switched off). Each SVG has a ``viewBox`` and no
fixed size, so it shrinks with the page; tables scroll sideways on their own. The page
reads on a phone as on a desk.

Nothing in the page names a person: it is drawn from :class:`bot.ops.insights.Insights`, which
holds questions (with e-mail addresses, phone numbers and mentions masked), clauses and
figures, never who asked.
"""

from __future__ import annotations

import html
import re
import sys
from collections.abc import Iterable, Sequence

import pygal
from pygal.style import Style

from bot.models import TEAM_NAMES
from bot.ops.insights import Insights, TeamFigures

# pygal puts a finder for its map plugins (unused here) on sys.meta_path; it predates
# find_spec, so every failed import in the process would warn (Python 3.11). Take it off.
sys.meta_path[:] = [f for f in sys.meta_path if type(f).__module__ != "pygal"]

#: The charts' drawing size; the page scales them to its width.
WIDTH, HEIGHT = 640, 360
LABEL_CHARS = 48
_SCRIPT = re.compile(r"<script\b.*?</script>|<!--.*?-->", re.DOTALL | re.IGNORECASE)

_STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#1b1b1b",
    foreground_strong="#1b1b1b",
    foreground_subtle="#6b6b6b",
    colors=("#1d4f91", "#c8102e", "#4a8f3c", "#b06d00"),
    font_family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    label_font_size=13,
    major_label_font_size=13,
    value_font_size=13,
    legend_font_size=14,
    title_font_size=16,
)

_CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: #1b1b1b; background: #fafafa; }
main { max-width: 960px; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.6rem; margin: 0.5rem 0; }
h2 { font-size: 1.25rem; margin: 2rem 0 0.5rem; border-bottom: 2px solid #1d4f91; }
.lead { font-size: 1.1rem; }
figure.chart { margin: 0; background: #fff; border: 1px solid #ddd; border-radius: 6px;
               padding: 0.5rem; }
figure.chart svg { display: block; width: 100%; height: auto; }
.table { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: 0.4rem 0.6rem; border-bottom: 1px solid #ddd;
         vertical-align: top; }
td.n, th.n { text-align: right; white-space: nowrap; }
ul { padding-left: 1.2rem; }
.none { color: #6b6b6b; }
@media (max-width: 600px) {
  body { font-size: 15px; }
  main { padding: 0.6rem; }
  h1 { font-size: 1.3rem; }
}
"""


def render(report: Insights) -> str:
    """The whole page (see the module docstring)."""
    since = f" since {report.since:%d %B %Y}" if report.since else ""
    share = report.answered / report.questions if report.questions else 0.0
    parts = [
        f"<h1>PolicyBot insights{html.escape(since)}</h1>",
        f'<p class="lead">{report.questions} questions, {share:.0%} answered from the '
        "documents.</p>",
        _section("weeks", "Questions per week", _weeks(report)),
        _section("clauses", "Most cited clauses", _clauses(report)),
        _section("themes", "Not answered, by theme (gaps in the documents?)", _themes(report)),
        _section("unhelpful", "Answers rated unhelpful", _unhelpful(report)),
        _section("cases", "Cases", _cases(report.teams)),
    ]
    if report.model_fallbacks:
        parts.append(_section("fallbacks", "Model fallbacks", _fallbacks(report.model_fallbacks)))
    body = "\n".join(parts)
    return (
        '<!DOCTYPE html>\n<html lang="en-GB">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>PolicyBot insights{html.escape(since)}</title>\n<style>{_CSS}</style>\n"
        f"</head>\n<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def _section(section_id: str, title: str, content: str) -> str:
    return f'<section id="{section_id}">\n<h2>{html.escape(title)}</h2>\n{content}\n</section>'


def _chart(chart_id: str, caption: str, chart: pygal.graph.graph.Graph) -> str:
    # pygal adds a script holding the chart's settings (labels included) for its tooltips,
    # which are off, and comments naming itself: the page carries neither.
    svg = _SCRIPT.sub("", chart.render(is_unicode=True))
    return (
        f'<figure class="chart" id="{chart_id}" role="img" aria-label="{html.escape(caption)}">'
        f"{svg}</figure>"
    )


def _new(kind: type[pygal.graph.graph.Graph], **options: object) -> pygal.graph.graph.Graph:
    """A pygal chart drawn for inline use: no script, no XML declaration, no fixed size."""
    return kind(
        style=_STYLE,
        js=[],
        disable_xml_declaration=True,
        explicit_size=False,
        width=WIDTH,
        height=HEIGHT,
        print_values=True,
        **options,
    )


def _none(text: str = "None.") -> str:
    return f'<p class="none">{html.escape(text)}</p>'


def _weeks(report: Insights) -> str:
    if not report.per_week:
        return _none("No questions.")
    chart = _new(pygal.Bar, show_legend=False, x_label_rotation=-30)
    chart.x_labels = [week for week, _ in report.per_week]
    chart.add("Questions", [count for _, count in report.per_week])
    return _chart("chart-weeks", "Questions per week", chart)


def _clauses(report: Insights) -> str:
    if not report.top_clauses:
        return _none()
    return _bars("chart-clauses", "Most cited clauses", report.top_clauses, "Answers")


def _bars(chart_id: str, caption: str, rows: Sequence[tuple[str, int]], series: str) -> str:
    """A horizontal bar chart, largest at the top."""
    chart = _new(pygal.HorizontalBar, show_legend=False)
    ordered = list(reversed(rows))  # pygal draws the first value at the bottom
    chart.x_labels = [_short(label) for label, _ in ordered]
    chart.add(series, [count for _, count in ordered])
    return _chart(chart_id, caption, chart)


def _themes(report: Insights) -> str:
    if not report.declined_themes:
        return _none()
    rows = [(theme.examples[0], theme.count) for theme in report.declined_themes]
    chart = _bars("chart-themes", "Questions not answered, by theme", rows, "Questions")
    items = "".join(
        f'<tr><td class="n">{theme.count}</td><td>'
        + "<br>".join(f"“{html.escape(q)}”" for q in theme.examples)
        + "</td></tr>"
        for theme in report.declined_themes
    )
    return chart + _table(("Questions", "Examples"), items)


def _unhelpful(report: Insights) -> str:
    if not report.unhelpful:
        return _none()
    items = "".join(
        f"<tr><td>“{html.escape(question)}”</td><td>{html.escape(', '.join(c) or 'no clause')}"
        "</td></tr>"
        for question, c in report.unhelpful
    )
    return _table(("Question", "Clauses given"), items, numeric=())


def _cases(teams: dict[str, TeamFigures]) -> str:
    if not teams:
        return _none("No cases.")
    chart = _new(pygal.Bar, legend_at_bottom=True, y_title="hours")
    chart.x_labels = [team_name(team) for team in teams]
    for label, values in (
        ("First reply, median", [f.first_reply_median for f in teams.values()]),
        ("First reply, p90", [f.first_reply_p90 for f in teams.values()]),
        ("Resolution, median", [f.resolution_median for f in teams.values()]),
        ("Resolution, p90", [f.resolution_p90 for f in teams.values()]),
    ):
        chart.add(label, values)
    items = "".join(
        f"<tr><td>{html.escape(team_name(team))}</td>"
        + "".join(
            f'<td class="n">{value}</td>'
            for value in (
                f.cases,
                _h(f.first_reply_median),
                _h(f.first_reply_p90),
                _h(f.resolution_median),
                _h(f.resolution_p90),
                f.sla_breaches,
            )
        )
        + "</tr>"
        for team, f in teams.items()
    )
    heads = ("Team", "Cases", "First reply median", "p90", "Resolved median", "p90", "Past SLA")
    return _chart("chart-cases", "Hours to first reply and to resolution", chart) + _table(
        heads, items, numeric=range(1, 7)
    )


def _fallbacks(fallbacks: dict[str, int]) -> str:
    items = "".join(
        f'<tr><td>{html.escape(reason)}</td><td class="n">{n}</td></tr>'
        for reason, n in sorted(fallbacks.items())
    )
    return _table(("Reason", "Answers"), items, numeric=(1,))


def _table(heads: Sequence[str], rows: str, numeric: Iterable[int] = (0,)) -> str:
    right = set(numeric)
    head = "".join(
        f"<th{' class=n' if i in right else ''}>{html.escape(h)}</th>" for i, h in enumerate(heads)
    )
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
    return f'<div class="table">{table}</div>'


def team_name(team: str) -> str:
    """A team's name as people read it (the key itself for a team no longer configured)."""
    return next((name for key, name in TEAM_NAMES.items() if key == team), team)


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1].rstrip() + "…"


def _h(hours: float | None) -> str:
    return "–" if hours is None else f"{hours:g} h"
