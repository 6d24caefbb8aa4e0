"""The auditor's report as one self-contained HTML page (inline CSS, one inline script allowed by hash, inline
SVG charts; a Content-Security-Policy that forbids every network request)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from importlib.resources.abc import Traversable
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, select_autoescape
from markupsafe import Markup

from auditor.models import DriftKind
from auditor.report.model import FRAMEWORKS, Report, build, history_context
from auditor.report.svg import trend_chart
from auditor.resources import template_loader
from auditor.resources import templates as shipped_templates

if TYPE_CHECKING:
    from auditor.models import AuditRun
    from auditor.report.health import Health

TEMPLATES = shipped_templates()
_SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}


_ENVIRONMENTS: dict[str, Environment] = {}


def _environment(templates: Traversable) -> Environment:
    """One jinja2 environment per templates folder (it keeps the compiled templates)."""
    key = str(templates)
    if key not in _ENVIRONMENTS:
        _ENVIRONMENTS[key] = Environment(loader=template_loader(templates), trim_blocks=True, lstrip_blocks=True,
                                         autoescape=select_autoescape(["html", "j2"]))
    return _ENVIRONMENTS[key]


def _charts(report: Report) -> list[dict[str, Any]]:
    charts: list[dict[str, Any]] = []
    if not report.trend:
        return charts
    for span in (30, 90):
        points = report.trend[-span:]
        if span == 90 and len(report.trend) <= 30:
            break
        charts.append({"svg": trend_chart(f"drift{span}", f"Drift index, last {len(points)} runs",
                                          [(p.at, p.drift_index) for p in points]),
                       "caption": f"Drift index, last {len(points)} runs"})
    points = report.trend[-90:]
    if points:
        charts.append({"svg": trend_chart("cov", f"Coverage, last {len(points)} runs",
                                          [(p.at, p.coverage) for p in points], unit="%"),
                       "caption": f"Coverage, last {len(points)} runs"})
        charts.append({"svg": trend_chart("fail", f"Failing rule verdicts, last {len(points)} runs",
                                          [(p.at, float(p.failing)) for p in points]),
                       "caption": f"Failing rule verdicts, last {len(points)} runs"})
    return charts


def _script(templates: Traversable) -> dict[str, Any]:
    """report.js, inlined, and its hash for the page's Content-Security-Policy."""
    script = (templates / "report.js").read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    return {"script": Markup(script), "script_hash": f"sha256-{digest}"}


def render_index(entries: Sequence[Mapping[str, Any]], templates: Traversable = TEMPLATES) -> str:
    """The page listing every published run, newest first."""
    return _environment(templates).get_template("index.html.j2").render(entries=entries, **_script(templates))


def render_report(report: Report, *, health: Health | None = None, templates: Traversable = TEMPLATES) -> str:
    """The page for `report`, with the service-health section when `health` was read."""
    return _environment(templates).get_template("report.html.j2").render(
        r=report, charts=_charts(report), **_script(templates),
        kinds=[k.value for k in DriftKind], frameworks=FRAMEWORKS, severity_rank=_SEVERITY_RANK, health=health,
        drifted=sum(1 for d in report.drift if d.kind != "unknown"),
        failing=sum(c.counts.get("FAIL", 0) for c in report.controls))


def render_document(doc: Mapping[str, Any], history_url: str | None = None) -> str:
    """The page for a run's JSON result, with the history around it when the run is recorded there."""
    ctx = None
    run_id = (doc.get("run") or {}).get("id")
    if history_url is not None and run_id:
        from auditor.history import open_history

        with open_history(history_url) as history:
            ctx = history_context(history, run_id)
    return render_report(build(doc, ctx))


def render(run: AuditRun, history_url: str | None = None) -> str:
    """The page for an audit just run (`audit run --html`)."""
    from auditor.report.json_report import to_dict

    return render_document(to_dict(run), history_url if run.id else None)
