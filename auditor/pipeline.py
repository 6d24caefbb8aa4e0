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
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from auditor import __version__
from auditor.aws import Aws, validate_region
from auditor.catalog import TYPE_ALIASES, canonical_type, specs
from auditor.config import AuditConfig
from auditor.diff import diff
from auditor.errors import AuditError, ConfigError
from auditor.ignore import IgnoreRules, load_ignore
from auditor.inventory.runner import collect_inventory
from auditor.models import AuditRun, Drift, DriftKind, Inventory, Resource
from auditor.score import score
from auditor.state.backend import load_states
from auditor.state.model import LoadedState, StateFailure
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


@dataclass(frozen=True, slots=True)
class StatesRead:
    """One audit's states, read once, and what follows from them: the caller, the regions, the scope."""

    started_at: datetime
    loaded: tuple[LoadedState, ...]
    failures: tuple[StateFailure, ...]
    state: StateResources             # the resources in scope (an audited region or global, a selected type)
    out_of_scope: tuple[Resource, ...]
    regions: tuple[str, ...]
    home: str                         # the region global types (IAM) are collected in
    types: tuple[str, ...]
    live_aws: Aws | None              # the session that observes (None once the reading is over)
    account_id: str
    caller: str | None                # the ARN the audit runs as
    ignore: IgnoreRules

    @property
    def wanted(self) -> dict[str, dict[str, set[str]]]:
        """region -> type -> the import ids the states hold there (global types under `home`)."""
        wanted: dict[str, dict[str, set[str]]] = {}
        for res in self.state.resources:
            wanted.setdefault(res.region or self.home, {}).setdefault(res.type, set()).add(res.id)
        return wanted

    @property
    def unmanaged_doubt(self) -> str | None:
        """Why a live resource in no state read cannot be called unmanaged (None: it can)."""
        unreadable = sum(len(s.document.unreadable) for s in self.loaded)
        return (f"not in any state read, but {len(self.failures)} state(s) could not be read and may hold it"
                if self.failures else
                f"not in any resource read, but {unreadable} state resource(s) could not be read"
                if unreadable else None)

    def unreadable(self, uri: str | None = None) -> list[Drift]:
        """`unknown` for the state resources that could not be read (of state `uri`, or of every state)."""
        return [Drift(_type_of(address), "", DriftKind.UNKNOWN, address, None, (), (s.uri,),
                      f"unreadable in the state: {why}")
                for s in self.loaded if uri is None or s.uri == uri for address, why in s.document.unreadable]


def run_audit(config: AuditConfig, aws: Aws, progress: Progress | None = None) -> AuditRun:
    """Run one read-only audit. Expected failures raise AuditError subclasses."""
    read = read_states(config, aws)
    inventory = observe(config, read, read.regions, progress)
    drifts = diff(read.state, inventory, read.ignore, read.unmanaged_doubt) + read.unreadable()
    return judge(config, read, inventory, drifts)


def read_states(config: AuditConfig, aws: Aws) -> StatesRead:
    """The states of `config`, read once, with the caller asked meanwhile (role assumed, account id)."""
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
    home = default_region if default_region in regions else sorted(regions)[0]
    return StatesRead(started, tuple(loaded), tuple(failures), state, out_of_scope, regions, home, tuple(types),
                      live_aws, account_id, getattr(live_aws, "caller_arn", None), ignore)


def observe(config: AuditConfig, read: StatesRead, regions: Iterable[str],
            progress: Progress | None = None) -> Inventory:
    """The live inventory of `regions` (one listing per type and region); global types only when the
    home region is among them."""
    regions = tuple(regions)
    if read.live_aws is None:
        raise ValueError("these states were read elsewhere: no session to observe with")
    catalog = specs()
    types = read.types if read.home in regions else tuple(
        t for t in read.types if not getattr(catalog.get(canonical_type(t)), "global_service", False))
    wanted = read.wanted
    return collect_inventory(
        read.live_aws, regions, types, read.account_id,
        {r: {t: frozenset(ids) for t, ids in by_type.items()} for r, by_type in wanted.items() if r in regions},
        {res.key: res.attributes for res in read.state.resources},
        global_region=read.home, workers=config.max_workers,
        progress=(lambda done, total: progress("inventory", done, total)) if progress else None,
    )


def judge(config: AuditConfig, read: StatesRead, inventory: Inventory, drifts: list[Drift]) -> AuditRun:
    """The run: `drifts`, the rule pack's verdicts (unless the config says not to), code drift, the score."""
    compliance = None
    if config.check_rules:  # the rule engine is imported only for an audit that checks the rules
        from auditor.rules.audit import judge_audit, live_backends
        from auditor.rules.engine import Suppressions, rule_pack

        compliance = judge_audit(
            rule_pack(config.rules_dirs), live=[*inventory.resources, *live_backends(list(read.loaded))],
            state=[*read.state.resources, *read.state.unsupported], inventory=inventory, wanted=read.wanted,
            settings=config.rule_settings, suppressions=Suppressions(config.suppressions), regions=read.regions)
    return AuditRun(
        started_at=read.started_at,
        finished_at=datetime.now(UTC),
        tool_version=__version__,
        account_id=read.account_id,
        caller=read.caller,
        regions=read.regions,
        states=read.loaded,
        failures=read.failures,
        inventory=inventory,
        drifts=tuple(sorted(drifts, key=lambda d: (d.kind.value, d.type, d.address or "", d.id))),
        score=score(drifts, config.weights),
        ignore_file=read.ignore.source,
        compliance=compliance,
        code=_compare_code(config, list(read.loaded)),
        strict=config.strict,
        min_coverage=config.min_coverage,
        out_of_scope=read.out_of_scope,
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
