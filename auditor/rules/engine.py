"""Loading rule packs (a folder of Python files) and evaluating them on resources.

A rule file declares rules with the `@rule(...)` decorator; the built-in pack (the top-level
`rules/` folder, installed as `auditor.builtin_rules`) is loaded exactly like a user's `--rules-dir`.
A rule that raises is UNKNOWN for that resource (with the error), never PASS.

Missing evidence is structural, not each rule's care: the engine logs which types a check read
(`RuleContext.of_type`, and the indexes built from it) and which of its own resource's attributes
it read. When one of those types was not observed in the resource's region (`RuleContext.evidence`)
or one of those attributes is listed in the resource's `_unobserved` ({attribute: reason}, a partial
read such as a lock table whose GetItem was denied), the verdict is UNKNOWN with the reason,
whatever the check concluded from the evidence it did have.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import re
import sys
import types
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from auditor.errors import ConfigError
from auditor.models import Finding, Resource, Severity, Status, Suppression
from auditor.resources import builtin_rules, rule_files
from auditor.rules.model import CheckFn, Guard, Peers, Rule, RuleContext, RuleMeta, Verdict
from auditor.rules.settings import RuleSettings

BUILTIN_PACK = builtin_rules()
_ID = re.compile(r"^[A-Z][A-Z0-9]*-\d{2,3}$")
_loading: list[Rule] | None = None


def rule(*, id: str, title: str, severity: str, resource_types: Sequence[str], rationale: str,
         remediation: str, terraform: str, peers: Peers | None = None,
         applies: Guard | None = None) -> Callable[[CheckFn], CheckFn]:
    """Declare a rule: its metadata sits beside its check function. `applies`, when given, decides first
    whether the rule judges a resource of its types at all (see Guard)."""
    if not _ID.match(id):
        raise ConfigError(f"rule id {id!r} must look like ABC-01")
    meta = RuleMeta(id=id, title=title, severity=Severity(severity), resource_types=tuple(resource_types),
                    rationale=rationale.strip(), remediation=remediation.strip(),
                    terraform=terraform.strip("\n"), peers=peers or Peers())

    def register(fn: CheckFn) -> CheckFn:
        if _loading is None:
            raise ConfigError(f"rule {id} declared outside a rule pack load")
        _loading.append(Rule(meta, fn, applies))
        return fn

    return register


@dataclass(frozen=True, slots=True)
class RulePack:
    rules: tuple[Rule, ...]
    sources: tuple[str, ...] = ()

    def get(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.meta.id == rule_id.upper()), None)


def load_pack(*folders: Traversable) -> RulePack:
    """Import every rule file in each folder (see `rule_files`) and collect the rules they declare.

    A folder is a Path or any importlib.resources Traversable: files on disk are imported by path
    (Python's bytecode cache applies), others (a zip) from their source."""
    global _loading
    rules: list[Rule] = []
    sources: list[str] = []
    for folder in folders:
        if not folder.is_dir():
            raise ConfigError(f"rules folder not found: {folder}")
        for entry in rule_files(folder):
            _loading = []
            try:
                name = f"auditor_rulepack_{abs(hash(str(entry)))}_{entry.name.removesuffix('.py')}"
                _import(name, entry)
            except ConfigError:
                raise
            except Exception as exc:
                raise ConfigError(f"rule file {entry} failed to load: {type(exc).__name__}: {exc}") from None
            finally:
                declared, _loading = _loading or [], None
            rules.extend(declared)
            sources.append(str(entry))
    seen: dict[str, str] = {}
    for r in rules:
        if r.meta.id in seen:
            raise ConfigError(f"rule {r.meta.id} is declared twice")
        seen[r.meta.id] = r.meta.title
    return RulePack(tuple(sorted(rules, key=lambda r: _sort_key(r.meta.id))), tuple(sources))


def _import(name: str, entry: Traversable) -> None:
    """Run one rule file as the module `name` (in sys.modules while it runs, as an import would be)."""
    if isinstance(entry, Path):
        spec = importlib.util.spec_from_file_location(name, entry)
        if spec is None or spec.loader is None:
            raise ConfigError(f"cannot load rule file {entry}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return
    module = types.ModuleType(name)
    module.__file__ = str(entry)
    sys.modules[name] = module
    exec(compile(entry.read_bytes(), str(entry), "exec"), module.__dict__)


def rule_pack(rules_dirs: Sequence[Path] = (), *, builtin: bool = True) -> RulePack:
    """The built-in pack and/or the user's packs, loaded the same way."""
    folders = ([BUILTIN_PACK] if builtin else []) + list(rules_dirs)
    return load_pack(*folders)


def _sort_key(rule_id: str) -> tuple[str, int]:
    prefix, number = rule_id.rsplit("-", 1)
    return (prefix, int(number))


@dataclass(frozen=True, slots=True)
class Suppressions:
    items: tuple[Suppression, ...] = ()
    today: date = field(default_factory=date.today)

    def match(self, rule_id: str, names: Iterable[str]) -> Suppression | None:
        names = [n for n in names if n]
        for s in self.items:
            if s.expires is not None and s.expires < self.today:
                continue
            if fnmatch.fnmatchcase(rule_id, s.rule_id) and any(fnmatch.fnmatchcase(n, s.target) for n in names):
                return s
        return None

    def expired(self) -> list[Suppression]:
        return [s for s in self.items if s.expires is not None and s.expires < self.today]


def _verdicts(result: Verdict | Iterable[Verdict]) -> list[Verdict]:
    return [result] if isinstance(result, Verdict) else list(result)


UNOBSERVED = "_unobserved"
"""A resource attribute: {attribute: reason} for attributes a partial read could not observe."""


class _ReadLog(Mapping[str, Any]):
    """A resource's attributes that log which ones a check read."""

    def __init__(self, data: Mapping[str, Any], log: set[str]) -> None:
        self._data = data
        self._log = log

    def __getitem__(self, key: str) -> Any:
        self._log.add(key)
        return self._data[key]

    def __contains__(self, key: object) -> bool:
        self._log.add(str(key))
        return key in self._data

    def __iter__(self) -> Iterator[str]:
        self._log.update(self._data)
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


def _check(r: Rule, res: Resource, ctx: RuleContext) -> list[Verdict]:
    """The rule's verdicts on `res`, UNKNOWN when they rest on evidence that was not observed."""
    partial: Mapping[str, str] = res.attributes.get(UNOBSERVED) or {}
    attrs_read: set[str] = set()
    subject = replace(res, attributes=_ReadLog(res.attributes, attrs_read)) if partial else res
    ctx.reads.clear()
    try:
        skip = r.applies(subject, ctx) if r.applies is not None else None
        verdicts = [skip] if skip is not None else _verdicts(r.check(subject, ctx))
    except Exception as exc:  # a broken rule must not pass anything
        return [Verdict(Status.UNKNOWN, f"rule error: {type(exc).__name__}: {exc}")]
    gaps = [f"{name}: {partial[name]}" for name in sorted(attrs_read & partial.keys())]
    if ctx.evidence is not None:
        gaps += [why for t in sorted(ctx.reads) if (why := ctx.evidence.missing(t, res.region))]
    if not gaps:
        return verdicts
    return [v if v.status is Status.UNKNOWN else
            Verdict(Status.UNKNOWN, f"evidence not observed: {'; '.join(gaps)} (never judged on missing evidence)")
            for v in verdicts]


def evaluate(pack: RulePack, resources: Sequence[Resource], settings: RuleSettings | None = None,
             suppressions: Suppressions | None = None, **context: Any) -> list[Finding]:
    """Run every rule on every resource of its types; one Finding per verdict."""
    by_type: dict[str, list[Resource]] = {}
    for res in resources:
        by_type.setdefault(res.type, []).append(res)
    ctx = RuleContext(resources=by_type, settings=settings or RuleSettings(), **context)
    suppressions = suppressions or Suppressions()
    findings: list[Finding] = []
    for r in pack.rules:
        for tf_type in r.meta.resource_types:
            for res in by_type.get(tf_type, ()):
                verdicts = _check(r, res, ctx)
                names = (f"{res.type}.{res.id}", res.address or "")
                for v in verdicts:
                    location = res.attributes.get("_location") if isinstance(res.attributes, dict) else None
                    findings.append(Finding(
                        rule_id=r.meta.id, status=v.status, severity=r.meta.severity, resource_type=res.type,
                        resource_id=res.id, address=res.address, origin=res.origin.value, message=v.message,
                        value=v.value, file=(location or {}).get("file"), line=(location or {}).get("line"),
                        suppressed_by=suppressions.match(r.meta.id, names) if v.status is Status.FAIL else None))
    return findings
