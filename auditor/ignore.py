"""`.auditignore`: gitignore-style lines naming resources or attribute paths to leave out.

Each line is a pattern over `TYPE.ID` (a whole resource) or `TYPE.ID.ATTRIBUTE.PATH` (one
attribute); a resource's Terraform address (`aws_ecs_service.web_app`) works in place of TYPE.ID:

    aws_ecs_service.*.desired_count          # autoscaled services
    aws_security_group.sg-0abc*               # a whole resource
    aws_cloudwatch_metric_alarm.*.tags.*      # every alarm tag
    !aws_ecs_service.*.desired_count          # negation: a later line re-includes

`*` matches any run of characters (dots included), `?` one character, `[...]` a class.
Blank lines and `#` comments are skipped. The last matching line wins, as in gitignore.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from auditor.errors import ConfigError


@dataclass(frozen=True, slots=True)
class IgnoreRule:
    pattern: str
    negate: bool
    regex: re.Pattern[str]
    line: int


@dataclass(frozen=True, slots=True)
class IgnoreRules:
    rules: tuple[IgnoreRule, ...] = ()
    source: str | None = None

    def _verdict(self, candidates: Sequence[str]) -> bool:
        ignored = False
        for rule in self.rules:
            if any(rule.regex.fullmatch(c) for c in candidates):
                ignored = not rule.negate
        return ignored

    def ignores_resource(self, names: Iterable[str]) -> bool:
        """True when a line names the whole resource (`names`: `TYPE.ID`, its address)."""
        return bool(self.rules) and self._verdict([n for n in names if n])

    def ignores_path(self, names: Iterable[str], path: str) -> bool:
        """True when a line names attribute `path` (`desired_count`, `tags.Env`) of the resource."""
        if not self.rules:
            return False
        dotted = path.replace("[", ".").replace("]", "")
        return self._verdict([f"{n}.{p}" for n in names if n for p in {path, dotted}])


def parse_ignore(text: str, source: str = ".auditignore") -> IgnoreRules:
    """Parse `.auditignore` text; a malformed line is a ConfigError naming file and line."""
    rules: list[IgnoreRule] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line[1:].strip() if negate else line
        if "." not in pattern or pattern.startswith("."):
            raise ConfigError(f"{source}:{number}: expected TYPE.ID[.ATTRIBUTE.PATH], got {pattern!r}")
        try:
            regex = re.compile(fnmatch.translate(pattern))
        except re.error as exc:
            raise ConfigError(f"{source}:{number}: bad pattern {pattern!r}: {exc}") from None
        rules.append(IgnoreRule(pattern, negate, regex, number))
    return IgnoreRules(tuple(rules), source)


def load_ignore(path: Path | None) -> IgnoreRules:
    """Read an ignore file; None or an absent default file means no rules."""
    if path is None:
        return IgnoreRules()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"ignore file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read ignore file {path}: {exc}") from None
    return parse_ignore(text, str(path))
