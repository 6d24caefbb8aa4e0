"""Drift index and coverage, overall, per state and per type.

drift index = 100 × Σ w(drifted) / Σ w(audited), where drifted = changed ∪ missing ∪ unmanaged
and audited = drifted ∪ in_sync; w = type weight × kind weight (default 1). `unknown` (could not
be observed) and `not_covered` (a type the auditor does not read) are left out of the index and
lower coverage = audited / (audited + unknown + not_covered), unweighted. With nothing audited
the index is None ("n/a"), never a reassuring 0.0.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from auditor.models import DRIFTED_KINDS, UNAUDITED_KINDS, Drift, DriftKind


@dataclass(frozen=True, slots=True)
class Weights:
    types: Mapping[str, float] = field(default_factory=dict)
    kinds: Mapping[str, float] = field(default_factory=dict)

    def of(self, drift: Drift) -> float:
        return self.types.get(drift.type, 1.0) * self.kinds.get(drift.kind.value, 1.0)


@dataclass(frozen=True, slots=True)
class Breakdown:
    """Counts per kind, the drift index (None when nothing was audited) and coverage (%)."""

    counts: Mapping[str, int]
    drift_index: float | None
    coverage: float | None

    @property
    def audited(self) -> int:
        return sum(self.counts.get(k.value, 0) for k in (*DRIFTED_KINDS, DriftKind.IN_SYNC))

    @property
    def drifted(self) -> int:
        return sum(self.counts.get(k.value, 0) for k in DRIFTED_KINDS)


@dataclass(frozen=True, slots=True)
class Score:
    overall: Breakdown
    by_state: Mapping[str, Breakdown]
    by_type: Mapping[str, Breakdown]

    @property
    def not_covered(self) -> dict[str, int]:
        """type -> how many state resources of it the auditor does not read."""
        kind = DriftKind.NOT_COVERED.value
        return {t: b.counts[kind] for t, b in self.by_type.items() if b.counts.get(kind)}


def breakdown(drifts: Iterable[Drift], weights: Weights) -> Breakdown:
    counts: Counter[str] = Counter({k.value: 0 for k in DriftKind})
    drifted_w = audited_w = 0.0
    for d in drifts:
        counts[d.kind.value] += 1
        if d.kind in UNAUDITED_KINDS:
            continue
        w = weights.of(d)
        audited_w += w
        if d.kind in DRIFTED_KINDS:
            drifted_w += w
    audited = sum(counts[k.value] for k in (*DRIFTED_KINDS, DriftKind.IN_SYNC))
    seen = audited + sum(counts[k.value] for k in UNAUDITED_KINDS)
    index = round(100.0 * drifted_w / audited_w, 1) if audited_w > 0 else None
    coverage = round(100.0 * audited / seen, 1) if seen else None
    return Breakdown(dict(counts), index, coverage)


def score(drifts: list[Drift], weights: Weights | None = None) -> Score:
    """Score a diff. A resource counts toward every state that holds it; unmanaged ones toward none."""
    weights = weights or Weights()
    per_state: dict[str, list[Drift]] = {}
    per_type: dict[str, list[Drift]] = {}
    for d in drifts:
        per_type.setdefault(d.type, []).append(d)
        for uri in d.states:
            per_state.setdefault(uri, []).append(d)
    return Score(
        overall=breakdown(drifts, weights),
        by_state={uri: breakdown(ds, weights) for uri, ds in sorted(per_state.items())},
        by_type={t: breakdown(ds, weights) for t, ds in sorted(per_type.items())},
    )
