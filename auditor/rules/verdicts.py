"""Verdict constructors and their three-valued logic: what a rule answers, and how answers combine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from auditor.models import Status, Unresolved
from auditor.rules.model import Verdict
from auditor.rules.read import show

Tri = bool | None
"""Three-valued truth: True, False, or None for "cannot be known"."""



def passed(message: str, value: Any = None) -> Verdict:
    return Verdict(Status.PASS, message, value)


def failed(message: str, value: Any = None) -> Verdict:
    return Verdict(Status.FAIL, message, value)


def unknown(message: str, value: Any = None) -> Verdict:
    return Verdict(Status.UNKNOWN, message, value)


def not_applicable(message: str) -> Verdict:
    return Verdict(Status.NOT_APPLICABLE, message)


def unresolved(what: str, value: Unresolved) -> Verdict:
    """UNKNOWN because `what` cannot be known statically."""
    return unknown(f"{what} cannot be known statically: {value.reason}", show(value))


def unobserved(what: str) -> Verdict:
    return unknown(f"not observed: {what} (missing evidence is never a pass)")


def all_of(verdicts: Iterable[Verdict]) -> Verdict:
    """Every condition must hold: the first FAIL, else the first UNKNOWN, else one PASS (messages joined)."""
    items = list(verdicts)
    for status in (Status.FAIL, Status.UNKNOWN):
        found = [v for v in items if v.status is status]
        if found:
            return Verdict(status, "; ".join(v.message for v in found), found[0].value)
    applicable = [v for v in items if v.status is Status.PASS]
    if not applicable:
        return not_applicable("; ".join(v.message for v in items) or "nothing to check")
    return Verdict(Status.PASS, "; ".join(v.message for v in applicable), applicable[0].value)


def any_of(verdicts: Iterable[Verdict]) -> Verdict:
    """One condition is enough: the first PASS, else UNKNOWN if any, else FAIL (messages joined)."""
    items = list(verdicts)
    for status in (Status.PASS, Status.UNKNOWN, Status.FAIL):
        found = [v for v in items if v.status is status]
        if found:
            return Verdict(status, "; ".join(v.message for v in found), found[0].value)
    return not_applicable("nothing to check")


def judge(value: Any, what: str, ok: Callable[[Any], bool], expected: str,
          absent: Verdict | None = None) -> Verdict:
    """PASS/FAIL on a known value, UNKNOWN on an unknown one, `absent` (default FAIL) on None."""
    if isinstance(value, Unresolved):
        return unresolved(what, value)
    if value is None:
        return absent if absent is not None else failed(f"{what} is not set; expected {expected}")
    if ok(value):
        return passed(f"{what} is {show(value)}", value)
    return failed(f"{what} is {show(value)}; expected {expected}", value)


def t_all(values: Iterable[Tri]) -> Tri:
    """Kleene AND: False wins, then None."""
    result: Tri = True
    for v in values:
        if v is False:
            return False
        if v is None:
            result = None
    return result


def t_any(values: Iterable[Tri]) -> Tri:
    """Kleene OR: True wins, then None."""
    result: Tri = False
    for v in values:
        if v is True:
            return True
        if v is None:
            result = None
    return result
