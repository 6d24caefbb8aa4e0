"""The SQL history's tables and their versioned migrations.

`schema_version` holds one row: the version the database is at. MIGRATIONS[n] takes a database from
version n-1 to n inside the same transaction that records n. A database newer than this code is refused.
When a later version changes a table, the tables below show the newest layout and the older migration
keeps its own frozen DDL, so every earlier version still upgrades step by step.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    inspect,
    select,
    text,
)

SCHEMA_VERSION = 3

metadata = MetaData()

schema_version = Table("schema_version", metadata, Column("version", Integer, nullable=False))

runs = Table(
    "runs", metadata,
    Column("id", String(64), primary_key=True),
    Column("started_at", DateTime(timezone=True), nullable=False, index=True),
    Column("finished_at", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False),
    Column("job", String(200)),
    Column("trigger", String(32), nullable=False),
    Column("tool_version", String(64)),
    Column("account_id", String(32)),
    Column("regions", Text, nullable=False),  # JSON list
    Column("exit_code", Integer),
    Column("drift_index", Float),
    Column("coverage", Float),
    Column("resources", Integer, nullable=False),
    Column("drifted", Integer, nullable=False),
    Column("failing_rules", Integer, nullable=False),
    Column("api_calls", Integer, nullable=False),
    Column("config_hash", String(64)),
    Column("error", Text),
    Column("document", LargeBinary),  # the JSON result, zlib-compressed
)

run_scores = Table(
    "run_scores", metadata,
    Column("run_id", String(64), ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("scope", String(16), nullable=False),
    Column("name", Text, nullable=False),
    Column("audited", Integer, nullable=False),
    Column("drifted", Integer, nullable=False),
    Column("drift_index", Float),
    Column("coverage", Float),
    Column("passed", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("unknown", Integer, nullable=False),
    Index("ix_run_scores_run", "run_id"),
)

run_states = Table(
    "run_states", metadata,
    Column("run_id", String(64), ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("uri", Text, nullable=False),
    Column("workspace", String(200)),
    Column("serial", Integer),
    Column("lineage", String(64)),
    Column("digest", String(32)),
    Column("locked", Boolean, nullable=False),
    Index("ix_run_states_run", "run_id"),
)

findings = Table(
    "findings", metadata,
    Column("key", Text, primary_key=True),
    Column("kind", String(8), nullable=False),
    Column("type", String(200), nullable=False),
    Column("resource_id", Text, nullable=False),
    Column("address", Text),
    Column("item", Text, nullable=False),
    Column("severity", String(16)),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("first_run", String(64), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
    Column("last_run", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("resolved_at", DateTime(timezone=True)),
    Column("resolved_run", String(64)),
    Column("reopened", Integer, nullable=False),
)

run_findings = Table(
    "run_findings", metadata,
    Column("run_id", String(64), ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("key", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Index("ix_run_findings_run", "run_id"),
)

journal = Table(
    "journal", metadata,
    Column("journal_id", String(200), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("kind", String(16), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("entry", Text, nullable=False),  # JSON
)


schedule_state = Table(
    "auditor_schedule_state", metadata,
    Column("job", String(64), primary_key=True),
    Column("last_slot", Float, nullable=True),        # epoch seconds of the last nominal fire time handled
    Column("summary", Text, nullable=True),           # JSON of the last run's RunSummary (auditor.schedule)
    Column("digest_day", String(10), nullable=True),  # the last day a digest was sent (YYYY-MM-DD)
)


def _v1(conn: Connection) -> None:
    """The first layout: runs, their scores, states and findings' statuses; findings; journals."""
    metadata.create_all(conn, tables=[runs, run_scores, run_states, findings, run_findings, journal])


def _v2(conn: Connection) -> None:
    """Recording a run reads only the open findings: index their status."""
    conn.execute(text("CREATE INDEX ix_findings_status ON findings (status)"))


def _v3(conn: Connection) -> None:
    """The scheduler's per-job state (auditor.schedule.store). Daemons before v3 created the same table
    outside the versioning: it is kept, rows and all."""
    schedule_state.create(conn, checkfirst=True)


MIGRATIONS: dict[int, Callable[[Connection], None]] = {1: _v1, 2: _v2, 3: _v3}


def current_version(conn: Connection) -> int:
    """The version the database is at (0: empty, no schema_version table)."""
    if not inspect(conn).has_table("schema_version"):
        return 0
    return int(conn.execute(select(schema_version.c.version)).scalar() or 0)


def migrate(conn: Connection, target: int = SCHEMA_VERSION) -> tuple[int, int]:
    """Upgrade the database to `target` step by step; returns (from, to). Raises ValueError when newer."""
    start = current_version(conn)
    if start > SCHEMA_VERSION:
        raise ValueError(f"schema v{start} is newer than this auditor's v{SCHEMA_VERSION}")
    if start == 0 and target > 0:
        schema_version.create(conn)
        conn.execute(schema_version.insert().values(version=0))
    for version in range(start + 1, target + 1):
        MIGRATIONS[version](conn)
        conn.execute(schema_version.update().values(version=version))
    return start, max(start, target)
