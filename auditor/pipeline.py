"""One audit, stage by stage: state -> inventory -> diff -> rules -> code -> score, into one AuditRun.

The states are read (auditor.state) while the caller's account is asked; the live inventory
(auditor.inventory) is collected for the types and regions they hold; the diff judges each resource
(auditor.diff); the rule pack judges live and state resources unless the config says not to
(auditor.rules.audit); `--code` folders are compared with their states (auditor.codedrift); the
drift index is scored (auditor.score). The reports (auditor.report) read the AuditRun afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from auditor import __version__
from auditor.aws import Aws
from auditor.catalog import specs
from auditor.config import AuditConfig
from auditor.diff import diff
from auditor.errors import AuditError, ConfigError
from auditor.ignore import load_ignore
from auditor.inventory.runner import collect_inventory
from auditor.models import AuditRun
from auditor.score import score
from auditor.state.backend import load_states
from auditor.state.model import LoadedState
from auditor.state.resources import StateResources, to_resources

if TYPE_CHECKING:
    from auditor.codedrift import CodeComparison

Progress = Callable[[str, int, int], None]
"""progress(stage, done, total): called as the inventory advances."""


def regions_for(config: AuditConfig, state: StateResources, aws: Aws) -> tuple[str, ...]:
    """--region values, else every region the states' resources live in, else the SDK default."""
    if config.regions:
        return tuple(sorted(set(config.regions)))
    found = {r.region for r in state.resources if r.region}
    if found:
        return tuple(sorted(found))
    if aws.default_region:
        return (aws.default_region,)
    raise ConfigError("no AWS region to audit", "pass --region, set AWS_REGION, or configure a profile region")


def run_audit(config: AuditConfig, aws: Aws, progress: Progress | None = None) -> AuditRun:
    """Run one read-only audit. Expected failures raise AuditError subclasses."""
    started = datetime.now(UTC)
    ignore = load_ignore(config.ignore_file)
    if not config.states:
        raise ConfigError("no state to audit", "pass --state s3://BUCKET/KEY, --backend-dir DIR or --config FILE")
    side = ThreadPoolExecutor(max_workers=1, thread_name_prefix="caller")
    try:
        caller = side.submit(_caller, aws, config.role_arn)  # asked while the states are read
        loaded, failures = load_states(aws, config.states, wait_for_lock=config.wait_for_lock,
                                       max_workers=config.max_workers)
        if not loaded:
            first = failures[0].error if failures else "no state matched"
            more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
            raise AuditError(f"no state could be read: {first}{more}")
        default_region = config.regions[0] if config.regions else (aws.default_region or "us-east-1")
        state = to_resources(loaded, default_region)
        regions = regions_for(config, state, aws)
        live_aws, account_id = caller.result()  # a state error, then a region error, come first
    finally:
        side.shutdown(wait=False)  # such an error is reported without waiting for the caller's answer
    types = config.types or tuple(specs())
    wanted: dict[str, dict[str, set[str]]] = {}
    home = default_region if default_region in regions else regions[0]
    for res in state.resources:  # global types (IAM) carry no region: collected in the home region
        wanted.setdefault(res.region or home, {}).setdefault(res.type, set()).add(res.id)
    inventory = collect_inventory(
        live_aws, regions, types, account_id,
        {r: {t: frozenset(ids) for t, ids in by_type.items()} for r, by_type in wanted.items()},
        {res.key: res.attributes for res in state.resources},
        global_region=home, workers=config.max_workers,
        progress=(lambda done, total: progress("inventory", done, total)) if progress else None,
    )
    doubt = (f"not in any state read, but {len(failures)} state(s) could not be read and may hold it"
             if failures else None)
    drifts = diff(state, inventory, ignore, doubt)
    compliance = None
    if config.check_rules:  # the rule engine is imported only for an audit that checks the rules
        from auditor.rules.audit import judge_audit, live_backends
        from auditor.rules.engine import Suppressions, rule_pack

        compliance = judge_audit(
            rule_pack(config.rules_dirs), live=[*inventory.resources, *live_backends(loaded)],
            state=[*state.resources, *state.unsupported], inventory=inventory, wanted=wanted,
            settings=config.rule_settings, suppressions=Suppressions(config.suppressions))
    return AuditRun(
        started_at=started,
        finished_at=datetime.now(UTC),
        tool_version=__version__,
        account_id=account_id,
        caller=getattr(live_aws, "caller_arn", None),
        regions=regions,
        states=tuple(loaded),
        failures=tuple(failures),
        inventory=inventory,
        drifts=tuple(sorted(drifts, key=lambda d: (d.kind.value, d.type, d.address or "", d.id))),
        score=score(drifts, config.weights),
        ignore_file=ignore.source,
        compliance=compliance,
        code=_compare_code(config, loaded),
        strict=config.strict,
        min_coverage=config.min_coverage,
    )


def _caller(aws: Aws, role_arn: str | None) -> tuple[Aws, str]:
    """The session that observes AWS (with `role_arn` assumed, if given) and its account id."""
    live = aws.assume(role_arn) if role_arn else aws
    return live, live.account_id()


def _compare_code(config: AuditConfig, loaded: list[LoadedState]) -> tuple[CodeComparison, ...]:
    """The code drift of `--code-dir` folders (the HCL reader is imported only when asked for)."""
    if not config.code_dirs:
        return ()
    from auditor.codedrift import compare_code

    return compare_code(config.code_dirs, loaded)
