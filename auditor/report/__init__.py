"""Renderers for an AuditRun: console table, JSON, Terraform plan JSON, HTML. Files are written atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from auditor.errors import AuditError


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write `text` (or bytes) to `path` via a temporary file in the same folder and a rename: never half a file."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise AuditError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode() if isinstance(text, str) else text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise AuditError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
