"""The fix's journal: every step written to the history store before it is taken, so a crash can
be resumed (`audit fix --resume ID`) and the report can show what was done.

Entries (kind "fix", in order): `plan` (the plan and the audit settings), `lock` / `unlock`, `start`
(an action, with its changes: before), `call` (before each AWS call), `applied` / `failed` (after),
`verified` (re-observed: after), `end` (the outcome and exit code).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from auditor.errors import AuditError

KIND = "fix"


class JournalStore(Protocol):
    """The history store's journal methods (auditor.history.History)."""

    def append_journal(self, journal_id: str, kind: str, entry: dict[str, Any]) -> None: ...

    def read_journal(self, journal_id: str) -> list[dict[str, Any]]: ...

    def list_journals(self, kind: str) -> list[str]: ...


class FileJournals:
    """Journals as JSON-lines files (one per journal, appended and fsynced entry by entry) under
    `$XDG_DATA_HOME/auditor/journals/<kind>/`, for when no history store is configured."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def default(cls) -> FileJournals:
        base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        return cls(Path(base) / "auditor" / "journals")

    def _path(self, journal_id: str, kind: str | None = None) -> Path:
        if not journal_id or "/" in journal_id or journal_id.startswith("."):
            raise AuditError(f"invalid journal id {journal_id!r}")
        if kind is None:
            found = sorted(self.root.glob(f"*/{journal_id}.jsonl"))
            if not found:
                raise AuditError(f"no fix journal {journal_id}", "`audit fix --list` shows the journals")
            return found[0]
        return self.root / kind / f"{journal_id}.jsonl"

    def append_journal(self, journal_id: str, kind: str, entry: dict[str, Any]) -> None:
        path = self._path(journal_id, kind)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        line = json.dumps(entry, default=str, sort_keys=True) + "\n"
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    def read_journal(self, journal_id: str) -> list[dict[str, Any]]:
        with self._path(journal_id).open(encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]

    def list_journals(self, kind: str) -> list[str]:
        folder = self.root / kind
        if not folder.is_dir():
            return []
        return [p.stem for p in sorted(folder.glob("*.jsonl"), key=lambda p: p.stat().st_mtime)]


def open_journals() -> JournalStore:
    """The journal store: $AUDITOR_JOURNAL_DIR when set, else the default folder."""
    folder = os.environ.get("AUDITOR_JOURNAL_DIR")
    return FileJournals(Path(folder)) if folder else FileJournals.default()


class Journal:
    """One fix run's journal."""

    def __init__(self, store: JournalStore, journal_id: str | None = None) -> None:
        self.store = store
        self.id = journal_id or datetime.now(UTC).strftime("fix-%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:8]

    def write(self, event: str, **data: Any) -> None:
        entry = {"event": event, "at": datetime.now(UTC).isoformat(timespec="milliseconds"), **data}
        self.store.append_journal(self.id, KIND, entry)

    def entries(self) -> list[dict[str, Any]]:
        return self.store.read_journal(self.id)


def first_entry(entries: list[dict[str, Any]], event: str) -> Mapping[str, Any]:
    for entry in entries:
        if entry.get("event") == event:
            return entry
    raise AuditError(f"the journal has no {event!r} entry: not a fix journal, or written by another version")
