"""Shared helpers of the rule tests: load a Terraform folder as code resources, run the built-in pack,
and read one rule's verdicts by address. Used by the fixture and checkov-parity tests of every rule."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from auditor.code import load_code
from auditor.models import Finding, Origin, Resource, Status
from auditor.rules.backend import backend_resource
from auditor.rules.engine import BUILTIN_PACK, RulePack, evaluate, load_pack
from auditor.rules.secrets import source_resources

FIXTURES = Path(__file__).resolve().parent / "fixtures"
EXPECTED_KEYS: Mapping[str, Status] = {
    "pass": Status.PASS,
    "fail": Status.FAIL,
    "unknown": Status.UNKNOWN,
    "not_applicable": Status.NOT_APPLICABLE,
}


@cache
def builtin_pack() -> RulePack:
    return load_pack(BUILTIN_PACK)


def code_resources(root: Path, backend: Mapping[str, Any] | None = None) -> list[Resource]:
    """The managed resources of a root module, plus its `terraform_backend` pseudo-resource (from the
    folder's backend block, or `backend` when given)."""
    module = load_code(root)
    settings = backend if backend is not None else module.backend
    return [*module.resources, backend_resource(settings, origin=Origin.CODE, source=str(root)),
            *source_resources(root)]


def fixture_roots(folder: Path) -> list[tuple[str, Path]]:
    """The root modules of a fixture: the folder itself when it holds .tf files, else each sub-folder
    (for settings one root can hold only once, such as the backend); the prefix is "" or "<sub>/"."""
    if any(folder.glob("*.tf")):
        return [("", folder)]
    return [(f"{sub.name}/", sub) for sub in sorted(p for p in folder.iterdir() if p.is_dir())]


def verdicts(findings: Sequence[Finding], rule_id: str, prefix: str = "") -> dict[str, Status]:
    """address -> status of one rule's findings (one finding per resource is expected)."""
    out: dict[str, Status] = {}
    for f in findings:
        if f.rule_id != rule_id:
            continue
        address = prefix + (f.address or f"{f.resource_type}.{f.resource_id}")
        assert address not in out, f"{rule_id} gave {address} more than one verdict"
        out[address] = f.status
    return out


def messages(findings: Sequence[Finding], rule_id: str) -> dict[str, str]:
    return {f.address or f.resource_id: f.message for f in findings if f.rule_id == rule_id}


def fixture_verdicts(folder: Path, rule_id: str) -> dict[str, Status]:
    """Every verdict of `rule_id` over the fixture's root modules (addresses prefixed per root)."""
    out: dict[str, Status] = {}
    for prefix, root in fixture_roots(folder):
        out.update(verdicts(evaluate(builtin_pack(), code_resources(root)), rule_id, prefix))
    return out


def expected_verdicts(folder: Path) -> dict[str, Status]:
    """expected.json {"pass": [...], "fail": [...], "unknown": [...], "not_applicable": [...]} by address."""
    document = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    unexpected = set(document) - set(EXPECTED_KEYS)
    assert not unexpected, f"{folder.name}/expected.json has unknown keys {sorted(unexpected)}"
    out: dict[str, Status] = {}
    for key, status in EXPECTED_KEYS.items():
        for address in document.get(key, []):
            assert address not in out, f"{address} is listed twice in {folder.name}/expected.json"
            out[address] = status
    return out
