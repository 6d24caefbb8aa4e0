"""A Markdown summary of an `audit run --json` result (schema auditor.audit/v1), for CI run pages.

    python3 ci/audit_summary.py audit.json >> "$GITHUB_STEP_SUMMARY"

Standard library only, so any CI image with Python runs it. Findings carry masked values only (the
auditor never writes a secret to its JSON), and table cells are escaped.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

SCHEMA = "auditor.audit/v1"
EXIT_MEANING: dict[Any, str] = {0: "clean", 1: "error or incomplete audit", 2: "drift or failing rules"}
MAX_ROWS = 50


def cell(value: Any) -> str:
    """A value as one Markdown table cell (pipes escaped, one line)."""
    return " ".join(str("" if value is None else value).split()).replace("|", "\\|")


def table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return lines


def counts(items: Mapping[str, Any]) -> str:
    return ", ".join(f"{key.lower()} {value}" for key, value in items.items() if value) or "none"


def render(doc: Mapping[str, Any]) -> str:
    if doc.get("schema") != SCHEMA:
        raise ValueError(f"not an audit result: schema {doc.get('schema')!r}, expected {SCHEMA!r}")
    run = doc.get("run") or {}
    summary = doc.get("summary") or {}
    code = run.get("exit_code")
    lines = [f"## Audit {run.get('finished_at', '')}", ""]
    lines += table(("", ""), [
        ("Result", f"exit {code}: {EXIT_MEANING.get(code, 'unknown')}" + (" (incomplete)" if run.get("incomplete")
                                                                           else "")),
        ("Account / regions", f"{run.get('account_id') or '?'} / {', '.join(run.get('regions') or []) or '?'}"),
        ("Drift index", summary.get("drift_index")),
        ("Coverage", summary.get("coverage")),
        ("Resources", counts(summary.get("counts") or {})),
    ])
    failures = doc.get("state_failures") or []
    if failures:
        lines += ["", "### States that could not be read", ""]
        lines += table(("State", "Workspace", "Error"), [(f.get("uri"), f.get("workspace"), f.get("error"))
                                                        for f in failures])
    drifted = [r for r in doc.get("resources") or [] if r.get("kind") != "in_sync"]
    if drifted:
        lines += ["", f"### Drift ({len(drifted)})", ""]
        lines += table(("Kind", "Resource", "Changed attributes"), [
            (r.get("kind"), r.get("address") or f"{r.get('type')}.{r.get('id')}",
             ", ".join(c.get("path", "") for c in r.get("changes") or []))
            for r in drifted[:MAX_ROWS]])
    compliance = doc.get("compliance")
    if compliance:
        fail_on = (compliance.get("settings") or {}).get("fail_on")
        blocking = compliance.get("blocking", 0)
        lines += ["", "### Compliance", "",
                  f"{counts(compliance.get('counts') or {})}; {blocking} blocking (fail on {fail_on})"]
        failing = [f for f in compliance.get("findings") or [] if f.get("status") == "FAIL" and not f.get("suppressed")]
        if failing:
            lines.append("")
            lines += table(("Rule", "Severity", "Resource", "Finding"), [
                (f.get("rule"), f.get("severity"), f.get("address") or f.get("id"), f.get("message"))
                for f in failing[:MAX_ROWS]])
    if len(drifted) > MAX_ROWS or (compliance and len(compliance.get("findings") or []) > MAX_ROWS):
        lines += ["", f"Tables show the first {MAX_ROWS} rows; the HTML report has everything."]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str]) -> int:
    if len(argv) != 1:
        print("usage: audit_summary.py AUDIT_JSON", file=sys.stderr)
        return 1
    try:
        doc = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
        sys.stdout.write(render(doc))
    except (OSError, ValueError) as exc:
        print(f"audit_summary: {argv[0]}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
