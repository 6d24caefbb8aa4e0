"""Where deploy journals live until the history store takes them: one JSON-lines file per deploy.

Each entry is one line, flushed and fsynced before the action it announces, so a crash never loses
the step it was about to take. The folder is $XDG_DATA_HOME/auditor/journals (default ~/.local/share).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from auditor.deploy.model import DeployError

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,200}$")


def default_folder() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "auditor" / "journals"


class FileJournalStore:
    """append_journal / read_journal / list_journals on JSON-lines files, one per journal and kind."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or default_folder()

    def append_journal(self, journal_id: str, kind: str, entry: dict[str, Any]) -> None:
        path = self._path(journal_id, kind)
        line = json.dumps(entry, sort_keys=True, default=str) + "\n"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "a", encoding="utf-8") as handle:
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise DeployError(f"cannot write the journal {path}: {exc.strerror or exc}") from None

    def read_journal(self, journal_id: str) -> list[dict[str, Any]]:
        for path in self.folder.glob(f"*/{self._check(journal_id)}.jsonl"):
            try:
                lines = path.read_text(encoding="utf-8").splitlines()
            except OSError as exc:
                raise DeployError(f"cannot read the journal {path}: {exc.strerror or exc}") from None
            # A line cut short by a crash mid-write is the only kind of damage an append can leave.
            return [json.loads(line) for line in lines if line.strip() and line.rstrip().endswith("}")]
        return []

    def list_journals(self, kind: str) -> list[str]:
        folder = self.folder / kind
        if not folder.is_dir():
            return []
        paths = sorted(folder.glob("*.jsonl"), key=lambda p: p.stat().st_mtime)
        return [p.stem for p in paths]

    def _path(self, journal_id: str, kind: str) -> Path:
        return self.folder / self._check(kind) / f"{self._check(journal_id)}.jsonl"

    @staticmethod
    def _check(name: str) -> str:
        if not _SAFE_ID.match(name):
            raise DeployError(f"invalid journal id {name!r}")
        return name
