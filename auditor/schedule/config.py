"""`[[schedules]]`, `[[notifications]]` and `[scheduler]` in audit.toml -> frozen, validated values.

    history = "sqlite:////var/lib/auditor/history.db"   # where runs are recorded (and the job store lives)

    [scheduler]
    misfire_grace_time = "6h"         # a run due while the daemon was down still runs once within this
    shutdown_timeout = "15m"          # SIGTERM waits this long for the running audit
    heartbeat_file = "/run/auditor/heartbeat"
    cloudwatch_namespace = "DriftAudit"   # "" turns PutMetricData off
    digest_hour = 9                   # daily digest (UTC hour) to the targets with digest = true
    account_concurrency = 8           # API workers per account
    parallel_units = 4                # units (threads) or accounts (processes) at once
    executor = "threads"              # or "processes": one account per process, for many accounts

    [[schedules]]
    name = "nightly"
    cron = "0 2 * * *"                # 5 fields, or 6 with seconds first
    timezone = "Europe/Berlin"
    jitter = "5m"
    states = ["s3://acme-tfstate/platform/prod.tfstate"]   # a subset of the [[states]] uris
    regions = ["eu-west-1"]
    accounts = [{ id = "111111111111", role_arn = "arn:aws:iam::111111111111:role/auditor",
                  states = ["s3://acme-tfstate/platform/prod.tfstate"] }]   # states: needed with 2+ accounts
    rules = true
    report_dir = "/var/lib/auditor/reports"       # <job>/runs/<run id>.{json,html}, latest.html, index.html
    publish = "s3://acme-audit-reports/nightly"   # the same files under <job>/, SSE-S3
    report_url = "https://audit.example.com/nightly"   # notifications link <report_url>/runs/<run id>.html
    notify = ["ops"]
    thresholds = { drift_index = 10.0, failing_rules = 0, coverage = 95.0 }

    [[notifications]]
    name = "ops"
    sns_topic_arn = "arn:aws:sns:eu-west-1:111111111111:drift-audit"
    # or: webhook_url_env = "SLACK_WEBHOOK_URL" (Slack-compatible; the URL is a secret, read from the env)
    digest = false
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger

from auditor.aws import Aws
from auditor.config import AuditConfig, config_from_mapping, parse_duration
from auditor.errors import ConfigError
from auditor.schedule.source import read_config
from auditor.state.model import StateRequest

SCHEDULE_KEYS = frozenset({"scheduler", "schedules", "notifications"})
"""Top-level audit.toml keys this package reads (`audit run` ignores them)."""

_JOB_KEYS = {"name", "cron", "timezone", "jitter", "states", "regions", "accounts", "rules", "report_dir",
             "publish", "report_url", "notify", "thresholds"}
_SCHEDULER_KEYS = {"misfire_grace_time", "shutdown_timeout", "heartbeat_file", "cloudwatch_namespace",
                   "digest_hour", "account_concurrency", "parallel_units", "executor"}
_TARGET_KEYS = {"name", "sns_topic_arn", "webhook_url_env", "digest"}
_THRESHOLD_KEYS = {"drift_index", "failing_rules", "coverage"}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_ACCOUNT = re.compile(r"^\d{12}$")
_CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Notify when a run crosses one of these (in either direction)."""

    drift_index: float | None = None   # at or above
    failing_rules: int | None = None   # more than
    coverage: float | None = None      # below


@dataclass(frozen=True, slots=True)
class Account:
    """One account a job audits: its id, the role to assume there (None: the daemon's own credentials)
    and the uris of the states whose resources live in it (empty: all of the job's states)."""

    id: str
    role_arn: str | None = None
    states: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Target:
    """Where notifications go: an SNS topic or a Slack-compatible webhook (its URL read from the env)."""

    name: str
    sns_topic_arn: str | None = None
    webhook_url_env: str | None = None
    digest: bool = False

    def webhook_url(self) -> str | None:
        return os.environ.get(self.webhook_url_env) if self.webhook_url_env else None


@dataclass(frozen=True, slots=True)
class Job:
    """One `[[schedules]]` entry, validated."""

    name: str
    cron: str
    timezone: str
    jitter: int | None = None
    states: tuple[StateRequest, ...] = ()
    regions: tuple[str, ...] = ()
    accounts: tuple[Account, ...] = ()
    check_rules: bool | None = None
    report_dir: Path | None = None
    publish: str | None = None
    report_url: str | None = None
    notify: tuple[str, ...] = ()
    thresholds: Thresholds = field(default_factory=Thresholds)

    def trigger(self, *, jitter: bool = True) -> CronTrigger:
        """The job's CronTrigger (without jitter: the nominal fire times, one per slot)."""
        return cron_trigger(self.cron, self.timezone, self.jitter if jitter else None)

    def fire_times(self, after: datetime, count: int, before: datetime | None = None) -> list[datetime]:
        """The next `count` nominal fire times strictly after `after` (and strictly before `before`)."""
        trigger = self.trigger(jitter=False)
        out: list[datetime] = []
        now = after + timedelta(microseconds=1)
        while len(out) < count:
            nxt = trigger.get_next_fire_time(None, now)
            if nxt is None or (before is not None and nxt >= before):
                break
            out.append(nxt)
            now = nxt + timedelta(microseconds=1)
        return out

    def audit_config(self, base: AuditConfig) -> AuditConfig:
        """The run's settings: the file's, with this job's overrides."""
        changes: dict[str, Any] = {}
        if self.states:
            changes["states"] = self.states
        if self.regions:
            changes["regions"] = self.regions
        if self.check_rules is not None:
            changes["check_rules"] = self.check_rules
        return replace(base, **changes)


@dataclass(frozen=True, slots=True)
class ScheduleConfig:
    """The whole file as the scheduler sees it."""

    source: str
    audit: AuditConfig
    jobs: tuple[Job, ...]
    targets: Mapping[str, Target]
    misfire_grace_time: float = 6 * 3600.0
    shutdown_timeout: float = 15 * 60.0
    heartbeat_file: Path | None = None
    cloudwatch_namespace: str = "DriftAudit"
    digest_hour: int | None = None
    account_concurrency: int = 8   # API workers per account (AWS rate limits are per account)
    parallel_units: int = 4        # units (threads) or accounts (processes) at once
    executor: str = "threads"      # "threads" | "processes"

    @property
    def history(self) -> str | None:
        """The top-level `history` URL (read by auditor.config)."""
        return self.audit.history

    def job(self, name: str) -> Job:
        for job in self.jobs:
            if job.name == name:
                return job
        known = ", ".join(j.name for j in self.jobs) or "none"
        raise ConfigError(f"{self.source}: no schedule named {name!r}", f"schedules: {known}")


def cron_trigger(expr: str, timezone: str, jitter: int | None = None) -> CronTrigger:
    """A 5-field crontab line (weekday 0 and 7 = Sunday, as cron has it) or 6 fields with seconds first."""
    fields = expr.split()
    if len(fields) not in (5, 6):
        raise ValueError(f"expected 5 fields (or 6 with seconds first), got {len(fields)}")
    second = fields.pop(0) if len(fields) == 6 else "0"
    minute, hour, day, month, weekday = fields
    return CronTrigger(second=second, minute=minute, hour=hour, day=day, month=month,
                       day_of_week=_crontab_weekdays(weekday), timezone=timezone, jitter=jitter)


def _crontab_weekdays(text: str) -> str:
    """Crontab weekday numbers (0-7, 0 and 7 = Sunday) -> APScheduler's names (its 0 is Monday)."""
    if text == "*" or not any(c.isdigit() for c in text):
        return text
    days: set[int] = set()
    for part in text.split(","):
        span, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if span == "*":
            first, last = 0, 6
        elif "-" in span:
            first, last = (int(x) for x in span.split("-", 1))
        else:
            first = int(span)
            last = 6 if step_text else first
        if not (0 <= first <= 7 and 0 <= last <= 7 and first <= last and step >= 1):
            raise ValueError(f"day of week {part!r} is out of 0-7")
        days.update(d % 7 for d in range(first, last + 1, step))
    return ",".join(_CRON_DAYS[d] for d in sorted(days))


def load_schedule_config(spec: str | Path, aws: Callable[[], Aws] | None = None) -> ScheduleConfig:
    """Read audit.toml from a file, `ssm:/NAME` or `s3://BUCKET/KEY` (auditor.schedule.source); any
    problem is one ConfigError line naming the source and the entry."""
    data, where, base_dir = read_config(str(spec), aws) if aws else read_config(str(spec))
    return schedule_config_from_mapping(data, where, base_dir=base_dir)


def schedule_config_from_mapping(data: Mapping[str, Any], where: str, base_dir: Path) -> ScheduleConfig:
    audit = config_from_mapping({k: v for k, v in data.items() if k not in SCHEDULE_KEYS}, where, base_dir)
    raw_scheduler = _table(data.get("scheduler", {}), f"{where}: [scheduler]", _SCHEDULER_KEYS)
    targets: dict[str, Target] = {}
    for i, raw in enumerate(_entries(data, "notifications", where)):
        target = _target(raw, f"{where}: notifications[{i}]")
        if target.name in targets:
            raise ConfigError(f"{where}: notifications[{i}]: duplicate name {target.name!r}")
        targets[target.name] = target
    jobs: list[Job] = []
    for i, raw in enumerate(_entries(data, "schedules", where)):
        job = _job(raw, f"{where}: schedules[{i}]", audit, targets, base_dir)
        if any(j.name == job.name for j in jobs):
            raise ConfigError(f"{where}: schedules[{i}]: duplicate name {job.name!r}")
        jobs.append(job)
    heartbeat = raw_scheduler.get("heartbeat_file")
    namespace = raw_scheduler.get("cloudwatch_namespace", "DriftAudit")
    if not isinstance(namespace, str):
        raise ConfigError(f"{where}: [scheduler] cloudwatch_namespace must be a string")
    digest_hour = raw_scheduler.get("digest_hour")
    if digest_hour is not None and (isinstance(digest_hour, bool) or not isinstance(digest_hour, int)
                                    or not 0 <= digest_hour <= 23):
        raise ConfigError(f"{where}: [scheduler] digest_hour must be an hour 0-23, got {digest_hour!r}")
    concurrency, parallel = (raw_scheduler.get(k, d) for k, d in (("account_concurrency", 8), ("parallel_units", 4)))
    for key, value in (("account_concurrency", concurrency), ("parallel_units", parallel)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{where}: [scheduler] {key} must be a positive integer, got {value!r}")
    executor = raw_scheduler.get("executor", "threads")
    if executor not in ("threads", "processes"):
        raise ConfigError(f"{where}: [scheduler] executor must be \"threads\" or \"processes\", got {executor!r}")
    return ScheduleConfig(
        source=where, audit=audit, jobs=tuple(jobs), targets=targets,
        misfire_grace_time=parse_duration(raw_scheduler.get("misfire_grace_time", "6h"), "misfire_grace_time"),
        shutdown_timeout=parse_duration(raw_scheduler.get("shutdown_timeout", "15m"), "shutdown_timeout"),
        heartbeat_file=(base_dir / str(heartbeat)) if heartbeat else None,
        cloudwatch_namespace=namespace, digest_hour=digest_hour, account_concurrency=concurrency,
        parallel_units=parallel, executor=executor,
    )


def _job(raw: Any, where: str, audit: AuditConfig, targets: Mapping[str, Target], base_dir: Path) -> Job:
    raw = _table(raw, where, _JOB_KEYS)
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(f"{where}: `name` is required (letters, digits, _ . -), got {name!r}")
    where = f"{where} ({name})"
    timezone = raw.get("timezone", "UTC")
    try:
        ZoneInfo(str(timezone))
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{where}: unknown timezone {timezone!r}", "use an IANA name such as Europe/Berlin") from None
    cron = raw.get("cron")
    if not isinstance(cron, str):
        raise ConfigError(f"{where}: `cron` is required, e.g. \"0 2 * * *\"")
    jitter = raw.get("jitter")
    jitter_s = int(parse_duration(jitter, "jitter")) if jitter is not None else None
    try:
        cron_trigger(cron, str(timezone), jitter_s)
    except ValueError as exc:
        raise ConfigError(f"{where}: bad cron {cron!r}: {exc}") from None
    known = {s.uri: s for s in audit.states}
    states: list[StateRequest] = []
    for uri in _strings(raw, "states", where):
        if uri not in known:
            raise ConfigError(f"{where}: unknown state {uri!r}",
                              f"a schedule's states name [[states]] uris: {', '.join(known) or 'none defined'}")
        states.append(known[uri])
    if not isinstance(raw.get("accounts", []), list):
        raise ConfigError(f"{where}: `accounts` must be a list")
    accounts = tuple(_account(a, f"{where}: accounts[{i}]", known) for i, a in enumerate(raw.get("accounts", [])))
    if len(accounts) > 1 and not all(a.states for a in accounts):
        raise ConfigError(f"{where}: with several accounts, each names its `states`",
                          "a state's resources live in one account; auditing it in another reports them missing")
    if len({a.id for a in accounts}) != len(accounts):
        raise ConfigError(f"{where}: an account is listed twice")
    notify = _strings(raw, "notify", where)
    for target in notify:
        if target not in targets:
            raise ConfigError(f"{where}: unknown notification target {target!r}",
                              f"[[notifications]] names: {', '.join(targets) or 'none defined'}")
    publish = raw.get("publish")
    if publish is not None and (not isinstance(publish, str) or not publish.startswith("s3://")
                                or len(publish) <= len("s3://")):
        raise ConfigError(f"{where}: publish must be s3://BUCKET[/PREFIX], got {publish!r}")
    rules = raw.get("rules")
    if rules is not None and not isinstance(rules, bool):
        raise ConfigError(f"{where}: `rules` must be true or false")
    report_dir = raw.get("report_dir")
    report_url = raw.get("report_url")
    if report_url is not None and not isinstance(report_url, str):
        raise ConfigError(f"{where}: `report_url` must be a string")
    return Job(name=name, cron=cron, timezone=str(timezone), jitter=jitter_s, states=tuple(states),
               regions=tuple(_strings(raw, "regions", where)), accounts=accounts, check_rules=rules,
               report_dir=(base_dir / str(report_dir)) if report_dir else None, publish=publish,
               report_url=report_url, notify=tuple(notify),
               thresholds=_thresholds(raw.get("thresholds", {}), f"{where}: thresholds"))


def _account(raw: Any, where: str, known_states: Mapping[str, StateRequest]) -> Account:
    if isinstance(raw, str):
        raw = {"id": raw}
    raw = _table(raw, where, {"id", "role_arn", "states"})
    account_id = str(raw.get("id", ""))
    if not _ACCOUNT.match(account_id):
        raise ConfigError(f"{where}: `id` must be a 12-digit account id, got {account_id!r}")
    role = raw.get("role_arn")
    if role is not None and (not isinstance(role, str) or not role.startswith("arn:")):
        raise ConfigError(f"{where}: role_arn must be an ARN, got {role!r}")
    states = _strings(raw, "states", where)
    for uri in states:
        if uri not in known_states:
            raise ConfigError(f"{where}: unknown state {uri!r}", "an account's states name [[states]] uris")
    return Account(id=account_id, role_arn=role, states=tuple(states))


def _target(raw: Any, where: str) -> Target:
    raw = _table(raw, where, _TARGET_KEYS)
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(f"{where}: `name` is required (letters, digits, _ . -), got {name!r}")
    topic, env = raw.get("sns_topic_arn"), raw.get("webhook_url_env")
    if (topic is None) == (env is None):
        raise ConfigError(f"{where} ({name}): give exactly one of sns_topic_arn and webhook_url_env")
    if topic is not None and (not isinstance(topic, str) or not topic.startswith("arn:aws")):
        raise ConfigError(f"{where} ({name}): sns_topic_arn must be an SNS topic ARN")
    if env is not None and (not isinstance(env, str) or not env):
        raise ConfigError(f"{where} ({name}): webhook_url_env names the environment variable holding the URL")
    digest = raw.get("digest", False)
    if not isinstance(digest, bool):
        raise ConfigError(f"{where} ({name}): `digest` must be true or false")
    return Target(name=name, sns_topic_arn=topic, webhook_url_env=env, digest=digest)


def _thresholds(raw: Any, where: str) -> Thresholds:
    raw = _table(raw, where, _THRESHOLD_KEYS)
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ConfigError(f"{where}.{key} must be a non-negative number, got {value!r}")
        values[key] = int(value) if key == "failing_rules" else float(value)
    return Thresholds(**values)


def _table(raw: Any, where: str, keys: set[str]) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} must be a table")
    unknown = set(raw) - keys
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}",
                          f"known keys: {', '.join(sorted(keys))}")
    return dict(raw)


def _entries(data: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise ConfigError(f"{where}: `{key}` must be an array of tables ([[{key}]])")
    return value


def _strings(raw: Mapping[str, Any], key: str, where: str) -> list[str]:
    value = raw.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: `{key}` must be a list of strings")
    return list(value)
