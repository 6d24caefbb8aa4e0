"""Every difference between the auditor and `terraform plan -refresh-only` the suite knows about.

The suite fails when a run shows a difference that is not listed here, or when a listed one no
longer shows (so a fixed bug is taken off the list). Each entry says which tool is right and why.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .parity import Difference

CLEAN = "clean"  # the run before any out-of-band change


@dataclass(frozen=True)
class KnownDifference:
    difference: Difference
    runs: tuple[str, ...] | None  # None: every run (the clean one and every scenario)
    right: str  # "terraform" or "auditor"
    reason: str
    auditor_bug: bool = False

    def applies_to(self, run: str) -> bool:
        return self.runs is None or run in self.runs


# Empty: every run is in parity. (The first run found one auditor bug, a false `changed` on
# aws_s3_bucket_server_side_encryption_configuration.alb_logs `rule` — bucket_key_enabled null in state,
# false live — fixed in auditor/diff.py; the suite then failed until the entry was removed.)
KNOWN_DIFFERENCES: tuple[KnownDifference, ...] = ()


def expected_differences(run: str) -> frozenset[Difference]:
    return frozenset(k.difference for k in KNOWN_DIFFERENCES if k.applies_to(run))


def explain(run: str, differences: Iterable[Difference]) -> list[tuple[Difference, KnownDifference | None]]:
    """Each observed difference with its known entry (None when it is new)."""
    known = [k for k in KNOWN_DIFFERENCES if k.applies_to(run)]
    return [(d, next((k for k in known if k.difference == d), None)) for d in sorted(differences)]
