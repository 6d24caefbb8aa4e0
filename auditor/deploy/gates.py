"""Gates: the readings that decide whether traffic may move on (or must go back).

Each reading says what was measured; a reading that cannot be taken fails its gate (fail closed).
"""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass

from auditor.aws import Aws, describe_error
from auditor.deploy.model import AWS_ERRORS, DeployError
from auditor.deploy.seams import HealthSource, MetricsSource


@dataclass(frozen=True, slots=True)
class Reading:
    gate: str
    ok: bool
    detail: str

    def to_dict(self) -> dict[str, object]:
        return {"gate": self.gate, "ok": self.ok, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class GateSettings:
    alarms: tuple[str, ...] = ()
    max_5xx_rate: float = 0.01
    smoke_url: str | None = None


class Gates:
    """Takes the gate readings for one target group (the green one, whose tasks are new)."""

    def __init__(self, aws: Aws, settings: GateSettings, health: HealthSource, metrics: MetricsSource) -> None:
        self._aws = aws
        self.settings = settings
        self.health = health
        self.metrics = metrics

    def healthy(self, target_group: str, desired: int) -> Reading:
        """Healthy targets >= desired (and at least one)."""
        try:
            healthy, registered = self.health.healthy_targets(target_group)
        except DeployError as exc:
            return Reading("health", False, exc.message)
        ok = healthy >= max(desired, 1)
        return Reading("health", ok, f"{healthy} healthy of {registered} registered, {desired} desired")

    def alarms(self) -> Reading:
        """Every named alarm exists and is not in ALARM."""
        names = self.settings.alarms
        if not names:
            return Reading("alarms", True, "no alarms named")
        try:
            found = {a["AlarmName"]: a["StateValue"] for page in self._aws.client("cloudwatch").get_paginator(
                "describe_alarms").paginate(AlarmNames=list(names)) for a in page.get("MetricAlarms", [])}
        except AWS_ERRORS as exc:
            return Reading("alarms", False, f"cannot read the alarms: {describe_error(exc)}")
        missing = [n for n in names if n not in found]
        firing = [n for n in names if found.get(n) == "ALARM"]
        if missing:
            return Reading("alarms", False, f"alarm(s) not found: {', '.join(missing)}")
        if firing:
            return Reading("alarms", False, f"in ALARM: {', '.join(firing)}")
        return Reading("alarms", True, ", ".join(f"{n}={found[n]}" for n in names))

    def error_rate(self, target_group: str, load_balancer: str, start: float, end: float) -> Reading:
        """The target group's 5xx / requests over the window is at most the threshold."""
        try:
            errors, requests = self.metrics.target_5xx(target_group, load_balancer, start, end)
        except DeployError as exc:
            return Reading("5xx", False, exc.message)
        rate = errors / requests if requests else 0.0
        ok = rate <= self.settings.max_5xx_rate
        return Reading("5xx", ok, f"{errors:g} 5xx of {requests:g} requests ({rate:.2%}, limit "
                                  f"{self.settings.max_5xx_rate:.2%})")

    def smoke(self) -> Reading:
        """The smoke URL (a test listener reaching green) answers 2xx/3xx within 10 s."""
        url = self.settings.smoke_url
        if not url:
            return Reading("smoke", True, "no smoke URL")
        try:
            with urllib.request.urlopen(url, timeout=10) as answer:
                status = int(answer.status)
        except urllib.error.HTTPError as exc:
            status = exc.code
        except (OSError, ValueError) as exc:
            return Reading("smoke", False, f"{url}: {exc}")
        return Reading("smoke", status < 400, f"{url}: HTTP {status}")
