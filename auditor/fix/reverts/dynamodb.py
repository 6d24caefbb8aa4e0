"""DynamoDB tables: point-in-time recovery."""

from __future__ import annotations

from typing import Any

from auditor.fix.model import Call, Probe, Risk
from auditor.fix.reverts import Revert, exists_probe, first, state_attrs
from auditor.models import Drift, DriftKind


def _pitr(drift: Drift) -> tuple[Call, ...]:
    pitr = first(state_attrs(drift).get("point_in_time_recovery"))
    spec: dict[str, Any] = {"PointInTimeRecoveryEnabled": bool(pitr.get("enabled", False))}
    if spec["PointInTimeRecoveryEnabled"] and pitr.get("recovery_period_in_days"):
        spec["RecoveryPeriodInDays"] = int(pitr["recovery_period_in_days"])
    return (Call("dynamodb", "update_continuous_backups",
                 {"TableName": drift.id, "PointInTimeRecoverySpecification": spec}),)


def _probe(drift: Drift) -> Probe:
    return exists_probe("dynamodb", "describe_table", {"TableName": drift.id}, "Table", f"table {drift.id}")


REVERTS: tuple[Revert, ...] = (
    Revert("aws_dynamodb_table", "point-in-time-recovery", frozenset({DriftKind.CHANGED}), ("point_in_time_recovery",),
           ("dynamodb:UpdateContinuousBackups", "dynamodb:DescribeTable"), Risk.LOW, "the table still exists",
           _pitr, _probe),
)
