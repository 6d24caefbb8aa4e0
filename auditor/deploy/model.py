"""The deployer's values: what is asked (DeployRequest), what was found (Setup), what happened (DeployOutcome)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import botocore.exceptions

from auditor.errors import AuditError

Strategy = Literal["canary", "linear", "all-at-once"]
Result = Literal["succeeded", "rolled_back", "failed", "dry_run"]

STRATEGIES: tuple[str, ...] = ("canary", "linear", "all-at-once")
DEFAULT_STEPS: dict[str, tuple[int, ...]] = {
    "canary": (10, 100),
    "linear": (25, 50, 75, 100),
    "all-at-once": (100,),
}
DEFAULT_LEASE_TABLE = "auditor-deploy-leases"

AWS_ERRORS = (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError, NotImplementedError)
"""What a failed AWS call raises (NotImplementedError: an emulator lacking the call)."""


class DeployError(AuditError):
    """A deploy could not start or go on (the message says what was awaited and what was seen)."""


class DeployRefused(DeployError):
    """The setup cannot be deployed safely; nothing was changed."""


class LeaseHeld(DeployRefused):
    """Another deploy holds the service's lease."""


@dataclass(frozen=True, slots=True)
class DeployRequest:
    """One deploy, as the CLI or `audit --fix` asks for it.

    Exactly one of `image` (a new image for the service's load-balanced container) or
    `task_definition` ("family:rev" or an ARN). Durations are seconds. The overrides (`listener` ...
    `green_target_group`) replace what discovery would read from the service's load-balancer settings.
    """

    cluster: str
    service: str
    task_definition: str | None = None
    image: str | None = None
    strategy: Strategy = "canary"
    steps: tuple[int, ...] | None = None
    bake_seconds: float = 300.0
    timeout_seconds: float = 1200.0
    keep_blue_seconds: float = 0.0
    dry_run: bool = False
    listener: str | None = None
    listener_rule: str | None = None
    blue_service: str | None = None
    green_service: str | None = None
    blue_target_group: str | None = None
    green_target_group: str | None = None
    alarms: tuple[str, ...] = ()
    lease_table: str = DEFAULT_LEASE_TABLE
    max_5xx_rate: float = 0.01
    smoke_url: str | None = None
    poll_seconds: float = 10.0
    owner: str | None = None

    def shift_steps(self) -> tuple[int, ...]:
        """The green weights to move through, validated: increasing, within 1..100, ending at 100."""
        steps = self.steps or DEFAULT_STEPS[self.strategy]
        if self.strategy == "all-at-once" and self.steps and tuple(self.steps) != (100,):
            raise DeployRefused("--steps does not go with --strategy all-at-once (it moves 0 -> 100)")
        if any(not 1 <= s <= 100 for s in steps) or list(steps) != sorted(set(steps)) or steps[-1] != 100:
            raise DeployRefused(f"invalid steps {','.join(map(str, steps))}",
                                "give increasing percentages of traffic for green, each 1-100, ending at 100")
        return tuple(steps)


@dataclass(frozen=True, slots=True)
class Colour:
    """One side of an ALB-weights setup: its ECS service and target group (and, under an EXTERNAL
    controller, its task set: blue's is the service's PRIMARY one, green's is created by the deploy)."""

    service: str
    target_group: str
    desired: int
    task_set: str | None = None


@dataclass(frozen=True, slots=True)
class AlbSetup:
    """The deployer's own way: two services (or two task sets of one EXTERNAL-controller service) behind
    two target groups weighted by one listener or rule."""

    cluster: str
    listener: str
    rule: str | None
    blue: Colour
    green: Colour
    container: str
    load_balancer: str
    task_sets: bool = False
    """Blue and green are task sets of one EXTERNAL-controller service (`blue.service`), not two services."""

    @property
    def weighted(self) -> str:
        """The ARN whose forward action is modified (the rule when there is one, else the listener)."""
        return self.rule or self.listener


@dataclass(frozen=True, slots=True)
class NativeSetup:
    """ECS native blue/green: one service whose deployment configuration has a BLUE_GREEN/CANARY/LINEAR strategy."""

    cluster: str
    service: str
    strategy: str
    container: str
    target_groups: tuple[str, ...]
    desired: int
    task_definition: str
    load_balancer: str


@dataclass(frozen=True, slots=True)
class DeployOutcome:
    """What a deploy did; `result` is succeeded | rolled_back | failed | dry_run."""

    result: Result
    deploy_id: str
    way: str
    task_definition: str
    weights: dict[str, int] = field(default_factory=dict)
    services: dict[str, dict[str, object]] = field(default_factory=dict)
    rollback_reason: str | None = None
    message: str = ""
    duration_seconds: float = 0.0
    green_provisioning_seconds: float | None = None
    plan: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "result": self.result, "deploy_id": self.deploy_id, "way": self.way,
            "task_definition": self.task_definition, "weights": dict(self.weights),
            "services": {k: dict(v) for k, v in self.services.items()},
            "rollback_reason": self.rollback_reason, "message": self.message,
            "duration_seconds": round(self.duration_seconds, 3),
            "green_provisioning_seconds": (None if self.green_provisioning_seconds is None
                                           else round(self.green_provisioning_seconds, 3)),
            "plan": list(self.plan),
        }
