"""Inline SVG charts for the report: a trend line with a title and a description for screen readers.

Forty lines of our own instead of a chart library: the report needs one chart type, its SVG must be
inline, script-free and escaped like the rest of the page, and pygal/leather would add a dependency
(and, for pygal, embedded scripts and external style references to strip) for a polyline and two labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from markupsafe import Markup, escape


def trend_chart(chart_id: str, title: str, points: Sequence[tuple[datetime, float | None]], *,
                unit: str = "", width: int = 600, height: int = 140) -> Markup:
    """A line of `points` (oldest first; None leaves a gap), its latest value and date range labelled."""
    values = [v for _, v in points if v is not None]
    if not values:
        return Markup('<p class="meta">No trend yet: the history holds no earlier run.</p>')
    top = max(max(values), 1e-9)
    left, right, pad = 44, 12, 18
    span_x = max(len(points) - 1, 1)

    def xy(i: int, v: float) -> str:
        x = left + (width - left - right) * i / span_x
        y = pad + (height - 2 * pad) * (1 - v / top)
        return f"{x:.1f},{y:.1f}"

    segments: list[list[str]] = [[]]
    for i, (_, v) in enumerate(points):
        if v is None:
            segments.append([])
        else:
            segments[-1].append(xy(i, v))
    lines = "".join(f'<polyline points="{" ".join(s)}"/>' for s in segments if len(s) > 1)
    dots = "".join(f'<circle cx="{xy(i, v).split(",")[0]}" cy="{xy(i, v).split(",")[1]}" r="2.5">'
                   f"<title>{escape(f'{at:%Y-%m-%d %H:%M} UTC: {v:g}{unit}')}</title></circle>"
                   for i, (at, v) in enumerate(points) if v is not None)
    first, last = points[0][0], points[-1][0]
    latest = values[-1]
    desc = (f"{len(points)} runs from {first:%Y-%m-%d} to {last:%Y-%m-%d}; latest {latest:g}{unit}, "
            f"lowest {min(values):g}{unit}, highest {max(values):g}{unit}.")
    return Markup(
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(desc)}</desc>'
        f'<line class="axis" x1="{left}" y1="{height - pad}" x2="{width - right}" y2="{height - pad}"/>'
        f'<text x="{left - 6}" y="{pad + 4}" text-anchor="end">{top:g}</text>'
        f'<text x="{left - 6}" y="{height - pad + 4}" text-anchor="end">0</text>'
        f'<text x="{left}" y="{height - 2}">{first:%Y-%m-%d}</text>'
        f'<text x="{width - right}" y="{height - 2}" text-anchor="end">{last:%Y-%m-%d}</text>'
        f'<g class="line">{lines}</g><g class="dots">{dots}</g></svg>')
