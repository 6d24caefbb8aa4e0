"""`audit history …`: list the recorded runs, show one, compare two, prune old ones, export for analysis."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import orjson

from auditor.errors import ConfigError
from auditor.history import History, open_history
from auditor.history.lifecycle import OPEN_STATUSES, UNVERIFIED, FindingState

if TYPE_CHECKING:
    from auditor.history.analysis import HistoryStats

_STATUS_ORDER = {"new": 0, "reopened": 1, "persisting": 2, "unverified": 3, "resolved": 4}


def _history_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = click.option("--config", "config_path", type=click.Path(path_type=Path),
                      help="audit.toml with `history` and `history_keep_days` (default: ./audit.toml).")(fn)
    return click.option("--history", "history_url", metavar="URL",
                        help="sqlite:///PATH, postgresql://..., s3://BUCKET/PREFIX (default: `history` in "
                             "audit.toml, else $XDG_DATA_HOME/auditor/history.db).")(fn)


def _config(config_path: Path | None) -> Any:
    from auditor.cli import _load_config

    return _load_config(config_path)


def _open(history_url: str | None, config_path: Path | None) -> History:
    return open_history(history_url or _config(config_path).history)


def _time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _age(since: datetime, now: datetime) -> str:
    days = (now - since).total_seconds() / 86400
    return f"{days:.0f}d" if days >= 1 else f"{days * 24:.0f}h"


def _echo_json(data: Any) -> None:
    click.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2, default=str).decode())


def _format_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
                        show_default=True, help="A table, or JSON for scripts.")(fn)


@click.group("history")
def history_group() -> None:
    """The recorded runs: list, show one, diff two, stats over time, prune, export (csv or parquet)."""


@history_group.command("list")
@_history_options
@click.option("--limit", type=int, default=30, show_default=True, help="Show the latest N runs (0: all).")
@_format_option
def list_cmd(history_url: str | None, config_path: Path | None, limit: int, fmt: str) -> None:
    """List recorded runs, newest first: when, how it ended, drift index, drifted resources, failing rules."""
    with _open(history_url, config_path) as h:
        runs = h.runs(limit=limit or None)
    if fmt == "json":
        _echo_json([{**asdict(r), "duration_seconds": r.duration_seconds} for r in runs])
        return
    click.echo(f"{'run':<27} {'started (UTC)':<21} {'status':<9} {'exit':>4} {'drift':>6} {'drifted':>9} "
               f"{'failing':>7}  trigger")
    for r in runs:
        drift = "-" if r.drift_index is None else f"{r.drift_index:.3f}"
        trigger = r.trigger + (f" ({r.job})" if r.job else "")
        status = r.status if r.status == "completed" else f"FAILED: {r.error}"
        click.echo(f"{r.id:<27} {_time(r.started_at):<21} {status[:9]:<9} "
                   f"{'' if r.exit_code is None else r.exit_code:>4} {drift:>6} {f'{r.drifted}/{r.resources}':>9} "
                   f"{r.failing_rules:>7}  {trigger}" + (f"  {r.error}" if r.error else ""))


def _finding_rows(known: Mapping[str, FindingState], statuses: dict[str, str], now: datetime) -> list[dict[str, Any]]:
    rows = []
    for key, status in statuses.items():
        f = known.get(key)
        if f is None:
            continue
        rows.append({"status": status, "kind": f.detail.kind, "type": f.detail.type, "id": f.detail.resource_id,
                     "address": f.detail.address, "item": f.detail.item, "severity": f.detail.severity,
                     "first_seen": f.first_seen.isoformat(), "age": _age(f.first_seen, now), "key": key})
    return sorted(rows, key=lambda r: (_STATUS_ORDER.get(r["status"], 9), r["kind"], r["type"], r["key"]))


def _print_findings(rows: list[dict[str, Any]]) -> None:
    for r in rows:
        what = r["address"] or f"{r['type']}.{r['id']}"
        click.echo(f"  {r['status']:<10} {r['kind']:<5} {what}  {r['item']}  (first seen {r['first_seen'][:10]}, "
                   f"age {r['age']})")


@history_group.command("show")
@click.argument("run", metavar="RUN")
@_history_options
@_format_option
def show_cmd(run: str, history_url: str | None, config_path: Path | None, fmt: str) -> None:
    """Show one run (an id, a unique prefix, `latest` or `previous`): figures and its findings' statuses."""
    with _open(history_url, config_path) as h:
        record = h.run(run)
        rows = _finding_rows(h.findings(record.info.id), h.run_statuses(record.info.id), record.info.started_at)
    info = record.info
    if fmt == "json":
        _echo_json({"run": asdict(info), "states": [asdict(s) for s in record.states], "findings": rows})
        return
    click.echo(f"run {info.id}  {info.status}  started {_time(info.started_at)}  "
               f"({info.duration_seconds:.1f} s)  trigger {info.trigger}" + (f" job {info.job}" if info.job else ""))
    if info.error:
        click.echo(f"error: {info.error}")
    if info.status == "completed":
        click.echo(f"account {info.account_id}  regions {', '.join(info.regions)}  tool {info.tool_version}  "
                   f"exit {info.exit_code}  API calls {info.api_calls}")
        click.echo(f"drift index {info.drift_index}  coverage {info.coverage}  drifted {info.drifted}/"
                   f"{info.resources}  failing rules {info.failing_rules}")
    for s in record.states:
        click.echo(f"state {s.uri} ({s.workspace})  serial {s.serial}  lineage {s.lineage}  digest {s.digest}"
                   + ("  LOCKED" if s.locked else ""))
    counts = {s: sum(1 for r in rows if r["status"] == s) for s in _STATUS_ORDER}
    click.echo("findings: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n) if rows else "findings: none")
    _print_findings(rows)


def _num(value: float | None, spec: str = ".3f") -> str:
    return "-" if value is None else format(value, spec)


def _print_stats(s: HistoryStats) -> None:
    window = f"since {_time(s.since)}" if s.since else "all recorded runs"
    click.echo(f"{s.runs} completed run(s), {window}")
    click.echo(f"mean time to resolve: drift {_num(s.mttr_drift_days, '.1f')} d, failing rule "
               f"{_num(s.mttr_rule_days, '.1f')} d")
    for t, days in s.mttr_by_type:
        click.echo(f"  {t:<40} {days:>8.1f} d")
    click.echo("top drifting types:" + ("" if s.top_types else " none"))
    if s.top_types:
        click.echo(f"  {'type':<40} {'runs drifted':>12} {'episodes':>8} {'mean index':>10}")
    for d in s.top_types:
        click.echo(f"  {d.type:<40} {d.runs_drifted:>12} {d.drift_episodes:>8} {_num(d.mean_drift_index):>10}")
    click.echo("flapping findings (resolved, then back):" + ("" if s.flapping else " none"))
    for f in s.flapping:
        click.echo(f"  {f.reopened:>3}x reopened  {f.kind:<5} {f.resource}  {f.item}")
    for scope, rows in s.trends.items():
        click.echo(f"trend per {scope}:" + ("" if rows else " nothing drifted or failing"))
        if rows:
            click.echo(f"  {'name':<50} {'runs':>5} {'drifted':>7} {'first':>6} {'latest':>6} {'mean':>6} "
                       f"{'failing':>7}")
        for r in rows:
            click.echo(f"  {r.name:<50} {r.runs:>5} {r.runs_drifted:>7} {_num(r.first):>6} {_num(r.latest):>6} "
                       f"{_num(r.mean):>6} {r.failing_latest:>7}")


@history_group.command("stats")
@_history_options
@click.option("--days", type=click.IntRange(min=1), metavar="N",
              help="Only the runs of the last N days (default: all).")
@_format_option
def stats_cmd(history_url: str | None, config_path: Path | None, days: int | None, fmt: str) -> None:
    """What the history says over time: mean time to resolve, top drifting types, flapping findings, and the
    drift index per state, type and account (the figures of the report's history section)."""
    from auditor.history.analysis import stats

    since = datetime.now(UTC) - timedelta(days=days) if days else None
    with _open(history_url, config_path) as h:
        figures = stats(h, since=since)
    if fmt == "json":
        _echo_json(figures.to_dict())
    else:
        _print_stats(figures)


@history_group.command("diff")
@click.argument("run_a", metavar="RUN_A")
@click.argument("run_b", metavar="RUN_B")
@_history_options
@_format_option
def diff_cmd(run_a: str, run_b: str, history_url: str | None, config_path: Path | None, fmt: str) -> None:
    """What changed from RUN_A to RUN_B: findings open only in B (new), only in A (resolved), in both."""
    with _open(history_url, config_path) as h:
        a, b = h.run(run_a).info, h.run(run_b).info
        open_a = {k for k, s in h.run_statuses(a.id).items() if s in OPEN_STATUSES or s == UNVERIFIED}
        open_b = {k for k, s in h.run_statuses(b.id).items() if s in OPEN_STATUSES or s == UNVERIFIED}
        statuses = {**dict.fromkeys(open_b - open_a, "new"), **dict.fromkeys(open_a - open_b, "resolved"),
                    **dict.fromkeys(open_a & open_b, "persisting")}
        rows = _finding_rows(h.findings(), statuses, b.started_at)
    delta = None if a.drift_index is None or b.drift_index is None else round(b.drift_index - a.drift_index, 4)
    if fmt == "json":
        _echo_json({"from": asdict(a), "to": asdict(b), "drift_index_change": delta, "findings": rows})
        return
    click.echo(f"from {a.id} ({_time(a.started_at)}) to {b.id} ({_time(b.started_at)})")
    click.echo(f"drift index {a.drift_index} -> {b.drift_index}  drifted {a.drifted} -> {b.drifted}  "
               f"failing rules {a.failing_rules} -> {b.failing_rules}")
    counts = {s: sum(1 for r in rows if r["status"] == s) for s in ("new", "resolved", "persisting")}
    click.echo(", ".join(f"{n} {s}" for s, n in counts.items()))
    _print_findings(rows)


@history_group.command("prune")
@_history_options
@click.option("--keep-days", type=click.IntRange(min=1), help="Keep the runs of the last N days "
              "(default: history_keep_days in audit.toml).")
def prune_cmd(history_url: str | None, config_path: Path | None, keep_days: int | None) -> None:
    """Forget the runs older than --keep-days (findings keep when they were first seen)."""
    config = _config(config_path)
    keep_days = keep_days or config.history_keep_days
    if keep_days is None:
        raise ConfigError("how long to keep runs is not set", "pass --keep-days N or set history_keep_days")
    with open_history(history_url or config.history) as h:
        removed = h.prune(datetime.now(UTC) - timedelta(days=keep_days))
    click.echo(f"pruned {removed} run(s) older than {keep_days} days")


@history_group.command("export")
@_history_options
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), default="csv", show_default=True,
              help="csv, or parquet (needs pyarrow: pip install 'auditor[parquet]').")
@click.option("--table", type=click.Choice(["runs", "scores", "findings", "episodes"]), default="runs",
              show_default=True, help="runs (one row each), scores (per state/type/account/rule and run), "
                                      "findings (one row per finding and run), episodes (open -> resolved).")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="The file to write.")
def export_cmd(history_url: str | None, config_path: Path | None, fmt: str, table: str, output: Path) -> None:
    """Export the history as a table for spreadsheets and notebooks."""
    from auditor.history.export import frame, write

    with _open(history_url, config_path) as h:
        data = frame(h, table)
    write(data, output, fmt)
    click.echo(f"wrote {len(data)} row(s) to {output}")

