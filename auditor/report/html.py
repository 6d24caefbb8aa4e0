"""The HTML summary page: one self-contained file (inline CSS, no scripts) an auditor can read offline."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from auditor.models import AuditRun, DriftKind
from auditor.report.json_report import to_dict

TEMPLATES = Path(__file__).resolve().parents[2] / "reports"


def render(run: AuditRun, templates: Path = TEMPLATES) -> str:
    env = Environment(loader=FileSystemLoader(str(templates)), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    data = to_dict(run)
    listed = (DriftKind.IN_SYNC.value, DriftKind.NOT_COVERED.value)  # not_covered: one row per type instead
    drifted = [r for r in data["resources"] if r["kind"] not in listed]
    unobserved = [{"type": o.type, "region": o.region, "reason": o.reason} for o in run.unobserved]
    return env.get_template("summary.html.j2").render(run=data, drifted=drifted, unobserved=unobserved,
                                                      kinds=[k.value for k in DriftKind])
