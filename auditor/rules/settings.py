"""The rule thresholds that differ between authorities, declared once.

Each RuleSettings field carries its help text and its allowed values; the audit.toml `[rules]`
parser (auditor.config), the `audit scan` options (auditor.cli), the settings block of the JSON
findings report, the scan cache key and the documented `[rules]` example are all derived from
these fields, so a new threshold is one field here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import Field, dataclass, field, fields
from enum import Enum, StrEnum
from typing import Any

from auditor.models import Severity


class TlsProfile(StrEnum):
    """The TLS policy allowlists ALB-03 knows (rules/alb.py holds what each accepts)."""

    AWS_RECOMMENDED = "aws-recommended"
    SECURITYHUB_ELB17 = "securityhub-elb17"


def about(help: str, choices: tuple[str, ...] = ()) -> dict[str, Any]:
    """A RuleSettings field's metadata: one line of help and its allowed values (an Enum default allows
    its members; an int default without choices, any positive integer)."""
    return {"help": help, "choices": choices}


@dataclass(frozen=True, slots=True)
class RuleSettings:
    """Thresholds that differ between authorities: configuration, not code."""

    tls_profile: str = field(default=TlsProfile.AWS_RECOMMENDED.value,
                             metadata=about("TLS policy allowlist for ALB-03", tuple(TlsProfile)))
    min_azs: int = field(default=2, metadata=about("Fewest availability zones an ALB or service may span"))
    min_log_retention_days: int = field(default=30, metadata=about("Shortest acceptable log retention in days"))
    min_desired_count: int = field(default=2, metadata=about("Fewest tasks a replica ECS service may run"))
    bucket_scope: str = field(default="state", metadata=about(
        "STATE-04/05 judge Terraform state buckets only, or all buckets as the peers do", ("state", "all")))
    fail_on: Severity = field(default=Severity.HIGH,
                              metadata=about("Exit 2 when a rule of this severity or higher fails"))


def setting_fields(cls: type[RuleSettings] = RuleSettings) -> tuple[Field[Any], ...]:
    """The fields of a settings class, in declaration order."""
    return tuple(fields(cls))


def choices_of(spec: Field[Any]) -> tuple[str, ...]:
    """The values a setting accepts (empty: any positive integer)."""
    if isinstance(spec.default, Enum):
        return tuple(str(m.value) for m in type(spec.default))
    return tuple(str(c) for c in spec.metadata.get("choices", ()))


def plain(value: Any) -> Any:
    """A setting's value as JSON and TOML spell it (an Enum as its value)."""
    return value.value if isinstance(value, Enum) else value


def settings_dict(settings: RuleSettings) -> dict[str, Any]:
    """Every setting by name, as plain values (the report's settings block, the scan cache key)."""
    return {spec.name: plain(getattr(settings, spec.name)) for spec in setting_fields(type(settings))}


def settings_toml(cls: type[RuleSettings] = RuleSettings) -> str:
    """The documented lines of the `[rules]` table: every setting at its default, with its help and choices."""
    lines = []
    for spec in setting_fields(cls):
        default = plain(spec.default)
        options = choices_of(spec)
        note = spec.metadata["help"] + (f" ({' | '.join(options)})" if options else "")
        lines.append((f"{spec.name} = " + (f'"{default}"' if isinstance(default, str) else str(default)), note))
    width = max(len(assignment) for assignment, _ in lines) + 2
    return "".join(f"{assignment.ljust(width)}# {note}\n" for assignment, note in lines)


def parse_setting(spec: Field[Any], value: Any) -> Any:
    """One setting from TOML or the command line; raises ValueError with what is wrong."""
    options = choices_of(spec)
    if isinstance(spec.default, Enum):
        text = str(value).lower()
        if text not in options:
            raise ValueError(f"must be one of {', '.join(options)}, got {value!r}")
        return type(spec.default)(text)
    if options:
        if value not in options:
            raise ValueError(f"must be one of {', '.join(options)}, got {value!r}")
        return str(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"must be a positive integer, got {value!r}")
    return value


def build_settings(values: Mapping[str, Any], cls: type[RuleSettings] = RuleSettings) -> RuleSettings:
    """`cls` from raw values by field name (unknown names are the caller's to refuse); ValueError names
    the field."""
    parsed = {}
    for spec in setting_fields(cls):
        if spec.name in values:
            try:
                parsed[spec.name] = parse_setting(spec, values[spec.name])
            except ValueError as exc:
                raise ValueError(f"{spec.name} {exc}") from None
    return cls(**parsed)
