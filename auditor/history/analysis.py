"""What the history says over time, computed with pandas: the drift index and failing rules per state, type
and account; how long findings take to resolve; findings that keep coming back; the types that drift most.

A finding's *episode* runs from the run that found it open (new or reopened) to the run that found it resolved.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, cast

import pandas as pd

from auditor.history import History
from auditor.history.lifecycle import NEW, REOPENED, RESOLVED

SCOPES = ("all", "state", "type", "account")
_TREND_COLUMNS = ["run_id", "started_at", "name", "drift_index", "coverage", "drifted", "failed"]


def trend(history: History, scope: str = "all", last: int | None = None, since: datetime | None = None,
          until: datetime | None = None) -> pd.DataFrame:
    """One row per (run, name) of completed runs, oldest first: drift index, coverage, drifted resources and
    failing rules. `scope` "all" is the whole run (name "all"); "state", "type", "account" one row per each.
    `last` keeps the latest N runs (up to `until`, inclusive)."""
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {', '.join(SCOPES)}")
    if scope == "all":
        runs = [r for r in history.runs(limit=None if until else last, since=since)
                if r.status == "completed" and (until is None or r.started_at <= until)][:last]
        frame = pd.DataFrame([(r.id, r.started_at, "all", r.drift_index, r.coverage, r.drifted, r.failing_rules)
                              for r in reversed(runs)], columns=_TREND_COLUMNS)
    else:
        rows = history.scores(scope, since=since)
        frame = pd.DataFrame([(run_id, at, s.name, s.drift_index, s.coverage, s.drifted, s.failed)
                              for run_id, at, s in rows if until is None or at <= until], columns=_TREND_COLUMNS)
        if last is not None and not frame.empty:
            keep = frame.drop_duplicates("run_id")["run_id"].iloc[-last:]
            frame = frame[frame["run_id"].isin(keep)]
    frame["started_at"] = pd.to_datetime(frame["started_at"], utc=True)
    return frame.sort_values(["started_at", "run_id", "name"], kind="stable").reset_index(drop=True)


def episodes(history: History, since: datetime | None = None, until: datetime | None = None) -> pd.DataFrame:
    """One row per episode opened in [since, until]: key, kind, type, resource, item, opened_at, resolved_at
    (NaT while open, or when resolved after `until`), duration."""
    rows = history.statuses(since=since, only=(NEW, REOPENED, RESOLVED))  # oldest first
    frame = pd.DataFrame([r[1:] for r in rows if until is None or r[1] <= until], columns=["at", "key", "status"])
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    frame = frame.sort_values(["key", "at"], kind="stable").reset_index(drop=True)
    # the lifecycle alternates open (new / reopened) and resolved: an episode is an open row and, when the
    # key's next row resolves it, that row's time
    following = frame.shift(-1)
    opened = frame["status"] != RESOLVED
    closes = (following["key"] == frame["key"]) & (following["status"] == RESOLVED)
    out = pd.DataFrame({"key": frame["key"], "opened_at": frame["at"],
                        "resolved_at": following["at"].where(closes)})[opened].reset_index(drop=True)
    about = pd.DataFrame([_about(k) for k in out["key"]], columns=["kind", "type", "resource", "item"])
    out = pd.concat([out[["key"]], about, out[["opened_at", "resolved_at"]]], axis=1)
    out["opened_at"] = pd.to_datetime(out["opened_at"], utc=True)
    out["resolved_at"] = pd.to_datetime(out["resolved_at"], utc=True)
    out["duration"] = out["resolved_at"] - out["opened_at"]
    return out


def _about(key: str) -> tuple[str, str | None, str | None, str | None]:
    """(kind, type, resource, item) from a finding's key (auditor.history.record.drift_key / rule_key)."""
    kind, _, rest = key.partition("|")
    if kind == "drift":
        type_, _, tail = rest.partition("|")
        id_, _, path = tail.rpartition("|")
        return kind, type_, f"{type_}.{id_}", path
    rule, _, resource = rest.partition("|")
    return kind, resource.partition(".")[0] or None, resource or None, rule


def mean_time_to_resolve(history: History, kind: str = "drift", by: str | None = None,
                         since: datetime | None = None, until: datetime | None = None) -> pd.Series | pd.Timedelta:
    """The mean duration of the resolved episodes of `kind` ("drift" or "rule"); per type with by="type".
    NaT when nothing of that kind was ever resolved."""
    return _mttr(episodes(history, since, until), kind, by)


def _mttr(frame: pd.DataFrame, kind: str, by: str | None) -> pd.Series | pd.Timedelta:
    done = frame[(frame["kind"] == kind) & frame["resolved_at"].notna()]
    if by is not None:
        return done.groupby(by)["duration"].mean()
    return done["duration"].mean() if not done.empty else pd.NaT


def flapping(history: History, min_reopens: int = 2, since: datetime | None = None,
             until: datetime | None = None) -> pd.DataFrame:
    """Findings that were resolved and came back at least `min_reopens` times, most often first."""
    return _flapping(episodes(history, since, until), min_reopens)


def _flapping(frame: pd.DataFrame, min_reopens: int) -> pd.DataFrame:
    counts = frame.groupby(["key", "kind", "type", "resource", "item"], dropna=False).size() \
        .rename("episodes").reset_index()
    counts["reopened"] = counts["episodes"] - 1
    out = counts[counts["reopened"] >= min_reopens]
    return out.sort_values(["reopened", "key"], ascending=[False, True]).reset_index(drop=True)


def top_drifting_types(history: History, n: int = 10, since: datetime | None = None,
                       until: datetime | None = None) -> pd.DataFrame:
    """Resource types by the number of runs in which they drifted, then by drift episodes opened."""
    return _top_types(trend(history, "type", since=since, until=until), episodes(history, since, until), n)


def _top_types(scores: pd.DataFrame, eps: pd.DataFrame, n: int) -> pd.DataFrame:
    per_type = scores.groupby("name").agg(runs_drifted=("drifted", lambda s: int((s > 0).sum())),
                                          mean_drift_index=("drift_index", "mean"))
    opened = eps[eps["kind"] == "drift"].groupby("type").size().rename("drift_episodes")
    out = per_type.join(opened, how="outer").fillna({"runs_drifted": 0, "drift_episodes": 0})
    out = out.astype({"runs_drifted": int, "drift_episodes": int}).rename_axis("type").reset_index()
    out = out[(out["runs_drifted"] > 0) | (out["drift_episodes"] > 0)]
    return out.sort_values(["runs_drifted", "drift_episodes", "type"], ascending=[False, False, True]).head(n) \
        .reset_index(drop=True)


@dataclass(frozen=True, slots=True)
class ScopeTrend:
    """One state, type or account over the window: its drift index first, latest and on average, the runs it
    drifted in, and its failing rules in the latest run."""

    name: str
    runs: int
    runs_drifted: int
    first: float | None
    latest: float | None
    mean: float | None
    failing_latest: int


@dataclass(frozen=True, slots=True)
class Flap:
    kind: str
    type: str | None
    resource: str | None
    item: str | None
    reopened: int


@dataclass(frozen=True, slots=True)
class TypeDrift:
    type: str
    runs_drifted: int
    drift_episodes: int
    mean_drift_index: float | None


@dataclass(frozen=True, slots=True)
class HistoryStats:
    """The analysis above as plain values, for the report, `audit history stats` and JSON."""

    since: datetime | None
    until: datetime | None
    runs: int
    mttr_drift_days: float | None
    mttr_rule_days: float | None
    mttr_by_type: tuple[tuple[str, float], ...]  # drift, resolved episodes only
    flapping: tuple[Flap, ...]
    top_types: tuple[TypeDrift, ...]
    trends: Mapping[str, tuple[ScopeTrend, ...]]  # "state" | "type" | "account" -> the names that drifted or failed

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _days(value: Any) -> float | None:
    return None if pd.isna(value) else round(value.total_seconds() / 86400, 3)


def _float(value: Any) -> float | None:
    return None if pd.isna(value) else round(float(value), 4)


def _scope_trends(frame: pd.DataFrame, top: int) -> tuple[ScopeTrend, ...]:
    rows = []
    for name, g in frame.groupby("name", sort=True):
        index = g["drift_index"].dropna()
        rows.append(ScopeTrend(str(name), len(g), int((g["drifted"] > 0).sum()),
                               _float(index.iloc[0]) if len(index) else None,
                               _float(index.iloc[-1]) if len(index) else None,
                               _float(index.mean()) if len(index) else None, int(g["failed"].iloc[-1])))
    shown = [r for r in rows if r.runs_drifted or r.failing_latest]
    return tuple(sorted(shown, key=lambda r: (-(r.mean or 0.0), -r.failing_latest, r.name))[:top])


def stats(history: History, since: datetime | None = None, until: datetime | None = None,
          top: int = 10) -> HistoryStats:
    """Mean time to resolve, flapping findings, top drifting types and the trend per state, type and account
    over the completed runs in [since, until] (each table at most `top` rows)."""
    eps = episodes(history, since, until)
    per_type = trend(history, "type", since=since, until=until)
    by_type = cast(pd.Series, _mttr(eps, "drift", "type"))
    flaps = _flapping(eps, 2).head(top)
    types = _top_types(per_type, eps, top)
    return HistoryStats(
        since=since, until=until, runs=len(trend(history, since=since, until=until)),
        mttr_drift_days=_days(_mttr(eps, "drift", None)), mttr_rule_days=_days(_mttr(eps, "rule", None)),
        mttr_by_type=tuple((str(t), d) for t, v in by_type.sort_values(ascending=False).head(top).items()
                           if (d := _days(v)) is not None),
        flapping=tuple(Flap(f.kind, f.type, f.resource, f.item, int(f.reopened))
                       for f in flaps.itertuples(index=False)),
        top_types=tuple(TypeDrift(t.type, int(t.runs_drifted), int(t.drift_episodes), _float(t.mean_drift_index))
                        for t in types.itertuples(index=False)),
        trends={"state": _scope_trends(trend(history, "state", since=since, until=until), top),
                "type": _scope_trends(per_type, top),
                "account": _scope_trends(trend(history, "account", since=since, until=until), top)})
