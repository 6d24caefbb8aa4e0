"""End to end: `audit run` records every run in the history (unless --no-history) and prints its id."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditor.demo.drift import SCENARIOS
from auditor.demo.run import REGION, SeededStack
from auditor.history import open_history
from tests.e2e.test_audit_cli import audit, audit_json

pytestmark = pytest.mark.e2e


def test_each_run_is_recorded_with_the_id_its_json_carries(moto_server: str, stack: SeededStack,
                                                            tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    _, first = audit_json(moto_server, stack, "--history", url)
    scenario = SCENARIOS[0]
    scenario.apply(stack.stack, stack.bootstrap)
    code, second = audit_json(moto_server, stack, "--history", url, "--html", str(tmp_path / "r.html"))
    assert code == 2
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert second["run"]["id"] in html and f"previous run <code>{first['run']['id']}</code>" in html
    assert second["run"]["caller"].startswith("arn:aws:") and f"<code>{second['run']['caller']}</code>" in html
    with open_history(url) as h:
        runs = h.runs()
        assert [r.id for r in runs] == [second["run"]["id"], first["run"]["id"]]
        assert runs[0].drifted == len(scenario.expected) > 0 and runs[1].drifted == 0 and runs[0].exit_code == 2
        assert runs[0].config_hash and runs[0].api_calls == second["api_calls"]["total"]
        statuses = h.run_statuses(second["run"]["id"])
        assert statuses and set(statuses.values()) == {"new"}
        assert h.run(second["run"]["id"]).document == second


def test_the_default_store_is_in_the_data_folder_and_no_history_opts_out(moto_server: str, stack: SeededStack,
                                                                          tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    _, result = audit_json(moto_server, stack)
    with open_history(None) as h:
        assert [r.id for r in h.runs()] == [result["run"]["id"]]
    _, again = audit_json(moto_server, stack, "--no-history")
    assert again["run"]["id"] is None
    with open_history(None) as h:
        assert len(h.runs()) == 1


def test_the_store_and_its_retention_come_from_audit_toml(moto_server: str, stack: SeededStack,
                                                          tmp_path: Path) -> None:
    db = tmp_path / "configured.db"
    config = tmp_path / "audit.toml"
    config.write_text(f'history = "sqlite:///{db}"\nhistory_keep_days = 30\n', encoding="utf-8")
    with open_history(f"sqlite:///{db}") as h:  # a run from long ago, pruned by the next one
        from datetime import UTC, datetime

        from tests.history.docs import make_doc

        h.record_document(make_doc(datetime(2020, 1, 1, tzinfo=UTC)))
    _, result = audit_json(moto_server, stack, "--config", str(config))
    with open_history(f"sqlite:///{db}") as h:
        assert [r.id for r in h.runs()] == [result["run"]["id"]]


def test_an_unwritable_history_still_shows_the_result_then_fails(moto_server: str, stack: SeededStack,
                                                                 tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    result = audit(moto_server, "run", "--state", f"s3://{stack.bucket}/**/terraform.tfstate", "--region", REGION,
                   "--format", "json", "--no-rules", "--history", f"sqlite:///{blocker}/sub/h.db")
    assert result.returncode == 1
    assert json.loads(result.stdout)["run"]["id"] is None
    assert result.stderr.startswith("error: the run was not recorded in the history: ")
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
