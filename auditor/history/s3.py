"""The history in S3, for a stateless container: immutable objects only, each written with a conditional put
(If-None-Match: *), so two writers never overwrite each other and no shared index can be lost.

    PREFIX/runs/RUN_ID.json.gz        the run's JSON result
    PREFIX/summaries/RUN_ID.json.gz   what the history lists and replays (written last: the run's commit)
    PREFIX/journals/ID/000001.json    one journal entry per object, numbered
    PREFIX/journal-kinds/KIND/ID      marks which journals are of a kind

The findings' lifecycle is replayed from the summaries, oldest first.
"""

from __future__ import annotations

import gzip
from collections.abc import Collection
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import orjson

from auditor.history import History, HistoryError, check_kind
from auditor.history.lifecycle import FindingState, replay
from auditor.history.record import Detail, Observed, RunInfo, RunRecord, Score, StateRead, parse_time

_APPEND_ATTEMPTS = 20


def _info_dict(info: RunInfo) -> dict[str, Any]:
    return {**asdict(info), "started_at": info.started_at.isoformat(), "finished_at": info.finished_at.isoformat()}


def _observed_dict(o: Observed) -> dict[str, Any]:
    return {"open": [asdict(d) for d in o.open.values()],
            "unknown_resources": sorted(list(r) for r in o.unknown_resources),
            "unknown_types": sorted(o.unknown_types), "unknown_rules": sorted(o.unknown_rules),
            "drift_complete": o.drift_complete, "rules_checked": o.rules_checked}


def _observed(raw: dict[str, Any]) -> Observed:
    details = [Detail(**d) for d in raw["open"]]
    return Observed(open={d.key: d for d in details},
                    unknown_resources=frozenset((t, i) for t, i in raw["unknown_resources"]),
                    unknown_types=frozenset(raw["unknown_types"]), unknown_rules=frozenset(raw["unknown_rules"]),
                    drift_complete=raw["drift_complete"], rules_checked=raw["rules_checked"])


def _summary(raw: dict[str, Any]) -> RunRecord:
    i = raw["info"]
    info = RunInfo(**{**i, "started_at": parse_time(i["started_at"]), "finished_at": parse_time(i["finished_at"]),
                      "regions": tuple(i["regions"])})
    return RunRecord(info, tuple(Score(**s) for s in raw["scores"]), tuple(StateRead(**s) for s in raw["states"]),
                     None if raw["observed"] is None else _observed(raw["observed"]))


class S3History(History):
    """Runs and journals as immutable S3 objects (SSE-S3 on every object)."""

    def __init__(self, url: str, aws: Any = None) -> None:
        from auditor.aws import Aws, AwsSettings

        rest = url[len("s3://"):]
        bucket, _, prefix = rest.partition("/")
        if not bucket:
            raise HistoryError(f"invalid history URL {url!r}", "use s3://BUCKET/PREFIX")
        self.url = url
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self._s3 = (aws or Aws(AwsSettings())).client("s3")
        self._summaries: dict[str, RunRecord] = {}

    def _call(self, what: str, fn: Any, **kwargs: Any) -> Any:
        import botocore.exceptions

        from auditor.aws import describe_error

        try:
            return fn(Bucket=self.bucket, **kwargs)
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            raise HistoryError(f"history at {self.url}: cannot {what}: {describe_error(exc)}") from None

    def _put_new(self, key: str, body: bytes) -> bool:
        """Create `key` unless it exists; False when another writer got there first."""
        import botocore.exceptions

        from auditor.aws import describe_error, error_code

        try:
            self._s3.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=body, IfNoneMatch="*",
                                ServerSideEncryption="AES256")
        except botocore.exceptions.ClientError as exc:
            if error_code(exc) in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                return False
            raise HistoryError(f"history at {self.url}: cannot write {key}: {describe_error(exc)}") from None
        except botocore.exceptions.BotoCoreError as exc:
            raise HistoryError(f"history at {self.url}: cannot write {key}: {describe_error(exc)}") from None
        return True

    def _get(self, key: str) -> bytes:
        body: bytes = self._call(f"read {key}", self._s3.get_object, Key=self.prefix + key)["Body"].read()
        return body

    def _list(self, under: str) -> list[str]:
        """Keys under PREFIX/under, relative to it, in key order."""
        keys: list[str] = []
        paginator = self._s3.get_paginator("list_objects_v2")
        start = self.prefix + under
        pages = self._call(f"list {under}", lambda **kw: list(paginator.paginate(**kw)), Prefix=start)
        for page in pages:
            keys.extend(obj["Key"][len(start):] for obj in page.get("Contents", ()))
        return sorted(keys)

    def record(self, record: RunRecord) -> str:
        run_id = record.info.id
        if record.document is not None and not self._put_new(
                f"runs/{run_id}.json.gz", gzip.compress(orjson.dumps(record.document, default=str), 6)):
            raise HistoryError(f"history at {self.url}: run {run_id} already exists")
        summary = {"format": "auditor.history/v1", "info": _info_dict(record.info),
                   "scores": [asdict(s) for s in record.scores], "states": [asdict(s) for s in record.states],
                   "observed": None if record.observed is None else _observed_dict(record.observed)}
        if not self._put_new(f"summaries/{run_id}.json.gz", gzip.compress(orjson.dumps(summary), 6)):
            raise HistoryError(f"history at {self.url}: run {run_id} already exists")
        return run_id

    def _all(self) -> list[RunRecord]:
        """Every run's summary, oldest first (read once per object and kept)."""
        names = [k[:-len(".json.gz")] for k in self._list("summaries/") if k.endswith(".json.gz")]
        for run_id in names:
            if run_id not in self._summaries:
                self._summaries[run_id] = _summary(orjson.loads(gzip.decompress(
                    self._get(f"summaries/{run_id}.json.gz"))))
        records = [self._summaries[n] for n in names]
        return sorted(records, key=lambda r: (r.info.started_at, r.info.id))

    def runs(self, limit: int | None = None, since: datetime | None = None) -> list[RunInfo]:
        infos = [r.info for r in reversed(self._all()) if since is None or r.info.started_at >= since]
        return infos[:limit] if limit is not None else infos

    def _load(self, run_id: str) -> RunRecord:
        summary = next((r for r in self._all() if r.info.id == run_id), None)
        if summary is None:
            raise HistoryError(f"no run {run_id!r} in the history at {self.url}")
        document = (orjson.loads(gzip.decompress(self._get(f"runs/{run_id}.json.gz")))
                    if summary.info.status == "completed" else None)
        return RunRecord(summary.info, summary.scores, summary.states, summary.observed, document)

    def findings(self, run_id: str | None = None) -> dict[str, FindingState]:
        known, per_run = replay(self._all())
        if run_id is None:
            return known
        return {k: known[k] for k in per_run.get(run_id, {})}

    def run_statuses(self, run_id: str) -> dict[str, str]:
        return replay(self._all())[1].get(run_id, {})

    def statuses(self, since: datetime | None = None,
                 only: Collection[str] | None = None) -> list[tuple[str, datetime, str, str]]:
        records = self._all()
        per_run = replay(records)[1]
        return [(r.info.id, r.info.started_at, key, status) for r in records
                if since is None or r.info.started_at >= since for key, status in per_run.get(r.info.id, {}).items()
                if only is None or status in only]

    def scores(self, scope: str | None = None, since: datetime | None = None) -> list[tuple[str, datetime, Score]]:
        return [(r.info.id, r.info.started_at, s) for r in self._all()
                if r.info.status == "completed" and (since is None or r.info.started_at >= since)
                for s in r.scores if scope is None or s.scope == scope]

    def prune(self, before: datetime) -> int:
        old = [r.info.id for r in self._all() if r.info.started_at < before]
        for run_id in old:
            for key in (f"summaries/{run_id}.json.gz", f"runs/{run_id}.json.gz"):
                self._call(f"delete {key}", self._s3.delete_object, Key=self.prefix + key)
            self._summaries.pop(run_id, None)
        return len(old)

    def append_journal(self, journal_id: str, kind: str, entry: dict[str, Any]) -> None:
        check_kind(kind)
        if "/" in journal_id or not journal_id:
            raise HistoryError(f"invalid journal id {journal_id!r}")
        body = orjson.dumps({"kind": kind, "at": datetime.now(UTC).isoformat(), "entry": entry}, default=str)
        self._put_new(f"journal-kinds/{kind}/{journal_id}", b"")
        for _ in range(_APPEND_ATTEMPTS):
            seq = len(self._list(f"journals/{journal_id}/")) + 1
            if self._put_new(f"journals/{journal_id}/{seq:06d}.json", body):
                return
        raise HistoryError(f"history at {self.url}: journal {journal_id}: too many concurrent writers")

    def read_journal(self, journal_id: str) -> list[dict[str, Any]]:
        return [orjson.loads(self._get(f"journals/{journal_id}/{name}"))["entry"]
                for name in self._list(f"journals/{journal_id}/")]

    def list_journals(self, kind: str) -> list[str]:
        check_kind(kind)
        return self._list(f"journal-kinds/{kind}/")

    @property
    def sqlalchemy_url(self) -> str | None:
        return None

    def close(self) -> None:
        self._summaries.clear()
