"""Secret detection for the SEC rules: what the Terraform text hard-codes, and which values look secret.

The code loader redacts secret-named string values before any rule runs (`auditor.code.loader`), so
content checks cannot work on `Resource` attributes. This module reads the raw text once more, per
file, and hands the rules pseudo-resources that carry only *masked* findings (`mask`): the raw value
never leaves this module.

Pseudo-resources (`source_resources(root)`, Origin.CODE, one set per root module and the local
modules it calls; addresses under the calling module, e.g. `module.db.var.password`):

* `terraform_file` — one per `.tf`, `.tf.json` file (and `.tfvars`, `.tfvars.json` of the root); address
  `terraform_file.<file name as an identifier>` (`main.tf` -> `terraform_file.main_tf`). Attributes:
  `path` (relative to the root module, as `_location.file`) and `secrets`: a list of
  `{"line", "kind", "where", "masked", "aws"}` (`aws` True for AWS credentials, SEC-01; the other
  secrets are SEC-04). `_location.line` is the first finding's line.
* `terraform_variable` — one per `variable` block, address `var.<name>`: `name`, `sensitive`
  (True/False, an Unresolved when not a literal bool), `secret_name` (the redactor's name rule),
  `secrets` (findings inside its `default`).
* `terraform_output` — one per `output` block, address `output.<name>`: `name`, `sensitive`,
  `secret_name`, `secret_sources` (why its value looks secret: references to sensitive or
  secret-named values), `secrets` (findings inside its `value`).

Detection (`scan_text`): detect-secrets' plugins line by line, with its false-positive filters and
its `# pragma: allowlist secret` comment, never with its network verification. Pattern plugins
(AWS keys, private keys, service tokens) count anywhere; the keyword plugin counts as it matches;
the high-entropy plugins count only where the attribute (or the variable, for a `default`) is
secret-named, since hashes, digests and ARN suffixes are high-entropy too. Literal strings assigned to
secret-named attributes and object keys count even when no plugin recognises their content.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditor.code.values import Ref, Template
from auditor.models import Origin, Resource, Unresolved
from auditor.state.address import AddressError, is_identifier, parse_instance_address
from auditor.state.redact import name_tokens, secret_names

# detect-secrets and auditor.code.syntax (python-hcl2) are imported where they are used: the built-in rules
# import this module, and a scan answered from the cache (`auditor.scan.cache`) reads no code.
if TYPE_CHECKING:
    from detect_secrets.plugins.base import BasePlugin

    from auditor.code import syntax as s

FILE_TYPE = "terraform_file"
VARIABLE_TYPE = "terraform_variable"
OUTPUT_TYPE = "terraform_output"
SOURCE_SUFFIXES = (".tf", ".tf.json", ".tfvars", ".tfvars.json")
MAX_MODULE_DEPTH = 32

AWS_ENV_NAMES = frozenset({"aws_access_key_id", "aws_secret_access_key", "aws_session_token",
                           "ecs_engine_auth_data"})
"""Environment names AWS Config's ecs-no-environment-secrets checks by default, besides the name rule."""

_AWS_SHAPES = (
    re.compile(r"(?:A3T[A-Z0-9]|ABIA|ACCA|AKIA|ASIA)[0-9A-Z]{16}"),  # access key id
    re.compile(r"[A-Za-z0-9/+=]{40}"),  # secret access key
    re.compile(r"[A-Za-z0-9/+=]{100,}"),  # session token
)
_NOT_A_PLUGIN = frozenset({"IPPublicDetector"})  # an address in a CIDR block is not a secret
_KEYWORD = "Secret Keyword"
_LITERAL = "Literal value of a secret-named argument"


def mask(secret: str) -> str:
    """`AKIA**** (20 chars)`: at most a quarter of the value (never more than 4 characters), and its length."""
    shown = min(4, len(secret) // 4)
    return f"{secret[:shown]}**** ({len(secret)} chars)"


def is_secret_name(name: str) -> bool:
    """Whether a name (argument, variable, environment variable) says it holds a secret.

    The state redactor's rule (`auditor.state.redact`), plus the AWS credential variables that rule
    leaves out (`AWS_ACCESS_KEY_ID` holds the harmless token `id`, but never travels alone).
    """
    return name.lower() in AWS_ENV_NAMES or secret_names().is_secret(name)


# --- detect-secrets ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Plugins:
    pattern: tuple[BasePlugin, ...]
    keyword: BasePlugin
    entropy: tuple[BasePlugin, ...]
    keyword_hint: re.Pattern[str]  # any DENYLIST word, in any case
    aws_type: str  # what the AWS key plugin calls its findings


@cache
def _plugins() -> _Plugins:
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.plugins.aws import AWSKeyDetector
    from detect_secrets.plugins.high_entropy_strings import HighEntropyStringsPlugin
    from detect_secrets.plugins.keyword import DENYLIST, KeywordDetector

    classes: list[type[BasePlugin]] = list(get_mapping_from_secret_type_to_class().values())
    made = [cls() for cls in classes if cls.__name__ not in _NOT_A_PLUGIN]
    return _Plugins(
        pattern=tuple(p for p in made if not isinstance(p, KeywordDetector | HighEntropyStringsPlugin)),
        keyword=KeywordDetector(),
        entropy=tuple(p for p in made if isinstance(p, HighEntropyStringsPlugin)),
        keyword_hint=re.compile("|".join(DENYLIST), re.IGNORECASE),
        aws_type=AWSKeyDetector.secret_type,
    )


class _KeywordHint:
    """Every pattern of the keyword plugin contains one of its DENYLIST words (some patterns ignore
    case, some do not): a line holding none of them, in any case, cannot match, and skips the plugin."""

    def search(self, line: str) -> re.Match[str] | None:
        return _plugins().keyword_hint.search(line)


_KEYWORD_HINT = _KeywordHint()


# detect-secrets keeps its settings in a process-wide singleton; a plugin verifies what it finds over
# the network only when that singleton enables verification. Every scan runs under settings without
# it, one scan at a time.
_SETTINGS_LOCK = threading.Lock()
_NO_VERIFICATION: dict[str, Any] = {"plugins_used": [], "filters_used": []}


def _false_positive(secret: str, line: str, plugin: BasePlugin | None) -> bool:
    """detect-secrets' heuristic filters (templated, sequential, uuid-like, id-like, indirect...)."""
    from detect_secrets.filters import heuristic

    return (heuristic.is_sequential_string(secret) or heuristic.is_potential_uuid(secret)
            or heuristic.is_templated_secret(secret) or heuristic.is_prefixed_with_dollar_sign(secret)
            or heuristic.is_not_alphanumeric_string(secret) or heuristic.is_indirect_reference(line)
            or heuristic.is_likely_id_string(secret, line, plugin))


@dataclass(frozen=True, slots=True)
class _Raw:
    """A value found on a line, before masking (never leaves this module)."""

    line: int
    kind: str
    value: str
    entropy_only: bool = False
    names: tuple[str, ...] | None = None  # where the value sits, when known better than by its line


def _detect_lines(lines: Sequence[str], filename: str) -> list[_Raw]:
    from detect_secrets.plugins.high_entropy_strings import HighEntropyStringsPlugin

    plugins = _plugins()
    found: list[_Raw] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        keyword = (plugins.keyword,) if _KEYWORD_HINT.search(line) else ()
        for plugin in (*plugins.pattern, *keyword, *plugins.entropy):
            for hit in plugin.analyze_line(filename=filename, line=line, line_number=number):
                value = hit.secret_value or ""
                if value and not _false_positive(value, line, plugin):
                    found.append(_Raw(number, hit.type, value, isinstance(plugin, HighEntropyStringsPlugin)))
    return found


def value_secret_kind(value: str) -> str | None:
    """What a bare value (an environment value, a log option) looks like by content, None when
    nothing: detect-secrets' pattern plugins (AWS keys, private keys, service tokens) and the AWS key
    id shape. Entropy alone does not count (image digests and commit hashes are random too)."""
    from detect_secrets.filters import heuristic
    from detect_secrets.settings import transient_settings

    if not value or heuristic.is_templated_secret(value) or heuristic.is_not_alphanumeric_string(value):
        return None
    if _AWS_SHAPES[0].fullmatch(value):
        return _plugins().aws_type
    with _SETTINGS_LOCK, transient_settings(_NO_VERIFICATION):
        for plugin in _plugins().pattern:
            if plugin.analyze_line(filename="value", line=value, line_number=1):
                return str(plugin.secret_type)
    return None


def _aws_kind(value: str) -> str | None:
    """The AWS credential a value has the shape of, None when it has none."""
    for shape, kind in zip(_AWS_SHAPES, ("AWS access key id", "AWS secret access key", "AWS session token"),
                           strict=True):
        if shape.fullmatch(value):
            return kind
    return None


# --- where a line is in the configuration ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Place:
    line: int
    names: tuple[str, ...]  # block types and labels, then the argument: ("provider", "aws", "secret_key")
    attribute: s.Attribute | None


def _places(body: s.Body, prefix: tuple[str, ...] = ()) -> Iterator[_Place]:
    for attribute in body.attributes:
        yield _Place(attribute.line, (*prefix, attribute.name), attribute)
    for block in body.blocks:
        names = (*prefix, block.type, *block.labels)
        yield _Place(block.line, names, None)
        yield from _places(block.body, names)


def _describe_place(names: Sequence[str]) -> str:
    out: list[str] = []
    for name in names:
        out.append(json.dumps(name) if out and not is_identifier(name) else name)
    return " ".join(out) if out else "the file"


def _secret_context(names: Sequence[str]) -> bool:
    """The argument (or the variable whose default it is) is secret-named."""
    if not names:
        return False
    if names[0] == "variable" and len(names) >= 3 and names[-1] == "default":
        return is_secret_name(names[1])
    return is_secret_name(names[-1])


def _aws_context(names: Sequence[str]) -> bool:
    """An AWS provider or S3 backend block, or a name mentioning AWS."""
    if tuple(names[:2]) == ("provider", "aws") or tuple(names[:3]) == ("terraform", "backend", "s3"):
        return True
    return any("aws" in name_tokens(n) for n in names)


# --- literal strings under secret names --------------------------------------------------------


def _literal_text(expr: s.Expr) -> str | None:
    from auditor.code import syntax as s

    if isinstance(expr, s.Literal) and isinstance(expr.value, str):
        return expr.value
    if isinstance(expr, s.TemplateExpr) and all(isinstance(p, str) for p in expr.parts):
        return "".join(p for p in expr.parts if isinstance(p, str))
    return None


def _children(node: Any) -> Iterator[Any]:
    """The sub-expressions of a syntax node (dataclass fields, tuples and pairs flattened)."""
    if not dataclasses.is_dataclass(node):
        return
    stack: list[Any] = [getattr(node, f.name) for f in dataclasses.fields(node)]
    while stack:
        item = stack.pop(0)
        if isinstance(item, tuple):
            stack[:0] = list(item)
        elif dataclasses.is_dataclass(item):
            yield item


def _named_literals(expr: s.Expr, names: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], str]]:
    """(names, text) of every literal string in `expr` whose name is secret: the argument itself, or
    a literal object key anywhere inside (`jsonencode({ password = "..." })`)."""
    from auditor.code import syntax as s

    text = _literal_text(expr)
    if text is not None:
        if _secret_context(names):
            yield names, text
        return
    if isinstance(expr, s.ObjectExpr):
        for key, value in expr.items:
            key_name = key.value if isinstance(key, s.Literal) else key.name if isinstance(key, s.Variable) else None
            yield from _named_literals(value, (*names, str(key_name)) if key_name is not None else (*names, "?"))
        return
    for child in _children(expr):
        yield from _named_literals(child, names)


def _line_of(lines: Sequence[str], start: int, text: str) -> int:
    """The first line at or after `start` holding `text` (its first line), else `start`."""
    first = text.splitlines()[0] if text else text
    for number in range(max(start, 1), len(lines) + 1):
        if first and first in lines[number - 1]:
            return number
    return start


# --- findings of one file ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SecretHit:
    """A secret found in a file, masked: where it is and what it looks like, never its value."""

    line: int
    kind: str
    where: str
    masked: str
    aws: bool
    names: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "kind": self.kind, "where": self.where, "masked": self.masked, "aws": self.aws}

    def describe(self) -> str:
        return f"line {self.line}: {self.kind} in {self.where}: {self.masked}"


def _place_of(places: Sequence[_Place], line: int) -> tuple[str, ...]:
    names: tuple[str, ...] = ()
    for place in places:
        if place.line > line:
            break
        names = place.names
    return names


def scan_text(text: str, filename: str, body: s.Body | None) -> list[SecretHit]:
    """Every secret in one file's text (`body`: its parsed HCL, None for JSON syntax), masked."""
    from detect_secrets.filters.allowlist import is_line_allowlisted
    from detect_secrets.settings import transient_settings
    from detect_secrets.util.code_snippet import get_code_snippet

    lines = text.splitlines()
    places = sorted(_places(body), key=lambda p: p.line) if body is not None else []
    with _SETTINGS_LOCK, transient_settings(_NO_VERIFICATION):
        raw = _detect_lines(lines, filename)
    for place in places:
        if place.attribute is None:
            continue
        for names, value in _named_literals(place.attribute.expr, place.names):
            if value and not _false_positive(value, value, None):
                raw.append(_Raw(_line_of(lines, place.line, value), _LITERAL, value, names=names))
    kept: list[tuple[_Raw, tuple[str, ...]]] = []
    for item in sorted(raw, key=lambda r: (r.line, _rank(r))):
        names = item.names if item.names is not None else _place_of(places, item.line)
        if item.entropy_only and not _secret_context(names):
            continue
        if is_line_allowlisted(filename, lines[item.line - 1], get_code_snippet(lines, item.line)):
            continue
        same = next((i for i, (k, _) in enumerate(kept) if k.line == item.line
                     and (item.value in k.value or k.value in item.value)), None)
        if same is None:
            kept.append((item, names))
        elif len(item.value) > len(kept[same][0].value):  # one secret found twice: the better name, the whole value
            kept[same] = (dataclasses.replace(kept[same][0], value=item.value), kept[same][1])
    return [_hit(item, names) for item, names in kept]


def _hit(item: _Raw, names: tuple[str, ...]) -> SecretHit:
    detected = item.kind == _plugins().aws_type
    aws_kind = _aws_kind(item.value) if detected or _aws_context(names) else None
    return SecretHit(item.line, aws_kind or item.kind, _describe_place(names), mask(item.value),
                     detected or aws_kind is not None, names)


def _rank(item: _Raw) -> int:
    """Which name a value found twice keeps: a pattern detector, then the keyword, entropy and literal rules."""
    if item.entropy_only:
        return 2
    return {_KEYWORD: 1, _LITERAL: 3}.get(item.kind, 0)


# --- references of an output value -------------------------------------------------------------


def _traversal(expr: s.Expr) -> tuple[str, ...] | None:
    from auditor.code import syntax as s

    if isinstance(expr, s.Variable):
        return (expr.name,)
    if isinstance(expr, s.GetAttr):
        inner = _traversal(expr.source)
        return None if inner is None else (*inner, expr.name)
    if isinstance(expr, s.Index):
        inner = _traversal(expr.source)
        key = expr.key.value if isinstance(expr.key, s.Literal) else "*"
        return None if inner is None else (*inner, str(key))
    if isinstance(expr, s.Splat):
        inner = _traversal(expr.source)
        return None if inner is None else (*inner, "*")
    return None


def references(expr: Any) -> Iterator[tuple[str, ...]]:
    """The traversals (`var.x`, `aws_db_instance.main.password`) an expression reads."""
    from auditor.code import syntax as s

    path = _traversal(expr) if isinstance(expr, s.Variable | s.GetAttr | s.Index | s.Splat) else None
    if path is not None:
        yield path
        if isinstance(expr, s.Index):
            yield from references(expr.key)
        return
    for child in _children(expr):
        yield from references(child)


_SENSITIVE_RESULTS = {("random_password", "result"), ("random_password", "bcrypt_hash")}
_NOT_VALUES = frozenset({"path", "terraform", "count", "each", "self", "ephemeral"})


def reference_secret(path: tuple[str, ...], sensitive_vars: frozenset[str]) -> str | None:
    """Why a reference reads a secret (a sensitive or secret-named variable, a secret-named attribute,
    local or module output), None when it does not look like one."""
    head = path[0]
    text = ".".join(path)
    if head in _NOT_VALUES:
        return None
    if head == "var" and len(path) > 1:
        if path[1] in sensitive_vars:
            return f"{text} (a sensitive variable)"
        return f"{text} (a secret-named variable)" if is_secret_name(path[1]) else None
    if head in ("local", "module"):
        steps = path[1:] if head == "local" else path[2:3]
    elif head == "data":
        steps = path[3:]
    else:
        if tuple(path[:1]) + tuple(path[2:3]) in _SENSITIVE_RESULTS:
            return f"{text} (a generated password)"
        steps = path[2:]
    named = [step for step in steps if step not in ("*",) and not step.isdigit()]
    return f"{text} (a secret-named value)" if any(is_secret_name(step) for step in named) else None


# --- sources of unknown values (SEC-02) --------------------------------------------------------

_VARIABLE_IN_REASON = re.compile(r"\bvar\.([A-Za-z_][A-Za-z0-9_-]*)")


def _ref_secret(ref: Ref) -> str | None:
    try:
        target = parse_instance_address(ref.address)
    except AddressError:
        return None
    attribute = [a for a in re.split(r"[.\[\]\"]+", ref.attribute) if a]
    head = ("data",) if target.mode == "data" else ()
    return reference_secret((*head, target.type, target.name, *attribute), frozenset())


def unknown_secret_source(value: Unresolved) -> str | None:
    """Why a value known only at apply time is a secret, from where it comes: a sensitive variable, a
    secret-named variable or attribute. None when its sources do not look secret."""
    parts = value.parts if isinstance(value, Template) else (value,)
    for part in parts:
        if not isinstance(part, Unresolved):
            continue
        if isinstance(part, Ref):
            found = _ref_secret(part)
            if found:
                return found
            continue
        if part.reason.endswith(" is sensitive"):
            return f"{part.reason.removesuffix(' is sensitive')} (a sensitive value)"
        for name in _VARIABLE_IN_REASON.findall(part.reason):
            if is_secret_name(name):
                return f"var.{name} (a secret-named variable)"
    return None


# --- pseudo-resources --------------------------------------------------------------------------


def _literal_bool(body: s.Body, name: str) -> bool | Unresolved:
    from auditor.code import syntax as s

    attribute = body.attribute(name)
    if attribute is None:
        return False
    if isinstance(attribute.expr, s.Literal) and isinstance(attribute.expr.value, bool):
        return attribute.expr.value
    return Unresolved(f"{name} is not a literal bool")


def _file_label(name: str, taken: set[str]) -> str:
    label = re.sub(r"[^A-Za-z0-9_-]", "_", name)
    if not re.match(r"[A-Za-z_]", label):
        label = f"_{label}"
    while label in taken:
        label += "_"
    taken.add(label)
    return label


@dataclass(frozen=True, slots=True)
class _Module:
    directory: Path
    prefix: str  # "" or "module.a.module.b."


@dataclass(frozen=True, slots=True)
class _Read:
    path: Path
    body: s.Body | None  # None for JSON syntax
    hits: tuple[SecretHit, ...]


class _Walk:
    """One root module: its files, variables and outputs, and those of the local modules it calls."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.out: list[Resource] = []
        self.read: dict[Path, _Read] = {}
        self.labels: dict[str, set[str]] = {}
        self.folders: set[Path] = {self.root}  # every module folder looked at, missing ones too

    def rel(self, path: Path) -> str:
        return Path(os.path.relpath(path, self.root)).as_posix()

    def module(self, module: _Module, ancestors: tuple[Path, ...]) -> None:
        from auditor.code import syntax as s

        names = (".tf", ".tf.json") if ancestors else SOURCE_SUFFIXES  # a child module takes no tfvars
        files = [self.file(module, p) for p in sorted(module.directory.iterdir())
                 if p.is_file() and p.name.endswith(names) and not p.name.startswith(".")]
        configs = [(f, f.body) for f in files if f.body is not None and f.path.name.endswith(".tf")]
        sensitive = frozenset(b.labels[0] for _, body in configs for b in body.blocks_of("variable")
                              if _literal_bool(b.body, "sensitive") is True)
        for read, body in configs:
            self.declarations(module, read, body, sensitive)
        for _, body in configs:
            for block in body.blocks_of("module"):
                source = block.body.attribute("source")
                text = source.expr.value if source is not None and isinstance(source.expr, s.Literal) else None
                if not isinstance(text, str) or not text.startswith(("./", "../")):
                    continue
                child = (module.directory / text).resolve()
                self.folders.add(child)
                if child.is_dir() and child not in (*ancestors, module.directory) and len(ancestors) < MAX_MODULE_DEPTH:
                    self.module(_Module(child, f"{module.prefix}module.{block.labels[0]}."),
                                (*ancestors, module.directory))

    def file(self, module: _Module, path: Path) -> _Read:
        """Read and judge one file once (a module called twice is read once)."""
        from auditor.code import syntax as s

        real = path.resolve()
        if real in self.read:
            return self.read[real]
        rel = self.rel(real)
        text = real.read_text(encoding="utf-8", errors="replace")
        body = s.parse_text(text, rel) if real.name.endswith((".tf", ".tfvars")) else None
        read = self.read[real] = _Read(real, body, tuple(scan_text(text, rel, body)))
        label = _file_label(real.name, self.labels.setdefault(module.prefix, set()))
        address = f"{module.prefix}{FILE_TYPE}.{label}"
        attributes = {"path": rel, "secrets": [h.as_dict() for h in read.hits],
                      "_location": {"file": rel, "line": read.hits[0].line if read.hits else 1}}
        self.out.append(Resource(type=FILE_TYPE, id=address, attributes=attributes, origin=Origin.CODE,
                                 address=address, source=str(real)))
        return read

    def declarations(self, module: _Module, read: _Read, body: s.Body, sensitive: frozenset[str]) -> None:
        rel = self.rel(read.path)
        for block in body.blocks_of("variable"):
            name = block.labels[0]
            address = f"{module.prefix}var.{name}"
            self.out.append(Resource(
                type=VARIABLE_TYPE, id=address, address=address, origin=Origin.CODE, source=str(read.path),
                attributes={"name": name, "sensitive": _literal_bool(block.body, "sensitive"),
                            "secret_name": is_secret_name(name),
                            "secrets": [h.as_dict() for h in read.hits if h.names[:3] == ("variable", name, "default")],
                            "_location": {"file": rel, "line": block.line}}))
        for block in body.blocks_of("output"):
            name = block.labels[0]
            address = f"{module.prefix}output.{name}"
            value = block.body.attribute("value")
            found = [reference_secret(p, sensitive) for p in (references(value.expr) if value is not None else ())]
            self.out.append(Resource(
                type=OUTPUT_TYPE, id=address, address=address, origin=Origin.CODE, source=str(read.path),
                attributes={"name": name, "sensitive": _literal_bool(block.body, "sensitive"),
                            "secret_name": is_secret_name(name),
                            "secret_sources": sorted({f for f in found if f}),
                            "secrets": [h.as_dict() for h in read.hits if h.names[:2] == ("output", name)],
                            "_location": {"file": rel, "line": block.line}}))


def read_sources(root: Path) -> tuple[list[Resource], frozenset[Path]]:
    """The `terraform_file`, `terraform_variable` and `terraform_output` pseudo-resources of the root
    module in `root` and of the local modules it calls (see the module docstring), and every module
    folder the walk looked at (resolved; a called folder that does not exist included)."""
    walk = _Walk(Path(root))
    walk.module(_Module(walk.root, ""), ())
    return walk.out, frozenset(walk.folders)


def source_resources(root: Path) -> list[Resource]:
    """The pseudo-resources of `read_sources`."""
    return read_sources(root)[0]


def hits_of(resource: Resource | Mapping[str, Any], *, aws: bool | None = None) -> list[Mapping[str, Any]]:
    """The masked findings a pseudo-resource carries (only the AWS ones, or only the others)."""
    attributes = resource.attributes if isinstance(resource, Resource) else resource
    found = attributes.get("secrets") or []
    return [h for h in found if isinstance(h, Mapping) and (aws is None or bool(h.get("aws")) is aws)]


def describe_hits(hits: Iterable[Mapping[str, Any]]) -> str:
    return "; ".join(f"line {h['line']}: {h['kind']} in {h['where']}: {h['masked']}" for h in hits)
