"""The deployer's own way: move an ALB listener's (or rule's) forward weights from blue to green.

Green gets the new task definition at blue's desired count; once all its targets are healthy the
weights move step by step, each step baked while the gates hold; at 100% blue goes to zero (after
`keep_blue_seconds` of warm standby) and the colours swap roles for the next deploy. Any failure
moves the weights back to 100% blue first, then scales green down. Colours are two services or two
task sets of an EXTERNAL-controller service (auditor.deploy.colours). Autoscaling of two services is
suspended on both while traffic moves and left on the serving one only (auditor.deploy.scaling); an
EXTERNAL service's scaling is left alone, as it sizes both task sets alike (they are PERCENT scaled).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from auditor.aws import Aws, describe_error
from auditor.deploy.colours import Colours, colours_for
from auditor.deploy.gates import Gates, Reading
from auditor.deploy.journal import Journal
from auditor.deploy.model import AWS_ERRORS, AlbSetup, Colour, DeployError
from auditor.deploy.scaling import Scaling
from auditor.deploy.seams import Clock

T = TypeVar("T")
ROLLBACK_ATTEMPTS = 5


class GateFailed(DeployError):
    """A gate reading failed; the message is the reading."""


class DeployTimeout(DeployError):
    """The deploy ran past its timeout; the message says what was awaited and what was seen."""


def fmt_seconds(seconds: float) -> str:
    seconds = round(seconds)
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds // 60}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60}s"
    return f"{seconds}s"


@dataclass
class AlbRun:
    """One ALB-weights deploy (or its resume or rollback) against a discovered setup."""

    aws: Aws
    setup: AlbSetup
    journal: Journal
    clock: Clock
    gates: Gates
    poll_seconds: float
    timeout_seconds: float
    deadline: float
    green_provisioning: float | None = None
    scaling_held: bool = False  # the colours' scaling was (maybe partly) suspended by this deploy

    # --- AWS actions, each journalled before it is taken -------------------------------------------

    @property
    def scaling(self) -> Scaling:
        """The colours' Application Auto Scaling targets (suspended while traffic moves)."""
        return Scaling(self.aws, self.setup.cluster, self.journal)

    def weights(self) -> dict[str, int]:
        """The forward weights now, by target group ARN."""
        return {t["TargetGroupArn"]: int(t.get("Weight", 1)) for t in self._forward(self._actions())["ForwardConfig"]
                ["TargetGroups"]}

    def green_percent(self) -> int:
        weights = self.weights()
        total = sum(weights.values())
        return round(100 * weights.get(self.setup.green.target_group, 0) / total) if total else 0

    def set_green(self, percent: int, why: str) -> None:
        self.journal.write("weights", green=percent, blue=100 - percent, why=why)
        actions = self._actions()
        new = {self.setup.blue.target_group: 100 - percent, self.setup.green.target_group: percent}
        for action in actions:
            if action.get("Type") == "forward":
                action.pop("TargetGroupArn", None)
                action["ForwardConfig"]["TargetGroups"] = [
                    {"TargetGroupArn": t["TargetGroupArn"], "Weight": new.get(t["TargetGroupArn"], 0)}
                    for t in action["ForwardConfig"]["TargetGroups"]]
        elb = self.aws.client("elbv2")
        try:
            if self.setup.rule:
                elb.modify_rule(RuleArn=self.setup.rule, Actions=actions)
            else:
                elb.modify_listener(ListenerArn=self.setup.listener, DefaultActions=actions)
        except AWS_ERRORS as exc:
            raise DeployError(f"cannot set the weights of {self.setup.weighted} to green {percent}%: "
                              f"{describe_error(exc)}") from None

    @property
    def colours(self) -> Colours:
        """What scaling a colour means here: a service's desired count or a task set's scale."""
        return colours_for(self.aws, self.setup, self.journal)

    def desired_now(self, colour: Colour) -> int:
        return self.colours.desired(colour)

    # --- the deploy -------------------------------------------------------------------------------

    def forward(self, task_definition: str, steps: tuple[int, ...], bake_seconds: float, keep_blue_seconds: float,
                rebake: int | None = None) -> None:
        """Green up with `task_definition`, then every step after the current weight (re-baking `rebake`)."""
        blue, green = self.setup.blue, self.setup.green
        if not self.setup.task_sets:  # an EXTERNAL service's scaling sizes both task sets alike: left alone
            self.scaling_held = True
            self.scaling.hold(blue, green)
        started = self.clock.now()
        self.colours.bring_up(green, blue.desired, task_definition)
        self.wait_healthy(green, blue.desired, "green")
        self.green_provisioning = self.clock.now() - started
        self.journal.write("provisioned", service=green.service, seconds=round(self.green_provisioning, 3))
        self.check(self.gates.smoke())
        current = self.green_percent()
        for step in steps:
            if step < current or (step == current and step != rebake):
                continue
            if step != current:
                self.set_green(step, "shift")
            self.watch(bake_seconds, step, self.deadline)
            self.journal.write("baked", green=step)
        if keep_blue_seconds > 0:
            self.journal.write("keep_blue", service=blue.service, seconds=keep_blue_seconds)
            self.watch(keep_blue_seconds, 100, None)
        self.colours.retire(blue, serving=green)
        if self.scaling_held:
            self.scaling.settle(serving=green, idle=blue)
        self.journal.write("roles", blue=green.service, green=blue.service,
                           why="the new release serves 100%: it is blue for the next deploy")

    def rollback(self, reason: str) -> None:
        """Traffic back to 100% blue (after making sure blue has healthy targets), then green down."""
        blue, green = self.setup.blue, self.setup.green
        self.journal.best_effort = True
        self.journal.write("rollback", reason=reason)
        if self._again(self.green_percent) > 0:
            if self._again(lambda: self.desired_now(blue)) < blue.desired:
                self._again(lambda: self.colours.scale(blue, blue.desired))
            if not self.gates.healthy(blue.target_group, blue.desired).ok:
                self.wait_healthy(blue, blue.desired, "blue", deadline=self.clock.now() + self.timeout_seconds)
            self._again(lambda: self.set_green(0, f"rollback: {reason}"))
        self._again(lambda: self.colours.retire(green, serving=blue))
        if self.scaling_held:  # otherwise the deploy never touched it: an operator's setting stays
            self._again(lambda: self.scaling.settle(serving=blue, idle=green))

    def _again(self, action: Callable[[], T]) -> T:
        """A rollback step, tried up to ROLLBACK_ATTEMPTS times (1, 2, 4... s apart): a transient AWS error
        must not leave traffic split."""
        for attempt in range(ROLLBACK_ATTEMPTS):
            try:
                return action()
            except DeployError:
                if attempt == ROLLBACK_ATTEMPTS - 1:
                    raise
                self.clock.sleep(2.0 ** attempt)
        raise AssertionError("unreachable")

    # --- waiting and gates ------------------------------------------------------------------------

    def wait_healthy(self, colour: Colour, desired: int, name: str, deadline: float | None = None) -> None:
        deadline = self.deadline if deadline is None else deadline
        began = self.clock.now()
        while True:
            reading = self.gates.healthy(colour.target_group, desired)
            if reading.ok:
                self.journal.write("gate", **reading.to_dict(), colour=name)
                return
            if self.clock.now() >= deadline:
                self.journal.write("gate", **reading.to_dict(), colour=name)
                raise DeployTimeout(f"{name} ({colour.service}) never became healthy: waited "
                                    f"{fmt_seconds(self.clock.now() - began)} for {desired} healthy targets in "
                                    f"{_short(colour.target_group)}; last seen {reading.detail}")
            self.clock.sleep(min(self.poll_seconds, max(deadline - self.clock.now(), 0.0)))

    def watch(self, seconds: float, green: int, deadline: float | None) -> None:
        """Bake at `green`% for `seconds`, reading the gates every poll; the 5xx rate covers the whole bake."""
        start = self.clock.now()
        end = start + seconds
        while True:
            now = self.clock.now()
            readings = (self.gates.healthy(self.setup.green.target_group, self.setup.blue.desired),
                        self.gates.alarms(),
                        self.gates.error_rate(self.setup.green.target_group, self.setup.load_balancer, start, now))
            for reading in readings:
                self.check(reading, green=green)
            if now >= end:
                self.journal.write("gates", green=green, readings=[r.to_dict() for r in readings])
                return
            if deadline is not None and now >= deadline:
                raise DeployTimeout(f"timed out after {fmt_seconds(self.timeout_seconds)} baking green at {green}% "
                                    f"({fmt_seconds(now - start)} of {fmt_seconds(seconds)} done)")
            pause = min(self.poll_seconds, end - now)
            if deadline is not None:
                pause = min(pause, max(deadline - now, 0.0))
            self.clock.sleep(pause)

    def check(self, reading: Reading, **where: Any) -> None:
        if not reading.ok:
            self.journal.write("gate", **reading.to_dict(), **where)
            raise GateFailed(f"gate {reading.gate} failed: {reading.detail}")

    # --- listener plumbing ------------------------------------------------------------------------

    def _actions(self) -> list[dict[str, Any]]:
        elb = self.aws.client("elbv2")
        try:
            if self.setup.rule:
                return list(elb.describe_rules(RuleArns=[self.setup.rule])["Rules"][0]["Actions"])
            return list(elb.describe_listeners(ListenerArns=[self.setup.listener])["Listeners"][0]["DefaultActions"])
        except AWS_ERRORS as exc:
            raise DeployError(f"cannot read {self.setup.weighted}: {describe_error(exc)}") from None

    @staticmethod
    def _forward(actions: list[dict[str, Any]]) -> dict[str, Any]:
        return next(a for a in actions if a.get("Type") == "forward")


def _short(arn: str) -> str:
    path = arn.split(":", 5)[-1]
    return path.split("/")[1] if path.startswith("targetgroup/") else path
