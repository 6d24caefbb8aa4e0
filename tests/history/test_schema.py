"""The SQL history's schema: created on first open, upgraded from every earlier version, newer ones refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, insert, inspect

from auditor.history import HistoryError, open_history
from auditor.history.schema import SCHEMA_VERSION, current_version, migrate, runs, schema_version
from auditor.history.sql import _sql_url
from tests.history.docs import make_doc


@pytest.fixture(params=["sqlite", "postgresql"])
def sql_url(request: pytest.FixtureRequest, tmp_path: object) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/h.db"
    return str(request.getfixturevalue("postgres_url"))


@pytest.mark.parametrize("start", range(SCHEMA_VERSION))
def test_every_earlier_version_upgrades_to_the_current_one(sql_url: str, start: int) -> None:
    engine = create_engine(_sql_url(sql_url))
    with engine.begin() as conn:
        migrate(conn, target=start)
        assert current_version(conn) == start
        if start >= 1:  # a run recorded by that version survives the upgrade
            conn.execute(insert(runs).values(
                id="old-run", started_at=datetime(2025, 1, 1, tzinfo=UTC), finished_at=datetime(2025, 1, 1, tzinfo=UTC),
                status="completed", trigger="manual", regions="[]", resources=3, drifted=1, failing_rules=0,
                api_calls=9))
    engine.dispose()
    with open_history(sql_url) as h:
        run_id = h.record_document(make_doc(datetime(2026, 1, 1, tzinfo=UTC), [("aws_lb", "a", "missing", [])]))
        assert h.runs()[0].id == run_id
        assert [r.id for r in h.runs()][1:] == (["old-run"] if start >= 1 else [])
    engine = create_engine(_sql_url(sql_url))
    with engine.connect() as conn:
        assert current_version(conn) == SCHEMA_VERSION
        assert {"runs", "findings", "run_findings", "run_scores", "run_states", "journal",
                "auditor_schedule_state"} <= set(inspect(conn).get_table_names())
        assert "ix_findings_status" in {i["name"] for i in inspect(conn).get_indexes("findings")}
    engine.dispose()


def test_opening_twice_migrates_once(sql_url: str) -> None:
    open_history(sql_url).close()
    engine = create_engine(_sql_url(sql_url))
    with engine.begin() as conn:
        assert migrate(conn) == (SCHEMA_VERSION, SCHEMA_VERSION)
    engine.dispose()


@pytest.mark.parametrize("opener", ["history", "scheduler's store"])
def test_a_newer_schema_is_refused(sql_url: str, opener: str) -> None:
    from auditor.schedule.store import ScheduleStore

    engine = create_engine(_sql_url(sql_url))
    with engine.begin() as conn:
        schema_version.create(conn)
        conn.execute(insert(schema_version).values(version=SCHEMA_VERSION + 1))
    engine.dispose()
    with pytest.raises(HistoryError, match=f"schema v{SCHEMA_VERSION + 1} is newer"):
        open_history(sql_url) if opener == "history" else ScheduleStore(_sql_url(sql_url))


def test_the_schedulers_table_made_before_versioning_is_adopted_with_its_rows(sql_url: str) -> None:
    """Daemons before schema v3 created auditor_schedule_state themselves: v3 keeps it, and the scheduler's
    store, opened on a v2 database, migrates it like the history does."""
    from sqlalchemy import Column, Float, MetaData, String, Table, Text

    from auditor.schedule.store import ScheduleStore

    engine = create_engine(_sql_url(sql_url))
    with engine.begin() as conn:
        migrate(conn, target=2)
        legacy = Table("auditor_schedule_state", MetaData(), Column("job", String(64), primary_key=True),
                       Column("last_slot", Float), Column("summary", Text), Column("digest_day", String(10)))
        legacy.create(conn)
        conn.execute(insert(legacy).values(job="nightly", last_slot=1.7e9, summary='{"last": null}',
                                           digest_day="2026-12-06"))
    engine.dispose()
    store = ScheduleStore(_sql_url(sql_url))
    try:
        state = store.get("nightly")
        assert (state.last_slot, state.summary, state.digest_day) == (
            datetime.fromtimestamp(1.7e9, UTC), {"last": None}, "2026-12-06")
        store.update("weekly", digest_day="2026-12-07")
        assert store.get("weekly").digest_day == "2026-12-07"
        with store.engine.connect() as conn:
            assert current_version(conn) == SCHEMA_VERSION == 3
    finally:
        store.close()
