"""Terraform code (a root module folder) -> Resources in the provider's state shape.

`load_code(root)` parses every `*.tf` file of `root` and of the local modules it calls, evaluates
what can be known statically (see `evaluate` and `values`), expands `count` / `for_each`, and
returns one `Resource(origin=CODE)` per resource instance, with `id` = its address.

Attribute shape: arguments by their HCL names; nested blocks as lists of objects
(`health_check = [{...}]`); maps as dicts; sets as sorted lists. Keys starting with `_` are
annotations, never provider attributes: `_location` (`{"file", "line"}` of the resource block,
file relative to `root`), `_lifecycle` (the `lifecycle` block, when there is one) and
`_decoded_<name>` (the structure of a partially known `jsonencode(...)` attribute). String
values under secret-looking names are redacted as in state (`auditor.state.redact`).

What cannot be expanded statically (a `for_each` over a data source, a remote module source)
is listed in `CodeModule.unexpanded` with the reason, and no instance of it is guessed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from auditor.catalog import canonical_type
from auditor.code import syntax as s
from auditor.code.evaluate import Namespace, Scope, evaluate, iterate, to_bool, to_number, to_string
from auditor.code.functions import make_set
from auditor.code.values import Encoded, EvalError, HclSet, Ref, Template, Unresolved
from auditor.errors import ConfigError
from auditor.models import Origin, Resource
from auditor.state.address import (
    InstanceKey,
    ModulePath,
    ModuleStep,
    format_module,
    format_resource_instance,
    resource_order,
)
from auditor.state.model import REDACTED
from auditor.state.redact import secret_names

T = TypeVar("T")

RESOURCE_META = frozenset({"count", "for_each", "depends_on", "provider", "lifecycle", "provisioner",
                           "connection"})
MODULE_META = frozenset({"source", "version", "count", "for_each", "depends_on", "providers"})
MAX_FILE_BYTES = 1 << 20
MAX_MODULE_DEPTH = 32


@dataclass(frozen=True, slots=True)
class Unexpandable:
    """A resource or module call whose instances cannot be known statically, and why."""

    address: str
    reason: str
    file: str | None = None
    line: int | None = None


@dataclass(frozen=True, slots=True)
class CodeModule:
    """Everything a root module declares, as far as it can be known without Terraform."""

    resources: tuple[Resource, ...]
    data_sources: tuple[Resource, ...]
    backend: Mapping[str, Any] | None
    unexpanded: tuple[Unexpandable, ...]
    files: tuple[str, ...]
    problems: tuple[str, ...]
    # every folder the load read (resolved): module folders, called ones that do not exist included,
    # and the folders of the files `file()` and `templatefile()` read
    directories: frozenset[Path] = frozenset()


def load_code(root: Path, *, var_overrides: Mapping[str, Any] | None = None) -> CodeModule:
    """Load the root module in `root` (and its local child modules).

    Variable values: defaults, then `terraform.tfvars[.json]`, then `*.auto.tfvars[.json]` in
    lexical order, then `var_overrides`. Malformed HCL and a folder without `.tf` files raise a
    one-line ConfigError.
    """
    root = Path(root)
    if not root.is_dir():
        raise ConfigError(f"{root}: not a directory", "pass the folder that holds the .tf files")
    session = _Session(root)
    managed: list[tuple[tuple[object, ...], Resource]] = []
    data: list[tuple[tuple[object, ...], Resource]] = []
    try:
        definition = session.module_def(root.resolve())
        if definition is None:
            raise ConfigError(f"{root}: no .tf files", "pass the folder that holds the .tf files")
        inputs = session.root_inputs(definition, var_overrides or {})
        top = _ModuleInstance(session, definition, (), inputs, {}, ())
        top.providers = top.provider_regions({})
        session.walk(top, managed, data)
    except RecursionError:
        raise ConfigError(f"{root}: the configuration nests too deeply to evaluate") from None
    return CodeModule(
        resources=tuple(r for _, r in sorted(managed, key=lambda item: item[0])),
        data_sources=tuple(r for _, r in sorted(data, key=lambda item: item[0])),
        backend=session.backend(definition),
        unexpanded=tuple(sorted(session.unexpanded, key=lambda u: u.address)),
        files=tuple(sorted(session.files)),
        problems=tuple(session.problems),
        directories=frozenset(session.directories),
    )


def declared_addresses(module: CodeModule) -> frozenset[str]:
    """Every resource instance address the code declares, as `terraform state list` prints
    them (data sources included; unexpandable resources have none)."""
    return frozenset(r.address for r in (*module.resources, *module.data_sources) if r.address)


# --- static structure of one module folder --------------------------------------------------


@dataclass(slots=True)
class _ModuleDef:
    directory: Path
    rel: str  # path.module: relative to the root, "." for the root itself
    variables: dict[str, s.Block] = field(default_factory=dict)
    locals: dict[str, s.Attribute] = field(default_factory=dict)
    local_files: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, s.Block] = field(default_factory=dict)
    resources: dict[tuple[str, str, str], s.Block] = field(default_factory=dict)
    modules: dict[str, s.Block] = field(default_factory=dict)
    providers: list[s.Block] = field(default_factory=list)
    backend: s.Block | None = None


_LABELS = {"variable": 1, "output": 1, "module": 1, "resource": 2, "data": 2, "provider": 1}


def _collect(definition: _ModuleDef, file: s.ConfigFile, *, override: bool, note: Callable[[str], None]) -> None:
    """Add the top-level blocks of one file to `definition` (merging them when `override`)."""
    for block in file.body.blocks:
        expected = _LABELS.get(block.type)
        if expected is not None and len(block.labels) != expected:
            raise ConfigError(f"{block.file}:{block.line}: a {block.type} block takes {expected} label(s)",
                              "fix the file (terraform validate shows the error)")
        if block.type == "locals":
            for attribute in block.body.attributes:
                if attribute.name in definition.locals and not override:
                    first = f"{definition.local_files[attribute.name]}:{definition.locals[attribute.name].line}"
                    raise _duplicate(block.file, attribute.line, f"local.{attribute.name}", first)
                definition.locals[attribute.name] = attribute
                definition.local_files[attribute.name] = block.file
        elif block.type == "terraform":
            for inner in block.body.blocks:
                if inner.type == "backend" and inner.labels:
                    if definition.backend is not None and not override:
                        raise _duplicate(inner.file, inner.line, "backend", _where(definition.backend))
                    definition.backend = inner
                elif inner.type == "cloud":
                    note(f"{inner.file}:{inner.line}: HCP Terraform `cloud` block: no backend settings read")
        elif block.type == "provider":
            definition.providers.append(block)
        elif block.type in ("resource", "data"):
            mode = "managed" if block.type == "resource" else "data"
            what = ("data." if mode == "data" else "resource ") + ".".join(block.labels)
            _put(definition.resources, (mode, block.labels[0], block.labels[1]), block, what, override, note)
        elif expected is not None:
            tables = {"variable": definition.variables, "output": definition.outputs, "module": definition.modules}
            what = f"{block.type} {block.labels[0]}"
            _put(tables[block.type], block.labels[0], block, what, override, note)


K = TypeVar("K")


def _put(table: dict[K, s.Block], key: K, block: s.Block, what: str, override: bool,
         note: Callable[[str], None]) -> None:
    if key in table:
        if not override:
            raise _duplicate(block.file, block.line, what, _where(table[key]))
        table[key] = _merge(table[key], block)
    elif override:
        note(f"{block.file}:{block.line}: override of {what} which is not declared: ignored")
    else:
        table[key] = block


def _merge(original: s.Block, override: s.Block) -> s.Block:
    """Terraform's override merge: arguments replace by name, nested block types wholesale."""
    replaced = {a.name: a for a in override.body.attributes}
    attributes = [replaced.pop(a.name, a) for a in original.body.attributes]
    attributes.extend(replaced.values())
    overridden = {b.type for b in override.body.blocks}
    blocks = [b for b in original.body.blocks if b.type not in overridden] + list(override.body.blocks)
    return s.Block(original.type, original.labels, s.Body(tuple(attributes), tuple(blocks)), original.line,
                   original.file)


def _duplicate(file: str, line: int, what: str, first: str) -> ConfigError:
    return ConfigError(f"{file}:{line}: duplicate {what} (first declared at {first})",
                       "fix the file (terraform validate shows the error)")


def _where(block: s.Block) -> str:
    return f"{block.file}:{block.line}"


# --- the loading session: files, memo, problems ---------------------------------------------


class _Session:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.base = root.resolve()
        self.problems: dict[str, None] = {}
        self.unexpanded: list[Unexpandable] = []
        self.files: set[str] = set()
        self.directories: set[Path] = set()
        self.defs: dict[Path, _ModuleDef | None] = {}
        self.memo: dict[tuple[Any, ...], Any] = {}
        self.active: dict[tuple[Any, ...], str] = {}
        self.secrets = secret_names()

    def note(self, message: str) -> None:
        self.problems.setdefault(message, None)

    def rel(self, path: Path) -> str:
        return Path(os.path.relpath(path, self.base)).as_posix()

    def remember(self, key: tuple[Any, ...], label: str, compute: Callable[[], T]) -> T | EvalError:
        """Compute once; a value that needs itself is a cycle (an error, as in Terraform)."""
        if key in self.memo:
            return self.memo[key]
        if key in self.active:
            chain = list(self.active.values())
            loop = " -> ".join([*chain[chain.index(self.active[key]):], label])
            return EvalError(f"cycle: {loop}")
        self.active[key] = label
        try:
            value: T | EvalError = compute()
        finally:
            del self.active[key]
        self.memo[key] = value
        return value

    def module_def(self, directory: Path) -> _ModuleDef | None:
        """The parsed module in `directory` (None when it holds no .tf file)."""
        self.directories.add(directory)
        if directory not in self.defs:
            self.defs[directory] = self._parse_module(directory)
        return self.defs[directory]

    def _parse_module(self, directory: Path) -> _ModuleDef | None:
        paths = sorted(p for p in directory.glob("*.tf") if p.is_file() and not p.name.startswith("."))
        for ignored in sorted(directory.glob("*.tf.json")):
            self.note(f"{self.rel(ignored)}: JSON configuration syntax is not read; its declarations are missing")
        if not paths:
            return None
        definition = _ModuleDef(directory, self.rel(directory))
        parsed = [s.parse_file(p, self.rel(p)) for p in paths]
        self.files.update(f.path for f in parsed)
        primary = [f for f in parsed if not _is_override(f.path)]
        for file in primary:
            _collect(definition, file, override=False, note=self.note)
        for file in parsed:
            if _is_override(file.path):
                _collect(definition, file, override=True, note=self.note)
        return definition

    def read_file(self, path: str, allowed: Iterable[Path]) -> str | Unresolved:
        """`file(path)`: relative to the root (Terraform's working directory), and only inside
        the root or a loaded module folder, so a scan never reads elsewhere on the machine."""
        target = (self.base / path).resolve()
        if not any(target.is_relative_to(d) for d in (self.base, *allowed)):
            return Unresolved(f"file {path!r} is outside the configuration: not read")
        self.directories.add(target.parent)
        try:
            if target.stat().st_size > MAX_FILE_BYTES:
                return Unresolved(f"file {path!r} is larger than {MAX_FILE_BYTES} bytes: not read")
            return target.read_text(encoding="utf-8")
        except FileNotFoundError:
            return EvalError(f"no file {path!r}")
        except (OSError, UnicodeDecodeError) as exc:
            return EvalError(f"cannot read {path!r}: {exc.__class__.__name__}")

    def root_inputs(self, definition: _ModuleDef, overrides: Mapping[str, Any]) -> dict[str, Callable[[], Any]]:
        """Root variable values from tfvars files and overrides (later sources win)."""
        values: dict[str, Any] = {}
        names = ["terraform.tfvars", "terraform.tfvars.json"]
        autos = sorted(p.name for p in self.root.iterdir()
                       if p.name.endswith((".auto.tfvars", ".auto.tfvars.json")) and p.is_file())
        constant = Scope(_Constant(self, "a .tfvars file"))
        for name in [*names, *autos]:
            path = self.root / name
            if not path.is_file():
                continue
            display = self.rel(path.resolve())
            if name.endswith(".json"):
                try:
                    document = json.loads(path.read_text(encoding="utf-8"))
                except (OSError, UnicodeDecodeError, ValueError) as exc:
                    raise ConfigError(f"{display}: malformed JSON: {str(exc).splitlines()[0]}") from None
                if not isinstance(document, dict):
                    raise ConfigError(f"{display}: a .tfvars.json file holds one JSON object")
                values.update(document)
            else:
                try:
                    text = path.read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError) as exc:
                    raise ConfigError(f"{display}: cannot read: {exc.__class__.__name__}") from None
                for attribute in s.parse_text(text, display).attributes:
                    values[attribute.name] = evaluate(attribute.expr, constant)
        values.update(overrides)
        for name in values:
            if name not in definition.variables:
                self.note(f"a value is given for undeclared variable {name!r}")
        return {name: _constant(value) for name, value in values.items()}

    def backend(self, definition: _ModuleDef) -> Mapping[str, Any] | None:
        block = definition.backend
        if block is None:
            return None
        settings = _evaluate_body(block.body, Scope(_Constant(self, "a backend block")), frozenset())
        exported = self.export(settings, _where(block))
        return {**exported, "_type": block.labels[0], "_location": {"file": block.file, "line": block.line}}

    def walk(self, instance: _ModuleInstance, managed: list[Any], data: list[Any]) -> None:
        """Collect every resource instance of `instance` and of its child module instances."""
        for mode, type_, name in instance.definition.resources:
            expansion = instance.expansion(mode, type_, name)
            if isinstance(expansion, Unresolved):
                continue
            for key, _scope in expansion.items:
                resource = instance.instance(mode, type_, name, key).resource()
                order = resource_order(instance.path, mode, type_, name, key)
                (data if mode == "data" else managed).append((order, resource))
        for name in instance.definition.modules:
            children = instance.module_instances(name)
            if isinstance(children, Unresolved):
                continue
            for _key, child in children.items:
                self.walk(child, managed, data)

    def unexpandable(self, address: str, reason: str, block: s.Block) -> Unresolved:
        self.unexpanded.append(Unexpandable(address, reason, block.file, block.line))
        return Unresolved(f"{address}: {reason}")

    def export(self, value: Any, where: str) -> Any:
        """An evaluated value in the public shape: objects as Refs, sets as lists, secrets redacted."""
        if isinstance(value, Namespace):
            return value.export()
        if isinstance(value, EvalError):
            self.note(f"{where}: {value.reason}")
            return value
        if isinstance(value, Unresolved):
            return value
        if isinstance(value, Mapping):
            out: dict[str, Any] = {}
            for key, item in value.items():
                inner = f"{where}.{key}"
                exported = self.export(item, inner)
                if self.secrets.is_secret(key) and (
                        isinstance(exported, Template | Encoded) or (isinstance(exported, str) and exported)):
                    out[key] = REDACTED
                    continue
                out[key] = exported
                if isinstance(item, Encoded):
                    out[f"_decoded_{key}"] = self.export(item.decoded, inner)
            return out
        if isinstance(value, list | tuple):
            return [self.export(item, f"{where}[{i}]") for i, item in enumerate(value)]
        return value


def _is_override(path: str) -> bool:
    stem = Path(path).stem
    return stem == "override" or stem.endswith("_override")


class _Constant:
    """The context of values that may not refer to anything (tfvars, defaults, backend)."""

    def __init__(self, session: _Session, where: str) -> None:
        self.session = session
        self.where = where

    def root(self, name: str) -> Any:
        return EvalError(f"{name} cannot be used in {self.where}")

    def read_file(self, path: str) -> str | Unresolved:
        return self.session.read_file(path, ())

    def note(self, message: str) -> None:
        self.session.note(message)


# --- expansion ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Expansion:
    kind: str  # single | count | for_each
    items: tuple[tuple[InstanceKey, Scope], ...]


def _expand(body: s.Body, scope: Scope) -> _Expansion | str:
    """The instances `count` / `for_each` ask for, each with its scope; or why it is not known."""
    count, for_each = body.attribute("count"), body.attribute("for_each")
    if count is not None and for_each is not None:
        return "count and for_each are both set"
    if count is not None:
        number = to_number(evaluate(count.expr, scope))
        if isinstance(number, Unresolved):
            return f"count is unknown ({number.reason})"
        if not isinstance(number, int) or number < 0:
            return f"count must be a whole number >= 0, got {number}"
        return _Expansion("count", tuple((i, scope.bind({"count": {"index": i}})) for i in range(number)))
    if for_each is not None:
        value = evaluate(for_each.expr, scope)
        keys = _for_each_keys(value)
        if isinstance(keys, str):
            return keys
        return _Expansion("for_each", tuple((k, scope.bind({"each": {"key": k, "value": v}})) for k, v in keys))
    return _Expansion("single", ((None, scope),))


def _for_each_keys(value: Any) -> list[tuple[str, Any]] | str:
    if isinstance(value, Unresolved):
        return f"for_each is unknown ({value.reason})"
    if isinstance(value, HclSet):
        unknown = next((v for v in value if isinstance(v, Unresolved)), None)
        if unknown is not None:
            return f"for_each set has unknown elements ({unknown.reason})"
        if not all(isinstance(v, str) for v in value):
            return "for_each set must hold strings"
        return [(v, v) for v in sorted(value)]
    if isinstance(value, Mapping):
        return [(k, value[k]) for k in sorted(value)]
    if isinstance(value, list | tuple):
        return "for_each must be a map or a set of strings, got a list (use toset())"
    return f"for_each must be a map or a set of strings, got {'null' if value is None else type(value).__name__}"


# --- bodies ---------------------------------------------------------------------------------

_MISSING = object()


def _member_names(body: s.Body, skip: frozenset[str]) -> list[str]:
    names = [a.name for a in body.attributes]
    for block in body.blocks:
        name = block.labels[0] if block.type == "dynamic" and block.labels else block.type
        if name not in names:
            names.append(name)
    return [n for n in names if n not in skip]


def _member(body: s.Body, name: str, scope: Scope) -> Any:
    """One argument or nested block type of a body (blocks as a list of objects)."""
    attribute = body.attribute(name)
    if attribute is not None:
        return evaluate(attribute.expr, scope)
    items: list[Any] = []
    found = False
    for block in body.blocks:
        if block.type == name:
            found = True
            items.append(_evaluate_body(block.body, scope, frozenset()))
        elif block.type == "dynamic" and block.labels[:1] == (name,):
            found = True
            generated = _dynamic(block, scope)
            if isinstance(generated, Unresolved):
                return generated
            items.extend(generated)
    return items if found else _MISSING


def _evaluate_body(body: s.Body, scope: Scope, skip: frozenset[str]) -> dict[str, Any]:
    return {name: _member(body, name, scope) for name in _member_names(body, skip)}


def _dynamic(block: s.Block, scope: Scope) -> list[Any] | Unresolved:
    name = block.labels[0]
    for_each = block.body.attribute("for_each")
    contents = block.body.blocks_of("content")
    if for_each is None or len(contents) != 1:
        return EvalError(f"dynamic block {name!r} needs for_each and one content block")
    iterator = name
    named = block.body.attribute("iterator")
    if named is not None:
        if not isinstance(named.expr, s.Variable):
            return EvalError(f"dynamic block {name!r}: iterator must be a name")
        iterator = named.expr.name
    pairs = iterate(evaluate(for_each.expr, scope))
    if isinstance(pairs, Unresolved):
        return pairs if isinstance(pairs, EvalError) else Unresolved(f"dynamic block {name}: {pairs.reason}")
    return [_evaluate_body(contents[0].body, scope.bind({iterator: {"key": k, "value": v}}), frozenset())
            for k, v in pairs]


def traversal_text(expr: s.Expr) -> str | None:
    """`aws.west`, `tags["Name"]`: the source text of a plain traversal (None if not one)."""
    if isinstance(expr, s.Variable):
        return expr.name
    if isinstance(expr, s.GetAttr):
        inner = traversal_text(expr.source)
        return None if inner is None else f"{inner}.{expr.name}"
    if isinstance(expr, s.Index) and isinstance(expr.key, s.Literal):
        inner = traversal_text(expr.source)
        return None if inner is None else f"{inner}[{json.dumps(expr.key.value)}]"
    return None


# --- module instances and the objects expressions see ---------------------------------------


class _ModuleInstance:
    """One instance of a module: its variables, locals, resources and child calls, lazily."""

    def __init__(self, session: _Session, definition: _ModuleDef, path: ModulePath,
                 inputs: Mapping[str, Callable[[], Any]], providers: Mapping[str, Any],
                 ancestors: tuple[Path, ...]) -> None:
        self.session = session
        self.definition = definition
        self.path = path
        self.inputs = inputs
        self.providers: Mapping[str, Any] = providers
        self.ancestors = (*ancestors, definition.directory)
        self.prefix = format_module(path)
        self.scope = Scope(self)

    # Context

    def root(self, name: str) -> Any:
        if name == "var":
            return _Getter("var", self.variable)
        if name == "local":
            return _Getter("local", self.local)
        if name == "module":
            return _Getter("module", self.module_value)
        if name == "data":
            return _Getter("data", lambda type_: _Getter(f"data.{type_}",
                                                         lambda n: self.resource_value("data", type_, n)))
        if name == "path":
            return {"module": self.definition.rel, "root": ".", "cwd": "."}
        if name == "terraform":
            return _Getter("terraform", lambda n: Unresolved(f"terraform.{n} is only known when Terraform runs"))
        if name in ("each", "count", "self"):
            return EvalError(f"{name} is not available here")
        return _Getter(name, lambda n: self.resource_value("managed", name, n))

    def read_file(self, path: str) -> str | Unresolved:
        return self.session.read_file(path, self.ancestors)

    def note(self, message: str) -> None:
        self.session.note(message)

    # named values

    def _key(self, *parts: Any) -> tuple[Any, ...]:
        return (self.prefix, *parts)

    def _label(self, text: str) -> str:
        return f"{self.prefix}.{text}" if self.prefix else text

    def variable(self, name: str) -> Any:
        return self.session.remember(self._key("var", name), self._label(f"var.{name}"),
                                     lambda: self._variable(name))

    def _variable(self, name: str) -> Any:
        block = self.definition.variables.get(name)
        if block is None:
            return EvalError(f"undeclared variable var.{name}")
        sensitive = block.body.attribute("sensitive")
        constant = Scope(_Constant(self.session, "a variable declaration"))
        if sensitive is not None and evaluate(sensitive.expr, constant) is True:
            return Unresolved(f"var.{name} is sensitive")
        if name in self.inputs:
            value = self.inputs[name]()
        else:
            default = block.body.attribute("default")
            if default is None:
                return Unresolved(f"var.{name} has no value (no default and none given)")
            value = evaluate(default.expr, constant)
        type_attr = block.body.attribute("type")
        if type_attr is None:
            return value
        converted = convert(value, type_attr.expr, constant)
        if isinstance(converted, EvalError):
            self.note(f"{_where(block)}: var.{name}: {converted.reason}")
        return converted

    def local(self, name: str) -> Any:
        attribute = self.definition.locals.get(name)
        if attribute is None:
            return EvalError(f"undeclared local.{name}")
        return self.session.remember(self._key("local", name), self._label(f"local.{name}"),
                                     lambda: evaluate(attribute.expr, self.scope))

    def output(self, name: str) -> Any:
        block = self.definition.outputs.get(name)
        if block is None:
            return EvalError(f"{self.prefix} has no output {name!r}")
        value = block.body.attribute("value")
        sensitive = block.body.attribute("sensitive")
        if value is None:
            return EvalError(f"output {name!r} has no value")
        if sensitive is not None and evaluate(sensitive.expr, self.scope) is True:
            return Unresolved(f"{self.prefix}.{name} is sensitive")
        return self.session.remember(self._key("output", name), self._label(f"output.{name}"),
                                     lambda: evaluate(value.expr, self.scope))

    # resources

    def resource_value(self, mode: str, type_: str, name: str) -> Any:
        """`aws_x.y`: one instance, a list (count) or a map (for_each) of instances."""
        address = format_resource_instance(self.path, mode, type_, name)
        if (mode, type_, name) not in self.definition.resources:
            if mode == "managed":
                self.note(f"reference to undeclared resource {address}")
            return Ref(address)
        expansion = self.expansion(mode, type_, name)
        if isinstance(expansion, Unresolved):
            return Ref(address)  # instances unknown: references stay joinable by address
        return _shaped(expansion.kind, {key: self.instance(mode, type_, name, key) for key, _ in expansion.items})

    def expansion(self, mode: str, type_: str, name: str) -> _Expansion | Unresolved:
        block = self.definition.resources[(mode, type_, name)]
        address = format_resource_instance(self.path, mode, type_, name)

        def compute() -> _Expansion | Unresolved:
            result = _expand(block.body, self.scope)
            return result if isinstance(result, _Expansion) else self.session.unexpandable(address, result, block)

        return self.session.remember(self._key("expand", mode, type_, name), address, compute)

    def instance(self, mode: str, type_: str, name: str, key: InstanceKey) -> _Instance:
        expansion = self.expansion(mode, type_, name)
        assert isinstance(expansion, _Expansion)
        scope = dict(expansion.items)[key]
        return _Instance(self, mode, type_, name, key, scope)

    # modules

    def module_value(self, name: str) -> Any:
        if name not in self.definition.modules:
            return EvalError(f"undeclared module.{name}")
        found = self.module_instances(name)
        if isinstance(found, Unresolved):
            return found
        return _shaped(found.kind, {key: _ModuleObject(child) for key, child in found.items})

    def module_instances(self, name: str) -> _Children | Unresolved:
        return self.session.remember(self._key("module", name), self._label(f"module.{name}"),
                                     lambda: self._module_instances(name))

    def _module_instances(self, name: str) -> _Children | Unresolved:
        block = self.definition.modules[name]
        address = format_module((*self.path, ModuleStep(name)))
        source_attr = block.body.attribute("source")
        source = source_attr.expr.value if source_attr and isinstance(source_attr.expr, s.Literal) else None
        if not isinstance(source, str):
            return self.session.unexpandable(address, "module source must be a literal string", block)
        if not source.startswith(("./", "../", ".\\", "..\\")):
            return self.session.unexpandable(address, f"remote module source {source!r} is not loaded", block)
        directory = (self.definition.directory / source).resolve()
        self.session.directories.add(directory)
        if directory in self.ancestors or len(self.path) >= MAX_MODULE_DEPTH:
            return self.session.unexpandable(address, f"module source {source!r} calls itself", block)
        definition = self.session.module_def(directory) if directory.is_dir() else None
        if definition is None:
            return self.session.unexpandable(address, f"local module source {source!r} has no .tf files", block)
        for attribute in block.body.attributes:
            if attribute.name not in MODULE_META and attribute.name not in definition.variables:
                self.note(f"{block.file}:{attribute.line}: {address} has no variable {attribute.name!r}")
        expansion = _expand(block.body, self.scope)
        if isinstance(expansion, str):
            return self.session.unexpandable(address, expansion, block)
        mapping = block.body.attribute("providers")
        children: list[tuple[InstanceKey, _ModuleInstance]] = []
        for key, scope in expansion.items:
            inputs = {a.name: _thunk(a.expr, scope) for a in block.body.attributes if a.name not in MODULE_META}
            child = _ModuleInstance(self.session, definition, (*self.path, ModuleStep(name, key)), inputs, {},
                                    self.ancestors)
            child.providers = child.provider_regions(self._passed_providers(mapping))
            children.append((key, child))
        return _Children(expansion.kind, tuple(children))

    # providers (for Resource.region)

    def _passed_providers(self, mapping: s.Attribute | None) -> dict[str, Any]:
        if mapping is None:
            return {k: v for k, v in self.providers.items() if "." not in k}  # defaults are inherited
        passed: dict[str, Any] = {}
        if isinstance(mapping.expr, s.ObjectExpr):
            for key_expr, value_expr in mapping.expr.items:
                key = key_expr.value if isinstance(key_expr, s.Literal) else traversal_text(key_expr)
                source = traversal_text(value_expr)
                if isinstance(key, str) and source is not None and source in self.providers:
                    passed[key] = self.providers[source]
        return passed

    def provider_regions(self, inherited: Mapping[str, Any]) -> dict[str, Any]:
        regions = dict(inherited)
        for block in self.definition.providers:
            region = block.body.attribute("region")
            alias = block.body.attribute("alias")
            name = block.labels[0]
            key = name
            if alias is not None and isinstance(alias.expr, s.Literal):
                key = f"{name}.{alias.expr.value}"
            regions[key] = evaluate(region.expr, self.scope) if region is not None else None
        return regions


def _shaped(kind: str, objects: dict[InstanceKey, Any]) -> Any:
    """Instances as an expression sees them: one object, a list (count) or a map (for_each)."""
    if kind == "single":
        return objects[None]
    if kind == "count":
        return [objects[i] for i in range(len(objects))]
    return objects


def _thunk(expr: s.Expr, scope: Scope) -> Callable[[], Any]:
    return lambda: evaluate(expr, scope)


def _constant(value: Any) -> Callable[[], Any]:
    return lambda: value


@dataclass(frozen=True, slots=True)
class _Children:
    kind: str
    items: tuple[tuple[InstanceKey, _ModuleInstance], ...]


class _Getter(Namespace):
    """A namespace answering `.name` with a function: `var`, `local`, `aws_lb`, `data.aws_x`."""

    def __init__(self, label: str, get: Callable[[str], Any]) -> None:
        self.label = label
        self.get = get

    def attr(self, name: str) -> Any:
        return self.get(name)

    def describe(self) -> str:
        return self.label


class _ModuleObject(Namespace):
    def __init__(self, instance: _ModuleInstance) -> None:
        self.instance = instance

    def attr(self, name: str) -> Any:
        return self.instance.output(name)

    def describe(self) -> str:
        return self.instance.prefix


class _Instance(Namespace):
    """One resource instance: its arguments evaluated on demand; computed ones as Refs."""

    def __init__(self, module: _ModuleInstance, mode: str, type_: str, name: str, key: InstanceKey,
                 scope: Scope) -> None:
        self.module = module
        self.mode = mode
        self.type = type_
        self.name = name
        self.key = key
        self.scope = scope
        self.block = module.definition.resources[(mode, type_, name)]
        self.address = format_resource_instance(module.path, mode, type_, name, key)

    def describe(self) -> str:
        return self.address

    def export(self) -> Any:
        return Ref(self.address)

    def member(self, name: str) -> Any:
        if name in RESOURCE_META:
            return _MISSING
        return self.module.session.remember(("attr", self.address, name), f"{self.address}.{name}",
                                            lambda: _member(self.block.body, name, self.scope))

    def attr(self, name: str) -> Any:
        if self.mode == "data":
            return Ref(self.address, name)  # data sources are read at plan time
        value = self.member(name)
        if value is _MISSING or isinstance(value, Unresolved):
            return Ref(self.address, name)
        return value

    def resource(self) -> Resource:
        session = self.module.session
        where = f"{self.block.file}:{self.block.line}: {self.address}"
        raw = {name: self.member(name) for name in _member_names(self.block.body, RESOURCE_META)}
        attributes: dict[str, Any] = session.export(raw, where)
        attributes["_location"] = {"file": self.block.file, "line": self.block.line}
        lifecycle = self.block.body.blocks_of("lifecycle")
        settings = self._lifecycle(lifecycle[-1].body, where) if lifecycle else None
        if settings:
            attributes["_lifecycle"] = settings
        return Resource(type=canonical_type(self.type), id=self.address, attributes=attributes,
                        origin=Origin.CODE, region=self._region(), address=self.address,
                        source=str(session.root / self.block.file))

    def _lifecycle(self, body: s.Body, where: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for attribute in body.attributes:
            if attribute.name in ("ignore_changes", "replace_triggered_by"):
                items = attribute.expr.items if isinstance(attribute.expr, s.TupleExpr) else (attribute.expr,)
                texts = [traversal_text(item) for item in items]
                out[attribute.name] = texts[0] if texts == ["all"] else [t for t in texts if t is not None]
            else:
                out[attribute.name] = self.module.session.export(evaluate(attribute.expr, self.scope), where)
        return out

    def _region(self) -> str | None:
        provider = self.block.body.attribute("provider")
        key = traversal_text(provider.expr) if provider is not None else self.type.split("_", 1)[0]
        if key is None or key.split(".", 1)[0] != "aws":
            return None
        region = self.module.providers.get(key)
        return region if isinstance(region, str) else None


# --- variable type constraints --------------------------------------------------------------


def convert(value: Any, type_expr: s.Expr, constant: Scope) -> Any:
    """`value` converted to a variable's declared type (sets become HclSet, "2" -> 2, ...)."""
    if value is None or isinstance(value, Unresolved):
        return value
    if isinstance(type_expr, s.Variable):
        converters: dict[str, Callable[[Any], Any]] = {"string": to_string, "number": to_number,
                                                       "bool": to_bool}
        converter = converters.get(type_expr.name)
        return converter(value) if converter is not None else value
    if not isinstance(type_expr, s.Call) or not type_expr.args:
        return value
    kind, inner = type_expr.name, type_expr.args[0]
    if kind in ("list", "set"):
        if isinstance(value, Mapping) or not isinstance(value, list | tuple):
            return EvalError(f"a {kind} is required")
        items = [convert(item, inner, constant) for item in value]
        return make_set(items) if kind == "set" else items
    if kind == "map":
        if not isinstance(value, Mapping):
            return EvalError("a map is required")
        return {k: convert(v, inner, constant) for k, v in value.items()}
    if kind == "object" and isinstance(inner, s.ObjectExpr):
        return _convert_object(value, inner, constant)
    if kind == "tuple" and isinstance(inner, s.TupleExpr):
        if not isinstance(value, list | tuple) or len(value) != len(inner.items):
            return EvalError(f"a tuple of {len(inner.items)} elements is required")
        return [convert(v, t, constant) for v, t in zip(value, inner.items, strict=True)]
    return value


def _convert_object(value: Any, shape: s.ObjectExpr, constant: Scope) -> Any:
    if not isinstance(value, Mapping):
        return EvalError("an object is required")
    out: dict[str, Any] = {}
    for key_expr, attr_type in shape.items:
        if not isinstance(key_expr, s.Literal):
            continue
        key = str(key_expr.value)
        optional = isinstance(attr_type, s.Call) and attr_type.name == "optional" and bool(attr_type.args)
        inner_type = attr_type.args[0] if optional and isinstance(attr_type, s.Call) else attr_type
        if value.get(key) is not None:
            out[key] = convert(value[key], inner_type, constant)
        elif optional and isinstance(attr_type, s.Call):
            default = evaluate(attr_type.args[1], constant) if len(attr_type.args) > 1 else None
            out[key] = convert(default, inner_type, constant)
        elif key in value:
            out[key] = None
        else:
            return EvalError(f"attribute {key!r} is required")
    return out
