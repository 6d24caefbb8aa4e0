"""Build audit JSON results (schema auditor.audit/v1) with chosen drifts and rule verdicts, for history tests."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

Drift = tuple[str, str, str, Sequence[str]]  # type, id, kind, changed paths
Verdict = tuple[str, str, str, str]  # rule, type, id, status


def make_doc(started: datetime, drifts: Iterable[Drift] = (), verdicts: Iterable[Verdict] = (), *,
             in_sync: Iterable[tuple[str, str]] = (), account: str = "123456789012",
             state: str = "s3://tfstate/app/terraform.tfstate", unknown_types: Sequence[str] = (),
             state_failures: Sequence[str] = (), rules: bool = True, metas: Sequence[dict[str, Any]] = (),
             suppressions: Sequence[dict[str, Any]] = (), suppressed: Mapping[tuple[str, str], dict[str, Any]]
             = MappingProxyType({})) -> dict[str, Any]:
    resources = [{"address": f"{t}.{i}", "type": t, "id": i, "region": "us-east-1", "kind": k,
                  "changes": [{"path": p, "state": "a", "live": "b"} for p in paths], "states": [state],
                  "reason": "AccessDenied" if k == "unknown" else None} for t, i, k, paths in drifts]
    resources += [{"address": f"{t}.{i}", "type": t, "id": i, "region": "us-east-1", "kind": "in_sync",
                   "changes": [], "states": [state], "reason": None} for t, i in in_sync]
    by_type: dict[str, Counter[str]] = {}
    for r in resources:
        by_type.setdefault(r["type"], Counter())[r["kind"]] += 1
    counts = Counter(r["kind"] for r in resources)

    def breakdown(c: Counter[str]) -> dict[str, Any]:
        audited = sum(v for k, v in c.items() if k != "unknown")
        drifted = sum(v for k, v in c.items() if k in ("changed", "missing", "unmanaged"))
        return {"drift_index": round(drifted / audited, 4) if audited else 0.0,
                "coverage": round(audited / sum(c.values()), 4) if c else 1.0, "counts": dict(c)}

    findings = [{"rule": rule, "status": status, "severity": "high", "type": t, "id": i, "address": f"{t}.{i}",
                 "origin": "live", "message": "m", "value": None, "file": None, "line": None,
                 "suppressed": suppressed.get((rule, i))} for rule, t, i, status in verdicts]
    return {
        "schema": "auditor.audit/v1",
        "tool": {"name": "auditor", "version": "0.1.0"},
        "run": {"id": None, "started_at": started.isoformat(),
                "finished_at": (started + timedelta(seconds=42)).isoformat(), "duration_seconds": 42.0,
                "account_id": account, "regions": ["us-east-1"], "exit_code": 2 if counts else 0,
                "incomplete": bool(unknown_types or state_failures), "ignore_file": None},
        "states": [{"uri": state, "workspace": "default", "serial": 7, "lineage": "abc", "terraform_version": "1.11.4",
                    "state_version": 4, "size_bytes": 100, "resources": len(resources),
                    "lock": {"checked": ["dynamodb"], "held": [], "errors": []},
                    "digest": {"status": "match", "expected": "x", "actual": "x"}, "warnings": []}],
        "state_failures": [{"uri": u, "workspace": "default", "error": "AccessDenied"} for u in state_failures],
        "api_calls": {"total": 17, "by_operation": {}},
        "observations": [{"type": t, "region": "us-east-1", "status": "unknown", "count": 0, "reason": "AccessDenied"}
                         for t in unknown_types],
        "summary": {**breakdown(counts), "by_state": {state: breakdown(counts)},
                    "by_type": {t: breakdown(c) for t, c in by_type.items()}},
        "resources": resources,
        "code": [],
        "compliance": {"counts": {}, "blocking": 0, "rules": list(metas), "findings": findings,
                       "expired_suppressions": [], "suppressions": list(suppressions),
                       "pack": {"rules": 3, "sources": ["alb.py"], "digest": "0123456789abcdef"},
                       "settings": {"fail_on": "high"}, "notes": []} if rules else None,
    }
