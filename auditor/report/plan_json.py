"""Terraform-compatible drift: the `resource_drift` part of `terraform show -json PLANFILE`.

Changed resources become `update` entries (before = state, after = state with the live values
of the drifted attributes), missing ones `delete` entries (after = null). Unmanaged resources
are not listed: Terraform does not know them either. Unknown ones are not drift.
"""

from __future__ import annotations

from typing import Any

import orjson

from auditor.models import AuditRun, Drift, DriftKind
from auditor.state.address import parse_instance_address

PROVIDER = "registry.terraform.io/hashicorp/aws"


def _top_level(path: str) -> str:
    for i, ch in enumerate(path):
        if ch in ".[":
            return path[:i]
    return path


def _entry(d: Drift) -> dict[str, Any]:
    address = parse_instance_address(d.address or f"{d.type}.unknown")
    before = dict(d.state_attributes or {})
    after: dict[str, Any] | None
    if d.kind is DriftKind.MISSING:
        actions, after = ["delete"], None
    else:
        actions, after = ["update"], dict(before)
        live = d.live_attributes or {}
        for change in d.changes:
            top = _top_level(change.path)
            if top == "tags":
                after["tags"] = {k: v for k, v in (live.get("tags") or {}).items()}
                after["tags_all"] = dict(after["tags"])
            elif top in live:
                after[top] = live[top]
    entry: dict[str, Any] = {"address": d.address, "mode": "managed", "type": d.type, "name": address.name}
    if address.index_key is not None:
        entry["index"] = address.index_key
    if address.module:
        entry["module_address"] = address.module
    entry["provider_name"] = PROVIDER
    entry["change"] = {"actions": actions, "before": before, "after": after, "after_unknown": {},
                       "before_sensitive": {}, "after_sensitive": {} if after is not None else False}
    return entry


def to_dict(run: AuditRun) -> dict[str, Any]:
    drifted = [d for d in run.drifts if d.kind in (DriftKind.CHANGED, DriftKind.MISSING) and d.address]
    return {
        "format_version": "1.2",
        "terraform_version": next((s.document.terraform_version for s in run.states), None),
        "resource_drift": [_entry(d) for d in drifted],
        "errored": run.incomplete,
    }


def render(run: AuditRun) -> str:
    return orjson.dumps(to_dict(run), option=orjson.OPT_INDENT_2, default=str).decode() + "\n"
