"""The audit's rules stage: the pack on what is live (inventory and state backends) and on what each
state says was applied."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from auditor import catalog
from auditor.models import ComplianceResult, Inventory, ObservationStatus, Origin, Resource
from auditor.rules.backend import BACKEND_TYPE, backend_resource
from auditor.rules.engine import UNOBSERVED, RulePack, Suppressions, evaluate
from auditor.rules.model import Evidence
from auditor.rules.read import live_read_from
from auditor.rules.settings import RuleSettings
from auditor.state.model import LoadedState, LockMechanism


def live_backends(states: Sequence[LoadedState]) -> list[Resource]:
    """One `terraform_backend` resource per S3 state read, from what reading it showed."""
    out = []
    for loaded in states:
        if not loaded.uri.startswith("s3://"):
            continue
        bucket, _, key = loaded.uri[len("s3://"):].partition("/")
        settings: dict[str, object] = {"type": "s3", "bucket": bucket, "key": key}
        if loaded.lock_table:
            settings["dynamodb_table"] = loaded.lock_table
        seen = []
        if LockMechanism.DYNAMODB in loaded.lock.checked and not loaded.lock.errors and loaded.lock_table:
            seen.append("dynamodb")
        if any(h.mechanism is LockMechanism.LOCKFILE for h in loaded.lock.held):
            seen.append("s3")
        settings["_lock_mechanisms_seen"] = seen
        if loaded.lock.errors:  # a lock store that could not be read is not known to be absent
            settings[UNOBSERVED] = {"_lock_mechanisms_seen": "; ".join(loaded.lock.errors)}
        settings["_sse"] = loaded.encryption.get("ServerSideEncryption", "")
        if "SSEKMSKeyId" in loaded.encryption:
            settings["_sse_kms_key_id"] = loaded.encryption["SSEKMSKeyId"]
        out.append(backend_resource(settings, origin=Origin.LIVE, source=loaded.uri, address=loaded.uri))
    return out


def live_evidence(inventory: Inventory, regions: Iterable[str]) -> Evidence:
    """Where each type was observed: per (type, region) observation without error, everywhere for
    global types and the state backends (read with the states); every other type was not read."""
    observed: dict[str, set[str]] = {BACKEND_TYPE: {"*"}}
    reasons: dict[tuple[str, str], str] = {}
    for obs in inventory.observations:
        spec = catalog.spec_for(obs.type)
        where = "*" if spec is not None and spec.global_service else obs.region
        if obs.status is ObservationStatus.OBSERVED:
            observed.setdefault(obs.type, set()).add(where)
        else:
            observed.setdefault(obs.type, set())
            reasons[(obs.type, where)] = obs.reason or "not observed"
    audited = frozenset(regions) | {o.region for o in inventory.observations}
    return Evidence({t: frozenset(seen) for t, seen in observed.items()}, reasons, audited,
                    frozenset(catalog.specs()) | {BACKEND_TYPE})


def judge_audit(pack: RulePack, *, live: Sequence[Resource], state: Sequence[Resource], inventory: Inventory,
                wanted: Mapping[str, Mapping[str, Iterable[str]]], settings: RuleSettings,
                suppressions: Suppressions, regions: Iterable[str] = ()) -> ComplianceResult:
    """Rules on what is live (inventory + the state backends) and on what the states say was applied.
    Live, a verdict resting on a type that was not observed in the resource's region is UNKNOWN."""
    specs = catalog.specs()
    listed = [t for t in {o.type for o in inventory.observations}
              if not (t in specs and specs[t].partially_read)]
    findings = evaluate(pack, live, settings, suppressions, live_read=live_read_from(inventory, wanted, listed),
                        evidence=live_evidence(inventory, regions))
    # Each state is judged on its own (like each root module in a scan), with the backends beside it:
    # they say which bucket holds state. The backends themselves were judged live, once.
    backends = [r for r in live if r.type == BACKEND_TYPE]
    by_state: dict[str | None, list[Resource]] = {}
    for res in state:
        by_state.setdefault(res.source, []).append(res)
    for group in by_state.values():
        findings += [f for f in evaluate(pack, [*group, *backends], settings, suppressions)
                     if f.resource_type != BACKEND_TYPE]
    expired = tuple(f"{s.rule_id} on {s.target} expired {s.expires}" for s in suppressions.expired())
    return ComplianceResult(pack, tuple(findings), settings, expired, suppressions=suppressions.items)
