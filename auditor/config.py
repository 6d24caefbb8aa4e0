"""audit.toml and command-line options -> one typed AuditConfig.

Example audit.toml:

    regions = ["ap-south-1"]
    profile = "platform-audit"            # optional: an AWS profile
    role_arn = "arn:aws:iam::123456789012:role/auditor-readonly"   # optional: for the live inventory
    wait_for_lock = "5m"
    ignore_file = ".auditignore"
    backend_dirs = ["terraform/stack"]   # read `backend "s3" {}` blocks
    code_dirs = ["terraform/stack"]      # compare declared addresses with the state's
    strict = true                        # exit 1 on not_covered types and incomplete unmanaged scans
    min_coverage = 95                    # exit 1 when coverage (percent) is lower

    [[states]]
    uri = "s3://acme-tfstate/platform/**/terraform.tfstate"
    workspaces = ["*"]
    lock_table = "acme-tf-locks"

    [weights.types]
    aws_ecs_service = 3.0
    [weights.kinds]
    missing = 2.0

    [rules]                              # compliance thresholds: see auditor.rules.settings
    fail_on = "high"                     # exit 2 when a rule at or above this severity fails
    rules_dirs = ["my-rules"]            # extra rule packs, loaded like the built-in one

    [[suppressions]]                     # reported, never hidden; reason required
    rule = "ECR-07"
    resource = "aws_ecs_task_definition.legacy*"
    reason = "legacy service, replaced in Q1"
    expires = 2027-03-31
    approver = "jane.doe@example.com"    # optional: who accepted the exception, and when
    approved_on = 2026-10-01

    history = "sqlite:///var/lib/auditor/history.db"   # or postgresql://..., s3://bucket/prefix
    history_keep_days = 400              # runs older than this are pruned after each recorded run
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from auditor.errors import ConfigError
from auditor.models import Suppression
from auditor.rules.settings import RuleSettings, build_settings, setting_fields, settings_dict
from auditor.score import Weights
from auditor.state.model import StateRequest

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_TOP_KEYS = {"regions", "profile", "role_arn", "wait_for_lock", "ignore_file", "backend_dirs", "states",
             "weights", "types", "max_workers", "rules", "suppressions", "code_dirs", "history",
             "history_keep_days", "deploy",  # [deploy]: auditor/deploy/cli.py
             "scheduler", "schedules", "notifications",  # auditor/schedule/config.py
             "strict", "min_coverage"}
_SUPPRESSION_KEYS = {"rule", "resource", "reason", "expires", "approver", "approved_on"}
_STATE_KEYS = {"uri", "workspaces", "lock_table", "region", "role_arn", "workspace_key_prefix", "use_lockfile"}


@dataclass(frozen=True, slots=True)
class AuditConfig:
    """Everything one audit run needs to know."""

    states: tuple[StateRequest, ...] = ()
    regions: tuple[str, ...] = ()
    profile: str | None = None
    role_arn: str | None = None
    types: tuple[str, ...] = ()
    ignore_file: Path | None = None
    weights: Weights = field(default_factory=Weights)
    wait_for_lock: float = 0.0
    max_workers: int = 8
    rule_settings: RuleSettings = field(default_factory=RuleSettings)
    rules_dirs: tuple[Path, ...] = ()
    suppressions: tuple[Suppression, ...] = ()
    check_rules: bool = True  # run the compliance rules on live and state resources
    code_dirs: tuple[Path, ...] = ()  # Terraform root modules to compare with their states' addresses
    history: str | None = None  # the history store's URL (None: the default SQLite file)
    history_keep_days: int | None = None  # retention: prune older runs after recording one
    strict: bool = False  # not_covered types and incomplete unmanaged scans exit 1
    min_coverage: float | None = None  # percent; lower coverage exits 1
    # [deploy] as DeployRequest fields: how `audit deploy` and the deploys of `audit --fix` run
    deploy: Mapping[str, Any] = field(default_factory=dict)


def parse_duration(text: str | float | int, what: str = "duration") -> float:
    """'5m' -> 300.0; '30s', '1h', '250ms' and bare seconds are accepted."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        seconds = float(text)
    else:
        match = _DURATION.match(str(text))
        if not match:
            raise ConfigError(f"invalid {what} {text!r}", "use e.g. 30s, 5m or 1h")
        number, unit = float(match.group(1)), match.group(2) or "s"
        seconds = number * {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}[unit]
    if not math.isfinite(seconds) or seconds < 0:
        raise ConfigError(f"invalid {what} {text!r}: must be a finite, non-negative duration")
    return seconds


def load_config(path: Path) -> AuditConfig:
    """Read and validate audit.toml; any problem is a one-line ConfigError naming the file."""
    return config_from_mapping(read_toml(path), str(path), base_dir=path.parent)


def read_toml(path: Path) -> dict[str, Any]:
    """The TOML document at `path`; a missing, unreadable or invalid file is a one-line ConfigError."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    return parse_toml(text, str(path))


def parse_toml(text: str, where: str) -> dict[str, Any]:
    """The TOML document `text` read from `where`; invalid TOML is a one-line ConfigError quoting
    only the position (tomllib's messages never repeat the document's content)."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: invalid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{where}: invalid TOML: nested too deeply") from None


def config_from_mapping(data: Mapping[str, Any], where: str, base_dir: Path | None = None) -> AuditConfig:
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s) {', '.join(sorted(unknown))}",
                          f"known settings: {', '.join(sorted(_TOP_KEYS))}")
    base_dir = base_dir or Path.cwd()
    states = [_state_request(s, f"{where}: states[{i}]") for i, s in enumerate(_list(data, "states", where))]
    for backend_dir in _list(data, "backend_dirs", where):
        from auditor.state.discover import requests_from_backend_dir

        states.extend(requests_from_backend_dir(base_dir / str(backend_dir)))
    weights = data.get("weights", {})
    if not isinstance(weights, Mapping):
        raise ConfigError(f"{where}: [weights] must be a table")
    ignore = data.get("ignore_file")
    return AuditConfig(
        states=tuple(states),
        regions=tuple(str(r) for r in _list(data, "regions", where)),
        profile=_opt_str(data, "profile", where),
        role_arn=_opt_str(data, "role_arn", where),
        types=tuple(str(t) for t in _list(data, "types", where)),
        ignore_file=(base_dir / str(ignore)) if ignore else None,
        weights=Weights(types=_weights(weights.get("types", {}), f"{where}: weights.types"),
                        kinds=_weights(weights.get("kinds", {}), f"{where}: weights.kinds")),
        wait_for_lock=parse_duration(data.get("wait_for_lock", 0), "wait_for_lock"),
        max_workers=_positive_int(data.get("max_workers", 8), f"{where}: max_workers"),
        rule_settings=rule_settings(data.get("rules", {}), f"{where}: [rules]"),
        code_dirs=tuple(base_dir / str(d) for d in _list(data, "code_dirs", where)),
        rules_dirs=tuple(base_dir / str(d) for d in _list(data.get("rules", {}), "rules_dirs", where)),
        suppressions=tuple(_suppression(s, f"{where}: suppressions[{i}]")
                           for i, s in enumerate(_list(data, "suppressions", where))),
        history=_opt_str(data, "history", where),
        history_keep_days=(None if data.get("history_keep_days") is None
                           else _positive_int(data["history_keep_days"], f"{where}: history_keep_days")),
        strict=_bool(data.get("strict", False), f"{where}: strict"),
        min_coverage=None if data.get("min_coverage") is None else percent(data["min_coverage"],
                                                                           f"{where}: min_coverage"),
        deploy=_deploy(data, where),
    )


def _deploy(data: Mapping[str, Any], where: str) -> dict[str, Any]:
    """[deploy], validated where it is read (a bad table fails every command, not only `audit deploy`)."""
    from auditor.deploy.cli import settings_from_toml

    return settings_from_toml(Path(where), dict(data))


def rule_settings(raw: Any, where: str, *, base: RuleSettings | None = None,
                  cls: type[RuleSettings] = RuleSettings, **overrides: Any) -> RuleSettings:
    """[rules] table (plus command-line overrides, over `base`'s values) -> `cls`, validated."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} must be a table")
    known = {spec.name for spec in setting_fields(cls)}
    unknown = set(raw) - known - {"rules_dirs"}
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    values = ({} if base is None else settings_dict(base)) | {k: v for k, v in raw.items() if k in known}
    values |= {k: v for k, v in overrides.items() if v is not None}
    try:
        return build_settings(values, cls)
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _suppression(raw: Any, where: str) -> Suppression:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} must be a table")
    unknown = set(raw) - _SUPPRESSION_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    for key in ("rule", "resource", "reason"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise ConfigError(f"{where}: `{key}` is required" + (" (a suppression must say why)" if key == "reason"
                                                                  else ""))
    approver = raw.get("approver")
    if approver is not None and (not isinstance(approver, str) or not approver.strip()):
        raise ConfigError(f"{where}: approver must be a name, got {approver!r}")
    return Suppression(rule_id=raw["rule"].upper(), target=raw["resource"], reason=raw["reason"].strip(),
                       expires=_date(raw.get("expires"), f"{where}: expires"),
                       approver=approver.strip() if approver else None,
                       approved_on=_date(raw.get("approved_on"), f"{where}: approved_on"))


def _date(value: Any, where: str) -> date | None:
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    if isinstance(value, datetime):
        return value.date()
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"{where} must be a date (YYYY-MM-DD), got {value!r}") from None


def merge(base: AuditConfig, **overrides: Any) -> AuditConfig:
    """Command-line values win over the file; empty/None overrides are ignored."""
    changes = {k: v for k, v in overrides.items() if v not in (None, (), [])}
    return replace(base, **changes)


def _state_request(raw: Any, where: str) -> StateRequest:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: each [[states]] entry must be a table")
    unknown = set(raw) - _STATE_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    if not isinstance(raw.get("uri"), str) or not raw["uri"]:
        raise ConfigError(f"{where}: `uri` is required (s3://BUCKET/KEY or a local path)")
    workspaces = raw.get("workspaces", ["default"])
    if isinstance(workspaces, str):
        workspaces = [workspaces]
    return StateRequest(
        uri=raw["uri"],
        workspaces=tuple(str(w) for w in workspaces),
        lock_table=raw.get("lock_table"),
        region=raw.get("region"),
        role_arn=raw.get("role_arn"),
        workspace_key_prefix=str(raw.get("workspace_key_prefix", "env:")),
        use_lockfile=bool(raw.get("use_lockfile", True)),
    )


def _list(data: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise ConfigError(f"{where}: `{key}` must be a list")
    return value


def _opt_str(data: Mapping[str, Any], key: str, where: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{where}: `{key}` must be a string")
    return value


def _weights(raw: Any, where: str) -> dict[str, float]:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} must be a table of numbers")
    out: dict[str, float] = {}
    for key, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
            raise ConfigError(f"{where}.{key} must be a non-negative number, got {value!r}")
        out[str(key)] = float(value)
    return out


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where} must be true or false, got {value!r}")
    return value


def percent(value: Any, where: str) -> float:
    """A percentage 0-100 (a number, or text such as "95" or "95%")."""
    try:
        number = float(str(value).strip().removesuffix("%")) if not isinstance(value, bool) else -1.0
    except ValueError:
        number = -1.0
    if not 0.0 <= number <= 100.0:
        raise ConfigError(f"{where} must be a percentage between 0 and 100, got {value!r}")
    return number


def _positive_int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{where} must be a positive integer, got {value!r}")
    return value
