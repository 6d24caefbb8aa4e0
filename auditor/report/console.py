"""The human summary printed after an audit (rich tables; plain text when not a terminal)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from auditor.models import AuditRun, DriftKind
from auditor.report.findings import print_findings
from auditor.report.text import safe

_KIND_STYLE = {
    DriftKind.CHANGED: "yellow", DriftKind.MISSING: "red", DriftKind.UNMANAGED: "magenta",
    DriftKind.UNKNOWN: "cyan", DriftKind.IN_SYNC: "green", DriftKind.NOT_COVERED: "blue",
}


def _fmt_index(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def print_summary(run: AuditRun, console: Console, max_rows: int = 200) -> None:
    """States, headline numbers, what drifted and what could not be seen."""
    states = Table(title="States", title_justify="left", show_lines=False)
    for col in ("state", "workspace", "serial", "terraform", "resources", "lock", "digest"):
        states.add_column(col)
    for s in run.states:
        lock = "; ".join(h.describe() for h in s.lock.held) or s.lock.status
        digest = s.digest.status.value if s.digest else "not checked"
        states.add_row(safe(s.uri), safe(s.workspace), str(s.document.serial), safe(s.document.terraform_version),
                       str(len(s.document.managed)), safe(lock), digest)
    console.print(states)
    for f in run.failures:
        console.print(f"[red]state not read:[/red] {safe(f.uri)} ({safe(f.workspace)}): {safe(f.error)}")
    for s in run.states:
        for w in s.warnings:
            console.print(f"[yellow]warning:[/yellow] {safe(s.uri)}: {safe(w)}")

    drifted = [d for d in run.drifts if d.kind not in (DriftKind.IN_SYNC, DriftKind.NOT_COVERED)]
    if drifted:
        table = Table(title="Drift", title_justify="left")
        for col in ("kind", "resource", "attribute / reason", "state", "live"):
            table.add_column(col, overflow="fold")
        rows = 0
        for d in drifted:
            kind = f"[{_KIND_STYLE[d.kind]}]{d.kind.value}[/]"
            name = safe(d.address or f"{d.type} {d.id}")
            for c in d.changes:
                table.add_row(kind, name, safe(c.path), safe(_short(c.state)), safe(_short(c.live)))
                rows += 1
            if not d.changes:
                table.add_row(kind, name, safe(d.reason or ""), "", "")
                rows += 1
            if rows >= max_rows:
                table.add_row("…", f"{len(drifted)} resources in all: see --format json", "", "", "")
                break
        console.print(table)

    o = run.score.overall
    counts = ", ".join(f"{k} {o.counts.get(k.value, 0)}" for k in DriftKind)
    console.print(
        f"[bold]Drift index {_fmt_index(o.drift_index)}[/bold]  coverage "
        f"{'n/a' if o.coverage is None else f'{o.coverage:.1f}%'}  ({counts})  "
        f"API calls {run.inventory.api_calls}  regions {', '.join(run.regions)}"
    )
    for obs in run.unobserved:
        console.print(f"[cyan]not observed:[/cyan] {obs.type} in {obs.region}: {safe(obs.reason)}")
    for tf_type, count in run.score.not_covered.items():
        console.print(f"[blue]not covered:[/blue] {tf_type}: {count} in state, not read by the auditor")
    for obs in run.scan_incomplete:
        console.print(f"[cyan]unmanaged scan incomplete:[/cyan] {obs.type} in {obs.region} (no state holds it "
                      f"there): {safe(obs.reason)}")
    for line in run.policy_failures:
        console.print(f"[red]fails:[/red] {safe(line)}")
    if run.out_of_scope:
        where = sorted({r.region or "global" for r in run.out_of_scope})
        console.print(f"[dim]out of scope:[/dim] {len(run.out_of_scope)} state resource(s) not audited "
                      f"(regions {safe(', '.join(where))} not audited, or types not selected)")
    for comparison in run.code:
        for code_drift in comparison.drifts:
            console.print(f"[yellow]{code_drift.kind.value.replace('_', ' ')}:[/yellow] {safe(code_drift.address)} "
                          f"({safe(comparison.code_dir)} vs {safe(comparison.state)})")
        for note in comparison.unexpanded:
            console.print(f"[cyan]not expanded statically:[/cyan] {safe(note)}")
    if run.compliance is not None:
        print_findings(run.compliance, console)


def _short(value: object, limit: int = 80) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
