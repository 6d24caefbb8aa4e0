"""Drift index and coverage."""

from __future__ import annotations

from auditor.models import Drift, DriftKind
from auditor.score import Weights, score


def _d(kind: DriftKind, tf_type: str = "aws_vpc", states: tuple[str, ...] = ("s3://b/a",)) -> Drift:
    return Drift(tf_type, f"{kind}-{tf_type}", kind, states=states)


def test_no_drift_is_zero() -> None:
    s = score([_d(DriftKind.IN_SYNC), _d(DriftKind.IN_SYNC, "aws_lb")])
    assert s.overall.drift_index == 0.0
    assert s.overall.coverage == 100.0


def test_index_excludes_unknown_and_reports_coverage() -> None:
    drifts = [_d(DriftKind.CHANGED), _d(DriftKind.IN_SYNC, "aws_lb"), _d(DriftKind.MISSING, "aws_sns_topic"),
              _d(DriftKind.IN_SYNC, "aws_iam_role"), _d(DriftKind.UNKNOWN, "aws_ecs_service")]
    s = score(drifts)
    assert s.overall.drift_index == 50.0
    assert s.overall.coverage == 80.0
    assert s.by_type["aws_ecs_service"].drift_index is None


def test_nothing_observed_is_not_a_clean_score() -> None:
    s = score([_d(DriftKind.UNKNOWN)])
    assert s.overall.drift_index is None
    assert s.overall.coverage == 0.0


def test_weights_per_type_and_kind() -> None:
    drifts = [_d(DriftKind.MISSING, "aws_ecs_service"), _d(DriftKind.IN_SYNC), _d(DriftKind.IN_SYNC, "aws_lb")]
    s = score(drifts, Weights(types={"aws_ecs_service": 3.0}, kinds={"missing": 2.0}))
    assert s.overall.drift_index == round(100 * 6 / 8, 1)


def test_per_state_counts_each_holder_and_skips_unmanaged() -> None:
    drifts = [_d(DriftKind.CHANGED, states=("s3://b/a", "s3://b/c")), _d(DriftKind.IN_SYNC, "aws_lb"),
              _d(DriftKind.UNMANAGED, "aws_security_group", states=())]
    s = score(drifts)
    assert s.by_state["s3://b/a"].drift_index == 50.0
    assert s.by_state["s3://b/c"].drift_index == 100.0
    assert s.overall.drift_index == round(200 / 3, 1)
