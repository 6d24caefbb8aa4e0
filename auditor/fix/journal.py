"""The fix's journal: every step written to the history store before it is taken, so a crash can
be resumed (`audit fix --resume ID`) and the report can show what was done.

Entries (kind "fix", in order): `plan` (the plan and the audit settings), `lock` / `unlock`, `start`
(an action, with its changes: before), `call` (before each AWS call), `applied` / `failed` (after),
`verified` (re-observed: after), `end` (the outcome and exit code).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from auditor.errors import AuditError

KIND = "fix"


class JournalStore(Protocol):
    """The history store's journal methods (auditor.history.History)."""

    def close(self) -> None: ...

    def append_journal(self, journal_id: str, kind: str, entry: dict[str, Any]) -> None: ...

    def read_journal(self, journal_id: str) -> list[dict[str, Any]]: ...

    def list_journals(self, kind: str) -> list[str]: ...


def open_journals(url: str | None) -> JournalStore:
    """The history store at `url` (None: the default SQLite file), where the journals live."""
    from auditor.history import open_history

    return open_history(url)


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
    if not entries:
        raise AuditError("no such fix journal", "`audit fix --list` shows the journals")
    for entry in entries:
        if entry.get("event") == event:
            return entry
    raise AuditError(f"the journal has no {event!r} entry: not a fix journal, or written by another version")


def remediation(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """A fix journal as the report's "Remediation" section reads it: the audit run it fixed, the plan,
    each acting action's outcome (verified / failed / not run; a redeploy's deploys with their journal ids)
    and how the fix ended."""
    plan = first_entry(entries, "plan")
    verdicts: dict[int, dict[str, Any]] = {}
    deploys: dict[int, dict[int, dict[str, Any]]] = {}
    for entry in entries:
        if entry.get("event") in ("deploy", "deployed"):
            step = deploys.setdefault(int(entry["action"]), {}).setdefault(int(entry["step"]), {"result": "not_run"})
            step.update({k: entry[k] for k in ("step", "of", "onto", "deploy_id", "result", "reason", "detail")
                         if entry.get(k) is not None})
        if entry.get("event") in ("applied", "failed"):  # a failed call that stopped the fix included
            verdicts[int(entry["action"])] = {"verdict": "failed" if entry["event"] == "failed" else "not_run",
                                              "detail": entry.get("detail")}
        elif entry.get("event") == "verified":
            verdicts[int(entry["action"])] = {"verdict": entry["verdict"], "detail": entry.get("detail"),
                                              "remaining": entry.get("after", [])}
    ends = [e for e in entries if e.get("event") == "end"]
    actions = plan["plan"]["actions"]
    return {
        "run_id": plan.get("run_id"), "planned_at": plan["plan"]["created_at"],
        "status": ends[-1]["status"] if ends else "unfinished",
        "exit_code": ends[-1].get("exit_code") if ends else None,
        "actions": [{**{k: a[k] for k in ("kind", "drift", "type", "id", "address", "summary", "risk", "command")},
                     **({"outcome": verdicts.get(i, {"verdict": "not_run", "detail": None})} if a["kind"] in
                        ("revert", "redeploy") else {}),
                     **({"deploys": [deploys.get(i, {})[n] for n in sorted(deploys.get(i, {}))]}
                        if a["kind"] == "redeploy" else {})}
                    for i, a in enumerate(actions)],
        "rules": plan["plan"]["rules"],
    }


def fixes_of_run(store: JournalStore, run_id: str) -> tuple[dict[str, Any], ...]:
    """The fixes planned from audit run `run_id`, oldest first, each as `remediation` reads it plus its journal id."""
    found = []
    for journal_id in store.list_journals(KIND):
        entries = store.read_journal(journal_id)
        plan = next((e for e in entries if e.get("event") == "plan"), None)
        if plan is not None and plan.get("run_id") == run_id:
            found.append({"journal_id": journal_id, **remediation(entries)})
    return tuple(found)
