"""The versioned JSON result (schema `auditor.audit/v1`, documented in README.md)."""

from __future__ import annotations

from typing import Any

import orjson

from auditor.models import AuditRun, Drift, Observation
from auditor.report.findings import to_dict as findings_dict
from auditor.score import Breakdown
from auditor.state.model import LoadedState

SCHEMA = "auditor.audit/v1"


def _breakdown(b: Breakdown) -> dict[str, Any]:
    return {"drift_index": b.drift_index, "coverage": b.coverage, "counts": dict(b.counts)}


def _state(s: LoadedState) -> dict[str, Any]:
    doc = s.document
    return {
        "uri": s.uri,
        "workspace": s.workspace,
        "serial": doc.serial,
        "lineage": doc.lineage,
        "terraform_version": doc.terraform_version,
        "state_version": doc.version,
        "size_bytes": s.size_bytes,
        "resources": len(doc.managed),
        "lock": {
            "status": s.lock.status,
            "checked": [m.value for m in s.lock.checked],
            "held": [
                {"mechanism": h.mechanism.value, "id": h.id, "operation": h.operation, "who": h.who,
                 "created": h.created, "version": h.version, "path": h.path, "info": h.info}
                for h in s.lock.held
            ],
            "errors": list(s.lock.errors),
        },
        "digest": None if s.digest is None else {
            "status": s.digest.status.value, "expected": s.digest.expected, "actual": s.digest.actual},
        "warnings": list(s.warnings),
    }


def _observation(o: Observation) -> dict[str, Any]:
    return {"type": o.type, "region": o.region, "status": o.status.value, "count": o.count, "reason": o.reason}


def _resource(d: Drift) -> dict[str, Any]:
    return {
        "address": d.address,
        "type": d.type,
        "id": d.id,
        "region": d.region,
        "kind": d.kind.value,
        "changes": [{"path": c.path, "state": c.state, "live": c.live} for c in d.changes],
        "states": list(d.states),
        "reason": d.reason,
    }


def to_dict(run: AuditRun) -> dict[str, Any]:
    """The whole result as plain data."""
    return {
        "schema": SCHEMA,
        "tool": {"name": "auditor", "version": run.tool_version},
        "run": {
            "id": run.id,
            "started_at": run.started_at.isoformat(),
            "finished_at": run.finished_at.isoformat(),
            "duration_seconds": round((run.finished_at - run.started_at).total_seconds(), 3),
            "account_id": run.account_id,
            "caller": run.caller,
            "regions": list(run.regions),
            "exit_code": int(run.exit_code),
            "incomplete": run.incomplete,
            "strict": run.strict,
            "min_coverage": run.min_coverage,
            "errors": list(run.errors),
            "ignore_file": run.ignore_file,
        },
        "states": [_state(s) for s in run.states],
        "state_failures": [{"uri": f.uri, "workspace": f.workspace, "error": f.error} for f in run.failures],
        "api_calls": {"total": run.inventory.api_calls, "by_operation": dict(run.inventory.api_calls_by_operation)},
        "observations": [_observation(o) for o in run.inventory.observations],
        "unmanaged_scan_incomplete": [{"type": o.type, "region": o.region, "reason": o.reason}
                                      for o in run.scan_incomplete],
        "summary": {
            **_breakdown(run.score.overall),
            "not_covered": run.score.not_covered,
            "by_state": {uri: _breakdown(b) for uri, b in run.score.by_state.items()},
            "by_type": {t: _breakdown(b) for t, b in run.score.by_type.items()},
        },
        "resources": [_resource(d) for d in run.drifts],
        "out_of_scope": [{"address": r.address, "type": r.type, "id": r.id, "region": r.region}
                         for r in run.out_of_scope],
        "code": [{"code_dir": c.code_dir, "state": c.state,
                  "drifts": [{"kind": d.kind.value, "address": d.address} for d in c.drifts],
                  "unexpanded": list(c.unexpanded), "undecided": list(c.undecided)} for c in run.code],
        "compliance": None if run.compliance is None else {
            k: v for k, v in findings_dict(run.compliance).items() if k not in ("schema", "tool")},
    }


def render(run: AuditRun) -> str:
    return orjson.dumps(to_dict(run), option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS,
                        default=str).decode() + "\n"
