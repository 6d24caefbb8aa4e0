"""The deploy journal: one entry per step, written before the step's action.

Stored with the history store (`append_journal / read_journal / list_journals`, kind "deploy"); the
Journal protocol is what this package needs of it.
"""

from __future__ import annotations

from typing import Any, Protocol

KIND = "deploy"


class JournalStore(Protocol):
    def append_journal(self, journal_id: str, kind: str, entry: dict[str, Any]) -> None: ...

    def read_journal(self, journal_id: str) -> list[dict[str, Any]]: ...

    def list_journals(self, kind: str) -> list[str]: ...


class Journal:
    """One deploy's journal: each entry gets the deploy id, a sequence number and the time."""

    def __init__(self, store: JournalStore, deploy_id: str, now: Any) -> None:
        self.store = store
        self.deploy_id = deploy_id
        self._now = now
        self._seq = len(store.read_journal(deploy_id))
        self.best_effort = False
        self.lost = 0

    def write(self, event: str, **fields: Any) -> None:
        """Append an entry. Once `best_effort` is set (a rollback under way) a store that fails is counted in
        `lost` and does not stop the rollback: traffic back on blue matters more than its record."""
        self._seq += 1
        entry = {"seq": self._seq, "at": round(self._now(), 3), "event": event, **fields}
        if not self.best_effort:
            self.store.append_journal(self.deploy_id, KIND, entry)
            return
        try:
            self.store.append_journal(self.deploy_id, KIND, entry)
        except Exception:  # any store's failure: the rollback goes on
            self.lost += 1

    def entries(self) -> list[dict[str, Any]]:
        return self.store.read_journal(self.deploy_id)


def last(entries: list[dict[str, Any]], event: str) -> dict[str, Any] | None:
    """The latest entry of an event kind."""
    return next((e for e in reversed(entries) if e.get("event") == event), None)
