"""Helpers for the packaging tests: commands run as a user would, in fresh venvs outside the checkout."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RULE_ID = re.compile(r"^([A-Z][A-Z0-9]*-\d{2,3})\s", re.MULTILINE)
SKIPPED = ("__pycache__",)


def clean_env(tmp: Path, path: Path | None = None) -> dict[str, str]:
    """The test's environment (fake AWS credentials) without this checkout's venv; `path` first on PATH."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(([str(path)] if path else [])
                                  + [p for p in env.get("PATH", "").split(os.pathsep) if p != bin_dir])
    env.update({"AUDITOR_CACHE_DIR": str(tmp / "cache"), "COLUMNS": "200", "PIP_DISABLE_PIP_VERSION_CHECK": "1",
                "PYTHONDONTWRITEBYTECODE": "1"})
    return env


def run(*args: str | Path, cwd: Path, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run a command, failing the test with its output when it exits non-zero."""
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(map(str, args))} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


def shipped_files(folder: str) -> set[str]:
    """Every file under a top-level folder of the checkout (relative, '/'-separated), caches left out."""
    base = ROOT / folder
    return {p.relative_to(base).as_posix() for p in base.rglob("*")
            if p.is_file() and not any(part in SKIPPED for part in p.relative_to(base).parts)}


def rule_ids(listing: str) -> list[str]:
    """The rule ids of an `audit rules list` table."""
    return RULE_ID.findall(listing)
