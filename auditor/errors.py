"""One exception family for expected failures, and the process exit codes.

Only the CLI prints and exits: everything else raises an AuditError carrying a one-line
message and an optional hint.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Terraform's `-detailed-exitcode` convention."""

    CLEAN = 0
    ERROR = 1
    DRIFT = 2


class AuditError(Exception):
    """An expected failure: one line for the user, plus an optional hint."""

    exit_code: ExitCode = ExitCode.ERROR

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} — {self.hint}" if self.hint else self.message


class ConfigError(AuditError):
    """Bad command-line options, audit.toml, .auditignore or backend HCL."""


class StateError(AuditError):
    """A state file could not be fetched, verified or parsed."""

    def __init__(self, source: str, message: str, hint: str | None = None) -> None:
        super().__init__(f"{source}: {message}", hint)
        self.source = source


class StateLockedError(StateError):
    """The state stayed locked past --wait-for-lock."""


class DigestMismatchError(StateError):
    """The bytes read do not match the backend's md5 digest item, after retries."""


class AwsAccessError(AuditError):
    """AWS could not be reached or refused a call that the audit cannot do without."""
