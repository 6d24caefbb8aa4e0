"""The wheel as a user installs it: built from the sdist, installed into a fresh venv outside the checkout,
run from an unrelated folder; and the same wheel through pipx.

Marked `packaging` (a build and two venv installs); `make test` runs it. The build and the install are made
once per test run, whichever xdist worker asks first (the others wait for it and reuse them).
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from auditor import __version__
from auditor.resources import pack_digest
from auditor.rules.engine import load_pack
from tests.packaging.support import ROOT, clean_env, rule_ids, run, shipped_files

pytestmark = pytest.mark.packaging

BUNDLED = {"rules": "auditor/builtin_rules", "reports": "auditor/report_templates"}
"""Top-level folder of the checkout -> where it sits in the wheel."""


@dataclass(frozen=True)
class Built:
    wheel: Path
    sdist: Path


@dataclass(frozen=True)
class Installed:
    venv: Path
    cwd: Path
    env: dict[str, str]

    def audit(self, *args: str | Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(self.venv / "bin" / "audit"), *map(str, args)], cwd=self.cwd, env=self.env,
                              capture_output=True, text=True, timeout=timeout)


@contextmanager
def _once(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[tuple[Path, bool]]:
    """A folder shared by every xdist worker of this run, locked while the caller fills it; True when the
    caller must fill it (no earlier caller completed it)."""
    base = tmp_path_factory.getbasetemp()
    shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / name
    shared.mkdir(exist_ok=True)
    with open(shared.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        ready = shared / ".ready"
        yield shared, not ready.exists()
        ready.touch()


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """`python -m build`: the sdist from the checkout, then the wheel from the sdist (so the sdist is whole)."""
    with _once(tmp_path_factory, "packaging-dist") as (out, fill):
        if fill:
            run(sys.executable, "-m", "build", "--outdir", out, ROOT, cwd=out, env=clean_env(out))
    (wheel,), (sdist,) = out.glob("*.whl"), out.glob("*.tar.gz")
    return Built(wheel, sdist)


@pytest.fixture(scope="session")
def installed(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """`pip install 'auditor[demo]'` from the wheel into a fresh venv; commands run from an empty folder."""
    with _once(tmp_path_factory, "packaging-installed") as (tmp, fill):
        venv, cwd = tmp / "venv", tmp / "elsewhere"
        env = clean_env(tmp, venv / "bin")
        if fill:
            cwd.mkdir(exist_ok=True)
            run(sys.executable, "-m", "venv", venv, cwd=tmp, env=env)
            run(venv / "bin" / "python", "-m", "pip", "install", "--quiet", f"{built.wheel}[demo]", cwd=tmp, env=env)
    return Installed(venv, cwd, env)


def test_the_sdist_and_the_wheel_carry_every_file_of_rules_and_reports(built: Built) -> None:
    with tarfile.open(built.sdist) as sdist:
        in_sdist = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    with zipfile.ZipFile(built.wheel) as wheel:
        in_wheel = set(wheel.namelist())
    for folder, package in BUNDLED.items():
        files = shipped_files(folder)
        assert files, folder
        assert {f"{folder}/{name}" for name in files} <= in_sdist
        assert {f"{package}/{name}" for name in files} <= in_wheel
        assert not [name for name in in_wheel if name.startswith(package) and "__pycache__" in name]


def test_version_names_the_rule_pack_and_botocore(installed: Installed) -> None:
    done = installed.audit("--version")
    assert done.returncode == 0, done.stderr
    pack = ROOT / "rules"
    site = next((installed.venv / "lib").glob("python3.*/site-packages"))
    expected_rules = (f"rule pack: built-in {__version__}, {len(load_pack(pack).rules)} rules, "
                      f"sha256:{pack_digest(pack)[:16]} ({site / 'auditor' / 'builtin_rules'})")
    botocore = run(installed.venv / "bin" / "python", "-c", "import botocore; print(botocore.__version__)",
                   cwd=installed.cwd, env=installed.env).stdout.strip()
    lines = done.stdout.splitlines()
    assert lines[0] == f"audit {__version__}"
    assert lines[1] == expected_rules
    assert lines[2].startswith(f"botocore {botocore}, boto3 ")


def test_rules_list_lists_the_whole_builtin_pack(installed: Installed) -> None:
    done = installed.audit("rules", "list")
    assert done.returncode == 0, done.stderr
    assert rule_ids(done.stdout) == [r.meta.id for r in load_pack(ROOT / "rules").rules]


def test_scan_of_the_reference_stack_passes(installed: Installed) -> None:
    done = installed.audit("scan", ROOT / "terraform" / "stack")
    assert done.returncode == 0, done.stdout + done.stderr


def test_demo_runs_and_writes_the_html_report(installed: Installed) -> None:
    done = installed.audit("demo", "--clean", "--out", "demo-output", timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    html = (installed.cwd / "demo-output" / "audit.html").read_text()
    assert "<html" in html and "digitallync" in html
    assert (installed.cwd / "demo-output" / "audit.json").stat().st_size > 0


def test_pipx_installs_a_working_audit(built: Built, tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    env.update({"PIPX_HOME": str(tmp_path / "pipx"), "PIPX_BIN_DIR": str(tmp_path / "bin"),
                "PIPX_MAN_DIR": str(tmp_path / "man")})
    run(sys.executable, "-m", "pipx", "install", built.wheel, cwd=tmp_path, env=env)
    audit = tmp_path / "bin" / "audit"
    assert rule_ids(run(audit, "rules", "list", cwd=tmp_path, env=env).stdout) == \
        [r.meta.id for r in load_pack(ROOT / "rules").rules]
    run(audit, "scan", ROOT / "terraform" / "stack", cwd=tmp_path, env=env)
