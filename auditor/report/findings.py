"""Rule findings as JSON, SARIF 2.1.0 (code-scanning UIs), JUnit XML (CI test reports) and a console table."""

from __future__ import annotations

import contextlib
import hashlib
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree as ET

import orjson

from auditor import __version__
from auditor.models import Finding, Severity, Status, Suppression
from auditor.rules.model import RuleMeta
from auditor.rules.settings import settings_dict

if TYPE_CHECKING:
    from rich.console import Console

    from auditor.models import ComplianceResult
    from auditor.rules.engine import RulePack

SCHEMA = "auditor.scan/v1"
_LEVEL = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "note"}
_SECURITY_SEVERITY = {Severity.CRITICAL: "9.5", Severity.HIGH: "8.0", Severity.MEDIUM: "5.5", Severity.LOW: "3.0"}


def meta_dict(meta: RuleMeta) -> dict[str, Any]:
    return {"id": meta.id, "title": meta.title, "severity": meta.severity.value,
            "resource_types": list(meta.resource_types), "rationale": meta.rationale,
            "remediation": meta.remediation, "terraform": meta.terraform, "peers": meta.peers.as_dict()}


def shown_value(value: Any) -> Any:
    """A finding's value as the reports show it: JSON scalars as they are, anything else as its repr."""
    return value if value is None or isinstance(value, str | int | float | bool) else repr(value)


def finding_dict(f: Finding) -> dict[str, Any]:
    return {
        "rule": f.rule_id, "status": f.status.value, "severity": f.severity.value, "type": f.resource_type,
        "id": f.resource_id, "address": f.address, "origin": f.origin, "message": f.message,
        "value": shown_value(f.value), "file": f.file, "line": f.line,
        "suppressed": None if f.suppressed_by is None else suppression_dict(f.suppressed_by),
    }


def suppression_dict(s: Suppression) -> dict[str, Any]:
    return {"rule": s.rule_id, "target": s.target, "reason": s.reason,
            "expires": s.expires.isoformat() if s.expires else None, "approver": s.approver,
            "approved_on": s.approved_on.isoformat() if s.approved_on else None}


def pack_dict(pack: RulePack) -> dict[str, Any]:
    """Which rules judged: how many, from which files, and a digest of those files (the rule pack's version)."""
    digest = hashlib.sha256()
    for source in pack.sources:
        digest.update(source.rsplit("/", 1)[-1].encode())
        with contextlib.suppress(OSError):
            digest.update(Path(source).read_bytes())
    return {"rules": len(pack.rules), "sources": [s.rsplit("/", 1)[-1] for s in pack.sources],
            "digest": digest.hexdigest()[:16]}


def to_dict(result: ComplianceResult) -> dict[str, Any]:
    used = sorted({f.rule_id for f in result.findings})
    return {
        "schema": SCHEMA,
        "tool": {"name": "auditor", "version": __version__},
        "settings": settings_dict(result.settings),
        "counts": result.counts(),
        "blocking": len(result.blocking()),
        "rules": [meta_dict(r.meta) for r in result.pack.rules if r.meta.id in used],
        "findings": [finding_dict(f) for f in result.findings],
        "expired_suppressions": list(result.expired_suppressions),
        "suppressions": [{**suppression_dict(s), "expired": s.expires is not None and s.expires < date.today(),
                          "matched": sum(1 for f in result.findings if f.suppressed_by == s)}
                         for s in result.suppressions],
        "pack": pack_dict(result.pack),
        "notes": list(result.notes),
    }


def render_json(result: ComplianceResult) -> str:
    return orjson.dumps(to_dict(result), option=orjson.OPT_INDENT_2).decode() + "\n"


def render_sarif(result: ComplianceResult) -> str:
    """SARIF 2.1.0: one result per FAIL (level by severity) and per UNKNOWN (level note)."""
    rules = list(result.pack.rules)
    index = {r.meta.id: i for i, r in enumerate(rules)}
    results = []
    for f in result.findings:
        if f.status not in (Status.FAIL, Status.UNKNOWN):
            continue
        entry: dict[str, Any] = {
            "ruleId": f.rule_id, "ruleIndex": index[f.rule_id],
            "level": _LEVEL[f.severity] if f.status is Status.FAIL else "note",
            "kind": "fail" if f.status is Status.FAIL else "review",
            "message": {"text": f"{f.address or f.resource_id}: {f.message}"},
            "locations": [{
                "logicalLocations": [{"fullyQualifiedName": f.address or f.resource_id, "kind": "resource"}],
                **({"physicalLocation": {"artifactLocation": {"uri": f.file, "uriBaseId": "%SRCROOT%"},
                                         "region": {"startLine": f.line or 1}}} if f.file else {}),
            }],
            "partialFingerprints": {"auditorResource/v1": f"{f.rule_id}:{f.address or f.resource_id}"},
        }
        if f.suppressed_by is not None:
            entry["suppressions"] = [{"kind": "external", "justification": f.suppressed_by.reason}]
        results.append(entry)
    sarif = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "auditor", "version": __version__, "semanticVersion": __version__,
                "rules": [{
                    "id": r.meta.id, "name": r.meta.id.replace("-", ""),
                    "shortDescription": {"text": r.meta.title},
                    "fullDescription": {"text": r.meta.rationale},
                    "help": {"text": r.meta.remediation,
                             "markdown": f"{r.meta.remediation}\n\n```hcl\n{r.meta.terraform}\n```"},
                    "defaultConfiguration": {"level": _LEVEL[r.meta.severity]},
                    "properties": {"security-severity": _SECURITY_SEVERITY[r.meta.severity],
                                   "tags": ["security", "terraform", *sorted(
                                       i for ids in r.meta.peers.as_dict().values() for i in ids)]},
                } for r in rules],
            }},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": "./"}},
            "results": results,
        }],
    }
    return orjson.dumps(sarif, option=orjson.OPT_INDENT_2).decode() + "\n"


def render_junit(result: ComplianceResult) -> str:
    """JUnit XML: one testcase per rule × resource; FAIL -> failure, UNKNOWN -> error, N/A and suppressed -> skipped."""
    suites = ET.Element("testsuites", name="auditor")
    by_rule: dict[str, list[Finding]] = {}
    for f in result.findings:
        by_rule.setdefault(f.rule_id, []).append(f)
    for rule_id, findings in sorted(by_rule.items()):
        suite = ET.SubElement(suites, "testsuite", name=rule_id, tests=str(len(findings)))
        counts = {"failures": 0, "errors": 0, "skipped": 0}
        for f in findings:
            case = ET.SubElement(suite, "testcase", classname=rule_id, name=f.address or f.resource_id)
            if f.file:
                case.set("file", f.file)
                case.set("line", str(f.line or 1))
            if f.suppressed_by is not None:
                ET.SubElement(case, "skipped", message=f"suppressed: {f.suppressed_by.reason}")
                counts["skipped"] += 1
            elif f.status is Status.FAIL:
                ET.SubElement(case, "failure", message=f.message, type=f.severity.value).text = f.message
                counts["failures"] += 1
            elif f.status is Status.UNKNOWN:
                ET.SubElement(case, "error", message=f"unknown: {f.message}", type="UNKNOWN").text = f.message
                counts["errors"] += 1
            elif f.status is Status.NOT_APPLICABLE:
                ET.SubElement(case, "skipped", message=f"not applicable: {f.message}")
                counts["skipped"] += 1
        for key, value in counts.items():
            suite.set(key, str(value))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


_STYLE = {Status.FAIL: "red", Status.UNKNOWN: "cyan", Status.PASS: "green", Status.NOT_APPLICABLE: "dim"}


def print_findings(result: ComplianceResult, console: Console, *, show_passed: bool = False) -> None:
    from rich.table import Table

    from auditor.report.text import safe

    table = Table(title="Compliance", title_justify="left")
    for col in ("status", "rule", "severity", "resource", "finding"):
        table.add_column(col, overflow="fold")
    order = {Status.FAIL: 0, Status.UNKNOWN: 1, Status.PASS: 2, Status.NOT_APPLICABLE: 3}
    shown = sorted((f for f in result.findings if show_passed or f.status in (Status.FAIL, Status.UNKNOWN)),
                   key=lambda f: (order[f.status], -f.severity.rank, f.rule_id, f.address or ""))
    for f in shown:
        status = "SUPPRESSED" if f.suppressed_by else f.status.value
        where = f.address or f.resource_id
        if f.file:
            where += f"\n{f.file}:{f.line or 1}"
        message = f.message + (f"\nsuppressed: {f.suppressed_by.reason}" if f.suppressed_by else "")
        table.add_row(f"[{_STYLE[f.status]}]{status}[/]", f.rule_id, f.severity.value, safe(where), safe(message))
    if shown:
        console.print(table)
    counts = result.counts()
    console.print("  ".join(f"{k.lower()} {v}" for k, v in counts.items())
                  + f"  — {len(result.blocking())} blocking (fail at or above {result.settings.fail_on.value})")
    for note in result.expired_suppressions:
        console.print(f"[yellow]expired suppression:[/yellow] {safe(note)}")
