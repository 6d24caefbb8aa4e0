"""Compliance stage: run a rule pack over resources from code, state or live, and judge the outcome."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from auditor.errors import ConfigError
from auditor.inventory.base import spec_for
from auditor.models import Inventory, ObservationStatus, Origin, Resource
from auditor.rules.engine import BUILTIN_PACK, UNOBSERVED, RulePack, Suppressions, evaluate, load_pack
from auditor.rules.lib import BACKEND_TYPE, backend_resource, live_read_from
from auditor.rules.model import Evidence, Finding, RuleSettings, Status
from auditor.state.model import LoadedState, LockMechanism

if TYPE_CHECKING:
    from auditor.scancache import ScanCache


@dataclass(frozen=True, slots=True)
class ComplianceResult:
    """The findings of one evaluation, with what it needs to be reported and judged."""

    pack: RulePack
    findings: tuple[Finding, ...]
    settings: RuleSettings
    expired_suppressions: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def counts(self) -> dict[str, int]:
        counts = Counter(f.status.value for f in self.findings if f.suppressed_by is None)
        counts["SUPPRESSED"] = sum(1 for f in self.findings if f.suppressed_by is not None)
        return {s.value: counts.get(s.value, 0) for s in Status} | {"SUPPRESSED": counts["SUPPRESSED"]}

    def blocking(self) -> list[Finding]:
        """Unsuppressed failures at or above the configured severity."""
        return [f for f in self.findings if f.status is Status.FAIL and f.suppressed_by is None
                and f.severity.rank >= self.settings.fail_on.rank]


def rule_pack(rules_dirs: Sequence[Path] = (), *, builtin: bool = True) -> RulePack:
    """The built-in pack and/or the user's packs, loaded the same way."""
    folders = ([BUILTIN_PACK] if builtin else []) + list(rules_dirs)
    return load_pack(*folders)


def root_modules(root: Path) -> list[Path]:
    """Folders under `root` holding .tf files that no other folder there calls as a local module."""
    from auditor.code.syntax import Literal, parse_text  # python-hcl2: only when the code is read

    folders = sorted({p.parent for p in root.rglob("*.tf") if ".terraform" not in p.parts})
    if not folders:
        raise ConfigError(f"no .tf files under {root}")
    called: set[Path] = set()
    for folder in folders:
        for tf in folder.glob("*.tf"):
            text = tf.read_text(encoding="utf-8", errors="replace")
            if "source" not in text or "module" not in text:
                continue
            try:
                body = parse_text(text, tf.name)
            except ConfigError:  # malformed files are reported by load_code with their line
                continue
            for block in body.blocks_of("module"):
                source = block.body.attribute("source")
                value = source.expr.value if source is not None and isinstance(source.expr, Literal) else None
                if isinstance(value, str) and value.startswith(("./", "../")):
                    called.add((folder / value).resolve())
    return [f for f in folders if f.resolve() not in called]


@dataclass(frozen=True, slots=True)
class CodeScan:
    """The judgement of the code under a folder before suppressions, and every folder it read."""

    findings: tuple[Finding, ...]  # none suppressed
    notes: tuple[str, ...]
    folders: frozenset[Path] = frozenset()  # resolved; empty when not known (loaded from the cache)


def judge_code(root: Path, pack: RulePack, settings: RuleSettings) -> CodeScan:
    """Judge the Terraform code of every root module under `root` (each on its own), backend included.

    Findings of a root module in a subfolder are named `folder/address`, and their file is made
    relative to `root`, so SARIF points at the right file.
    """
    from auditor.code import load_code  # the HCL loader and detect-secrets: only when the code is read
    from auditor.rules.secrets import read_sources

    findings: list[Finding] = []
    notes: list[str] = []
    folders: set[Path] = set()
    for folder in root_modules(root):
        module = load_code(folder)
        sources, read = read_sources(folder)
        folders |= module.directories | read
        rel = folder.relative_to(root).as_posix() if folder != root else ""
        prefix = f"{rel}/" if rel else ""
        backend = backend_resource(module.backend or _local_backend(module.files), origin=Origin.CODE,
                                   source=str(folder))
        for f in evaluate(pack, [*module.resources, backend, *sources], settings):
            findings.append(replace(f, address=f"{prefix}{f.address}" if f.address else f.address,
                                    file=f"{prefix}{f.file}" if f.file else f.file))
        notes += [f"{prefix}{u.address}: not expanded: {u.reason}" for u in module.unexpanded]
        notes += [f"{prefix}{p}" for p in module.problems]
    return CodeScan(tuple(findings), tuple(notes), frozenset(folders))


def _local_backend(files: Sequence[str]) -> Mapping[str, object] | None:
    """No backend block means local state; the finding points at the root module's first file, line 1
    (a code-scanning UI shows a result only where it has a file to put it)."""
    first = min((f for f in files if "/" not in f), default=None)
    return {"_type": "local", "_location": {"file": first, "line": 1}} if first else None


def suppress(code: CodeScan, pack: RulePack, settings: RuleSettings, suppressions: Suppressions) -> ComplianceResult:
    """The result with `suppressions` applied: a failure is matched by `TYPE.ID` or by its address."""
    findings = tuple(
        replace(f, suppressed_by=suppressions.match(f.rule_id, (f"{f.resource_type}.{f.resource_id}", f.address or "")))
        if f.status is Status.FAIL else f for f in code.findings)
    expired = tuple(f"{s.rule_id} on {s.target} expired {s.expires}" for s in suppressions.expired())
    return ComplianceResult(pack, findings, settings, expired, code.notes)


def scan(root: Path, pack: RulePack, settings: RuleSettings, suppressions: Suppressions, *,
         cache: ScanCache | None = None) -> ComplianceResult:
    """`judge_code` (answered by `cache` when it holds this very scan), then `suppress`."""
    code = (cache.judge_code(root, pack, settings, judge_code) if cache is not None
            else judge_code(root, pack, settings))
    return suppress(code, pack, settings, suppressions)


# Types whose collectors read every resource in full; the others read details (tags, policies,
# attributes) only for the resources a state holds, so a rule on an unmanaged one meets "unobserved".
PARTIALLY_READ = frozenset({
    "aws_s3_bucket", "aws_s3_bucket_versioning", "aws_s3_bucket_server_side_encryption_configuration",
    "aws_s3_bucket_public_access_block", "aws_s3_bucket_policy", "aws_s3_bucket_lifecycle_configuration",
    "aws_dynamodb_table", "aws_ecr_repository", "aws_ecr_lifecycle_policy", "aws_sns_topic", "aws_iam_role",
    "aws_acm_certificate", "aws_ecs_task_definition", "aws_lb_target_group", "aws_kms_key",
    "aws_iam_role_policy_attachment",
})


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
        spec = spec_for(obs.type)
        where = "*" if spec is not None and spec.global_service else obs.region
        if obs.status is ObservationStatus.OBSERVED:
            observed.setdefault(obs.type, set()).add(where)
        else:
            observed.setdefault(obs.type, set())
            reasons[(obs.type, where)] = obs.reason or "not observed"
    audited = frozenset(regions) | {o.region for o in inventory.observations}
    return Evidence({t: frozenset(seen) for t, seen in observed.items()}, reasons, audited)


def judge_audit(pack: RulePack, *, live: Sequence[Resource], state: Sequence[Resource], inventory: Inventory,
                wanted: Mapping[str, Mapping[str, Iterable[str]]], settings: RuleSettings,
                suppressions: Suppressions, regions: Iterable[str] = ()) -> ComplianceResult:
    """Rules on what is live (inventory + the state backends) and on what the states say was applied.
    Live, a verdict resting on a type that was not observed in the resource's region is UNKNOWN."""
    listed = [t for t in {o.type for o in inventory.observations} if t not in PARTIALLY_READ]
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
    return ComplianceResult(pack, tuple(findings), settings, expired)
