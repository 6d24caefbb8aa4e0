"""Judge the Terraform code under a folder: every root module on its own, its backend included, then
the suppressions. `scan` answers from the cache (auditor.scan.cache) when it holds this very scan."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from auditor.errors import ConfigError
from auditor.models import ComplianceResult, Finding, Origin, Status
from auditor.rules.backend import backend_resource
from auditor.rules.engine import RulePack, Suppressions, evaluate
from auditor.rules.settings import RuleSettings

if TYPE_CHECKING:
    from auditor.scan.cache import ScanCache


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
    return ComplianceResult(pack, findings, settings, expired, code.notes, suppressions.items)


def scan(root: Path, pack: RulePack, settings: RuleSettings, suppressions: Suppressions, *,
         cache: ScanCache | None = None) -> ComplianceResult:
    """`judge_code` (answered by `cache` when it holds this very scan), then `suppress`."""
    code = (cache.judge_code(root, pack, settings, judge_code) if cache is not None
            else judge_code(root, pack, settings))
    return suppress(code, pack, settings, suppressions)
