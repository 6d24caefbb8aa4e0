"""The history in SQL: SQLite (the default, one file) or PostgreSQL (psycopg 3), through SQLAlchemy Core."""

from __future__ import annotations

import zlib
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, create_engine, delete, event, func, insert, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from auditor.history import History, HistoryError, check_kind
from auditor.history.lifecycle import OPEN_STATUSES, FindingState, advance
from auditor.history.record import Detail, RunInfo, RunRecord, Score, StateRead, parse_time
from auditor.history.schema import (
    SCHEMA_VERSION,
    findings,
    journal,
    migrate,
    run_findings,
    run_scores,
    run_states,
    runs,
)

_CHUNK = 5000  # rows per executemany


def _sql_url(url: str) -> str:
    """postgresql:// and postgres:// use psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else parse_time(value)


def _db_time(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _finding(row: Any) -> FindingState:
    detail = Detail(row.key, row.kind, row.type, row.resource_id, row.address, row.item, row.severity)
    return FindingState(detail, parse_time(row.first_seen), row.first_run, parse_time(row.last_seen), row.last_run,
                        row.status, _utc(row.resolved_at), row.resolved_run, row.reopened)


def _finding_row(f: FindingState) -> dict[str, Any]:
    d = f.detail
    return {"key": d.key, "kind": d.kind, "type": d.type, "resource_id": d.resource_id, "address": d.address,
            "item": d.item, "severity": d.severity, "first_seen": _db_time(f.first_seen), "first_run": f.first_run,
            "last_seen": _db_time(f.last_seen), "last_run": f.last_run, "status": f.status,
            "resolved_at": None if f.resolved_at is None else _db_time(f.resolved_at),
            "resolved_run": f.resolved_run, "reopened": f.reopened}


def _info(row: Any) -> RunInfo:
    return RunInfo(
        id=row.id, started_at=parse_time(row.started_at), finished_at=parse_time(row.finished_at), status=row.status,
        job=row.job, trigger=row.trigger, tool_version=row.tool_version, account_id=row.account_id,
        regions=tuple(orjson.loads(row.regions)), exit_code=row.exit_code, drift_index=row.drift_index,
        coverage=row.coverage, resources=row.resources, drifted=row.drifted, failing_rules=row.failing_rules,
        api_calls=row.api_calls, config_hash=row.config_hash, error=row.error)


_INFO_COLUMNS = [c for c in runs.c if c.name != "document"]


class SqlHistory(History):
    """Runs, scores, states and findings in SQL tables; the schema is migrated on open."""

    def __init__(self, url: str) -> None:
        try:
            parsed = make_url(_sql_url(url))
        except ArgumentError:
            raise HistoryError(f"invalid history URL {url!r}") from None
        self.url = parsed.render_as_string(hide_password=True)
        self._url = parsed
        if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
            try:
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise HistoryError(f"cannot create the history folder for {self.url}: {exc.strerror}") from None
        self.engine = self._engine(parsed)
        with self._write() as conn:
            try:
                migrate(conn)
            except ValueError as exc:
                raise HistoryError(f"history at {self.url}: {exc}", "upgrade auditor") from None

    @staticmethod
    def _engine(parsed: Any) -> Engine:
        try:
            if parsed.get_backend_name() == "sqlite":
                engine = create_engine(parsed, connect_args={"timeout": 30})

                @event.listens_for(engine, "connect")
                def _connect(dbapi: Any, _record: Any) -> None:
                    dbapi.isolation_level = None  # SQLAlchemy issues BEGIN itself (below)
                    dbapi.execute("PRAGMA foreign_keys = ON")
                    dbapi.execute("PRAGMA journal_mode = WAL")

                @event.listens_for(engine, "begin")
                def _begin(conn: Connection) -> None:
                    conn.exec_driver_sql("BEGIN IMMEDIATE")  # one writer at a time, readers go on (WAL)

                return engine
            return create_engine(parsed, pool_pre_ping=True)
        except (SQLAlchemyError, ImportError) as exc:
            raise HistoryError(f"cannot open the history at {parsed.render_as_string(hide_password=True)}: "
                               f"{exc}") from None

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A transaction holding the store's write lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory lock)."""
        try:
            with self.engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(4242001)"))
                yield conn
        except SQLAlchemyError as exc:
            raise HistoryError(f"history at {self.url}: {_reason(exc)}") from None

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise HistoryError(f"history at {self.url}: {_reason(exc)}") from None

    def record(self, record: RunRecord) -> str:
        info = record.info
        document = None if record.document is None else zlib.compress(
            orjson.dumps(record.document, option=orjson.OPT_NON_STR_KEYS, default=str), 6)
        with self._write() as conn:
            conn.execute(insert(runs).values(
                id=info.id, started_at=_db_time(info.started_at), finished_at=_db_time(info.finished_at),
                status=info.status, job=info.job, trigger=info.trigger, tool_version=info.tool_version,
                account_id=info.account_id, regions=orjson.dumps(list(info.regions)).decode(),
                exit_code=info.exit_code, drift_index=info.drift_index, coverage=info.coverage,
                resources=info.resources, drifted=info.drifted, failing_rules=info.failing_rules,
                api_calls=info.api_calls, config_hash=info.config_hash, error=info.error, document=document))
            _insert_many(conn, run_scores, [
                {"run_id": info.id, "scope": s.scope, "name": s.name, "audited": s.audited, "drifted": s.drifted,
                 "drift_index": s.drift_index, "coverage": s.coverage, "passed": s.passed, "failed": s.failed,
                 "unknown": s.unknown} for s in record.scores])
            _insert_many(conn, run_states, [
                {"run_id": info.id, "uri": s.uri, "workspace": s.workspace, "serial": s.serial,
                 "lineage": s.lineage, "digest": s.digest, "locked": s.locked} for s in record.states])
            if record.observed is not None:
                known = {row.key: _finding(row) for row in conn.execute(
                    select(findings).where(findings.c.status.in_(sorted(OPEN_STATUSES))))}
                others = [k for k in record.observed.open if k not in known]  # new, or back after being resolved
                for i in range(0, len(others), 500):
                    known.update((row.key, _finding(row)) for row in conn.execute(
                        select(findings).where(findings.c.key.in_(others[i:i + 500]))))
                changed, statuses = advance(known, info.id, info.started_at, record.observed)
                if changed:
                    keys = list(changed)
                    for i in range(0, len(keys), 500):
                        conn.execute(delete(findings).where(findings.c.key.in_(keys[i:i + 500])))
                    _insert_many(conn, findings, [_finding_row(f) for f in changed.values()])
                _insert_many(conn, run_findings, [{"run_id": info.id, "key": k, "status": s}
                                                  for k, s in statuses.items()])
        return info.id

    def runs(self, limit: int | None = None, since: datetime | None = None) -> list[RunInfo]:
        query = select(*_INFO_COLUMNS).order_by(runs.c.started_at.desc(), runs.c.id.desc())
        if since is not None:
            query = query.where(runs.c.started_at >= _db_time(since))
        if limit is not None:
            query = query.limit(limit)
        with self._read() as conn:
            return [_info(row) for row in conn.execute(query)]

    def _load(self, run_id: str) -> RunRecord:
        with self._read() as conn:
            row = conn.execute(select(runs).where(runs.c.id == run_id)).first()
            if row is None:
                raise HistoryError(f"no run {run_id!r} in the history at {self.url}")
            scores = [Score(r.scope, r.name, r.audited, r.drifted, r.drift_index, r.coverage, r.passed, r.failed,
                            r.unknown) for r in conn.execute(select(run_scores).where(run_scores.c.run_id == run_id))]
            states = [StateRead(r.uri, r.workspace, r.serial, r.lineage, r.digest, r.locked)
                      for r in conn.execute(select(run_states).where(run_states.c.run_id == run_id))]
        document = None if row.document is None else orjson.loads(zlib.decompress(row.document))
        return RunRecord(_info(row), tuple(scores), tuple(states), None, document)

    def findings(self, run_id: str | None = None) -> dict[str, FindingState]:
        query = select(findings)
        if run_id is not None:
            query = query.join(run_findings, run_findings.c.key == findings.c.key).where(
                run_findings.c.run_id == run_id)
        with self._read() as conn:
            return {row.key: _finding(row) for row in conn.execute(query)}

    def run_statuses(self, run_id: str) -> dict[str, str]:
        with self._read() as conn:
            return {r.key: r.status for r in conn.execute(
                select(run_findings.c.key, run_findings.c.status).where(run_findings.c.run_id == run_id))}

    def statuses(self, since: datetime | None = None,
                 only: Collection[str] | None = None) -> list[tuple[str, datetime, str, str]]:
        query = (select(run_findings.c.run_id, runs.c.started_at, run_findings.c.key, run_findings.c.status)
                 .join(runs, runs.c.id == run_findings.c.run_id).order_by(runs.c.started_at, runs.c.id))
        if since is not None:
            query = query.where(runs.c.started_at >= _db_time(since))
        if only is not None:
            query = query.where(run_findings.c.status.in_(list(only)))
        times: dict[Any, datetime] = {}  # each run's time parsed once
        with self._read() as conn:
            return [(run_id, times[at] if at in times else times.setdefault(at, parse_time(at)), key, status)
                    for run_id, at, key, status in conn.execute(query)]

    def scores(self, scope: str | None = None, since: datetime | None = None) -> list[tuple[str, datetime, Score]]:
        done = runs.c.status == "completed"
        if since is not None:
            done = done & (runs.c.started_at >= _db_time(since))
        c = run_scores.c
        query = (select(c.run_id, c.scope, c.name, c.audited, c.drifted, c.drift_index, c.coverage, c.passed,
                        c.failed, c.unknown).join(runs, runs.c.id == c.run_id).where(done)
                 .order_by(runs.c.started_at, runs.c.id))
        if scope is not None:
            query = query.where(c.scope == scope)
        with self._read() as conn:  # each run's time parsed once, rows read as plain tuples (365 runs x 40 types)
            times = {r.id: parse_time(r.started_at) for r in conn.execute(select(runs.c.id, runs.c.started_at)
                                                                           .where(done))}
            return [(run_id, times[run_id], Score(scope_, name, audited, drifted, index, coverage, passed, failed,
                                                  unknown))
                    for run_id, scope_, name, audited, drifted, index, coverage, passed, failed, unknown
                    in conn.execute(query)]

    def prune(self, before: datetime) -> int:
        with self._write() as conn:
            old = select(runs.c.id).where(runs.c.started_at < _db_time(before))
            for table in (run_findings, run_scores, run_states):
                conn.execute(delete(table).where(table.c.run_id.in_(old)))
            return int(conn.execute(delete(runs).where(runs.c.started_at < _db_time(before))).rowcount or 0)

    def append_journal(self, journal_id: str, kind: str, entry: dict[str, Any]) -> None:
        check_kind(kind)
        with self._write() as conn:
            seq = conn.execute(select(func.coalesce(func.max(journal.c.seq), 0))
                               .where(journal.c.journal_id == journal_id)).scalar_one()
            conn.execute(insert(journal).values(journal_id=journal_id, seq=int(seq) + 1, kind=kind,
                                                at=datetime.now(UTC), entry=orjson.dumps(entry, default=str).decode()))

    def read_journal(self, journal_id: str) -> list[dict[str, Any]]:
        with self._read() as conn:
            return [orjson.loads(r.entry) for r in conn.execute(
                select(journal.c.entry).where(journal.c.journal_id == journal_id).order_by(journal.c.seq))]

    def list_journals(self, kind: str) -> list[str]:
        check_kind(kind)
        query = (select(journal.c.journal_id, func.min(journal.c.at).label("first"))
                 .where(journal.c.kind == kind).group_by(journal.c.journal_id).order_by(text("first"),
                                                                                        journal.c.journal_id))
        with self._read() as conn:
            return [r.journal_id for r in conn.execute(query)]

    @property
    def sqlalchemy_url(self) -> str | None:
        return self._url.render_as_string(hide_password=False)

    @property
    def schema_version(self) -> int:
        return SCHEMA_VERSION

    def close(self) -> None:
        self.engine.dispose()


def _insert_many(conn: Connection, table: Any, rows: list[Mapping[str, Any]]) -> None:
    for i in range(0, len(rows), _CHUNK):
        conn.execute(insert(table), rows[i:i + _CHUNK])


def _reason(exc: SQLAlchemyError) -> str:
    """The driver's first line, without SQLAlchemy's statement dump (which could carry values)."""
    orig = getattr(exc, "orig", None)
    message = str(orig if orig is not None else exc).strip().splitlines()
    return message[0] if message else type(exc).__name__


__all__ = ["SqlHistory"]
