"""`audit history list|show|diff|prune|export` on a recorded history."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from auditor.cli import cli
from auditor.history import open_history
from tests.history.docs import make_doc

LB = ("aws_lb", "arn:lb/app")
SVC = ("aws_ecs_service", "arn:svc/web")


@pytest.fixture
def recorded(tmp_path: Path) -> tuple[str, list[str]]:
    """Three runs: the LB drifts, then the service goes missing too, then the LB is fixed; and one failure."""
    url = f"sqlite:///{tmp_path / 'h.db'}"
    now = datetime.now(UTC).replace(microsecond=0)
    with open_history(url) as h:
        ids = [
            h.record_document(make_doc(now - timedelta(days=3), [(*LB, "changed", ["idle_timeout"])], in_sync=[SVC])),
            h.record_document(make_doc(now - timedelta(days=2), [(*LB, "changed", ["idle_timeout"]),
                                                                 (*SVC, "missing", [])])),
            h.record_document(make_doc(now - timedelta(days=1), [(*SVC, "missing", [])], in_sync=[LB])),
        ]
        h.record_failure(started_at=now - timedelta(hours=1), finished_at=now, error="AccessDenied on GetObject",
                         job="nightly", trigger="schedule")
    return url, ids


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_list(recorded: tuple[str, list[str]]) -> None:
    url, ids = recorded
    code, out = _run("history", "list", "--history", url)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("run ") and "FAILED" in lines[1] and "AccessDenied" in lines[1]
    assert [line.split()[0] for line in lines[2:]] == ids[::-1]
    assert "1/2" in lines[2] and "0.500" in lines[2]  # the latest completed run: the service of two drifted
    code, out = _run("history", "list", "--history", url, "--format", "json", "--limit", "2")
    runs = json.loads(out)
    assert [r["status"] for r in runs] == ["failed", "completed"] and runs[1]["id"] == ids[2]


def test_show(recorded: tuple[str, list[str]]) -> None:
    url, ids = recorded
    code, out = _run("history", "show", "latest", "--history", url)
    assert code == 0 and f"run {ids[2]}" in out
    assert "1 resolved" in out and "1 persisting" in out
    assert "resolved   drift aws_lb.arn:lb/app  idle_timeout  (first seen" in out
    code, out = _run("history", "show", ids[1][:22], "--history", url, "--format", "json")
    shown = json.loads(out)
    assert shown["run"]["id"] == ids[1]
    assert sorted((f["status"], f["type"]) for f in shown["findings"]) == [("new", "aws_ecs_service"),
                                                                        ("persisting", "aws_lb")]
    assert shown["states"][0]["serial"] == 7


def test_diff(recorded: tuple[str, list[str]]) -> None:
    url, ids = recorded
    code, out = _run("history", "diff", ids[0], ids[2], "--history", url, "--format", "json")
    assert code == 0
    diff = json.loads(out)
    assert sorted((f["status"], f["type"]) for f in diff["findings"]) == [("new", "aws_ecs_service"),
                                                                       ("resolved", "aws_lb")]
    assert diff["drift_index_change"] == 0.0  # one of two drifted in both
    code, out = _run("history", "diff", ids[1], ids[2], "--history", url)
    assert "drift index 1.0 -> 0.5" in out
    assert "0 new, 1 resolved, 1 persisting" in out


def test_unknown_run_is_a_one_line_error(recorded: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    from auditor.cli import run_cli

    monkeypatch.setattr("sys.argv", ["audit", "history", "show", "nope", "--history", recorded[0]])
    assert run_cli() == 1
    assert capsys.readouterr().err.startswith("error: no run 'nope' in the history at sqlite:///")


def test_prune_by_option_and_by_config(recorded: tuple[str, list[str]], tmp_path: Path) -> None:
    url, _ = recorded
    code, out = _run("history", "prune", "--history", url, "--keep-days", "2")
    assert code == 0 and out.strip() == "pruned 2 run(s) older than 2 days"
    config = tmp_path / "audit.toml"
    config.write_text(f'history = "{url}"\nhistory_keep_days = 1\n', encoding="utf-8")
    code, out = _run("history", "prune", "--config", str(config))
    assert out.strip() == "pruned 1 run(s) older than 1 days"
    with open_history(url) as h:
        assert [r.status for r in h.runs()] == ["failed"]


def test_prune_needs_a_retention(recorded: tuple[str, list[str]], tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["history", "prune", "--history", recorded[0]])
    assert result.exit_code != 0 and "history_keep_days" in str(result.exception)


@pytest.mark.parametrize("table", ["runs", "scores", "findings", "episodes"])
def test_export_csv_and_parquet(recorded: tuple[str, list[str]], tmp_path: Path, table: str) -> None:
    url, ids = recorded
    code, out = _run("history", "export", "--history", url, "--table", table, "-o", str(tmp_path / "x.csv"))
    assert code == 0, out
    csv = pd.read_csv(tmp_path / "x.csv")
    code, out = _run("history", "export", "--history", url, "--table", table, "--format", "parquet",
                     "-o", str(tmp_path / "x.parquet"))
    assert code == 0, out
    parquet = pd.read_parquet(tmp_path / "x.parquet")
    assert len(csv) == len(parquet) > 0
    if table == "runs":
        assert csv["id"].tolist()[:3] == ids and csv["status"].tolist()[-1] == "failed"
    if table == "findings":
        assert set(csv["status"]) == {"new", "persisting", "resolved"} and len(csv) == 1 + 2 + 2
    if table == "episodes":
        assert len(csv) == 2 and csv["resolved_at"].notna().sum() == 1
