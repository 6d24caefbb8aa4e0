"""The HTML summary page: one self-contained file (inline CSS, no scripts) an auditor can read offline."""

from __future__ import annotations

from jinja2 import Environment, select_autoescape

from auditor.models import AuditRun, DriftKind
from auditor.report.json_report import to_dict
from auditor.resources import template_loader


def render(run: AuditRun) -> str:
    env = Environment(loader=template_loader(), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    data = to_dict(run)
    drifted = [r for r in data["resources"] if r["kind"] != DriftKind.IN_SYNC.value]
    return env.get_template("summary.html.j2").render(run=data, drifted=drifted, kinds=[k.value for k in DriftKind])
