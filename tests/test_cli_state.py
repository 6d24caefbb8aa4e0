"""`audit state list` and `audit state show --json` on real state fixtures, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from auditor.cli import cli
from auditor.state.parse import parse_state
from auditor.state.showjson import state_list, to_show_json


def test_state_list_prints_terraform_addresses(shared_fixtures: Path) -> None:
    path = shared_fixtures / "opentofu" / "show-json-state-modules.tfstate"
    result = CliRunner().invoke(cli, ["state", "list", str(path)])
    assert result.exit_code == 0, result.output
    expected = state_list(parse_state(path.read_bytes(), str(path)))
    assert result.output.splitlines() == expected
    assert any(line.startswith("module.") for line in expected)


def test_state_show_json_writes_the_export_atomically(shared_fixtures: Path, tmp_path: Path) -> None:
    path = shared_fixtures / "opentofu" / "show-json-state-sensitive.tfstate"
    out = tmp_path / "show.json"
    result = CliRunner().invoke(cli, ["state", "show", "--json", str(path), "-o", str(out)])
    assert result.exit_code == 0, result.output
    shown = json.loads(out.read_text())
    assert shown == json.loads(json.dumps(to_show_json(parse_state(path.read_bytes(), str(path))), default=str))
    assert shown["format_version"] == "1.0"


def test_state_show_on_an_encrypted_state_is_one_clear_line(shared_fixtures: Path) -> None:
    path = shared_fixtures / "opentofu" / "opentofu-encrypted-state.handmade.tfstate"
    result = CliRunner().invoke(cli, ["state", "show", "--json", str(path)], standalone_mode=False,
                                catch_exceptions=True)
    assert result.exit_code != 0
    assert "encrypt" in str(result.exception).lower()
