"""`audit --fix`, `audit run --fix` and `audit fix --resume ID`: plan, confirm, lock, apply, verify.

Exit codes: 0 every action verified and no drift left; 2 drift remains (an action failed or was not
verified, or findings were skipped or only imported; also a plan that was not applied); 1 error (a
lock held by someone else, an AWS error that stopped the fix, bad options).
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from auditor.errors import AuditError, ConfigError, ExitCode

if TYPE_CHECKING:
    from auditor.aws import Aws
    from auditor.config import AuditConfig
    from auditor.fix.apply import FixOutcome
    from auditor.fix.journal import Journal
    from auditor.fix.model import Plan
    from auditor.fix.redeploy import DeploySettings
    from auditor.models import AuditRun

_META = "auditor.fix"


@dataclasses.dataclass(frozen=True, slots=True)
class FixOptions:
    """How a fix runs, from the command line."""

    yes: bool = False
    dry_run: bool = False
    plan_out: Path | None = None
    import_out: Path | None = None
    only: tuple[str, ...] = ()
    bake_seconds: float = 60.0
    deploy_timeout_seconds: float = 1200.0
    interactive: bool = False
    deploy_seams: Mapping[str, Any] | None = None  # the deployer's clock/health/metrics (tests); None: the real ones

    def deploy_settings(self, config: AuditConfig) -> DeploySettings:
        from auditor.fix.redeploy import DeploySettings

        return DeploySettings(self.bake_seconds, self.deploy_timeout_seconds, self.deploy_seams, config.deploy)


def _store(name: str) -> Callable[[click.Context, click.Parameter, Any], Any]:
    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        stored = ctx.meta.setdefault(_META, {})  # shared by `audit` and its command: a default never undoes
        given = param.name is not None and ctx.get_parameter_source(param.name) not in (  # what the other level
            None, click.core.ParameterSource.DEFAULT)                                    # was given (`0` too)
        if given or name not in stored:
            stored[name] = value
        return value

    return callback


def fix_flags(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`--fix` and its options, for the `audit` group and `audit run` (kept in ctx.meta, not passed as arguments)."""
    options = [
        click.option("--fix", is_flag=True, expose_value=False, callback=_store("fix"),
                     help="After the audit, plan a fix (one action per drift finding), ask, and put live AWS back to "
                          "the state under Terraform's lock. `audit --fix` runs the audit of audit.toml."),
        *_action_options(),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def fix_history_flag(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`audit --fix --history URL` (the group's; `audit run` has its own `--history`)."""
    return click.option("--history", metavar="URL", expose_value=False, callback=_store("history"),
                        help="With --fix: record the run and journal the fix in this history (default: `history` "
                             "in audit.toml, else $XDG_DATA_HOME/auditor/history.db).")(fn)


def _action_options() -> list[Callable[..., Any]]:
    return [
        click.option("--yes", is_flag=True, expose_value=False, callback=_store("yes"),
                     help="With --fix: apply without asking."),
        click.option("--dry-run", is_flag=True, expose_value=False, callback=_store("dry_run"),
                     help="With --fix: only print the plan."),
        click.option("--plan-out", type=click.Path(path_type=Path), expose_value=False, callback=_store("plan_out"),
                     help="With --fix: write the plan as JSON (schema auditor.fix-plan/v1) to FILE."),
        click.option("--import-out", type=click.Path(path_type=Path), expose_value=False,
                     callback=_store("import_out"),
                     help="With --fix: write `import {}` blocks for the unmanaged resources to FILE (.tf)."),
        click.option("--only", multiple=True, metavar="PATTERN", expose_value=False, callback=_store("only"),
                     help="With --fix: only actions of this kind (revert, redeploy, skip, import), type, address "
                          "or rule id (`*` wildcards; repeatable)."),
        click.option("--bake-seconds", type=float, default=60.0, show_default=True, expose_value=False,
                     callback=_store("bake_seconds"),
                     help="With --fix: the deployer's bake time per traffic step of a redeploy."),
    ]


def interactive() -> bool:
    """A person at a terminal can be asked."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def refuse_without_history(ctx: click.Context, no_history: bool) -> None:
    """`--fix` journals in the history: with --no-history there is none, so refuse before auditing."""
    if no_history and requested(ctx) is not None:
        raise ConfigError("--fix journals every action in the history, so it cannot run with --no-history",
                          "drop --no-history (choose the store with --history URL)")


def requested(ctx: click.Context) -> FixOptions | None:
    """The fix options when --fix was given, else None."""
    stored = ctx.meta.get(_META, {})
    if not stored.get("fix"):
        return None
    return FixOptions(yes=bool(stored.get("yes")), dry_run=bool(stored.get("dry_run")),
                      plan_out=stored.get("plan_out"), import_out=stored.get("import_out"),
                      only=tuple(stored.get("only") or ()), bake_seconds=float(stored.get("bake_seconds") or 0.0),
                      interactive=interactive())


def run_configured_fix(ctx: click.Context) -> int | None:
    """`audit --fix` with no command: the configured audit (audit.toml), then the fix. None: not asked for."""
    options = requested(ctx)
    if ctx.invoked_subcommand is not None:
        if ctx.meta.get(_META, {}).get("history"):
            raise ConfigError("`audit --history` goes with `audit --fix`", "put --history after the command")
        return None
    if options is None:  # `audit` alone: the help, as a group without a command gives it
        raise click.exceptions.NoArgsIsHelpError(ctx)
    from auditor.cli import _load_config

    config = _load_config(None)
    if not config.states:
        raise ConfigError("no state to audit for --fix", "write [[states]] in audit.toml, or use "
                          "`audit run --fix --state ...`")
    aws = _aws(config)
    from auditor.history import default_url
    from auditor.history.record import config_hash
    from auditor.history.store import record_with_retention
    from auditor.pipeline import run_audit

    history = ctx.meta[_META].get("history") or config.history or default_url()
    run = record_with_retention(run_audit(config, aws), history, config.history_keep_days,
                                config_hash(repr(config)))  # the run the fix's journal names
    return fix_after_audit(config, aws, run, options, history)


def _aws(config: AuditConfig) -> Aws:
    from auditor.aws import Aws, AwsSettings

    return Aws(AwsSettings(profile=config.profile, region=config.regions[0] if config.regions else None))


def fix_after_audit(config: AuditConfig, aws: Aws, run: AuditRun, options: FixOptions, history: str,
                    to_stderr: bool = False) -> int:
    """Plan from the audit, print it, and (when allowed) apply it under the lock; returns the exit code.
    `history`: the store the run was recorded in, where the fix journals (its URL goes in the journal too).
    `to_stderr`: stdout carries the audit's machine-readable result, so the fix talks on stderr."""
    if to_stderr:
        with contextlib.redirect_stdout(sys.stderr):
            return fix_after_audit(config, aws, run, options, history)
    config = dataclasses.replace(config, history=history)
    if run.incomplete:
        problems = [f.error for f in run.failures] + [f"{o.type} in {o.region}: {o.reason}"
                                                      for o in run.observation_errors]
        raise AuditError("the audit is incomplete, so no fix is planned: " + "; ".join(problems[:3]),
                         "a fix needs every state read and every type observed")
    plan = _plan(config, aws, run, options)
    _print_plan(plan)
    _write_outputs(plan, options)
    pending = int(ExitCode.DRIFT) if plan.actions or plan.rules else int(ExitCode.CLEAN)
    if not plan.acting:
        click.echo("Nothing to apply.")
        return pending
    if options.dry_run or (not options.yes and not options.interactive):
        why = "--dry-run" if options.dry_run else "no terminal to ask and no --yes"
        click.echo(f"Plan only ({why}): nothing was changed.")
        return pending
    if not options.yes and not click.confirm(f"Apply {len(plan.acting)} action(s)?", default=False):
        click.echo("Cancelled: nothing was changed.")
        return int(ExitCode.ERROR)
    from auditor.fix.journal import Journal, open_journals

    store = open_journals(history)
    try:
        outcome = _apply(config, aws, plan, Journal(store), options, done=None, run_id=run.id)
    finally:
        store.close()
    _print_outcome(outcome)
    return int(outcome.exit_code)


def _live(aws: Aws, config: AuditConfig) -> Aws:
    return aws.assume(config.role_arn) if config.role_arn else aws


def _plan(config: AuditConfig, aws: Aws, run: AuditRun, options: FixOptions) -> Plan:
    from auditor.fix.planner import autoscaling_check, build_plan
    from auditor.fix.redeploy import redeploy_check

    live = _live(aws, config)
    return build_plan(run, config.states, autoscaling_check(live),
                      redeploy_check(live, options.deploy_settings(config)), only=options.only)


def _apply(config: AuditConfig, aws: Aws, plan: Plan, journal: Journal, options: FixOptions,
           done: dict[int, Any] | None, run_id: str | None = None) -> FixOutcome:
    """Lock, re-read (re-plan if a serial moved), journal, execute, verify, release."""
    from auditor.fix.apply import FixOutcome, FixStopped, execute
    from auditor.fix.lock import holding
    from auditor.fix.redeploy import redeployer

    command = "audit fix --resume" if done is not None else "audit --fix"
    live = _live(aws, config)
    try:
        with holding(aws, plan.states_touched(), command) as locks:
            for lock in locks:
                journal.write("lock", state=lock.state.uri, id=lock.id,
                              mechanisms=[m.value for m in lock.mechanisms])
            plan = _replan_if_moved(config, aws, plan, options, resuming=done is not None)
            if done is None:
                journal.write("plan", plan=plan.as_json(), config=config_json(config), run_id=run_id)
            deployer = redeployer(live, journal.store, options.deploy_settings(config))
            results = execute(plan, live, journal, deployer, done=done)
            outcome = FixOutcome(journal.id, plan, tuple(_verified(config, aws, live, plan, results, journal)))
            journal.write("end", status="completed", exit_code=int(outcome.exit_code),
                          results=[dataclasses.asdict(r) for r in outcome.results])
    except FixStopped as exc:
        journal.write("end", status="stopped", exit_code=int(ExitCode.ERROR), error=str(exc))
        raise
    return outcome


def _replan_if_moved(config: AuditConfig, aws: Aws, plan: Plan, options: FixOptions, resuming: bool) -> Plan:
    """Re-read every touched state under the lock; when a serial moved, audit again and re-plan."""
    from auditor.fix.lock import resolved
    from auditor.state.backend import ReadOptions, read_s3

    moved = []
    for state in plan.states_touched():
        current = read_s3(aws, resolved(state), ReadOptions()).document
        if (current.serial, current.lineage) != (state.serial, state.lineage):
            moved.append(f"{state.uri} (serial {state.serial} -> {current.serial})")
    if not moved:
        return plan
    if resuming:
        raise AuditError("the state changed since this fix was planned: " + ", ".join(moved),
                         "run `audit --fix` again for a new plan")
    click.echo("The state changed while planning: " + ", ".join(moved) + "; planning again under the lock.")
    from auditor.pipeline import run_audit

    fresh = _plan(config, aws, run_audit(dataclasses.replace(config, wait_for_lock=0.0), aws), options)
    if [a.as_json() for a in fresh.acting] != [a.as_json() for a in plan.acting]:
        _print_plan(fresh)
        if not options.yes and not click.confirm(f"The plan changed. Apply {len(fresh.acting)} action(s)?",
                                                 default=False):
            raise AuditError("cancelled after re-planning: nothing was changed")
    return fresh


def _verified(config: AuditConfig, aws: Aws, live: Aws, plan: Plan, results: Sequence[Any],
              journal: Journal) -> list[Any]:
    from auditor.fix.apply import verify, verify_config
    from auditor.fix.redeploy import route_check
    from auditor.pipeline import run_audit

    if not results:
        return []
    check = run_audit(verify_config(config, plan, [r.index for r in results]), aws)
    verdicts = verify(plan, results, check.drifts, route_check(live))
    for verdict in verdicts:
        journal.write("verified", action=verdict.index, verdict=verdict.verdict.value, detail=verdict.detail,
                      after=list(verdict.remaining))
    return verdicts


def config_json(config: AuditConfig) -> dict[str, Any]:
    """What a resume needs to audit the same states again."""
    return {"states": [dataclasses.asdict(s) for s in config.states], "regions": list(config.regions),
            "profile": config.profile, "role_arn": config.role_arn,
            "ignore_file": str(config.ignore_file) if config.ignore_file else None,
            "max_workers": config.max_workers, "history": config.history, "deploy": dict(config.deploy)}


def config_from_json(data: dict[str, Any]) -> AuditConfig:
    from auditor.config import AuditConfig
    from auditor.state.model import StateRequest

    fields: list[dict[str, Any]] = [{k: tuple(v) if isinstance(v, list) else v for k, v in s.items()}
                                    for s in data["states"]]
    states = tuple(StateRequest(**f) for f in fields)
    return AuditConfig(states=states, regions=tuple(data.get("regions") or ()), profile=data.get("profile"),
                       role_arn=data.get("role_arn"),
                       ignore_file=Path(data["ignore_file"]) if data.get("ignore_file") else None,
                       max_workers=int(data.get("max_workers") or 8), history=data.get("history"),
                       check_rules=False, deploy={k: tuple(v) if isinstance(v, list) else v
                                                  for k, v in (data.get("deploy") or {}).items()})


# --- output ---------------------------------------------------------------------------------------


def _print_plan(plan: Plan) -> None:
    click.echo(f"Fix plan: {len(plan.actions)} finding(s), {len(plan.acting)} to apply"
               + (f" (--only {' '.join(plan.filtered)})" if plan.filtered else ""))
    for number, action in enumerate(plan.actions, 1):
        where = action.address or f"{action.type} {action.id}"
        risk = f" [risk {action.risk.value}]" if action.risk else ""
        click.echo(f"\n{number}. {action.kind.value.upper()} {where} ({action.drift}){risk}")
        click.echo(f"   {action.summary}")
        for change in action.changes:
            click.echo(f"   {change.path}: {_short(change.live)} -> {_short(change.state)}")
        if action.probe:
            click.echo(f"   precondition: {action.probe.describe}")
        for call in action.calls:
            click.echo(f"   call {call.service}.{call.operation}")
        if action.permissions:
            click.echo(f"   needs: {', '.join(action.permissions)}")
        if action.command:
            click.echo(f"   run instead: {action.command}" if action.kind.value == "skip"
                       else f"   then: {action.command}")
    if plan.rules:
        click.echo(f"\nFailing rules (not fixed live: change the Terraform code): {len(plan.rules)}")
        for item in plan.rules:
            click.echo(f"- {item.rule} [{item.severity}] {item.resource}: {item.message}")
            click.echo(f"  fix: {item.remediation}")
            click.echo("  " + item.snippet.strip().replace("\n", "\n  "))
    if plan.acting:
        click.echo(f"\nPermissions the fix needs: {', '.join(plan.permissions)}")
        click.echo("States locked while applying: " + ", ".join(s.uri for s in plan.states_touched()))
    click.echo("")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 100 else text[:97] + "..."


def _write_outputs(plan: Plan, options: FixOptions) -> None:
    import orjson

    from auditor.report import write_atomic

    if options.plan_out:
        write_atomic(options.plan_out, orjson.dumps(plan.as_json(), option=orjson.OPT_INDENT_2).decode() + "\n")
    if options.import_out:
        blocks = [a.import_block for a in plan.actions if a.import_block]
        from auditor.fix.planner import IMPORT_COMMAND

        header = (f"# Unmanaged resources found by the audit. Put this file in the root module that should own\n"
                  f"# them, then run: {IMPORT_COMMAND}\n\n")
        write_atomic(options.import_out, header + "\n".join(blocks))


def _print_outcome(outcome: FixOutcome) -> None:
    click.echo(f"\nFix {outcome.journal_id}:")
    for result in outcome.results:
        action = outcome.plan.actions[result.index]
        click.echo(f"  {result.verdict.value:9} {action.address or action.id}: {result.detail}")
    if outcome.remaining:
        click.echo(f"  {len(outcome.remaining)} finding(s) left as they are (skipped or to import).")


# --- audit fix --resume -----------------------------------------------------------------------------


@click.command("fix")
@click.option("--resume", "resume_id", metavar="ID", help="Finish the fix of journal ID (after a crash or a stop).")
@click.option("--list", "list_journals", is_flag=True, help="List the fix journals, oldest first.")
@click.option("--yes", is_flag=True, help="Resume without asking.")
@click.option("--bake-seconds", type=float, default=60.0, show_default=True,
              help="The deployer's bake time per traffic step of a redeploy.")
@click.option("--history", "history_url", metavar="URL",
              help="The history store holding the journals (default: `history` in audit.toml, else "
                   "$XDG_DATA_HOME/auditor/history.db).")
def fix_cmd(resume_id: str | None, list_journals: bool, yes: bool, bake_seconds: float,
            history_url: str | None) -> None:
    """Resume a fix that stopped part-way (its journal says what was done), or list the journals.

    A new fix is planned with `audit --fix` (the audit of audit.toml) or `audit run --fix [options]`.
    """
    from auditor.cli import _finish, _load_config
    from auditor.fix.journal import Journal, first_entry, open_journals

    store = open_journals(history_url or _load_config(None).history)
    if list_journals:
        for journal_id in store.list_journals("fix"):
            end = [e for e in store.read_journal(journal_id) if e.get("event") == "end"]
            click.echo(f"{journal_id}  {end[-1].get('status') if end else 'unfinished'}")
        _finish(int(ExitCode.CLEAN))
    if not resume_id:
        raise ConfigError("nothing to do", "pass --resume ID (or --list); plan a new fix with `audit --fix`")
    journal = Journal(store, resume_id)
    entries = journal.entries()
    from auditor.fix.apply import journal_done
    from auditor.fix.model import Plan

    plan = Plan.from_json(first_entry(entries, "plan")["plan"])
    config = config_from_json(dict(first_entry(entries, "plan")["config"]))
    done = journal_done(entries)
    left = [i for i, a in enumerate(plan.actions) if a.acts and i not in done]
    click.echo(f"Resuming {resume_id}: {len(done)} action(s) done, {len(left)} left.")
    if not yes and not (interactive() and click.confirm(f"Apply the {len(left)} remaining action(s)?", default=False)):
        click.echo("Nothing was changed (pass --yes to resume without a terminal).")
        _finish(int(ExitCode.DRIFT))
    options = FixOptions(yes=True, bake_seconds=bake_seconds)
    try:
        outcome = _apply(config, _aws(config), plan, journal, options, done=done)
    finally:
        store.close()
    _print_outcome(outcome)
    _finish(int(outcome.exit_code))
