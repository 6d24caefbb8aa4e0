"""The report as Markdown, for a pull-request comment or a CI step summary: the summary, what changed,
what could not be seen, the drift, the failing controls, expired exceptions. Cells are escaped; long lists
are cut with a count."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from auditor.report.model import Report

MAX_ROWS = 30


def cell(value: Any) -> str:
    """One table cell: one line, pipes and Markdown/HTML specials escaped."""
    text = " ".join(str("" if value is None else value).split())
    for ch in ("\\", "|", "<", ">", "*", "_", "`", "[", "]"):
        text = text.replace(ch, "\\" + ch)
    return text


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    rows = list(rows)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows[:MAX_ROWS]]
    if len(rows) > MAX_ROWS:
        lines.append(f"\n…and {len(rows) - MAX_ROWS} more (see the HTML report).")
    return lines


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def render_markdown(r: Report) -> str:
    verdict = ("incomplete audit" if r.incomplete else "clean" if r.exit_code == 0
               else "drift or failing rules")
    failing = [c for c in r.controls if c.status in ("FAIL", "UNKNOWN")]
    lines = [f"## Audit of account {cell(r.account_id)} — {verdict}", "",
             f"{r.started_at:%Y-%m-%d %H:%M} UTC · regions {cell(', '.join(r.regions))} · auditor "
             f"{cell(r.tool_version)}" + (f" · run `{r.run_id}`" if r.run_id else ""), "",
             *_table(["drift index", "coverage", "drifted", "failing verdicts", "states", "unobserved"],
                     [[_num(r.drift_index), _num(r.coverage), sum(1 for d in r.drift if d.kind != "unknown"),
                       sum(c.counts.get("FAIL", 0) for c in r.controls), len(r.states),
                       len(r.unobserved) + len(r.state_failures)]])]
    if r.history_source:
        counts = r.change_counts()
        lines += ["", "**Since the previous run:** " + ", ".join(f"{n} {s}" for s, n in counts.items() if n or s in
                                                              ("new", "resolved"))]
        changed = [c for c in r.changes if c.status in ("new", "reopened", "resolved")]
        if changed:
            lines += ["", *_table(["status", "kind", "resource", "attribute or rule"],
                                  [[c.status, c.kind, c.label, c.item] for c in changed])]
    unseen = [[f"state {f.get('uri')} ({f.get('workspace') or 'default'})", f.get("error")] for f in r.state_failures]
    unseen += [[f"{u['type']} in {u['region']}", u["reason"]] for u in r.unobserved]
    if unseen:
        lines += ["", "### What could not be seen", "", *_table(["what", "why"], unseen)]
    if r.drift:
        lines += ["", "### Drift", "", *_table(
            ["kind", "resource", "attribute", "state", "live", "age (days)"],
            [[d.kind, d.label, a.path, a.state, a.live, "" if a.age_days is None else f"{a.age_days:.0f}"]
             for d in r.drift for a in d.attributes] +
            [[d.kind, d.label, "(whole resource)", "", "", "" if d.age_days is None else f"{d.age_days:.0f}"]
             for d in r.drift if not d.attributes])]
    if failing:
        lines += ["", "### Failing and unknown controls", "", *_table(
            ["rule", "status", "severity", "title", "fail", "unknown", "frameworks"],
            [[c.id, c.status, c.severity, c.title, c.counts.get("FAIL", 0), c.counts.get("UNKNOWN", 0),
              ", ".join(i for ids in c.peers.values() for i in ids)] for c in failing])]
    expired = [e for e in r.exceptions if e.expired]
    if expired:
        lines += ["", "### Expired exceptions", "", *_table(
            ["rule", "resource", "reason", "approver", "expired"],
            [[e.rule, e.target, e.reason, e.approver or "not recorded", e.expires] for e in expired])]
    lines += ["", "_Automated checks at one point in time; not a certification. See the HTML report's "
                  "methodology for what is not covered._", ""]
    return "\n".join(lines)
