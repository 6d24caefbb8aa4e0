"""`audit deploy`: the blue/green deployer's command (prints its own outcome; errors are AuditErrors).

Exit codes: 0 deployed (or a dry run), 1 refused, rolled back or failed.
"""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from auditor.config import parse_duration
from auditor.errors import ConfigError

if TYPE_CHECKING:
    from auditor.deploy.journal import JournalStore
    from auditor.deploy.model import DeployOutcome, DeployRequest

DEFAULT_CONFIG = Path("audit.toml")
_DURATIONS = {"bake": "bake_seconds", "timeout": "timeout_seconds", "keep_blue": "keep_blue_seconds",
              "poll": "poll_seconds"}
_PLAIN = {"cluster", "service", "strategy", "steps", "listener", "listener_rule", "blue_service", "green_service",
          "blue_target_group", "green_target_group", "alarms", "lease_table", "max_5xx_rate", "smoke_url"}
EXIT_HELP = """\b
Exit codes:
  0  deployed (green serves 100%), or a dry run
  1  refused (nothing changed), rolled back, or failed"""


def read_toml(path: Path | None) -> tuple[Path | None, dict[str, Any]]:
    """--config FILE, else ./audit.toml when there is one: (its path, its content)."""
    if path is None:
        if not DEFAULT_CONFIG.is_file():
            return None, {}
        path = DEFAULT_CONFIG
    try:
        return path, tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None


def settings_from_toml(path: Path | None, document: dict[str, Any]) -> dict[str, Any]:
    """The `[deploy]` table of audit.toml as DeployRequest fields (durations in seconds)."""
    table = document.get("deploy", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [deploy] must be a table")
    unknown = set(table) - _PLAIN - set(_DURATIONS)
    if unknown:
        raise ConfigError(f"{path}: [deploy]: unknown setting(s) {', '.join(sorted(unknown))}",
                          f"known: {', '.join(sorted(_PLAIN | set(_DURATIONS)))}")
    out: dict[str, Any] = {}
    for key, value in table.items():
        if key in _DURATIONS:
            out[_DURATIONS[key]] = parse_duration(value, f"[deploy] {key}")
        elif key == "steps":
            out["steps"] = _steps(",".join(map(str, value)) if isinstance(value, list) else str(value))
        elif key == "alarms":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{path}: [deploy] alarms must be a list of alarm names")
            out["alarms"] = tuple(value)
        else:
            out[key] = value
    return out


def _steps(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise ConfigError(f"invalid steps {text!r}", "give percentages like 10,50,100") from None


@click.command("deploy", epilog=EXIT_HELP)
@click.option("--cluster", help="ECS cluster of the service.")
@click.option("--service", help="The ECS service to deploy (either colour; roles come from the listener weights).")
@click.option("--image", help="New image for the service's load-balanced container (a tag is resolved to its digest).")
@click.option("--task-definition", help="Task definition to deploy: family:revision or ARN.")
@click.option("--strategy", type=click.Choice(["canary", "linear", "all-at-once"]),
              help="How traffic moves: canary 10,100 · linear 25,50,75,100 · all-at-once 100 (default canary).")
@click.option("--steps", metavar="P,P,...", help="Green's share of traffic at each step, ending at 100.")
@click.option("--bake", metavar="DURATION", help="How long each step is watched before the next (default 5m).")
@click.option("--timeout", metavar="DURATION", help="The longest the deploy may take to reach 100% (default 20m).")
@click.option("--keep-blue", metavar="DURATION", help="Keep blue running this long after 100% (instant rollback).")
@click.option("--listener", metavar="ARN", help="The listener whose default action is weighted (else discovered).")
@click.option("--listener-rule", metavar="ARN", help="The listener rule whose forward is weighted (else discovered).")
@click.option("--blue-service", metavar="NAME", help="The service serving traffic now (else discovered).")
@click.option("--green-service", metavar="NAME", help="The idle service that gets the release (else discovered).")
@click.option("--blue-target-group", metavar="ARN", help="Blue's target group (checked against the listener).")
@click.option("--green-target-group", metavar="ARN", help="Green's target group (checked against the listener).")
@click.option("--alarm", "alarms", multiple=True, metavar="NAME",
              help="CloudWatch alarm that must not fire (repeatable).")
@click.option("--max-5xx-rate", type=float, help="Highest green 5xx share of requests during a bake (default 0.01).")
@click.option("--smoke-url", metavar="URL", help="URL that must answer 2xx/3xx before traffic moves (a test listener).")
@click.option("--lease-table", metavar="NAME", help="DynamoDB table of deploy leases (default auditor-deploy-leases).")
@click.option("--poll", metavar="DURATION", help="How often gates are read (default 10s).")
@click.option("--resume", "resume_id", metavar="ID", help="Carry on the deploy ID whose process died.")
@click.option("--rollback", "rollback_id", metavar="ID", help="Put the deploy ID whose process died back on blue.")
@click.option("--list", "list_journals", is_flag=True, help="List the deploy journals, newest last.")
@click.option("--stats", is_flag=True,
              help="Deploy figures from the journals: outcomes, failed-deployment rate, green provisioning time.")
@click.option("--dry-run", is_flag=True, help="Discover, check and print the plan; change nothing.")
@click.option("--yes", is_flag=True, help="Do not ask before changing traffic.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Outcome as text or as JSON (result, weights, services, rollback reason, journal id).")
@click.option("--config", "config_path", type=click.Path(path_type=Path),
              help="audit.toml with a [deploy] table and `history` (default: ./audit.toml when present).")
@click.option("--history", "history_url", metavar="URL",
              help="Where the journal is kept: sqlite:///PATH, postgresql://..., s3://BUCKET/PREFIX (default: "
                   "`history` in audit.toml, else $XDG_DATA_HOME/auditor/history.db).")
@click.option("--region", help="AWS region (default: the SDK's).")
@click.option("--profile", help="AWS profile (default: the SDK's).")
def deploy_cmd(fmt: str, config_path: Path | None, history_url: str | None, region: str | None, profile: str | None,
               resume_id: str | None, rollback_id: str | None, list_journals: bool, stats: bool, yes: bool,
               **options: Any) -> None:
    """Blue/green deploy of an ECS service behind its ALB, gated on health, alarms and 5xx, rolled back
    automatically (traffic to 100% blue first) on any failure, timeout or SIGINT/SIGTERM.

    Either the ALB-weights way (two services behind two target groups that one listener or rule
    weights) or ECS native blue/green (the service's deploymentConfiguration strategy), as the
    service is set up. One deploy per service at a time (a DynamoDB lease); every step is journalled
    first, so `--resume ID` / `--rollback ID` finish a deploy whose process died.
    """
    from auditor.history import open_history

    path, document = read_toml(config_path)
    with open_history(history_url or document.get("history")) as history:
        if list_journals:
            for journal_id in history.list_journals("deploy"):
                click.echo(journal_id)
            return
        if stats:
            _show_stats(history, fmt)
            return
        if resume_id and rollback_id:
            raise ConfigError("give --resume or --rollback, not both")
        request = None if resume_id or rollback_id else _request(options, settings_from_toml(path, document))
        outcome = _run(history, request, resume_id, rollback_id, yes, profile, region)
    _show(outcome, fmt)


def _run(history: JournalStore, request: DeployRequest | None, resume_id: str | None, rollback_id: str | None,
         yes: bool, profile: str | None, region: str | None) -> DeployOutcome:
    from auditor.aws import Aws, AwsSettings
    from auditor.deploy import engine

    aws = Aws(AwsSettings(profile=profile, region=region))
    if request is None:
        action = engine.resume if resume_id else engine.rollback
        return action(str(resume_id or rollback_id), aws=aws, history=history)
    if not request.dry_run and not yes:
        plan = engine.deploy(_dry(request), aws=aws, history=history)
        click.echo("\n".join(plan.plan), err=True)
        if not sys.stdin.isatty():
            raise ConfigError("not deploying without confirmation", "pass --yes (or --dry-run to only see the plan)")
        if not click.confirm("Deploy?", err=True):
            raise click.exceptions.Abort()
    return engine.deploy(request, aws=aws, history=history)


def _show_stats(history: JournalStore, fmt: str) -> None:
    from auditor.deploy.telemetry import deploy_stats

    figures = deploy_stats(history)
    if fmt == "json":
        click.echo(json.dumps(figures.to_dict(), indent=2, sort_keys=True))
        return
    rate, median = figures.failed_rate, figures.median_provisioning_seconds
    click.echo(f"{len(figures.deploys)} deploys, {len(figures.ended)} ended; failed-deployment rate "
               + (f"{rate:.1%}" if rate is not None else "n/a") + "; median green provisioning "
               + (f"{median:.0f}s" if median is not None else "n/a"))
    for record in figures.deploys:
        took = f"{record.duration_seconds:.0f}s" if record.duration_seconds is not None else "-"
        click.echo(f"  {record.deploy_id}  {record.result:<11} {took:>6}"
                   + (f"  {record.rollback_reason}" if record.rollback_reason else ""))


def _dry(request: DeployRequest) -> DeployRequest:
    from dataclasses import replace

    return replace(request, dry_run=True)


def _request(options: dict[str, Any], config: dict[str, Any]) -> DeployRequest:
    from auditor.deploy.model import DeployRequest

    given: dict[str, Any] = dict(config)
    for key in ("cluster", "service", "image", "task_definition", "strategy", "listener", "listener_rule",
                "blue_service", "green_service", "blue_target_group", "green_target_group", "max_5xx_rate",
                "smoke_url", "lease_table"):
        if options.get(key) is not None:
            given[key] = options[key]
    for option, field in (("bake", "bake_seconds"), ("timeout", "timeout_seconds"), ("keep_blue", "keep_blue_seconds"),
                          ("poll", "poll_seconds")):
        if options.get(option) is not None:
            given[field] = parse_duration(options[option], f"--{option.replace('_', '-')}")
    if options.get("steps"):
        given["steps"] = _steps(options["steps"])
    if options.get("alarms"):
        given["alarms"] = tuple(options["alarms"])
    given["dry_run"] = bool(options.get("dry_run"))
    for key in ("cluster", "service"):
        if not given.get(key):
            raise ConfigError(f"--{key} is required (or `{key}` in the [deploy] table of audit.toml)")
    if not given.get("image") and not given.get("task_definition"):
        raise ConfigError("give --image or --task-definition")
    if given.get("strategy") not in (None, "canary", "linear", "all-at-once"):
        raise ConfigError(f"invalid strategy {given['strategy']!r}", "canary, linear or all-at-once")
    return DeployRequest(**given)


def _show(outcome: DeployOutcome, fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps(outcome.to_dict(), indent=2, sort_keys=True))
    else:
        click.echo(f"{outcome.result}: {outcome.message} (deploy {outcome.deploy_id})")
        for line in outcome.plan:
            click.echo(f"  {line}")
        if outcome.rollback_reason:
            click.echo(f"  rollback reason: {outcome.rollback_reason}")
        for colour, service in outcome.services.items():
            weight = outcome.weights.get(str(service.get("target_group")), "?")
            click.echo(f"  {colour}: {service['service']} desired {service['desired']}, weight {weight}")
        if outcome.green_provisioning_seconds is not None:
            click.echo(f"  green provisioned in {outcome.green_provisioning_seconds:.0f}s; "
                       f"took {outcome.duration_seconds:.0f}s")
    if outcome.result in ("rolled_back", "failed"):
        sys.exit(1)
