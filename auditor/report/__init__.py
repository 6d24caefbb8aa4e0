"""Renderers for an AuditRun: console table, JSON, Terraform plan JSON, HTML. Files are written atomically."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from auditor.errors import AuditError


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write `text` (or bytes) to `path` via a temporary file in the same folder and a rename: never half a file."""
    write_all([(Path(path), text)])


def write_all(files: Sequence[tuple[Path, str | bytes]]) -> None:
    """Write every file or none: each goes to a temporary file beside it first; only when all are written
    are they renamed into place. Temporary files are removed on every way out (errors, Ctrl-C, SIGTERM
    turned into SystemExit by the CLI)."""
    staged: list[tuple[str, Path]] = []
    try:
        for path, text in files:
            path = Path(path)
            if path.is_dir():
                raise AuditError(f"cannot write {path}: is a directory")
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            except OSError as exc:
                raise AuditError(f"cannot write {path}: {exc.strerror or exc}") from None
            staged.append((tmp, path))
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(text.encode() if isinstance(text, str) else text)
                    handle.flush()
                    os.fsync(handle.fileno())
            except OSError as exc:
                raise AuditError(f"cannot write {path}: {exc.strerror or exc}") from None
        while staged:
            tmp, path = staged[0]
            try:
                os.replace(tmp, path)
            except OSError as exc:
                raise AuditError(f"cannot write {path}: {exc.strerror or exc}") from None
            staged.pop(0)
    finally:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
