"""Publish a run's report to a folder or to S3 (SSE on): the run's JSON and page, `latest.html`, and an
`index.html` across every published run (kept in step with an `index.json` manifest)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import orjson

from auditor.errors import AuditError
from auditor.report import write_atomic
from auditor.report.model import Report

_TYPES = {".html": "text/html; charset=utf-8", ".json": "application/json"}


class Target(Protocol):
    def read(self, name: str) -> bytes | None: ...
    def write(self, name: str, body: bytes) -> None: ...
    def where(self, name: str) -> str: ...


class Folder:
    def __init__(self, root: Path) -> None:
        self.root = root

    def read(self, name: str) -> bytes | None:
        path = self.root / name
        return path.read_bytes() if path.is_file() else None

    def write(self, name: str, body: bytes) -> None:
        write_atomic(self.root / name, body)

    def where(self, name: str) -> str:
        return str(self.root / name)


class S3Prefix:
    """Objects under s3://BUCKET/PREFIX/, each written with SSE-S3."""

    def __init__(self, url: str, aws: Any = None) -> None:
        from auditor.aws import Aws, AwsSettings

        bucket, _, prefix = url[len("s3://"):].partition("/")
        if not bucket:
            raise AuditError(f"invalid publish target {url!r}", "use s3://BUCKET/PREFIX/")
        self.bucket, self.prefix = bucket, prefix.strip("/") + "/" if prefix.strip("/") else ""
        self._s3 = (aws or Aws(AwsSettings())).client("s3")

    def _fail(self, what: str, exc: Exception) -> AuditError:
        from auditor.aws import describe_error

        return AuditError(f"cannot {what} s3://{self.bucket}/{self.prefix}: {describe_error(exc)}")

    def read(self, name: str) -> bytes | None:
        import botocore.exceptions

        from auditor.aws import error_code

        try:
            body: bytes = self._s3.get_object(Bucket=self.bucket, Key=self.prefix + name)["Body"].read()
        except botocore.exceptions.ClientError as exc:
            if error_code(exc) in ("NoSuchKey", "404"):
                return None
            raise self._fail(f"read {name} in", exc) from None
        except botocore.exceptions.BotoCoreError as exc:
            raise self._fail(f"read {name} in", exc) from None
        return body

    def write(self, name: str, body: bytes) -> None:
        import botocore.exceptions

        try:
            self._s3.put_object(Bucket=self.bucket, Key=self.prefix + name, Body=body, ServerSideEncryption="AES256",
                                ContentType=_TYPES.get(Path(name).suffix, "application/octet-stream"))
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            raise self._fail(f"write {name} to", exc) from None

    def where(self, name: str) -> str:
        return f"s3://{self.bucket}/{self.prefix}{name}"


def target(dest: str, aws: Any = None) -> Target:
    """The folder or S3 prefix `dest` names (S3 through `aws`, default credentials when None)."""
    return S3Prefix(dest, aws) if dest.startswith("s3://") else Folder(Path(dest))


def _entry(report: Report, name: str) -> dict[str, Any]:
    return {"run_id": report.run_id, "name": name, "started_at": report.started_at.isoformat(),
            "account_id": report.account_id, "regions": list(report.regions), "drift_index": report.drift_index,
            "coverage": report.coverage, "drifted": sum(1 for d in report.drift if d.kind != "unknown"),
            "failing": sum(c.counts.get("FAIL", 0) for c in report.controls), "exit_code": report.exit_code,
            "incomplete": report.incomplete}


def publish(dest: str, doc: Mapping[str, Any], report: Report, page: str, aws: Any = None) -> list[str]:
    """Write the run's files and refresh latest.html and the index; returns where each went (the run's
    JSON first, its page second). S3 goes through `aws` (an auditor.aws.Aws; default credentials when None)."""
    from auditor.report.html import render_index

    out = target(dest, aws)
    name = report.run_id or f"{report.started_at:%Y%m%dT%H%M%SZ}"
    raw = out.read("index.json")
    entries = [e for e in (orjson.loads(raw) if raw else []) if e.get("name") != name]
    entries.append(_entry(report, name))
    entries.sort(key=lambda e: e["started_at"], reverse=True)
    written = []
    for file, body in ((f"runs/{name}.json", orjson.dumps(doc, option=orjson.OPT_INDENT_2, default=str)),
                       (f"runs/{name}.html", page.encode()),
                       ("latest.html", page.encode()),
                       ("index.json", orjson.dumps(entries, option=orjson.OPT_INDENT_2)),
                       ("index.html", render_index(entries).encode())):
        out.write(file, body)
        written.append(out.where(file))
    return written
