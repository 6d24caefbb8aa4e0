"""One audit's JSON result (schema auditor.audit/v1) -> the rows the history keeps about it.

The history is built from the JSON document, not from the in-memory run, so a run recorded live and a
result file recorded later (`audit report result.json`) give the same rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from secrets import token_hex
from typing import Any

DRIFTED = frozenset({"changed", "missing", "unmanaged"})
_VERDICTS = ("PASS", "FAIL", "UNKNOWN")  # the order of Score's passed, failed, unknown


def new_run_id(started_at: datetime) -> str:
    """Sortable by time and unique across writers: 20261207T141500Z-3f9a1c2e."""
    return f"{started_at.astimezone(UTC):%Y%m%dT%H%M%SZ}-{token_hex(4)}"


def parse_time(text: str | datetime) -> datetime:
    value = text if isinstance(text, datetime) else datetime.fromisoformat(str(text))
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class RunInfo:
    """One row of `audit history list`: what a run was and how it ended."""

    id: str
    started_at: datetime
    finished_at: datetime
    status: str  # "completed" | "failed"
    job: str | None = None
    trigger: str = "manual"
    tool_version: str | None = None
    account_id: str | None = None
    regions: tuple[str, ...] = ()
    exit_code: int | None = None
    drift_index: float | None = None
    coverage: float | None = None
    resources: int = 0
    drifted: int = 0
    failing_rules: int = 0
    api_calls: int = 0
    config_hash: str | None = None
    error: str | None = None

    @property
    def duration_seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()


@dataclass(frozen=True, slots=True)
class Score:
    """A slice of one run: a state, a resource type, an account or a rule."""

    scope: str  # "state" | "type" | "account" | "rule"
    name: str
    audited: int = 0
    drifted: int = 0
    drift_index: float | None = None
    coverage: float | None = None
    passed: int = 0
    failed: int = 0
    unknown: int = 0


@dataclass(frozen=True, slots=True)
class StateRead:
    uri: str
    workspace: str | None
    serial: int | None
    lineage: str | None
    digest: str | None  # the digest check's status, None when not checked
    locked: bool


@dataclass(frozen=True, slots=True)
class Detail:
    """What a finding is about. `key` is its identity across runs."""

    key: str
    kind: str  # "drift" | "rule"
    type: str
    resource_id: str
    address: str | None
    item: str  # drift: attribute path or <missing>/<unmanaged>; rule: the rule id
    severity: str | None = None


def drift_key(type_: str, id_: str, path: str) -> str:
    return f"drift|{type_}|{id_}|{path}"


def rule_key(rule: str, type_: str, id_: str) -> str:
    return f"rule|{rule}|{type_}.{id_}"


@dataclass(frozen=True, slots=True)
class Observed:
    """The findings one run saw open, and what it could not judge (those keep their state)."""

    open: Mapping[str, Detail]
    unknown_resources: frozenset[tuple[str, str]] = frozenset()  # (type, id) of drift kind unknown
    unknown_types: frozenset[str] = frozenset()  # types that could not be listed
    unknown_rules: frozenset[str] = frozenset()  # rule keys whose verdict was UNKNOWN
    drift_complete: bool = True  # every state was read: an absent drift is resolved
    rules_checked: bool = True  # the rules ran: an absent failure is resolved

    def can_judge(self, d: Detail) -> bool:
        """Whether this run could have seen `d` open (so its absence means it is resolved)."""
        if d.kind == "drift":
            return (self.drift_complete and (d.type, d.resource_id) not in self.unknown_resources
                    and d.type not in self.unknown_types)
        return self.rules_checked and d.key not in self.unknown_rules


@dataclass(frozen=True, slots=True)
class RunRecord:
    """Everything the history keeps about one run."""

    info: RunInfo
    scores: tuple[Score, ...] = ()
    states: tuple[StateRead, ...] = ()
    observed: Observed | None = None  # None for a failed run: it judged nothing
    document: Mapping[str, Any] | None = field(default=None, repr=False)


def config_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _observed(doc: Mapping[str, Any]) -> Observed:
    open_: dict[str, Detail] = {}
    unknown_resources: set[tuple[str, str]] = set()
    for r in doc.get("resources", ()):
        kind, type_, id_ = r["kind"], r["type"], r["id"]
        if kind == "unknown":
            unknown_resources.add((type_, id_))
        elif kind == "changed":
            for c in r.get("changes") or ():
                key = drift_key(type_, id_, c["path"])
                open_[key] = Detail(key, "drift", type_, id_, r.get("address"), c["path"])
        elif kind in DRIFTED:
            key = drift_key(type_, id_, f"<{kind}>")
            open_[key] = Detail(key, "drift", type_, id_, r.get("address"), f"<{kind}>")
    compliance = doc.get("compliance")
    unknown_rules: set[str] = set()
    for f in (compliance or {}).get("findings", ()):
        key = rule_key(f["rule"], f["type"], f["id"])
        if f["status"] == "FAIL":
            open_[key] = Detail(key, "rule", f["type"], f["id"], f.get("address"), f["rule"], f.get("severity"))
        elif f["status"] == "UNKNOWN":
            unknown_rules.add(key)
    unknown_types = {o["type"] for o in doc.get("observations", ()) if o.get("status") == "unknown"}
    return Observed(open=open_, unknown_resources=frozenset(unknown_resources), unknown_types=frozenset(unknown_types),
                    unknown_rules=frozenset(unknown_rules - set(open_)),
                    drift_complete=not doc.get("state_failures"), rules_checked=compliance is not None)


def _scores(doc: Mapping[str, Any]) -> list[Score]:
    """Drift and failing rules per state, type and account; verdicts per rule."""
    summary = doc.get("summary") or {}
    states_of = {(r["type"], r["id"]): r.get("states") or () for r in doc.get("resources", ())}
    account = (doc.get("run") or {}).get("account_id")
    failed: dict[tuple[str, str], int] = {}
    by_rule: dict[str, list[int]] = {}
    for f in ((doc.get("compliance") or {}).get("findings") or ()):
        if f.get("suppressed"):
            continue
        tally = by_rule.setdefault(f["rule"], [0, 0, 0])
        status = f["status"]
        if status in _VERDICTS:
            tally[_VERDICTS.index(status)] += 1
        if status == "FAIL":
            scopes = [("type", f["type"]), *(("state", s) for s in states_of.get((f["type"], f["id"]), ()))]
            for scope in scopes + ([("account", account)] if account else []):
                failed[scope] = failed.get(scope, 0) + 1

    def score(scope: str, name: str, b: Mapping[str, Any]) -> Score:
        counts = b.get("counts") or {}
        return Score(scope, name, sum(v for k, v in counts.items() if k != "unknown"),
                     sum(v for k, v in counts.items() if k in DRIFTED), b.get("drift_index"), b.get("coverage"),
                     failed=failed.get((scope, name), 0), unknown=counts.get("unknown", 0))

    out = [score(scope, name, b) for scope, key in (("state", "by_state"), ("type", "by_type"))
           for name, b in (summary.get(key) or {}).items()]
    out += [Score(scope, name, failed=n) for (scope, name), n in sorted(failed.items())
            if scope == "type" and name not in (summary.get("by_type") or {})]
    if account:
        out.append(score("account", account, summary))
    out.extend(Score("rule", rule, passed=p, failed=f, unknown=u) for rule, (p, f, u) in sorted(by_rule.items()))
    return out


def from_document(doc: Mapping[str, Any], run_id: str | None = None, *, job: str | None = None,
                  trigger: str = "manual", config_digest: str | None = None) -> RunRecord:
    """The record of one audit from its JSON result; its id is `run_id`, else the document's, else a new one."""
    run = doc["run"]
    started = parse_time(run["started_at"])
    run_id = run_id or run.get("id") or new_run_id(started)
    summary = doc.get("summary") or {}
    counts = summary.get("counts") or {}
    observed = _observed(doc)
    document = {**doc, "run": {**run, "id": run_id}}
    info = RunInfo(
        id=run_id, started_at=started, finished_at=parse_time(run["finished_at"]), status="completed", job=job,
        trigger=trigger, tool_version=(doc.get("tool") or {}).get("version"), account_id=run.get("account_id"),
        regions=tuple(run.get("regions") or ()), exit_code=run.get("exit_code"),
        drift_index=summary.get("drift_index"), coverage=summary.get("coverage"),
        resources=sum(v for k, v in counts.items() if k != "unknown"),
        drifted=sum(v for k, v in counts.items() if k in DRIFTED),
        failing_rules=sum(1 for d in observed.open.values() if d.kind == "rule"),
        api_calls=int((doc.get("api_calls") or {}).get("total") or 0),
        config_hash=config_digest or run.get("config_hash"),
    )
    states = tuple(
        StateRead(uri=s["uri"], workspace=s.get("workspace"), serial=s.get("serial"), lineage=s.get("lineage"),
                  digest=(s.get("digest") or {}).get("status"), locked=bool((s.get("lock") or {}).get("held")))
        for s in doc.get("states", ()))
    return RunRecord(info=info, scores=tuple(_scores(doc)), states=states, observed=observed, document=document)


def failure_record(started_at: datetime, finished_at: datetime, error: str, job: str | None,
                   trigger: str) -> RunRecord:
    started = parse_time(started_at)
    return RunRecord(RunInfo(id=new_run_id(started), started_at=started, finished_at=parse_time(finished_at),
                             status="failed", job=job, trigger=trigger, error=error))
