"""The history as flat tables (pandas) for spreadsheets and notebooks: CSV, or Parquet through pyarrow."""

from __future__ import annotations

import io
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from auditor.errors import ConfigError
from auditor.history import History
from auditor.history.analysis import episodes
from auditor.report import write_atomic

TABLES = ("runs", "scores", "findings", "episodes")


def frame(history: History, table: str) -> pd.DataFrame:
    """One of TABLES as a DataFrame, oldest first."""
    if table == "runs":
        rows = [{**asdict(r), "regions": ",".join(r.regions), "duration_seconds": r.duration_seconds}
                for r in reversed(history.runs())]
        return pd.DataFrame(rows, columns=None if rows else ["id"])
    if table == "scores":
        return pd.DataFrame([{"run_id": run_id, "started_at": at, **asdict(s)} for run_id, at, s in history.scores()],
                            columns=None if history.scores() else ["run_id"])
    if table == "findings":
        known = history.findings()
        rows = []
        for run_id, at, key, status in history.statuses():
            d = known[key].detail
            rows.append({"run_id": run_id, "started_at": at, "key": key, "status": status, "kind": d.kind,
                         "type": d.type, "resource_id": d.resource_id, "address": d.address, "item": d.item,
                         "severity": d.severity, "first_seen": known[key].first_seen})
        return pd.DataFrame(rows, columns=None if rows else ["run_id"])
    if table == "episodes":
        return episodes(history)
    raise ConfigError(f"unknown table {table!r}", f"one of {', '.join(TABLES)}")


def write(data: pd.DataFrame, path: Path, fmt: str) -> None:
    """Write `data` atomically as csv or parquet."""
    if fmt == "csv":
        write_atomic(path, data.to_csv(index=False))
        return
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise ConfigError("parquet needs pyarrow", "pip install 'auditor[parquet]', or use --format csv") from None
    buffer = io.BytesIO()
    data.to_parquet(buffer, index=False)
    write_atomic(path, buffer.getvalue())
