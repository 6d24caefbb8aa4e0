"""The report as CSV: one row per drifted attribute and per rule verdict, with the history's view of each.
Cells that a spreadsheet would run as a formula are prefixed with a quote."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from auditor.report.model import Report

COLUMNS = ["section", "status", "severity", "resource", "resource_id", "type_or_origin", "attribute_or_rule",
           "state", "live", "message", "suppressed_by", "history", "first_seen", "age_days", "frameworks"]


def _safe(value: Any) -> str:
    if value is None:
        return ""
    text = value.strftime("%Y-%m-%dT%H:%M:%SZ") if isinstance(value, datetime) else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def render_csv(r: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for d in r.drift:
        for a in d.attributes or (None,):
            writer.writerow([_safe(v) for v in (
                "drift", d.kind, "", d.label, d.id, d.type, a.path if a else "(whole resource)",
                a.state if a else "", a.live if a else "", d.reason, "", (a.status if a else d.status),
                (a.first_seen if a else d.first_seen), (a.age_days if a else d.age_days), "")])
    for c in r.controls:
        frameworks = " ".join(f"{fw}:{i}" for fw, ids in c.peers.items() for i in ids)
        for v in c.verdicts:
            writer.writerow([_safe(x) for x in (
                "rule", v.status, c.severity, v.label, "", v.origin, c.id, "", "", v.message + (
                    f" ({v.value})" if v.value else ""), v.suppressed, v.history, v.first_seen, v.age_days,
                frameworks)])
        for label in c.passed:
            writer.writerow([_safe(x) for x in ("rule", "PASS", c.severity, label, "", "", c.id, "", "", "", "", "",
                                                "", "", frameworks)])
    return out.getvalue()
