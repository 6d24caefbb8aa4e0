"""CloudWatch PutMetricData after each run, so an alarm can page someone.

Metrics DriftIndex, Coverage, Changed, Missing, Unmanaged, Unknown, FailingRules with dimensions
Job and State: one set per state the run read, and one with State="all" for the whole run (the
only set carrying FailingRules: findings are not split by state). A failed run sends only
RunFailed=1 (State="all"); a successful one sends RunFailed=0, so "no data" is itself alarming.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from auditor.schedule.summary import KINDS, RunSummary

ALL_STATES = "all"
_BATCH = 20  # metric data per PutMetricData call (the smallest limit any region has had)


def metric_data(summary: RunSummary) -> list[dict[str, Any]]:
    at = datetime.fromisoformat(summary.finished_at)

    def datum(name: str, value: float, state: str, unit: str = "None") -> dict[str, Any]:
        return {"MetricName": name, "Value": float(value), "Unit": unit, "Timestamp": at,
                "Dimensions": [{"Name": "Job", "Value": summary.job}, {"Name": "State", "Value": state[:1024]}]}

    if summary.status == "failed":
        return [datum("RunFailed", 1, ALL_STATES, "Count")]
    data = [datum("RunFailed", 0, ALL_STATES, "Count"),
            datum("FailingRules", len(summary.failing_rules), ALL_STATES, "Count")]
    rows = [(ALL_STATES, {"drift_index": summary.drift_index, "coverage": summary.coverage, **summary.counts}),
            *summary.by_state.items()]
    for state, row in rows:
        if row.get("drift_index") is not None:
            data.append(datum("DriftIndex", row["drift_index"], state))
        if row.get("coverage") is not None:
            data.append(datum("Coverage", row["coverage"], state, "Percent"))
        data.extend(datum(kind.capitalize(), row.get(kind, 0), state, "Count") for kind in KINDS)
    return data


def put_metrics(client: Any, namespace: str, summary: RunSummary) -> int:
    """Send the run's metrics; returns how many data points were sent."""
    data = metric_data(summary)
    for i in range(0, len(data), _BATCH):
        client.put_metric_data(Namespace=namespace, MetricData=data[i:i + _BATCH])
    return len(data)
