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
    drifted = [r for r in data["resources"] if r["kind"] != DriftKind.IN_SYNC.value]
    return env.get_template("summary.html.j2").render(run=data, drifted=drifted, kinds=[k.value for k in DriftKind])
