"""Recording an audit from the command line: open the store, record, apply the retention, close."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from auditor.history import open_history

if TYPE_CHECKING:
    from auditor.models import AuditRun


def record_with_retention(run: AuditRun, url: str | None, keep_days: int | None,
                          config_digest: str | None = None) -> AuditRun:
    """`run` with its history id, after recording it (and pruning runs older than `keep_days`)."""
    with open_history(url) as history:
        run = replace(run, id=history.record_run(run, config_hash=config_digest))
        if keep_days is not None:
            history.prune(datetime.now(UTC) - timedelta(days=keep_days))
    return run
