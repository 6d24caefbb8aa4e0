"""`--fix` and its options may be given to `audit` or to `audit run`; a value given at either level wins over
the other level's default, `0` included."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from auditor.fix.cli import fix_flags, requested


@click.group()
@fix_flags
def group() -> None:
    """`audit`, as far as the fix options go."""


@group.command()
@fix_flags
@click.pass_context
def run(ctx: click.Context) -> None:
    options = requested(ctx)
    click.echo("no fix" if options is None else f"bake={options.bake_seconds} yes={options.yes} only={options.only}")


@pytest.mark.parametrize(("args", "expected"), [
    (["run", "--fix"], "bake=60.0 yes=False only=()"),
    (["run", "--fix", "--bake-seconds", "0"], "bake=0.0 yes=False only=()"),
    (["--bake-seconds", "0", "run", "--fix"], "bake=0.0 yes=False only=()"),
    (["--fix", "--yes", "run", "--bake-seconds", "5", "--only", "redeploy"], "bake=5.0 yes=True only=('redeploy',)"),
    (["run"], "no fix"),
])
def test_options_given_at_either_level_are_kept(args: list[str], expected: str) -> None:
    result = CliRunner().invoke(group, args)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == expected


def test_a_resumed_fix_deploys_with_the_deploy_settings_it_was_planned_with() -> None:
    """`audit fix --resume` rebuilds the config from the journal: its [deploy] settings come back as given."""
    import json

    from auditor.config import config_from_mapping
    from auditor.fix.cli import config_from_json, config_json

    config = config_from_mapping({"deploy": {"alarms": ["web-5xx"], "steps": [50, 100], "lease_table": "leases"}},
                                 "audit.toml")
    restored = config_from_json(json.loads(json.dumps(config_json(config))))
    assert restored.deploy == config.deploy == {"alarms": ("web-5xx",), "steps": (50, 100), "lease_table": "leases"}
