"""The fix plan's values: one Action per drift finding, the AWS calls it makes, and what came of it.

Every value is frozen and converts to and from plain JSON (`--plan-out`, the journal, `--resume`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

PLAN_SCHEMA = "auditor.fix-plan/v1"


class ActionKind(StrEnum):
    REVERT = "revert"  # boto3 calls put live back to the state's values
    REDEPLOY = "redeploy"  # an ECS service back to the state's task definition, through the deployer
    SKIP = "skip"  # not changed, with the reason and the command to run instead
    IMPORT = "import"  # unmanaged: an `import {}` block, nothing touched


class Risk(StrEnum):
    LOW = "low"  # a setting put back; nothing restarts, no traffic moves
    MEDIUM = "medium"  # changes who can connect or what is served (rules, TLS, health checks)
    HIGH = "high"  # replaces running tasks


@dataclass(frozen=True, slots=True)
class Call:
    """One boto3 call: client `service`, `operation` (the snake_case method) and its parameters."""

    service: str
    operation: str
    params: Mapping[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {"service": self.service, "operation": self.operation, "params": dict(self.params)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Call:
        return cls(str(data["service"]), str(data["operation"]), dict(data["params"]))


@dataclass(frozen=True, slots=True)
class Probe:
    """The precondition, checked with a read call just before acting: the list at `key` in the
    answer must be non-empty (`expect="exists"`) or empty (`expect="absent"`)."""

    call: Call
    key: str
    expect: str  # "exists" | "absent"
    describe: str  # what must hold, for the plan

    def as_json(self) -> dict[str, Any]:
        return {"call": self.call.as_json(), "key": self.key, "expect": self.expect, "describe": self.describe}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Probe:
        return cls(Call.from_json(data["call"]), str(data["key"]), str(data["expect"]), str(data["describe"]))


@dataclass(frozen=True, slots=True)
class Change:
    """One attribute the action puts back: path, the state's value, the live value."""

    path: str
    state: Any
    live: Any


@dataclass(frozen=True, slots=True)
class Action:
    """What the fix does about one drift finding."""

    kind: ActionKind
    drift: str  # the finding's kind: changed | missing | unmanaged
    type: str
    id: str
    address: str | None
    region: str | None
    state: str | None  # URI of the state whose lock guards the action (None: touches no state's resources)
    summary: str  # one line: what is done, or why not
    revert: str | None = None  # the revert declaration's name (`<type>/<name>`)
    calls: tuple[Call, ...] = ()
    permissions: tuple[str, ...] = ()
    risk: Risk | None = None
    probe: Probe | None = None
    changes: tuple[Change, ...] = ()
    command: str | None = None  # SKIP: the Terraform command to run instead; IMPORT: the plan command
    import_block: str | None = None
    deploy: Mapping[str, Any] | None = None  # REDEPLOY: cluster, service, task_definition

    @property
    def acts(self) -> bool:
        """The action changes AWS (revert or redeploy)."""
        return self.kind in (ActionKind.REVERT, ActionKind.REDEPLOY)

    @property
    def key(self) -> tuple[str, str]:
        return (self.type, self.id)

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value, "drift": self.drift, "type": self.type, "id": self.id,
            "address": self.address, "region": self.region, "state": self.state, "summary": self.summary,
            "revert": self.revert, "calls": [c.as_json() for c in self.calls],
            "permissions": list(self.permissions), "risk": self.risk.value if self.risk else None,
            "precondition": self.probe.as_json() if self.probe else None,
            "changes": [{"path": c.path, "state": c.state, "live": c.live} for c in self.changes],
            "command": self.command, "import_block": self.import_block,
            "deploy": dict(self.deploy) if self.deploy is not None else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Action:
        return cls(
            kind=ActionKind(data["kind"]), drift=str(data["drift"]), type=str(data["type"]), id=str(data["id"]),
            address=data.get("address"), region=data.get("region"), state=data.get("state"),
            summary=str(data["summary"]), revert=data.get("revert"),
            calls=tuple(Call.from_json(c) for c in data.get("calls") or ()),
            permissions=tuple(data.get("permissions") or ()),
            risk=Risk(data["risk"]) if data.get("risk") else None,
            probe=Probe.from_json(data["precondition"]) if data.get("precondition") else None,
            changes=tuple(Change(c["path"], c["state"], c["live"]) for c in data.get("changes") or ()),
            command=data.get("command"), import_block=data.get("import_block"),
            deploy=data.get("deploy"),
        )


@dataclass(frozen=True, slots=True)
class RuleItem:
    """A failing compliance rule: listed with its remediation and snippet, never fixed live."""

    rule: str
    severity: str
    type: str
    resource: str
    message: str
    remediation: str
    snippet: str

    def as_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "severity": self.severity, "type": self.type, "resource": self.resource,
                "message": self.message, "remediation": self.remediation, "snippet": self.snippet}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RuleItem:
        return cls(**{k: str(data[k]) for k in ("rule", "severity", "type", "resource", "message", "remediation",
                                                 "snippet")})


@dataclass(frozen=True, slots=True)
class PlannedState:
    """A state the plan's actions belong to, as it was read when planning."""

    uri: str
    serial: int
    lineage: str
    lock_table: str | None
    use_lockfile: bool
    region: str | None

    def as_json(self) -> dict[str, Any]:
        return {"uri": self.uri, "serial": self.serial, "lineage": self.lineage, "lock_table": self.lock_table,
                "use_lockfile": self.use_lockfile, "region": self.region}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PlannedState:
        return cls(str(data["uri"]), int(data["serial"]), str(data["lineage"]), data.get("lock_table"),
                   bool(data.get("use_lockfile")), data.get("region"))


@dataclass(frozen=True, slots=True)
class Plan:
    """Every drift finding with its one action, the failing rules, and the states to lock."""

    created_at: str
    tool_version: str
    actions: tuple[Action, ...]
    rules: tuple[RuleItem, ...] = ()
    states: tuple[PlannedState, ...] = ()
    filtered: tuple[str, ...] = ()  # the --only values that selected the actions

    @property
    def acting(self) -> tuple[Action, ...]:
        return tuple(a for a in self.actions if a.acts)

    @property
    def permissions(self) -> tuple[str, ...]:
        return tuple(sorted({p for a in self.acting for p in a.permissions}))

    def states_touched(self) -> tuple[PlannedState, ...]:
        wanted = {a.state for a in self.acting if a.state}
        return tuple(s for s in self.states if s.uri in wanted)

    def as_json(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for action in self.actions:
            counts[action.kind.value] = counts.get(action.kind.value, 0) + 1
        return {"schema": PLAN_SCHEMA, "created_at": self.created_at, "tool_version": self.tool_version,
                "counts": counts, "permissions": list(self.permissions), "filtered": list(self.filtered),
                "states": [s.as_json() for s in self.states], "actions": [a.as_json() for a in self.actions],
                "rules": [r.as_json() for r in self.rules]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Plan:
        return cls(created_at=str(data["created_at"]), tool_version=str(data["tool_version"]),
                   actions=tuple(Action.from_json(a) for a in data["actions"]),
                   rules=tuple(RuleItem.from_json(r) for r in data.get("rules") or ()),
                   states=tuple(PlannedState.from_json(s) for s in data.get("states") or ()),
                   filtered=tuple(data.get("filtered") or ()))


class Verdict(StrEnum):
    VERIFIED = "verified"  # re-observed: the drift the action addressed is gone
    FAILED = "failed"  # the call failed, or the drift is still there
    NOT_RUN = "not_run"  # stopped before this action (see --resume)


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What came of one acting action."""

    index: int
    verdict: Verdict
    detail: str = ""
    remaining: tuple[str, ...] = field(default=())  # attribute paths still drifted after the fix
