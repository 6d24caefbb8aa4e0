"""Compliance stage: run a rule pack over resources from code, state or live, and judge the outcome."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import hcl2

from auditor.code import load_code
from auditor.errors import ConfigError
from auditor.models import Origin, Resource
from auditor.rules.engine import BUILTIN_PACK, RulePack, Suppressions, evaluate, load_pack
from auditor.rules.lib import backend_resource
from auditor.rules.model import Finding, RuleSettings, Severity, Status


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


def judge(pack: RulePack, resources: Sequence[Resource], settings: RuleSettings,
          suppressions: Suppressions, notes: Sequence[str] = ()) -> ComplianceResult:
    findings = evaluate(pack, resources, settings, suppressions)
    expired = tuple(f"{s.rule_id} on {s.target} expired {s.expires}" for s in suppressions.expired())
    return ComplianceResult(pack, tuple(findings), settings, expired, tuple(notes))


def root_modules(root: Path) -> list[Path]:
    """Folders under `root` holding .tf files that no other folder there calls as a local module."""
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
                parsed = hcl2.loads(text)
            except Exception:  # malformed files are reported by load_code with their line
                continue
            for block in parsed.get("module", []):
                for body in block.values():
                    source = str(body.get("source", "")).strip('"')
                    if source.startswith(("./", "../")):
                        called.add((folder / source).resolve())
    return [f for f in folders if f.resolve() not in called]


def scan(root: Path, pack: RulePack, settings: RuleSettings, suppressions: Suppressions) -> ComplianceResult:
    """Judge the Terraform code of every root module under `root` (each on its own), backend included.

    Findings of a root module in a subfolder are named `folder/address`, and their file is made
    relative to `root`, so SARIF points at the right file.
    """
    findings: list[Finding] = []
    notes: list[str] = []
    for folder in root_modules(root):
        module = load_code(folder)
        rel = folder.relative_to(root).as_posix() if folder != root else ""
        prefix = f"{rel}/" if rel else ""
        backend = backend_resource(module.backend, origin=Origin.CODE, source=str(folder))
        for f in evaluate(pack, [*module.resources, backend], settings, suppressions):
            findings.append(replace(f, address=f"{prefix}{f.address}" if f.address else f.address,
                                    file=f"{prefix}{f.file}" if f.file else f.file))
        notes += [f"{prefix}{u.address}: not expanded: {u.reason}" for u in module.unexpanded]
        notes += [f"{prefix}{p}" for p in module.problems]
    expired = tuple(f"{s.rule_id} on {s.target} expired {s.expires}" for s in suppressions.expired())
    return ComplianceResult(pack, tuple(findings), settings, expired, tuple(notes))


SEVERITY_LEVELS = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning",
                   Severity.LOW: "note"}
