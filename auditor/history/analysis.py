"""What the history says over time, computed with pandas: the drift index and failing rules per state, type
and account; how long findings take to resolve; findings that keep coming back; the types that drift most.

A finding's *episode* runs from the run that found it open (new or reopened) to the run that found it resolved.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from auditor.history import History
from auditor.history.lifecycle import NEW, REOPENED, RESOLVED

SCOPES = ("all", "state", "type", "account")
_TREND_COLUMNS = ["run_id", "started_at", "name", "drift_index", "coverage", "drifted", "failed"]


def trend(history: History, scope: str = "all", last: int | None = None, since: datetime | None = None) -> pd.DataFrame:
    """One row per (run, name) of completed runs, oldest first: drift index, coverage, drifted resources and
    failing rules. `scope` "all" is the whole run (name "all"); "state", "type", "account" one row per each.
    `last` keeps the latest N runs."""
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {', '.join(SCOPES)}")
    if scope == "all":
        runs = [r for r in history.runs(limit=last, since=since) if r.status == "completed"]
        frame = pd.DataFrame([(r.id, r.started_at, "all", r.drift_index, r.coverage, r.drifted, r.failing_rules)
                              for r in reversed(runs)], columns=_TREND_COLUMNS)
    else:
        rows = history.scores(scope, since=since)
        frame = pd.DataFrame([(run_id, at, s.name, s.drift_index, s.coverage, s.drifted, s.failed)
                              for run_id, at, s in rows], columns=_TREND_COLUMNS)
        if last is not None and not frame.empty:
            keep = frame.drop_duplicates("run_id")["run_id"].iloc[-last:]
            frame = frame[frame["run_id"].isin(keep)]
    frame["started_at"] = pd.to_datetime(frame["started_at"], utc=True)
    return frame.sort_values(["started_at", "run_id", "name"], kind="stable").reset_index(drop=True)


def episodes(history: History, since: datetime | None = None) -> pd.DataFrame:
    """One row per episode: key, kind, type, item, opened_at, resolved_at (NaT while open), duration."""
    details = {k: f.detail for k, f in history.findings().items()}
    frame = pd.DataFrame(history.statuses(since=since), columns=["run_id", "at", "key", "status"])
    frame = frame[frame["status"].isin([NEW, REOPENED, RESOLVED])]
    rows = []
    for key, group in frame.groupby("key", sort=True):
        opened = None
        for at, status in zip(group["at"], group["status"], strict=True):
            if status in (NEW, REOPENED) and opened is None:
                opened = at
            elif status == RESOLVED and opened is not None:
                rows.append((key, at, opened))
                opened = None
        if opened is not None:
            rows.append((key, None, opened))
    out = pd.DataFrame([(k, details[k].kind if k in details else k.split("|", 1)[0],
                         details[k].type if k in details else None, details[k].item if k in details else None,
                         opened, resolved) for k, resolved, opened in rows],
                       columns=["key", "kind", "type", "item", "opened_at", "resolved_at"])
    out["opened_at"] = pd.to_datetime(out["opened_at"], utc=True)
    out["resolved_at"] = pd.to_datetime(out["resolved_at"], utc=True)
    out["duration"] = out["resolved_at"] - out["opened_at"]
    return out


def mean_time_to_resolve(history: History, kind: str = "drift", by: str | None = None) -> pd.Series | pd.Timedelta:
    """The mean duration of the resolved episodes of `kind` ("drift" or "rule"); per type with by="type".
    NaT when nothing of that kind was ever resolved."""
    frame = episodes(history)
    done = frame[(frame["kind"] == kind) & frame["resolved_at"].notna()]
    if by is not None:
        return done.groupby(by)["duration"].mean()
    return done["duration"].mean() if not done.empty else pd.NaT


def flapping(history: History, min_reopens: int = 2) -> pd.DataFrame:
    """Findings that were resolved and came back at least `min_reopens` times, most often first."""
    frame = episodes(history)
    counts = frame.groupby(["key", "kind", "type", "item"], dropna=False).size().rename("episodes").reset_index()
    counts["reopened"] = counts["episodes"] - 1
    out = counts[counts["reopened"] >= min_reopens]
    return out.sort_values(["reopened", "key"], ascending=[False, True]).reset_index(drop=True)


def top_drifting_types(history: History, n: int = 10, since: datetime | None = None) -> pd.DataFrame:
    """Resource types by the number of runs in which they drifted, then by drift episodes opened."""
    scores = trend(history, "type", since=since)
    per_type = scores.groupby("name").agg(runs_drifted=("drifted", lambda s: int((s > 0).sum())),
                                          mean_drift_index=("drift_index", "mean"))
    eps = episodes(history, since=since)
    opened = eps[eps["kind"] == "drift"].groupby("type").size().rename("drift_episodes")
    out = per_type.join(opened, how="outer").fillna({"runs_drifted": 0, "drift_episodes": 0})
    out = out.astype({"runs_drifted": int, "drift_episodes": int}).rename_axis("type").reset_index()
    out = out[(out["runs_drifted"] > 0) | (out["drift_episodes"] > 0)]
    return out.sort_values(["runs_drifted", "drift_episodes", "type"], ascending=[False, False, True]).head(n) \
        .reset_index(drop=True)
