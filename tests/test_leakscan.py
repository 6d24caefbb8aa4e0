"""The end-of-suite leak scanner finds planted secrets in written outputs and skips deliberate inputs."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from tests.leakscan import leaks


def test_the_scanner_finds_outputs_and_skips_inputs() -> None:
    with tempfile.TemporaryDirectory() as folder:  # outside the session's folder, which the scanner itself scans
        _plant_and_scan(Path(folder))


def _plant_and_scan(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "terraform.tfstate").write_text('{"password": "S3cret-input"}')
    (tmp_path / "in" / "main.tf").write_text('password = "PLANTED-code"')
    (tmp_path / "in" / "state.json").write_text(json.dumps({"version": 4, "resources": [], "x": "S3cret-state"}))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "audit.json").write_text(json.dumps({"schema": "auditor.audit/v1", "x": "S3cret-out"}))
    (tmp_path / "out" / "audit.html").write_bytes(b"<td>PLANTED-in-html</td>")
    (tmp_path / "out" / "cache.db").write_bytes(b"\x00\x01planted-secret-in-a-cache")
    (tmp_path / "out" / "clean.log").write_text("nothing here")
    assert sorted(p.relative_to(tmp_path).as_posix() for p, _ in leaks(tmp_path)) == [
        "out/audit.html", "out/audit.json", "out/cache.db"]
