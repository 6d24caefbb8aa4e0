"""The scan result cache: `audit scan` of unchanged code reads its findings instead of recomputing them.

What is stored is `auditor.scan.code.judge_code` of one folder: the findings (none suppressed) and the notes.
Suppressions are applied after loading, as on a fresh scan, so neither they nor today's date are in
the key. One JSON file per scanned folder (`<cache dir>/scan/<sha256 of its resolved path>[:32].json`)
holds the last result with its key; another key overwrites it, and only the MAX_ENTRIES files written
last are kept (scans of many folders, such as temporary ones, do not pile up).

The key is a sha256 over: this format's version; auditor's version and the digest of its own source
files; the versions of python-hcl2, lark and detect-secrets; Python major.minor; the scanned folder
(resolved); every RuleSettings field; each rule file of the pack (path and sha256); and the folder's
tree: every file under it (relative path, sha256 of its bytes; a symbolic link also by its target),
`.terraform` and `.git` folders skipped, and the cache's own folder when it lies inside.

Never cached (computed every time): a tree over MAX_FILES files or MAX_BYTES bytes, or with an unreadable
file; a scan that read a folder outside the scanned one or inside a skipped folder (a `../shared`
module, `file(".git/HEAD")`), since the tree digest does not cover it; a result whose `extra` does not
survive JSON unchanged; a result whose key changed while it was computed (a file edited meanwhile).
A finding's `value` is stored as the reports show it (`report.findings.shown_value`). Secret values
never reach a finding (the SEC rules carry masked ones only), so never this file. Reading treats any
error as a miss, and writing ignores any OSError (a debug log line each): the cache never fails a scan.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import orjson

from auditor import __version__
from auditor.models import Finding, Severity, Status
from auditor.report.findings import shown_value
from auditor.rules.engine import RulePack
from auditor.rules.settings import RuleSettings
from auditor.scan.code import CodeScan

log = logging.getLogger(__name__)

FORMAT = 1
MAX_FILES = 20_000
MAX_BYTES = 64 << 20
MAX_ENTRIES = 128
SKIPPED = frozenset({".terraform", ".git"})
PACKAGES = ("python-hcl2", "lark", "detect-secrets")
_FIELDS = frozenset(f.name for f in dataclasses.fields(Finding)) - {"suppressed_by"}
_SCALARS = (str, int, float, bool, None)

Compute = Callable[[Path, RulePack, RuleSettings], CodeScan]


class _NotStored(Exception):
    """A result the cache cannot hold exactly."""


class ScanCache:
    """Scan results under `directory`/scan."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    @classmethod
    def default(cls) -> ScanCache | None:
        """$AUDITOR_CACHE_DIR, else $XDG_CACHE_HOME/auditor, else ~/.cache/auditor (None without a home)."""
        if os.environ.get("AUDITOR_CACHE_DIR"):
            return cls(Path(os.environ["AUDITOR_CACHE_DIR"]))
        xdg = os.environ.get("XDG_CACHE_HOME", "")
        if os.path.isabs(xdg):  # the XDG spec ignores a relative path
            return cls(Path(xdg) / "auditor")
        try:
            return cls(Path.home() / ".cache" / "auditor")
        except RuntimeError:
            log.debug("scan cache: no home folder, not used")
            return None

    def entry(self, root: Path) -> Path:
        """The file holding the result for `root`."""
        name = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:32]
        return self.directory / "scan" / f"{name}.json"

    def judge_code(self, root: Path, pack: RulePack, settings: RuleSettings, compute: Compute) -> CodeScan:
        """The stored result when its key matches, else `compute(root, pack, settings)`, stored when it may be."""
        real = root.resolve()
        key = scan_key(real, pack, settings, self.directory)
        if key is None:
            return compute(root, pack, settings)
        entry = self.entry(real)
        found = _load(entry, key, frozenset(r.meta.id for r in pack.rules))
        if found is not None:
            return found
        code = compute(root, pack, settings)
        outside = sorted(str(f) for f in code.folders if not _covered(f, real))
        if outside:
            log.debug("scan cache: %s read %s, outside its tree digest: not stored", root, ", ".join(outside))
        elif scan_key(real, pack, settings, self.directory) != key:
            log.debug("scan cache: %s changed during the scan: not stored", root)
        else:
            _store(entry, key, code)
        return code


def scan_key(root: Path, pack: RulePack, settings: RuleSettings, cache_dir: Path | None = None) -> str | None:
    """The key of a scan of `root` (resolved): None when it must not be cached (see the module docstring)."""
    try:
        tree = _tree(root, str(cache_dir.resolve()) if cache_dir is not None else None)
        if tree is None:
            return None
        rules = [(str(Path(p).resolve()), _digest(p)) for p in pack.sources]
    except OSError as exc:
        log.debug("scan cache: %s: not cached (%s)", root, exc)
        return None
    document = {
        "format": FORMAT, "auditor": [__version__, _auditor_digest()], "packages": _versions(),
        "python": list(sys.version_info[:2]), "root": str(root), "settings": dataclasses.asdict(settings),
        "rules": rules, "tree": tree,
    }
    return hashlib.sha256(orjson.dumps(document, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _digest(path: str | Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


@cache
def _auditor_digest() -> str:
    """The sha256 of auditor's own source files: a development checkout changes without a new version."""
    package = Path(__file__).resolve().parent
    files = sorted(package.rglob("*.py"))
    return hashlib.sha256(b"".join(f"{p.relative_to(package)}\0{_digest(p)}\n".encode() for p in files)).hexdigest()


def _versions() -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    found: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def _tree(root: Path, skip: str | None) -> list[tuple[str, str]] | None:
    """(relative path, content digest) of every entry under `root`, sorted; None when over the bounds.

    A symbolic link is also described by where it leads (its content when that is a file), so that
    retargeting one is a change; symlinked folders are not walked. Other special files are only named.
    `skip`: a resolved folder left out (the cache's, whose every write would else change the tree).
    """
    entries: list[tuple[str, str]] = []
    size = 0
    pending = [(str(root), "")]
    while pending:
        folder, prefix = pending.pop()
        with os.scandir(folder) as listing:
            for item in listing:
                rel = prefix + item.name
                if item.name in SKIPPED or item.path == skip:
                    continue
                if item.is_symlink():
                    target = os.path.realpath(item.path)
                    is_file = os.path.isfile(target)
                    size += os.path.getsize(target) if is_file else 0
                    entries.append((rel, f"-> {target} {_digest(target) if is_file else ''}"))
                elif item.is_dir():
                    pending.append((item.path, rel + "/"))
                    continue
                elif item.is_file():
                    size += item.stat().st_size
                    entries.append((rel, _digest(item.path)))
                else:
                    entries.append((rel, "special"))
                if len(entries) > MAX_FILES or size > MAX_BYTES:
                    log.debug("scan cache: %s holds over %d files or %d bytes: not cached", root, MAX_FILES, MAX_BYTES)
                    return None
    return sorted(entries)


def _covered(folder: Path, root: Path) -> bool:
    """Whether the tree digest of `root` covers the files of `folder` (both resolved)."""
    return folder.is_relative_to(root) and not SKIPPED.intersection(folder.relative_to(root).parts)


# ---------------------------------------------------------------- the file


def _stored(f: Finding) -> dict[str, Any]:
    extra = dict(f.extra)
    if orjson.loads(orjson.dumps(extra)) != extra:
        raise _NotStored(f"{f.rule_id} on {f.address or f.resource_id}: extra does not survive JSON")
    return {"rule_id": f.rule_id, "status": f.status.value, "severity": f.severity.value,
            "resource_type": f.resource_type, "resource_id": f.resource_id, "address": f.address,
            "origin": f.origin, "message": f.message, "value": shown_value(f.value), "file": f.file,
            "line": f.line, "extra": extra}


def _store(entry: Path, key: str, code: CodeScan) -> None:
    try:
        data = orjson.dumps({"key": key, "findings": [_stored(f) for f in code.findings], "notes": list(code.notes)})
    except (_NotStored, orjson.JSONEncodeError) as exc:
        log.debug("scan cache: result not stored: %s", exc)
        return
    try:
        entry.parent.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        entry.parent.mkdir(mode=0o700, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{entry.name}.", suffix=".tmp", dir=entry.parent)  # mode 0600
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, entry)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        for old in sorted(entry.parent.iterdir(), key=lambda p: p.stat().st_mtime_ns)[:-MAX_ENTRIES]:
            old.unlink(missing_ok=True)
    except OSError as exc:
        log.debug("scan cache: cannot write %s: %s", entry, exc)


def _load(entry: Path, key: str, rule_ids: frozenset[str]) -> CodeScan | None:
    """The result stored in `entry` under `key`, None on a miss or anything unexpected."""
    try:
        document = orjson.loads(entry.read_bytes())
        if not isinstance(document, dict) or document.get("key") != key:
            log.debug("scan cache: %s is for another key", entry)
            return None
        findings = tuple(_finding(item, rule_ids) for item in _typed(document["findings"], list))
        notes = tuple(_typed(note, str) for note in _typed(document["notes"], list))
    except FileNotFoundError:
        log.debug("scan cache: no %s", entry)
        return None
    except (OSError, orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        log.debug("scan cache: %s unusable: %s: %s", entry, type(exc).__name__, exc)
        return None
    return CodeScan(findings, notes)


def _finding(item: Any, known: frozenset[str]) -> Finding:
    if not isinstance(item, Mapping) or item.keys() != _FIELDS:
        raise ValueError("a finding of another shape")
    if item["rule_id"] not in known:
        raise ValueError(f"unknown rule {item['rule_id']!r}")
    return Finding(
        rule_id=item["rule_id"], status=Status(item["status"]), severity=Severity(item["severity"]),
        resource_type=_typed(item["resource_type"], str), resource_id=_typed(item["resource_id"], str),
        address=_typed(item["address"], str, None), origin=_typed(item["origin"], str),
        message=_typed(item["message"], str), value=_typed(item["value"], *_SCALARS),
        file=_typed(item["file"], str, None), line=_typed(item["line"], int, None),
        extra=_typed(item["extra"], dict))


def _typed(value: Any, *types: type | None) -> Any:
    """`value` when it is of one of `types` (None: null; an int is no bool), else a TypeError."""
    allowed = tuple(type(None) if t is None else t for t in types)
    if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
        raise TypeError(f"{type(value).__name__} where {', '.join(t.__name__ for t in allowed)} is expected")
    return value
