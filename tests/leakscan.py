"""The leak scanner run at the end of the suite: no planted secret in any file the tests wrote.

Tests plant secrets whose text starts with one of PLANTED (S3cret-..., PLANTED-...). Inputs that hold
them on purpose (states, Terraform code, config) are skipped; every other file under the session's
temporary folder (reports, JSON, SARIF, HTML, logs, scan caches, history databases) must not contain one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

PLANTED = (b"S3cret-", b"PLANTED-", b"planted-secret-")
INPUT_SUFFIXES = frozenset({".tfstate", ".tf", ".tfvars", ".toml", ".hcl", ".backup", ".auditignore"})
MAX_BYTES = 64 << 20


def _is_input(path: Path, data: bytes) -> bool:
    """A file a test wrote as input: by its name, or a Terraform state or plan by its content."""
    if path.suffix in INPUT_SUFFIXES or ".tfstate" in path.name or path.name.startswith("."):
        return path.suffix != ".tmp"
    if path.suffix == ".json" and data[:1] == b"{":
        try:
            doc = json.loads(data)
        except ValueError:
            return False
        return isinstance(doc, dict) and "version" in doc and ("resources" in doc or "modules" in doc) \
            and "schema" not in doc
    return False


def leaks(root: Path) -> Iterator[tuple[Path, bytes]]:
    """(file, planted token) for each written file under `root` that carries a planted secret."""
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        try:
            if path.stat().st_size > MAX_BYTES:
                continue
            data = path.read_bytes()
        except OSError:
            continue
        found = next((token for token in PLANTED if token in data), None)
        if found is not None and not _is_input(path, data):
            yield path, found
