"""Terraform state bytes -> StateDocument, with secrets redacted as they are read.

Reads state format version 4 in full and version 3 through Terraform's in-memory upgrade
(`upgrade.upgrade_v3`); everything else is refused with a one-line StateError naming the
state and the problem (see docs/state-formats.md for the list).

Speed: orjson parses the bytes; Python's garbage collector is paused while the document is
built (its generational passes over millions of fresh containers cost more than the parse).
Two checks keep the fast parse exact:

* Duplicate keys, which orjson silently collapses: the colons of the input must equal the
  colons of the parsed tree serialized again (only a key and a string can hold a colon, and the
  collapsed tree loses the duplicated key's colon). Any mismatch, or an escaped colon
  (`\\u003a`) in the input, re-reads the file with the standard library, which reports the
  duplicate exactly.
* Number precision: orjson reads every non-integer (and every integer beyond 64 bits) as a
  float64. If any float turns up, the file is re-read with exact numbers: a decimal whose
  shortest float64 form is not numerically equal to its text becomes a `decimal.Decimal`,
  integers stay `int` at any size.
"""

from __future__ import annotations

import contextlib
import gc
import json
import math
import re
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

import orjson

from auditor.errors import StateError
from auditor.state.address import (
    DEFAULT_REGISTRY,
    AddressError,
    excerpt,
    format_key,
    format_module,
    is_identifier,
    parse_module,
    parse_provider_config,
    parse_resource_address,
)
from auditor.state.model import REDACTED, PathStep, StateDocument, StateInstance, StateOutput
from auditor.state.redact import NestingError, SecretNames, redact_container_environment, redact_path, scrub
from auditor.state.redact import secret_names as matcher_for
from auditor.state.upgrade import UpgradeError, unflatten, upgrade_v1, upgrade_v3

MAX_DEPTH = 250
"""Deepest container nesting accepted below a value (orjson re-serializes no deeper)."""

_GZIP_MAGIC = b"\x1f\x8b"
_BINARY_V0_MAGIC = b"tfstate"
_BOM = b"\xef\xbb\xbf"
_ESCAPED_COLON = re.compile(rb"\\u003[aA]")
_DEPOSED_KEY = re.compile(r"[0-9a-f]{8}")
_VERSION = re.compile(r"v?[0-9]+(\.[0-9]+)*(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?")
_NESTED_TOO_DEEP = f"JSON nests more than {MAX_DEPTH} levels deep"
_PULL_HINT = "rewrite it as version 4 with `terraform state pull` run by Terraform 0.12 or newer"


class _Invalid(Exception):
    """A problem with the state, raised deep in the reader and turned into a StateError."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class _NeedsExact(Exception):
    """The fast parse saw a float: re-read the file with exact numbers."""


def parse_state(
    data: bytes,
    source: str,
    *,
    secret_names: frozenset[str] | None = None,
    default_registry: str = DEFAULT_REGISTRY,
) -> StateDocument:
    """Parse state bytes into a StateDocument (model always v4), secrets already redacted.

    `secret_names`: the attribute-name rule's names (default `redact.DEFAULT_SECRET_NAMES`).
    `default_registry`: registry host given to legacy `provider.aws` strings and short provider
    sources (Terraform: registry.terraform.io; OpenTofu: registry.opentofu.org).
    Raises StateError with a one-line message for every unreadable or invalid input.
    """
    names = matcher_for(secret_names)
    try:
        with gc_paused():
            return _parse(data, source, names, default_registry)
    except _Invalid as exc:
        raise StateError(source, exc.message, exc.hint) from None


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector, then restore its previous state.

    Building millions of containers triggers generational collections that cost more than the
    work itself; parsed states hold no reference cycles, so nothing is left for it to find.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _parse(data: bytes, source: str, names: SecretNames, default_registry: str) -> StateDocument:
    _check_bytes(data)
    raw = _load_fast(data)
    keys_verified = raw is not None and _colons_match(data, raw)
    if keys_verified:
        try:
            return _Reader(source, names, default_registry, exact=False).read(raw)
        except _NeedsExact:
            pass
    del raw
    exact = _load_exact(data, check_duplicates=not keys_verified)
    return _Reader(source, names, default_registry, exact=True).read(exact)


# --------------------------------------------------------------------------------------------
# bytes -> JSON


def _check_bytes(data: bytes) -> None:
    if not data or data.isspace():  # isspace stops at the first other byte; strip() would copy
        raise _Invalid("is empty (no state has been written to it)")
    if data.startswith(_BOM):
        raise _Invalid(
            "starts with a UTF-8 byte order mark, which Terraform rejects",
            "save the file without the BOM (as `terraform state pull` writes it)",
        )
    if data.startswith(_GZIP_MAGIC):
        raise _Invalid(
            "is gzip-compressed, not a JSON state",
            "decompress it, or point the auditor at the state Terraform wrote",
        )
    if data.startswith(_BINARY_V0_MAGIC):
        raise _Invalid(
            "legacy binary state format (written by terraform 0.6 or older)",
            "upgrade it with Terraform 0.6.16, then " + _PULL_HINT,
        )


def _load_fast(data: bytes) -> Any:
    """orjson's parse, or None when only the exact reader can represent a number in it."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        if "infinity" in str(exc):
            return None
        raise _Invalid(f"is not valid JSON ({exc})") from None


def _colons_match(data: bytes, raw: Any) -> bool:
    """Whether the parsed tree kept every key of the input (see the module docstring)."""
    if b"\\u003" in data and _ESCAPED_COLON.search(data):  # Go writes \u003c, \u003e; never \u003a
        return False
    try:
        return data.count(b":") == _tree_colons(raw, 0)
    except (TypeError, orjson.JSONEncodeError):
        raise _Invalid(_NESTED_TOO_DEEP) from None


def _tree_colons(value: Any, depth: int) -> int:
    """Colons in the compact JSON of `value`, serialized piece by piece to bound memory."""
    if depth < 2 and type(value) is dict:
        return sum(key.count(":") + 1 + _tree_colons(item, depth + 1) for key, item in value.items())
    if depth < 2 and type(value) is list:
        return sum(_tree_colons(item, depth + 1) for item in value)
    return orjson.dumps(value).count(b":")


def _load_exact(data: bytes, *, check_duplicates: bool) -> Any:
    """The standard library's parse: numbers exact, duplicate keys refused when asked to check
    (the per-object hook costs a third of the time; the colon check may have done it already)."""
    hook = _unique_object if check_duplicates else None
    try:
        text = data.decode("utf-8")
        return json.loads(text, object_pairs_hook=hook, parse_float=_exact_float, parse_constant=_no_constant)
    except RecursionError:
        raise _Invalid(_NESTED_TOO_DEEP) from None
    except UnicodeDecodeError as exc:
        raise _Invalid(f"is not valid UTF-8 (byte {exc.start})") from None
    except ValueError as exc:
        raise _Invalid(f"is not valid JSON ({str(exc).splitlines()[0]})") from None


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Invalid(
                    f"has a duplicate key {excerpt(key)} in a JSON object",
                    "Terraform would silently keep the last one; fix the file by hand",
                )
            seen.add(key)
    return result


def _exact_float(text: str) -> float | Decimal:
    value = float(text)
    if math.isfinite(value) and Decimal(repr(value)) == Decimal(text):
        return value
    return Decimal(text)


def _no_constant(name: str) -> Any:
    raise _Invalid(f"is not valid JSON ({name} is not a JSON number)")


# --------------------------------------------------------------------------------------------
# JSON -> model


def _cut(text: str, limit: int = 120) -> str:
    """An address for a message: hostile keys and names must not make it unbounded."""
    return text if len(text) <= limit else text[:limit] + "…"


def _kind(value: Any) -> str:
    """A JSON kind for messages (never the value itself: it might be a secret)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float | Decimal):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


_IDENTIFIERS: set[str] = set()


def _identifier(word: Any) -> bool:
    """is_identifier, remembering valid words (resource types and names repeat a lot)."""
    if type(word) is not str:
        return False
    if word in _IDENTIFIERS:
        return True
    valid = is_identifier(word)
    if valid and len(_IDENTIFIERS) < 100_000:
        _IDENTIFIERS.add(word)
    return valid


def _label(raw: Any, number: int) -> str:
    """A resource's address for a message about it, as far as it can be read (`resources[N]` otherwise)."""
    if type(raw) is dict and _identifier(raw.get("type")) and _identifier(raw.get("name")):
        local = f"{raw['type']}.{raw['name']}" if raw.get("mode") != "data" else f"data.{raw['type']}.{raw['name']}"
        module = raw.get("module")
        return _cut(f"{module}.{local}" if isinstance(module, str) and module else local)
    return f"resources[{number}]"


def _word(raw: dict[str, Any], field: str) -> str:
    """The identifier in `raw[field]` (a resource type or name), or a one-line error."""
    value = raw.get(field)
    if not _identifier(value):
        shown = excerpt(value) if isinstance(value, str) else _kind(value)
        raise _Invalid(f"a resource has an invalid {field} ({shown})")
    return str(value)


def _whole(value: Any) -> bool:
    return type(value) is int and value >= 0


class _Reader:
    """Builds a StateDocument from a parsed document (v3 input is upgraded first)."""

    def __init__(self, source: str, names: SecretNames, default_registry: str, *, exact: bool) -> None:
        self.source = source
        self.names = names
        self.default_registry = default_registry
        self.exact = exact
        self.modules: dict[str, str | None] = {}
        self.providers: dict[str, str] = {}
        self.dependencies: dict[str, None] = {}

    # ---- top level

    def read(self, raw: Any) -> StateDocument:
        if type(raw) is not dict:
            raise _Invalid(f"top level is {_kind(raw)}, not a JSON object")
        if "version" not in raw:
            raise self._no_version(raw)
        version = raw["version"]
        if not _whole(version):
            raise _Invalid(f"version is {_kind(version)}, not a whole number")
        written = _written_by(raw)
        if version < 1:
            raise _Invalid(f"legacy state format (version {version}, written by {written})", _PULL_HINT)
        if version > 4:
            raise _Invalid(
                f"unsupported state version {version} (written by {written})",
                "this auditor reads state versions 3 and 4; read it with the Terraform that wrote it",
            )
        if version < 4 and "modules" not in raw and raw.get("resources"):
            raise _Invalid(f"version {version} state has no modules but a version 4 resources list "
                           f"(written by {written}): not a state Terraform reads", _PULL_HINT)
        if version < 4:
            try:
                raw = upgrade_v3(upgrade_v1(raw) if version < 3 else raw)
            except UpgradeError as exc:
                raise _Invalid(f"cannot upgrade version 3 state: {exc}") from None
            except RecursionError:  # output values nested deeper than the exact reader's limit
                raise _Invalid(_NESTED_TOO_DEEP) from None
        return self._read_v4(raw, version)

    def _no_version(self, raw: dict[str, Any]) -> _Invalid:
        if not raw:
            return _Invalid("is an empty JSON object, not a Terraform state")
        encryption = raw.get("encryption_version")
        if isinstance(encryption, str) and encryption:
            serial = raw.get("serial")
            lineage = raw.get("lineage")
            serial_text = str(serial) if _whole(serial) else "unknown"
            lineage_text = excerpt(lineage) if isinstance(lineage, str) and lineage else "unknown"
            return _Invalid(
                f"is an OpenTofu encrypted state (encryption {excerpt(encryption, 12)}, "
                f"serial {serial_text}, lineage {lineage_text}) and cannot be read without its "
                "encryption configuration",
                "audit a decrypted copy (`tofu state pull` with the encryption configuration)",
            )
        return _Invalid('has no "version" field, so it is not a Terraform state')

    def _read_v4(self, raw: dict[str, Any], file_version: int) -> StateDocument:
        terraform_version = raw.get("terraform_version", "")
        if not isinstance(terraform_version, str):
            raise _Invalid(f"terraform_version is {_kind(terraform_version)}, not a string")
        if terraform_version and not _VERSION.fullmatch(terraform_version):
            raise _Invalid(f"terraform_version {excerpt(terraform_version)} is not a valid version")
        if "serial" not in raw:
            raise _Invalid("has no serial")
        serial = raw["serial"]
        if type(serial) is not int:
            raise _Invalid(f"serial is {_kind(serial)}, not a whole number")
        if serial < 0:
            raise _Invalid("has a negative serial")
        if serial >= 2**64:
            raise _Invalid("serial is larger than Terraform allows (64 bits)")
        lineage = raw.get("lineage")
        if file_version < 3 and lineage == "":  # versions 1 and 2 had none; Terraform's upgrade leaves it empty
            pass
        elif not isinstance(lineage, str) or not lineage:
            raise _Invalid("has no lineage" if lineage in (None, "") else f"lineage is {_kind(lineage)}, not a string")
        outputs = self._outputs(raw.get("outputs"))
        resources = raw.get("resources")
        if resources is None:
            resources = []
        if type(resources) is not list:
            raise _Invalid(f"resources is {_kind(resources)}, not a list")
        instances: list[StateInstance] = []
        seen: set[tuple[Any, ...]] = set()
        unreadable: list[tuple[str, str]] = []
        for number, resource in enumerate(resources):
            kept = len(instances)
            try:
                self._resource(resource, instances, seen)
            except _Invalid as exc:  # one malformed resource never makes the rest unreadable
                del instances[kept:]
                unreadable.append((_label(resource, number), str(exc.args[0]) if exc.args else "invalid"))
        check_results = raw.get("check_results")
        if check_results is not None and type(check_results) is not list:
            raise _Invalid(f"check_results is {_kind(check_results)}, not a list or null")
        self._walk(check_results, None, "check_results")
        return StateDocument(
            source=self.source,
            version=file_version,
            terraform_version=terraform_version,
            serial=serial,
            lineage=lineage,
            outputs=outputs,
            instances=tuple(instances),
            check_results=check_results,
            unreadable=tuple(unreadable),
        )

    def _walk(self, value: Any, names: SecretNames | None, where: str) -> tuple[tuple[PathStep, ...], ...]:
        """scrub() with the reader's rules: too deep is an error, a float needs the exact parse."""
        try:
            result = scrub(value, names, MAX_DEPTH)
        except NestingError:
            raise _Invalid(f"{where}: {_NESTED_TOO_DEEP}") from None
        if result.has_float and not self.exact:
            raise _NeedsExact
        return result.paths

    # ---- outputs

    def _outputs(self, raw: Any) -> dict[str, StateOutput]:
        if raw is None:
            return {}
        if type(raw) is not dict:
            raise _Invalid(f"outputs is {_kind(raw)}, not an object")
        outputs: dict[str, StateOutput] = {}
        for name, entry in raw.items():
            where = f"output {excerpt(name)}"
            if type(entry) is not dict:
                raise _Invalid(f"{where} is {_kind(entry)}, not an object")
            if "value" not in entry or "type" not in entry:
                raise _Invalid(f"{where} has no {'value' if 'value' not in entry else 'type'}")
            sensitive = entry.get("sensitive", False)
            if type(sensitive) is not bool:
                raise _Invalid(f"{where}: sensitive is {_kind(sensitive)}, not a boolean")
            value = entry["value"]
            if sensitive:
                value = REDACTED if value is not None else None
            else:
                self._walk(value, self.names, where)
            self._walk(entry["type"], None, where)
            outputs[name] = StateOutput(name=name, value=value, type=entry["type"], sensitive=sensitive)
        return outputs

    # ---- resources

    def _module(self, raw: Any, where: str) -> str | None:
        """The canonical module address (None for the root module)."""
        if raw is None:
            raw = ""
        if not isinstance(raw, str):
            raise _Invalid(f"{where}: module is {_kind(raw)}, not a string")
        if raw not in self.modules:
            try:
                self.modules[raw] = format_module(parse_module(raw)) or None
            except AddressError as exc:
                raise _Invalid(f"{where}: {exc}") from None
        return self.modules[raw]

    def _provider(self, raw: Any, where: str) -> str:
        if not isinstance(raw, str):
            raise _Invalid(f"{where}: provider is {_kind(raw)}, not a string")
        cached = self.providers.get(raw)
        if cached is None:
            try:
                cached = str(parse_provider_config(raw, default_registry=self.default_registry))
            except AddressError as exc:
                raise _Invalid(f"{where}: {exc}") from None
            self.providers[raw] = cached
        return cached

    def _resource(self, raw: Any, out: list[StateInstance], seen: set[tuple[Any, ...]]) -> None:
        if type(raw) is not dict:
            raise _Invalid(f"a resource is {_kind(raw)}, not an object")
        type_, name, mode = _word(raw, "type"), _word(raw, "name"), raw.get("mode")
        label = _cut(f"{type_}.{name}" if mode != "data" else f"data.{type_}.{name}")
        if mode not in ("managed", "data"):
            shown = excerpt(mode) if isinstance(mode, str) else _kind(mode)
            raise _Invalid(f'resource {label} has mode {shown}; it must be "managed" or "data"')
        module = self._module(raw.get("module"), f"resource {label}")
        local = f"{type_}.{name}" if mode == "managed" else f"data.{type_}.{name}"
        prefix = f"{module}.{local}" if module else local
        provider = raw.get("provider")
        resource_provider = self._provider(provider, f"resource {_cut(prefix)}") if provider not in (None, "") else None
        instances = raw.get("instances")
        if instances is None:
            instances = []
        if type(instances) is not list:
            raise _Invalid(f"resource {_cut(prefix)}: instances is {_kind(instances)}, not a list")
        for inst in instances:
            out.append(self._instance(inst, prefix, module, mode, type_, name, resource_provider, seen))

    def _instance(
        self,
        raw: Any,
        prefix: str,
        module: str | None,
        mode: str,
        type_: str,
        name: str,
        resource_provider: str | None,
        seen: set[tuple[Any, ...]],
    ) -> StateInstance:
        if type(raw) is not dict:
            raise _Invalid(f"resource {_cut(prefix)}: an instance is {_kind(raw)}, not an object")
        key = raw.get("index_key")
        if not (key is None or type(key) is str or (type(key) is int and key >= 0)):
            raise _Invalid(
                f"resource {_cut(prefix)}: an instance has an invalid index_key ({_kind(key)}); "
                "it must be a non-negative integer or a string"
            )
        address = prefix + format_key(key)
        where = f"instance {_cut(address)}"
        deposed = raw.get("deposed") or None
        if deposed is not None and (not isinstance(deposed, str) or not _DEPOSED_KEY.fullmatch(deposed)):
            shown = excerpt(deposed, 20) if isinstance(deposed, str) else _kind(deposed)
            raise _Invalid(f"{where}: deposed key {shown} is not 8 lowercase hex digits")
        identity_key = (module, mode, type_, name, type(key), key, deposed)
        if identity_key in seen:
            raise _Invalid(f"{where}: deposed object {deposed} appears twice" if deposed else f"{where} appears twice")
        seen.add(identity_key)
        status = raw.get("status") or None
        if status not in (None, "tainted"):
            shown = excerpt(status, 20) if isinstance(status, str) else _kind(status)
            raise _Invalid(f'{where}: status {shown} is not "tainted" or empty')
        schema_version = raw.get("schema_version", 0)
        if not _whole(schema_version):
            raise _Invalid(f"{where}: schema_version is {_kind(schema_version)}, not a whole number")
        create_before_destroy = raw.get("create_before_destroy", False)
        skip_destroy = raw.get("skip_destroy", False)
        if type(create_before_destroy) is not bool or type(skip_destroy) is not bool:
            raise _Invalid(f"{where}: create_before_destroy and skip_destroy must be booleans")
        provider = raw.get("instance_provider") or raw.get("provider") or None
        provider = self._provider(provider, where) if provider is not None else resource_provider
        if provider is None:
            raise _Invalid(f"{where} has no provider (neither on the resource nor on the instance)")
        attributes = self._attributes(raw, where)
        if type_ == "aws_ecs_task_definition" and "container_definitions" in attributes:
            attributes["container_definitions"] = redact_container_environment(
                attributes["container_definitions"], self.names)
        sensitive = self._sensitive_paths(raw.get("sensitive_attributes"), where)
        found = self._walk(attributes, self.names, where)
        for path in sensitive:
            redact_path(attributes, path)
        if found:
            known = set(sensitive)
            sensitive = sensitive + tuple(p for p in found if p not in known)
        identity, identity_version = (
            self._identity(raw, where) if "identity" in raw or "identity_schema_version" in raw else (None, None)
        )
        return StateInstance(
            address=address,
            module=module,
            mode=mode,
            type=type_,
            name=name,
            index_key=key,
            provider=provider,
            schema_version=schema_version,
            attributes=attributes,
            sensitive_paths=sensitive,
            tainted=status == "tainted",
            deposed=deposed,
            dependencies=self._dependencies(raw, where),
            create_before_destroy=create_before_destroy,
            skip_destroy=skip_destroy,
            identity=identity,
            identity_schema_version=identity_version,
        )

    def _attributes(self, raw: dict[str, Any], where: str) -> dict[str, Any]:
        if "attributes" in raw:
            attributes = raw["attributes"]
            if type(attributes) is not dict:
                raise _Invalid(f"{where}: attributes is {_kind(attributes)}, not an object")
            return attributes
        flat = raw.get("attributes_flat")
        if flat is None:
            return {}
        if type(flat) is not dict or any(type(v) is not str for v in flat.values()):
            raise _Invalid(f"{where}: attributes_flat must be an object of strings")
        try:
            return unflatten(flat)
        except UpgradeError as exc:
            raise _Invalid(f"{where}: {exc}") from None

    def _sensitive_paths(self, raw: Any, where: str) -> tuple[tuple[PathStep, ...], ...]:
        if raw is None or raw == []:
            return ()
        if type(raw) is not list:
            raise _Invalid(f"{where}: sensitive_attributes is {_kind(raw)}, not a list")
        paths: list[tuple[PathStep, ...]] = []
        for path in raw:
            if type(path) is not list:
                raise _Invalid(f"{where}: a sensitive_attributes path is {_kind(path)}, not a list of steps")
            steps = tuple(self._step(step, where) for step in path)
            if steps and steps not in paths:
                paths.append(steps)
        return tuple(paths)

    @staticmethod
    def _step(step: Any, where: str) -> PathStep:
        if type(step) is not dict:
            raise _Invalid(f"{where}: a sensitive_attributes step is {_kind(step)}, not an object")
        kind, value = step.get("type"), step.get("value")
        if kind == "get_attr" and isinstance(value, str):
            return value
        if kind == "index":
            if type(value) is dict and "value" in value:  # cty's dynamic JSON: {"value": 0, "type": "number"}
                value = value["value"]
            if type(value) is int or type(value) is str:
                return value
            if isinstance(value, float | Decimal) and value == int(value):
                return int(value)
        raise _Invalid(f"{where}: a sensitive_attributes step is not a get_attr or index step")

    def _identity(self, raw: dict[str, Any], where: str) -> tuple[Mapping[str, Any] | None, int | None]:
        identity = raw.get("identity")
        version = raw.get("identity_schema_version")
        if version is not None and not _whole(version):
            raise _Invalid(f"{where}: identity_schema_version is {_kind(version)}, not a whole number")
        if identity is None:
            return None, version
        if type(identity) is not dict:
            raise _Invalid(f"{where}: identity is {_kind(identity)}, not an object")
        self._walk(identity, self.names, where)
        return identity, version

    def _dependencies(self, raw: dict[str, Any], where: str) -> tuple[str, ...]:
        """`dependencies` (resource addresses), else the legacy `depends_on` (kept verbatim)."""
        deps = raw.get("dependencies")
        if deps is not None:
            if type(deps) is not list:
                raise _Invalid(f"{where}: dependencies must be a list of strings")
            known = self.dependencies
            for dep in deps:
                if dep not in known:
                    if type(dep) is not str:
                        raise _Invalid(f"{where}: dependencies must be a list of strings")
                    try:
                        parse_resource_address(dep)
                    except AddressError as exc:
                        raise _Invalid(f"{where}: dependency {exc}") from None
                    self.dependencies[dep] = None
            return tuple(deps)
        legacy = raw.get("depends_on")
        if legacy is None:
            return ()
        if type(legacy) is not list or any(type(d) is not str for d in legacy):
            raise _Invalid(f"{where}: depends_on must be a list of strings")
        return tuple(legacy)


def _written_by(raw: Mapping[str, Any]) -> str:
    """`terraform 1.9.8`, or a neutral phrase when the version field is missing or garbage."""
    version = raw.get("terraform_version")
    if isinstance(version, str) and len(version) <= 40 and _VERSION.fullmatch(version):
        return f"terraform {version}"
    return "an unknown terraform version"
