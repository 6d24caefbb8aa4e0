"""Every command documents itself, and the README documents every command."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from auditor.cli import cli
from tests.conftest import REPO


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    out = []
    for name, command in sorted(group.commands.items()):
        out.append((f"{prefix}{name}", command))
        if isinstance(command, click.Group):
            out.extend(_commands(command, f"{prefix}{name} "))
    return out


COMMANDS = _commands(cli)


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_every_command_and_option_has_help(name: str, command: click.Command) -> None:
    assert command.help, f"`audit {name}` has no help text"
    for param in command.params:
        if isinstance(param, click.Option):
            assert param.help, f"`audit {name}` option {param.opts} has no help text"


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_every_command_is_in_the_readme(name: str, command: click.Command) -> None:
    readme = (REPO / "README.md").read_text()
    assert f"audit {name}" in readme, f"README.md never shows `audit {name}`"


def test_run_help_lists_exit_codes() -> None:
    result = CliRunner().invoke(cli, ["run", "--help"])
    assert result.exit_code == 0
    for line in ("0     clean", "1     error", "2     drift"):
        assert line in result.output
