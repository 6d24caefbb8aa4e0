"""The auditor's report as data: one model built from a run's JSON result (and, when there is one, the
history around it), rendered alike as HTML, Markdown and CSV."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import orjson

from auditor.history.lifecycle import FindingState
from auditor.history.record import DRIFTED, RunInfo, drift_key, parse_time, rule_key

if TYPE_CHECKING:
    from auditor.history import History
    from auditor.history.analysis import HistoryStats

FRAMEWORKS = {"securityhub": "AWS Security Hub (FSBP)", "aws_config": "AWS Config managed rules",
              "prowler": "Prowler", "checkov": "checkov", "trivy": "trivy"}
STATS_RUNS = 30  # the report's history figures cover this many runs (`audit history stats` any window)
_STATUS_RANK = {"FAIL": 0, "UNKNOWN": 1, "PASS": 2, "NOT_APPLICABLE": 3}


@dataclass(frozen=True, slots=True)
class TrendPoint:
    run_id: str
    at: datetime
    drift_index: float | None
    coverage: float | None
    failing: int


@dataclass(frozen=True, slots=True)
class HistoryContext:
    """What the history says around one run."""

    source: str
    info: RunInfo | None
    trend: tuple[TrendPoint, ...]  # completed runs up to this one, oldest first
    statuses: Mapping[str, str]  # this run's status of each finding
    lifecycle: Mapping[str, FindingState]
    previous: RunInfo | None = None
    stats: HistoryStats | None = None  # the analysis over the last STATS_RUNS runs, up to this one
    remediations: tuple[Mapping[str, Any], ...] = ()  # the fixes planned from this run (auditor.fix.journal)


def history_context(history: History, run_id: str, last: int = 90) -> HistoryContext | None:
    """The trend of the `last` completed runs up to `run_id`, and the findings' statuses in it; None when the
    history does not hold that run."""
    from auditor.history.analysis import stats  # pandas: only when there is a history to analyse

    runs = [r for r in reversed(history.runs()) if r.status == "completed"]
    index = next((i for i, r in enumerate(runs) if r.id == run_id), None)
    if index is None:
        return None
    upto = runs[: index + 1]
    trend = tuple(TrendPoint(r.id, r.started_at, r.drift_index, r.coverage, r.failing_rules) for r in upto[-last:])
    window = trend[-STATS_RUNS:]
    figures = stats(history, since=window[0].at, until=window[-1].at, top=5) if len(window) >= 2 else None
    from auditor.fix.journal import fixes_of_run

    return HistoryContext(history.url, upto[-1], trend, history.run_statuses(run_id), history.findings(run_id),
                          upto[-2] if len(upto) >= 2 else None, figures, fixes_of_run(history, run_id))


@dataclass(frozen=True, slots=True)
class Change:
    """A finding as this run saw it against the history: new, persisting, reopened, resolved or unverified."""

    status: str
    kind: str
    label: str
    item: str
    severity: str | None
    first_seen: datetime | None
    age_days: float | None


@dataclass(frozen=True, slots=True)
class AttributeRow:
    path: str
    state: str
    live: str
    status: str | None  # the finding's history status, when known
    first_seen: datetime | None
    age_days: float | None


@dataclass(frozen=True, slots=True)
class DriftItem:
    kind: str
    type: str
    id: str
    address: str | None
    region: str | None
    states: tuple[str, ...]
    reason: str | None
    attributes: tuple[AttributeRow, ...]
    status: str | None
    first_seen: datetime | None
    age_days: float | None

    @property
    def label(self) -> str:
        return self.address or f"{self.type}.{self.id}"


@dataclass(frozen=True, slots=True)
class Verdict:
    status: str
    label: str
    origin: str
    message: str
    value: str
    suppressed: str | None  # the exception's reason
    history: str | None = None  # new / persisting / reopened, when the history knows
    first_seen: datetime | None = None
    age_days: float | None = None


@dataclass(frozen=True, slots=True)
class Control:
    """One rule and every verdict it gave."""

    id: str
    title: str
    severity: str
    rationale: str
    remediation: str
    terraform: str
    peers: Mapping[str, Sequence[str]]
    counts: Mapping[str, int]  # PASS / FAIL / UNKNOWN / NOT_APPLICABLE / SUPPRESSED
    status: str  # the worst unsuppressed verdict
    verdicts: tuple[Verdict, ...]  # failing, unknown and suppressed ones, in full
    passed: tuple[str, ...]  # the resources that passed


@dataclass(frozen=True, slots=True)
class FrameworkRow:
    framework: str
    control: str
    rules: tuple[str, ...]
    status: str


@dataclass(frozen=True, slots=True)
class RuleGroup:
    name: str
    passed: int
    failed: int
    unknown: int
    suppressed: int

    @property
    def pass_rate(self) -> float | None:
        judged = self.passed + self.failed
        return None if judged == 0 else self.passed / judged


@dataclass(frozen=True, slots=True)
class ExceptionRow:
    rule: str
    target: str
    reason: str
    approver: str | None
    approved_on: str | None
    expires: str | None
    expired: bool
    matched: int
    days_left: int | None


@dataclass(frozen=True, slots=True)
class Report:
    """Everything the report shows, in the order it shows it."""

    run_id: str | None
    started_at: datetime
    finished_at: datetime
    generated_at: datetime
    tool_version: str
    account_id: str
    regions: tuple[str, ...]
    exit_code: int
    incomplete: bool
    api_calls: int
    drift_index: float | None
    coverage: float | None
    counts: Mapping[str, int]
    trend: tuple[TrendPoint, ...]
    history_source: str | None
    previous_run: str | None
    changes: tuple[Change, ...]
    rule_groups: tuple[RuleGroup, ...]
    states: tuple[Mapping[str, Any], ...]
    state_failures: tuple[Mapping[str, Any], ...]
    unobserved: tuple[Mapping[str, Any], ...]
    drift: tuple[DriftItem, ...]
    by_type: tuple[tuple[str, float | None, Mapping[str, int]], ...]
    controls: tuple[Control, ...]
    frameworks: tuple[FrameworkRow, ...]
    exceptions: tuple[ExceptionRow, ...]
    rule_pack: Mapping[str, Any] | None
    settings: Mapping[str, Any] | None
    code: tuple[Mapping[str, Any], ...]
    notes: tuple[str, ...]
    config_hash: str | None = None
    caller: str | None = None
    not_covered: Mapping[str, int] = field(default_factory=dict)  # type -> state resources the auditor does not read
    scan_incomplete: tuple[Mapping[str, Any], ...] = ()  # listings that failed where no state holds the type
    errors: tuple[str, ...] = ()  # why the run exits 1
    stats: HistoryStats | None = None
    remediations: tuple[Mapping[str, Any], ...] = ()  # the fixes planned from this run, with their outcomes

    @property
    def duration_seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()

    def change_counts(self) -> dict[str, int]:
        counts = Counter(c.status for c in self.changes)
        return {s: counts.get(s, 0) for s in ("new", "reopened", "persisting", "resolved", "unverified")}

    @property
    def has_compliance(self) -> bool:
        return bool(self.controls)


def shown(value: Any) -> str:
    """A value as one line of text (JSON for lists and objects)."""
    if isinstance(value, str):
        return value
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str).decode()


def _age(first: datetime | None, at: datetime) -> float | None:
    return None if first is None else max(0.0, round((at - first).total_seconds() / 86400, 1))


def _lifecycle(ctx: HistoryContext | None, key: str, at: datetime) -> tuple[str | None, datetime | None, float | None]:
    if ctx is None:
        return None, None, None
    state = ctx.lifecycle.get(key)
    first = state.first_seen if state else None
    return ctx.statuses.get(key), first, _age(first, at)


def _drift(doc: Mapping[str, Any], ctx: HistoryContext | None, at: datetime) -> list[DriftItem]:
    items = []
    for r in doc.get("resources", ()):
        if r["kind"] in ("in_sync", "not_covered"):  # not covered: one row per type under Scope and evidence
            continue
        rows = []
        for c in r.get("changes") or ():
            status, first, age = _lifecycle(ctx, drift_key(r["type"], r["id"], c["path"]), at)
            rows.append(AttributeRow(c["path"], shown(c["state"]), shown(c["live"]), status, first, age))
        if rows:
            firsts = [a.first_seen for a in rows if a.first_seen]
            first = min(firsts) if firsts else None
            status = next((a.status for a in rows if a.status in ("new", "reopened")), rows[0].status)
            age = _age(first, at)
        elif r["kind"] in DRIFTED:
            status, first, age = _lifecycle(ctx, drift_key(r["type"], r["id"], f"<{r['kind']}>"), at)
        else:
            status, first, age = None, None, None
        items.append(DriftItem(r["kind"], r["type"], r["id"], r.get("address"), r.get("region"),
                               tuple(r.get("states") or ()), r.get("reason"), tuple(rows), status, first, age))
    order = {"missing": 0, "changed": 1, "unmanaged": 2, "unknown": 3}
    return sorted(items, key=lambda d: (order.get(d.kind, 9), d.type, d.label))


def _controls(compliance: Mapping[str, Any], ctx: HistoryContext | None, at: datetime) -> list[Control]:
    by_rule: dict[str, list[Mapping[str, Any]]] = {}
    for f in compliance.get("findings", ()):
        by_rule.setdefault(f["rule"], []).append(f)
    metas = {m["id"]: m for m in compliance.get("rules", ())}
    controls = []
    for rule_id, found in by_rule.items():
        meta = metas.get(rule_id, {})
        counts = Counter("SUPPRESSED" if f.get("suppressed") else f["status"] for f in found)
        shown_verdicts, passed = [], []
        for f in sorted(found, key=lambda f: (_STATUS_RANK.get(f["status"], 9), f.get("address") or f["id"])):
            label = f.get("address") or f"{f['type']}.{f['id']}"
            if f["status"] == "PASS" and not f.get("suppressed"):
                passed.append(label)
            elif f["status"] != "NOT_APPLICABLE" or f.get("suppressed"):
                status, first, age = _lifecycle(ctx, rule_key(rule_id, f["type"], f["id"]), at)
                shown_verdicts.append(Verdict(f["status"], label, f.get("origin", ""), f.get("message", ""),
                                              "" if f.get("value") is None else shown(f["value"]),
                                              (f.get("suppressed") or {}).get("reason"), status, first, age))
        live = [s for s in ("FAIL", "UNKNOWN", "PASS") if counts.get(s)]
        controls.append(Control(
            rule_id, meta.get("title", ""), meta.get("severity", found[0].get("severity", "")),
            meta.get("rationale", ""), meta.get("remediation", ""), meta.get("terraform", ""),
            meta.get("peers", {}), dict(counts), live[0] if live else "NOT_APPLICABLE",
            tuple(shown_verdicts), tuple(dict.fromkeys(passed))))
    severity = {"critical": 0, "high": 1, "medium": 2, "low": 3}
    return sorted(controls, key=lambda c: (_STATUS_RANK.get(c.status, 9), severity.get(c.severity, 9), c.id))


def _frameworks(controls: Sequence[Control]) -> list[FrameworkRow]:
    by: dict[tuple[str, str], list[Control]] = {}
    for c in controls:
        for framework, ids in c.peers.items():
            for peer in ids:
                by.setdefault((framework, peer), []).append(c)
    rows = []
    for (framework, peer), cs in by.items():
        statuses = sorted((c.status for c in cs), key=lambda s: _STATUS_RANK.get(s, 9))
        rows.append(FrameworkRow(framework, peer, tuple(c.id for c in cs), statuses[0]))
    order = list(FRAMEWORKS)
    return sorted(rows, key=lambda r: (order.index(r.framework) if r.framework in order else 99, r.control))


def _groups(controls: Sequence[Control]) -> list[RuleGroup]:
    tally: dict[str, Counter[str]] = {}
    for c in controls:
        tally.setdefault(c.id.split("-", 1)[0], Counter()).update(c.counts)
    return [RuleGroup(name, t["PASS"], t["FAIL"], t["UNKNOWN"], t["SUPPRESSED"]) for name, t in sorted(tally.items())]


def _exceptions(compliance: Mapping[str, Any], at: datetime) -> list[ExceptionRow]:
    rows = []
    for s in compliance.get("suppressions", ()):
        expires = s.get("expires")
        days_left = None if not expires else (date.fromisoformat(expires) - at.date()).days
        rows.append(ExceptionRow(s["rule"], s["target"], s["reason"], s.get("approver"), s.get("approved_on"), expires,
                                 bool(s.get("expired")) or (days_left is not None and days_left < 0),
                                 int(s.get("matched", 0)), days_left))
    return sorted(rows, key=lambda e: (not e.expired, e.expires or "9999", e.rule, e.target))


def _changes(ctx: HistoryContext | None, at: datetime) -> list[Change]:
    if ctx is None:
        return []
    out = []
    for key, status in ctx.statuses.items():
        state = ctx.lifecycle.get(key)
        if state is None:
            continue
        d = state.detail
        label = d.address or f"{d.type}.{d.resource_id}"
        out.append(Change(status, d.kind, label, d.item, d.severity, state.first_seen, _age(state.first_seen, at)))
    order = {"new": 0, "reopened": 1, "resolved": 2, "persisting": 3, "unverified": 4}
    return sorted(out, key=lambda c: (order.get(c.status, 9), c.kind, c.label, c.item))


def build(doc: Mapping[str, Any], ctx: HistoryContext | None = None, *, now: datetime | None = None) -> Report:
    """The report of one run's JSON result, with its history context when there is one."""
    run = doc["run"]
    started, finished = parse_time(run["started_at"]), parse_time(run["finished_at"])
    summary = doc.get("summary") or {}
    compliance = doc.get("compliance") or {}
    controls = _controls(compliance, ctx, started) if compliance else []
    scan_incomplete = tuple(doc.get("unmanaged_scan_incomplete") or ())
    only_scan = {(o["type"], o["region"]) for o in scan_incomplete}
    unobserved = tuple({"type": o["type"], "region": o["region"], "reason": o.get("reason") or "not observed"}
                       for o in doc.get("observations", ())
                       if o.get("status") == "unknown" and (o["type"], o["region"]) not in only_scan)
    return Report(
        run_id=run.get("id"), started_at=started, finished_at=finished, generated_at=now or datetime.now(UTC),
        tool_version=(doc.get("tool") or {}).get("version", "?"), account_id=run.get("account_id") or "?",
        regions=tuple(run.get("regions") or ()), exit_code=int(run.get("exit_code") or 0),
        incomplete=bool(run.get("incomplete")), api_calls=int((doc.get("api_calls") or {}).get("total") or 0),
        drift_index=summary.get("drift_index"), coverage=summary.get("coverage"),
        counts=summary.get("counts") or {}, trend=ctx.trend if ctx else (),
        history_source=ctx.source if ctx else None,
        previous_run=ctx.previous.id if ctx and ctx.previous else None,
        changes=tuple(_changes(ctx, started)), rule_groups=tuple(_groups(controls)),
        states=tuple(doc.get("states", ())), state_failures=tuple(doc.get("state_failures", ())),
        unobserved=unobserved, drift=tuple(_drift(doc, ctx, started)),
        not_covered=dict(summary.get("not_covered") or {}), scan_incomplete=scan_incomplete,
        errors=tuple(run.get("errors") or ()),
        by_type=tuple((t, b.get("drift_index"), b.get("counts") or {})
                      for t, b in sorted((summary.get("by_type") or {}).items())),
        controls=tuple(controls), frameworks=tuple(_frameworks(controls)),
        exceptions=tuple(_exceptions(compliance, started)) if compliance else (),
        rule_pack=compliance.get("pack") if compliance else None,
        settings=compliance.get("settings") if compliance else None,
        code=tuple(doc.get("code", ())), notes=tuple(compliance.get("notes", ())) if compliance else (),
        config_hash=ctx.info.config_hash if ctx and ctx.info else None, caller=run.get("caller"),
        stats=ctx.stats if ctx else None, remediations=ctx.remediations if ctx else (),
    )
