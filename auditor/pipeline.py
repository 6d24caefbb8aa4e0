"""One audit, stage by stage: state -> inventory -> diff -> rules -> code -> score, into one AuditRun.

The states are read (auditor.state) while the caller's account is asked; the live inventory
(auditor.inventory) is collected for the types and regions they hold; the diff judges each resource
(auditor.diff); the rule pack judges live and state resources unless the config says not to
(auditor.rules.audit); `--code` folders are compared with their states (auditor.codedrift); the
drift index is scored (auditor.score). The reports (auditor.report) read the AuditRun afterwards.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from auditor import __version__
from auditor.aws import Aws, validate_region
from auditor.catalog import TYPE_ALIASES, canonical_type, specs
from auditor.config import AuditConfig
from auditor.diff import diff
from auditor.errors import AuditError, ConfigError
from auditor.ignore import load_ignore
from auditor.inventory.runner import collect_inventory
from auditor.models import AuditRun, Drift, DriftKind, Resource
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
    for region in config.regions:
        validate_region(region)
    for request in config.states:
        if request.region:
            validate_region(request.region, "state region")
    check_types(config.types)
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
        # where a resource naming no region (and no sibling that does) lives: never hangs on --region order
        default_region = (config.regions[0] if len(set(config.regions)) == 1
                          else aws.default_region or "us-east-1")
        state = to_resources(loaded, default_region)
        regions = regions_for(config, state, aws)
        live_aws, account_id = caller.result()  # a state error, then a region error, come first
    finally:
        side.shutdown(wait=False)  # such an error is reported without waiting for the caller's answer
    types = config.types or tuple(specs())
    state, out_of_scope = in_scope(state, regions, types)
    wanted: dict[str, dict[str, set[str]]] = {}
    home = default_region if default_region in regions else sorted(regions)[0]
    for res in state.resources:  # global types (IAM) carry no region: collected in the home region
        wanted.setdefault(res.region or home, {}).setdefault(res.type, set()).add(res.id)
    inventory = collect_inventory(
        live_aws, regions, types, account_id,
        {r: {t: frozenset(ids) for t, ids in by_type.items()} for r, by_type in wanted.items()},
        {res.key: res.attributes for res in state.resources},
        global_region=home, workers=config.max_workers,
        progress=(lambda done, total: progress("inventory", done, total)) if progress else None,
    )
    unreadable = [(s.uri, address, why) for s in loaded for address, why in s.document.unreadable]
    doubt = (f"not in any state read, but {len(failures)} state(s) could not be read and may hold it" if failures
             else f"not in any resource read, but {len(unreadable)} state resource(s) could not be read"
             if unreadable else None)
    drifts = diff(state, inventory, ignore, doubt) + [
        Drift(_type_of(address), "", DriftKind.UNKNOWN, address, None, (), (uri,), f"unreadable in the state: {why}")
        for uri, address, why in unreadable]
    compliance = None
    if config.check_rules:  # the rule engine is imported only for an audit that checks the rules
        from auditor.rules.audit import judge_audit, live_backends
        from auditor.rules.engine import Suppressions, rule_pack

        compliance = judge_audit(
            rule_pack(config.rules_dirs), live=[*inventory.resources, *live_backends(loaded)],
            state=[*state.resources, *state.unsupported], inventory=inventory, wanted=wanted,
            settings=config.rule_settings, suppressions=Suppressions(config.suppressions), regions=regions)
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
        out_of_scope=out_of_scope,
    )


def _type_of(address: str) -> str:
    """The resource type in a resource address (`module.a.aws_lb.main` -> `aws_lb`), "" when there is none."""
    parts = address.split(".")
    return parts[-2] if len(parts) >= 2 else ""


def check_types(types: Iterable[str]) -> None:
    """Every `--type` names a supported resource type (a typo would audit nothing and call it clean)."""
    known = set(specs()) | set(TYPE_ALIASES)
    for tf_type in types:
        if tf_type not in known:
            close = difflib.get_close_matches(tf_type, sorted(known), n=1)
            raise ConfigError(f"unknown resource type {tf_type!r}" + (f" (did you mean {close[0]}?)" if close else ""),
                              "`audit resources` lists the supported types")


def in_scope(state: StateResources, regions: Iterable[str],
             types: Iterable[str]) -> tuple[StateResources, tuple[Resource, ...]]:
    """The state resources this audit observes (a selected type, in an audited region or global) and the
    rest: out of scope, reported as such, never missing. Raises when nothing is in scope, or when every
    regional resource of a selected type is in a region not audited (only global ones would be left)."""
    audited, selected = set(regions), {canonical_type(t) for t in types}
    inside = [r for r in state.resources if r.type in selected and (r.region is None or r.region in audited)]
    kept = {id(r) for r in inside}
    outside = tuple(r for r in state.resources if id(r) not in kept)
    elsewhere = sorted({r.region for r in outside if r.type in selected and r.region and r.region not in audited})
    if outside and (not inside or (elsewhere and all(r.region is None for r in inside))):
        hint = (f"the states' resources are in {', '.join(elsewhere)}: pass --region for them" if elsewhere
                else "no state resource has a type selected by --type")
        raise AuditError(f"no state resource is in scope of this audit (regions {', '.join(sorted(audited))})",
                         hint)
    return replace(state, resources=tuple(inside)), outside


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
