"""The scan result cache (auditor.scan.cache): warm scans render exactly as cold ones, every input of a
scan invalidates it, suppressions stay live, and a broken or unwritable cache never fails a scan."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner
from rich.console import Console

from auditor.cli import cli
from auditor.models import ComplianceResult, Status, Suppression
from auditor.report import findings as report
from auditor.rules import secrets
from auditor.rules.engine import RulePack, Suppressions, rule_pack
from auditor.rules.settings import RuleSettings
from auditor.scan import code as scan_code
from auditor.scan.cache import ScanCache, scan_key
from auditor.scan.code import scan
from tests.conftest import REPO
from tests.rules.support import FIXTURES, builtin_pack

SETTINGS = RuleSettings()

MAIN_TF = """
variable "days" {
  type = number
}

resource "aws_cloudwatch_log_group" "from_tfvars" {
  name              = "/app/tfvars"
  retention_in_days = var.days
}

resource "aws_cloudwatch_log_group" "from_file" {
  name              = "/app/file"
  retention_in_days = tonumber(trimspace(file("days.txt")))
}
"""

EXTRA_TF = """
resource "aws_cloudwatch_log_group" "extra" {
  name              = "/app/extra"
  retention_in_days = 7
}
"""

USER_RULE = """
from auditor.models import Status
from auditor.rules.engine import rule
from auditor.rules.model import Verdict


@rule(id="USR-01", title="user rule", severity="low", resource_types=["aws_cloudwatch_log_group"],
      rationale="r", remediation="r", terraform="")
def check(res, ctx):
    return Verdict(Status.FAIL, "MESSAGE")
"""


def _render(result: ComplianceResult) -> dict[str, str]:
    """Every output format of `audit scan`, the table with passed checks too."""
    console = Console(record=True, width=160, file=io.StringIO())
    report.print_findings(result, console, show_passed=True)
    return {"json": report.render_json(result), "sarif": report.render_sarif(result),
            "junit": report.render_junit(result), "table": console.export_text()}


def _forbid_computing(monkeypatch: pytest.MonkeyPatch) -> None:
    def computed(*_: object) -> None:
        raise AssertionError("the scan was computed, not read from the cache")

    monkeypatch.setattr(scan_code, "judge_code", computed)


@pytest.fixture
def cache(tmp_path: Path) -> ScanCache:
    return ScanCache(tmp_path / "cache")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "main.tf").write_text(MAIN_TF, encoding="utf-8")
    (root / "extra.tf").write_text(EXTRA_TF, encoding="utf-8")
    (root / "terraform.tfvars").write_text("days = 30\n", encoding="utf-8")
    (root / "days.txt").write_text("30\n", encoding="utf-8")
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "user.py").write_text(USER_RULE, encoding="utf-8")
    return root


def _pack(project: Path) -> RulePack:
    return rule_pack([project.parent / "rules"])


# ---------------------------------------------------------------- warm = cold


def test_warm_scans_render_every_format_byte_identically(cache: ScanCache, shared_fixtures: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    roots = [REPO / "terraform", *sorted(p for p in FIXTURES.iterdir() if p.is_dir()), shared_fixtures / "checkov"]
    pack = builtin_pack()
    suppressions = Suppressions((Suppression("*", "*.fail*", "a suppressed failure is rendered too"),))
    cold = {root: _render(scan(root, pack, SETTINGS, suppressions, cache=cache)) for root in roots}
    assert [r for r in roots if not cache.entry(r).is_file()] == []
    _forbid_computing(monkeypatch)
    for root in roots:
        assert _render(scan(root, pack, SETTINGS, suppressions, cache=cache)) == cold[root], root


# ---------------------------------------------------------------- what invalidates


def _edit(name: str, text: str) -> Callable[[Path], RuleSettings]:
    def edit(root: Path) -> RuleSettings:
        (root / name).write_text(text, encoding="utf-8")
        return SETTINGS
    return edit


def _delete_extra(root: Path) -> RuleSettings:
    (root / "extra.tf").unlink()
    return SETTINGS


def _stricter_settings(root: Path) -> RuleSettings:
    return RuleSettings(min_log_retention_days=60)


def _edit_user_rule(root: Path) -> RuleSettings:
    rule_file = root.parent / "rules" / "user.py"
    rule_file.write_text(rule_file.read_text(encoding="utf-8").replace("MESSAGE", "EDITED MESSAGE"), encoding="utf-8")
    return SETTINGS


CHANGES = {
    "edit a .tf file": _edit("extra.tf", EXTRA_TF.replace("= 7", "= 90")),
    "add a .tf file": _edit("more.tf", EXTRA_TF.replace('"extra"', '"more"')),
    "delete a .tf file": _delete_extra,
    "edit the .tfvars": _edit("terraform.tfvars", "days = 7\n"),
    "edit a file read by file()": _edit("days.txt", "7\n"),
    "change a rule setting": _stricter_settings,
    "edit a rule of a --rules-dir": _edit_user_rule,
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_a_change_to_any_input_is_judged_afresh(change: Callable[[Path], RuleSettings], project: Path,
                                                 cache: ScanCache) -> None:
    before = report.render_json(scan(project, _pack(project), SETTINGS, Suppressions(), cache=cache))
    settings = change(project)
    after = report.render_json(scan(project, _pack(project), settings, Suppressions(), cache=cache))
    assert after == report.render_json(scan(project, _pack(project), settings, Suppressions()))
    assert after != before


def test_a_cache_inside_the_scanned_folder_still_hits(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inside = ScanCache(project / ".cache" / "auditor")
    cold = report.render_json(scan(project, _pack(project), SETTINGS, Suppressions(), cache=inside))
    assert inside.entry(project).is_file()
    _forbid_computing(monkeypatch)
    assert report.render_json(scan(project, _pack(project), SETTINGS, Suppressions(), cache=inside)) == cold


def test_suppressions_apply_to_a_warm_scan(project: Path, cache: ScanCache, monkeypatch: pytest.MonkeyPatch) -> None:
    pack = _pack(project)
    scan(project, pack, SETTINGS, Suppressions(), cache=cache)
    _forbid_computing(monkeypatch)
    ours = Suppression("CW-05", "aws_cloudwatch_log_group.extra", "short-lived logs", date(2030, 1, 1))
    old = Suppression("USR-01", "*", "old exception", date(2020, 1, 1))
    result = scan(project, pack, SETTINGS, Suppressions((ours, old), today=date(2026, 1, 1)), cache=cache)
    suppressed = [(f.rule_id, f.address) for f in result.findings if f.suppressed_by]
    assert suppressed == [("CW-05", "aws_cloudwatch_log_group.extra")]
    assert result.expired_suppressions == ("USR-01 on * expired 2020-01-01",)
    later = scan(project, pack, SETTINGS, Suppressions((ours,), today=date(2031, 1, 1)), cache=cache)
    assert [f for f in later.findings if f.suppressed_by] == []
    assert later.expired_suppressions == ("CW-05 on aws_cloudwatch_log_group.extra expired 2030-01-01",)


# ---------------------------------------------------------------- what is never cached


def test_a_module_outside_the_folder_is_never_cached(tmp_path: Path, cache: ScanCache) -> None:
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "main.tf").write_text(EXTRA_TF, encoding="utf-8")
    root = tmp_path / "root"
    root.mkdir()
    (root / "main.tf").write_text('module "shared" {\n  source = "../shared"\n}\n', encoding="utf-8")
    result = scan(root, builtin_pack(), SETTINGS, Suppressions(), cache=cache)
    assert "../shared/main.tf" in {f.file for f in result.findings}
    assert not cache.entry(root).exists()


OUT_OF_DIGEST: dict[str, dict[str, str]] = {
    "a module folder that does not exist yet": {"main.tf": 'module "later" {\n  source = "../later"\n}\n'},
    "a module called by an unexpandable one": {
        "main.tf": 'variable "n" {}\n\nmodule "inner" {\n  source = "./inner"\n  count  = var.n\n}\n',
        "inner/main.tf": 'module "outer" {\n  source = "../../outer"\n}\n'},
    "a file() under .git": {
        "main.tf": 'resource "aws_cloudwatch_log_group" "branch" {\n  name = file(".git/HEAD")\n}\n',
        ".git/HEAD": "ref: refs/heads/main\n"},
}


@pytest.mark.parametrize("files", OUT_OF_DIGEST.values(), ids=OUT_OF_DIGEST.keys())
def test_a_scan_reading_beyond_the_tree_digest_is_never_cached(files: dict[str, str], tmp_path: Path,
                                                                cache: ScanCache) -> None:
    root = tmp_path / "root"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    pack = builtin_pack()
    scan(root, pack, SETTINGS, Suppressions(), cache=cache)
    assert not cache.entry(root).exists()
    shutil.rmtree(root)  # the same folder, reading only itself
    root.mkdir()
    (root / "main.tf").write_text(EXTRA_TF, encoding="utf-8")
    scan(root, pack, SETTINGS, Suppressions(), cache=cache)
    assert cache.entry(root).exists()


def test_a_tree_over_the_size_bound_is_never_cached(project: Path, cache: ScanCache,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("auditor.scan.cache.MAX_FILES", 3)
    scan(project, _pack(project), SETTINGS, Suppressions(), cache=cache)
    assert not cache.entry(project).exists()


def test_a_folder_changed_during_the_scan_is_not_stored(project: Path, cache: ScanCache,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    judge = scan_code.judge_code

    def judge_then_edit(root: Path, pack: RulePack, settings: RuleSettings) -> scan_code.CodeScan:
        code = judge(root, pack, settings)
        (root / "days.txt").write_text("7\n", encoding="utf-8")
        return code

    monkeypatch.setattr(scan_code, "judge_code", judge_then_edit)
    scan(project, _pack(project), SETTINGS, Suppressions(), cache=cache)
    assert not cache.entry(project).exists()


def test_only_the_entries_written_last_are_kept(tmp_path: Path, cache: ScanCache,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("auditor.scan.cache.MAX_ENTRIES", 2)
    folders = [tmp_path / name for name in ("a", "b", "c")]
    for folder in folders:
        folder.mkdir()
        (folder / "main.tf").write_text(EXTRA_TF, encoding="utf-8")
        scan(folder, builtin_pack(), SETTINGS, Suppressions(), cache=cache)
    assert [cache.entry(f).exists() for f in folders] == [False, True, True]
    assert len(list(cache.entry(folders[0]).parent.iterdir())) == 2


# ---------------------------------------------------------------- a broken cache


def _corrupt(text: bytes) -> Callable[[bytes], bytes]:
    return lambda _: text


def _edit_first_finding(field: str, value: object) -> Callable[[bytes], bytes]:
    def edit(data: bytes) -> bytes:
        document = orjson.loads(data)
        document["findings"][0][field] = value
        return orjson.dumps(document)
    return edit


CORRUPTIONS = {
    "not JSON": _corrupt(b"\x00{not json"),
    "cut short": lambda data: data[: len(data) // 2],
    "a list": _corrupt(b"[]"),
    "unknown status": _edit_first_finding("status", "MAYBE"),
    "unknown severity": _edit_first_finding("severity", "urgent"),
    "unknown rule": _edit_first_finding("rule_id", "ZZZ-99"),
    "a line as text": _edit_first_finding("line", "3"),
    "a list as value": _edit_first_finding("value", [1]),
}


@pytest.mark.parametrize("corrupt", CORRUPTIONS.values(), ids=CORRUPTIONS.keys())
def test_a_corrupt_entry_is_a_miss_and_is_rewritten(corrupt: Callable[[bytes], bytes], project: Path,
                                                    cache: ScanCache) -> None:
    pack = _pack(project)
    expected = report.render_json(scan(project, pack, SETTINGS, Suppressions(), cache=cache))
    entry = cache.entry(project)
    good = entry.read_bytes()
    entry.write_bytes(corrupt(good))
    assert report.render_json(scan(project, pack, SETTINGS, Suppressions(), cache=cache)) == expected
    assert entry.read_bytes() == good


def test_an_unwritable_cache_never_fails_a_scan(project: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no audit.toml
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    env = {"AUDITOR_CACHE_DIR": str(blocker / "cache")}  # mkdir under a file fails, even as root
    runner = CliRunner()
    args = ["scan", str(project), "--rules-dir", str(project.parent / "rules"), "--format", "json"]
    first, second = runner.invoke(cli, args, env=env), runner.invoke(cli, args, env=env)
    assert first.exit_code == second.exit_code == 2, first.output
    assert first.output == second.output
    assert '"rule": "USR-01"' in first.output


def test_an_entry_that_is_a_folder_is_a_miss(project: Path, cache: ScanCache) -> None:
    cache.entry(project).mkdir(parents=True)
    result = scan(project, _pack(project), SETTINGS, Suppressions(), cache=cache)
    assert any(f.status is Status.FAIL for f in result.findings)


# ---------------------------------------------------------------- the CLI and the file


def test_no_cache_neither_reads_nor_writes(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    cache_dir = tmp_path / "cli-cache"
    env = {"AUDITOR_CACHE_DIR": str(cache_dir)}
    args = ["scan", str(project), "--format", "json"]
    runner = CliRunner()
    assert runner.invoke(cli, [*args, "--no-cache"], env=env).exit_code == 2
    assert not cache_dir.exists()
    cold = runner.invoke(cli, args, env=env).output
    entry = ScanCache(cache_dir).entry(project)
    entry.write_bytes(entry.read_bytes().replace(b"at least 30 days are required", b"TAMPERED"))
    assert "TAMPERED" in runner.invoke(cli, args, env=env).output  # the cache is read...
    assert runner.invoke(cli, [*args, "--no-cache"], env=env).output == cold  # ...unless --no-cache


def test_the_cache_is_private(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    cache_dir = tmp_path / "private"
    CliRunner().invoke(cli, ["scan", str(project)], env={"AUDITOR_CACHE_DIR": str(cache_dir)})
    entry = ScanCache(cache_dir).entry(project)
    assert [oct(p.stat().st_mode & 0o777) for p in (cache_dir, entry.parent, entry)] == ["0o700", "0o700", "0o600"]
    assert scan_key(project.resolve(), rule_pack(), SETTINGS, cache_dir) == orjson.loads(entry.read_bytes())["key"]


@pytest.mark.parametrize(("env", "expected"), [
    ({"AUDITOR_CACHE_DIR": "/x/auditor-cache", "XDG_CACHE_HOME": "/y"}, "/x/auditor-cache"),
    ({"XDG_CACHE_HOME": "/y"}, "/y/auditor"),
    ({"XDG_CACHE_HOME": "relative"}, "/home/u/.cache/auditor"),
    ({}, "/home/u/.cache/auditor"),
])
def test_where_the_cache_lives(env: dict[str, str], expected: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AUDITOR_CACHE_DIR", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", "/home/u")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    found = ScanCache.default()
    assert found is not None and found.directory == Path(expected)


def test_the_cache_file_holds_no_secret_the_scan_found(cache: ScanCache, monkeypatch: pytest.MonkeyPatch) -> None:
    found: list[str] = []
    mask = secrets.mask
    monkeypatch.setattr(secrets, "mask", lambda value: found.append(value) or mask(value))
    pack = rule_pack()  # loaded after the patch: rules/secrets.py masks with the recorder too
    for folder in sorted(FIXTURES.glob("SEC-*")):
        found.clear()
        scan(folder, pack, SETTINGS, Suppressions(), cache=cache)
        text = cache.entry(folder).read_text(encoding="utf-8")
        assert found, folder
        for secret in found:
            pieces = [secret, *(p for p in (*secret.splitlines(), secret[4:]) if len(p) >= 12)]
            assert [p for p in pieces if p in text] == [], folder


# ---------------------------------------------------------------- a warm run's imports

PROBE = """
import sys
from auditor.cli import run_cli
sys.argv = ["audit", "scan", sys.argv[1], "--format", "json"]
try:
    run_cli()
finally:
    sys.stderr.write("\\nMODULES " + " ".join(sorted({m.split(".")[0] for m in sys.modules})) + "\\n")
"""


def _modules(folder: Path, cache_dir: Path) -> set[str]:
    """The top-level modules an `audit scan` of `folder` imported."""
    done = subprocess.run([sys.executable, "-c", PROBE, str(folder)], capture_output=True, text=True, timeout=120,
                          env=os.environ | {"AUDITOR_CACHE_DIR": str(cache_dir)}, check=False)
    assert done.returncode in (0, 2), done.stderr
    return set(done.stderr.rsplit("MODULES ", 1)[1].split())


def test_a_warm_scan_imports_neither_the_parser_nor_detect_secrets_nor_boto3(tmp_path: Path) -> None:
    cold, warm = _modules(FIXTURES / "SEC-01", tmp_path), _modules(FIXTURES / "SEC-01", tmp_path)
    readers = {"hcl2", "lark", "detect_secrets", "requests"}
    assert readers <= cold
    assert readers & warm == set()
    assert "boto3" not in cold | warm  # a scan never talks to AWS, so never pays for the SDK
