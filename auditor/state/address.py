"""Terraform addresses: module instances, resource instances and provider configurations.

Addresses are parsed with a small tokenizer, never split on dots: instance keys may hold dots,
brackets and quotes (`module.a["x.y"].module.b[0].aws_lb.main["k\\"q"]`). An integer key
(`count`) and a string key (`for_each`) stay distinct: `x[0]` and `x["0"]` are different
instances. Formatting quotes string keys the way Terraform does (HCL quoting), so parsing what
we format gives back the same value.

Ordering follows Terraform's `Less` methods (`terraform state list`, `show -json`): module path
first (shorter first, then step by step by name and key), then data before managed, type, name,
and instance key (no key, then integers numerically, then strings).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

InstanceKey = int | str | None
"""None (no count/for_each), int (count) or str (for_each)."""

DEFAULT_REGISTRY = "registry.terraform.io"
"""Registry host Terraform gives legacy (0.12-era) and short provider source strings."""

BUILTIN_TERRAFORM_PROVIDER = "terraform.io/builtin/terraform"


class AddressError(ValueError):
    """A string is not a valid address of the kind asked for (message is one line)."""


@dataclass(frozen=True, slots=True)
class ModuleStep:
    """One step of a module instance path: `module.<name>[<key>]`."""

    name: str
    key: InstanceKey = None

    def __str__(self) -> str:
        return f"module.{self.name}{format_key(self.key)}"


ModulePath = tuple[ModuleStep, ...]


@dataclass(frozen=True, slots=True)
class InstanceAddress:
    """`<module path>.<data.>type.name[key]`; `module_path` is () for the root module."""

    module_path: ModulePath
    mode: str
    type: str
    name: str
    index_key: InstanceKey = None

    @property
    def module(self) -> str:
        """The module instance address (`module.a["x"]`), "" for the root module."""
        return format_module(self.module_path)

    def __str__(self) -> str:
        return format_resource_instance(self.module_path, self.mode, self.type, self.name, self.index_key)


@dataclass(frozen=True, slots=True)
class ProviderConfig:
    """An absolute provider configuration: `module.x.provider["host/ns/type"].alias`.

    `module` holds module names only (provider configurations are per module, not per module
    instance); `provider` is the fully qualified source address (`registry.terraform.io/hashicorp/aws`).
    """

    module: tuple[str, ...]
    provider: str
    alias: str | None = None

    def __str__(self) -> str:
        prefix = "".join(f"module.{name}." for name in self.module)
        suffix = f".{self.alias}" if self.alias else ""
        return f'{prefix}provider["{self.provider}"]{suffix}'


# --------------------------------------------------------------------------------------------
# Formatting


def quote(text: str) -> str:
    """`text` as an HCL quoted string, the form Terraform uses for string instance keys."""
    if _PLAIN_TEXT.fullmatch(text):
        return f'"{text}"'
    out = ['"']
    length = len(text)
    for i, ch in enumerate(text):
        if ch in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[ch])
        elif ch in "$%":
            out.append(ch)
            if i + 1 < length and text[i + 1] == "{":
                out.append(ch)  # `${` and `%{` would start a template sequence: double the sigil
        elif ch.isprintable():
            out.append(ch)
        else:
            code = ord(ch)
            out.append(f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


_SIMPLE_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", '"': '\\"', "\\": "\\\\"}


def format_key(key: InstanceKey) -> str:
    """`[0]`, `["a"]` or "" for no key."""
    if key is None:
        return ""
    if isinstance(key, bool) or not isinstance(key, int | str):
        raise AddressError(f"invalid instance key of type {type(key).__name__}")
    return f"[{key}]" if isinstance(key, int) else f"[{quote(key)}]"


def format_module(module: ModulePath) -> str:
    """`module.a["x"].module.b[0]`, or "" for the root module."""
    return ".".join(str(step) for step in module)


def format_resource_instance(module: ModulePath, mode: str, type_: str, name: str, key: InstanceKey = None) -> str:
    """The instance address as `terraform state list` prints it."""
    local = f"{type_}.{name}{format_key(key)}" if mode == "managed" else f"data.{type_}.{name}{format_key(key)}"
    return f"{format_module(module)}.{local}" if module else local


# --------------------------------------------------------------------------------------------
# Parsing


def parse_module(text: str) -> ModulePath:
    """Parse a module instance address (`module.a["x.y"].module.b[0]`); "" is the root module."""
    if text == "":
        return ()
    if _SIMPLE_MODULE.fullmatch(text):
        return _simple_steps(text)
    scanner = _Scanner(text)
    steps = _module_steps(scanner, required=True)
    scanner.expect_end("module address")
    return steps


def parse_instance_address(text: str) -> InstanceAddress:
    """Parse an absolute resource instance address (`module.m[0].data.aws_vpc.main["k"]`)."""
    simple = _SIMPLE_INSTANCE.fullmatch(text)
    if simple:
        return _simple_address(simple)
    scanner = _Scanner(text)
    module = _module_steps(scanner, required=False)
    mode, type_, name = _resource_part(scanner)
    key = scanner.optional_key() if scanner.peek() == "[" else None
    scanner.expect_end("resource instance address")
    return InstanceAddress(module, mode, type_, name, key)


def parse_resource_address(text: str) -> InstanceAddress:
    """Parse an absolute resource address: like an instance address, but with no instance key."""
    simple = _SIMPLE_RESOURCE.fullmatch(text)
    if simple:
        return _simple_address(simple)
    scanner = _Scanner(text)
    module = _module_steps(scanner, required=False)
    mode, type_, name = _resource_part(scanner)
    scanner.expect_end("resource address")
    return InstanceAddress(module, mode, type_, name)


_BLANK_DOTS = re.compile(r"\s*\.\s*")


def parse_provider_config(text: str, *, default_registry: str = DEFAULT_REGISTRY) -> ProviderConfig:
    """Parse a provider configuration string as a v4 state holds it, normalizing legacy forms.

    Accepts `provider["registry.terraform.io/hashicorp/aws"]`, short sources
    (`provider["hashicorp/aws"]`, `provider["aws"]`), an `.alias` suffix, a `module.x.` prefix,
    and the 0.12-era legacy form `provider.aws[.alias]`, which becomes the legacy provider
    `<default_registry>/-/aws` (`terraform.io/builtin/terraform` for `terraform`), as Terraform does.
    """
    if "[" not in text:  # the legacy form is an HCL traversal: blanks around its dots are allowed
        text = _BLANK_DOTS.sub(".", text.strip())
    scanner = _Scanner(text)
    module: list[str] = []
    while scanner.peek_word() == "module":
        scanner.word()
        scanner.expect(".")
        module.append(scanner.identifier("module name"))
        if scanner.peek() == "[":
            raise scanner.error("a provider configuration belongs to a module, not a module instance")
        scanner.expect(".")
    if scanner.word() != "provider":
        raise scanner.error('expected "provider"')
    alias: str | None = None
    if scanner.peek() == "[":
        scanner.expect("[")
        source = scanner.string()
        scanner.expect("]")
        provider = normalize_provider_source(source, default_registry=default_registry)
    else:
        scanner.expect(".")
        local_name = scanner.identifier("provider name")
        provider = legacy_provider(local_name, default_registry=default_registry)
    if scanner.peek() == ".":
        scanner.expect(".")
        alias = scanner.identifier("provider alias")
    scanner.expect_end("provider configuration")
    return ProviderConfig(tuple(module), provider, alias)


def legacy_provider(local_name: str, *, default_registry: str = DEFAULT_REGISTRY) -> str:
    """The provider Terraform assumes for a bare legacy name (`aws` -> `registry.../-/aws`)."""
    if local_name == "terraform":
        return BUILTIN_TERRAFORM_PROVIDER
    return f"{default_registry}/-/{local_name}"


def normalize_provider_source(source: str, *, default_registry: str = DEFAULT_REGISTRY) -> str:
    """`aws` / `hashicorp/aws` / `host/ns/aws` -> the fully qualified `host/ns/type` form."""
    parts = source.split("/")
    if len(parts) > 3 or any(not p for p in parts):
        raise AddressError(f"invalid provider source address {excerpt(source)}")
    if len(parts) == 1:
        parts = ["hashicorp", *parts]
    if len(parts) == 2:
        parts = [default_registry, *parts]
    namespace, type_ = parts[1], parts[2]
    if not (namespace == "-" or is_identifier(namespace)) or not is_identifier(type_):
        raise AddressError(f"invalid provider source address {excerpt(source)}")
    return "/".join(parts)


# --------------------------------------------------------------------------------------------
# Ordering


def key_order(key: InstanceKey) -> tuple[int, int, str]:
    """Sort key of an instance key: no key, then ints numerically, then strings."""
    if key is None:
        return (0, 0, "")
    if isinstance(key, int):
        return (1, key, "")
    return (2, 0, key)


def module_order(module: ModulePath) -> tuple[int, tuple[tuple[str, tuple[int, int, str]], ...]]:
    """Sort key of a module path: shorter first, then step by step by name and key."""
    return (len(module), tuple((step.name, key_order(step.key)) for step in module))


def resource_order(module: ModulePath, mode: str, type_: str, name: str, key: InstanceKey) -> tuple[object, ...]:
    """Sort key of a resource instance address, as Terraform's AbsResourceInstance.Less."""
    return (module_order(module), 0 if mode == "data" else 1, type_, name, key_order(key))


# --------------------------------------------------------------------------------------------
# Fast paths: the common shapes (ASCII names, keys without escapes) matched by one regex; anything
# else goes through the tokenizer, which accepts a superset and gives the same result.

_IDENT = r"[A-Za-z_][A-Za-z0-9_-]*"
_PLAIN = r"[ !#&-\[\]-~]*"  # printable ASCII except `"`, `\`, `$` and `%`
_PLAIN_TEXT = re.compile(_PLAIN)
_KEY = rf'\[(?:0|[1-9][0-9]*|"{_PLAIN}")\]'
_STEP = rf"module\.{_IDENT}(?:{_KEY})?"
_STEP_PARTS = re.compile(rf'module\.({_IDENT})(?:\[(?:(0|[1-9][0-9]*)|"({_PLAIN})")\])?')
_SIMPLE_MODULE = re.compile(rf"{_STEP}(?:\.{_STEP})*")
_RESOURCE = rf"(?P<module>(?:{_STEP}\.)*)(?P<data>data\.)?(?!module\.|data\.)(?P<type>{_IDENT})\.(?P<name>{_IDENT})"
_SIMPLE_RESOURCE = re.compile(_RESOURCE)
_SIMPLE_INSTANCE = re.compile(rf'{_RESOURCE}(?:\[(?:(?P<int>0|[1-9][0-9]*)|"(?P<str>{_PLAIN})")\])?')


def _simple_steps(text: str) -> ModulePath:
    return tuple(ModuleStep(m[1], int(m[2]) if m[2] else m[3]) for m in _STEP_PARTS.finditer(text))


def _simple_address(match: re.Match[str]) -> InstanceAddress:
    groups = match.groupdict()
    key: InstanceKey = None
    if groups.get("int"):
        key = int(groups["int"])
    elif groups.get("str") is not None:
        key = groups["str"]
    module = _simple_steps(groups["module"][:-1]) if groups["module"] else ()
    mode = "data" if groups["data"] else "managed"
    return InstanceAddress(module, mode, groups["type"], groups["name"], key)


# --------------------------------------------------------------------------------------------
# Tokenizer


def excerpt(text: str, limit: int = 80) -> str:
    """A short, quoted rendering of untrusted text for one-line error messages."""
    shown = text if len(text) <= limit else text[:limit] + "…"
    return quote(shown)


def is_identifier(word: object) -> bool:
    """A Terraform identifier: a letter or `_`, then letters, digits, `_` and `-`."""
    return (
        isinstance(word, str)
        and bool(word)
        and (word[0].isalpha() or word[0] == "_")
        and all(c.isalnum() or c in "_-" for c in word)
    )


_UNESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


class _Scanner:
    """A cursor over an address string, producing identifiers, quoted strings and integers."""

    __slots__ = ("pos", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def error(self, problem: str) -> AddressError:
        return AddressError(f"invalid address {excerpt(self.text)}: {problem} at offset {self.pos}")

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def peek_word(self) -> str:
        end = self.pos
        text = self.text
        while end < len(text) and (text[end].isalnum() or text[end] in "_-"):
            end += 1
        return text[self.pos : end]

    def word(self) -> str:
        word = self.peek_word()
        self.pos += len(word)
        return word

    def identifier(self, what: str) -> str:
        word = self.word()
        if not is_identifier(word):
            raise self.error(f"expected a {what}")
        return word

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise self.error(f"expected {char!r}")
        self.pos += 1

    def expect_end(self, what: str) -> None:
        if self.pos != len(self.text):
            raise self.error(f"unexpected text after the {what}")

    def optional_key(self) -> InstanceKey:
        """`[0]` or `["key"]` (the caller saw `[`)."""
        self.expect("[")
        if self.peek() == '"':
            key: InstanceKey = self.string()
        else:
            digits = self.word()
            if not digits.isascii() or not digits.isdigit() or (len(digits) > 1 and digits[0] == "0"):
                raise self.error("an instance key must be a non-negative integer or a quoted string")
            key = int(digits)
        self.expect("]")
        return key

    def string(self) -> str:
        """An HCL quoted string literal with no template sequences."""
        self.expect('"')
        text = self.text
        out: list[str] = []
        while True:
            if self.pos >= len(text):
                raise self.error("unterminated quoted string")
            ch = text[self.pos]
            if ch == '"':
                self.pos += 1
                return "".join(out)
            if ch == "\\":
                out.append(self._escape())
                continue
            if ch in "\n\r":
                raise self.error("line break in quoted string")
            if ch in "$%" and text.startswith("{", self.pos + 1):
                raise self.error("template sequences are not allowed in an address")
            if ch in "$%" and text.startswith(ch + "{", self.pos + 1):
                out.append(ch + "{")  # `$${` is a literal `${`
                self.pos += 3
                continue
            out.append(ch)
            self.pos += 1

    def _escape(self) -> str:
        text = self.text
        code = text[self.pos + 1 : self.pos + 2]
        if code in _UNESCAPES:
            self.pos += 2
            return _UNESCAPES[code]
        width = {"u": 4, "U": 8}.get(code)
        digits = text[self.pos + 2 : self.pos + 2 + width] if width else ""
        if not width or len(digits) != width or any(c not in "0123456789abcdefABCDEF" for c in digits):
            raise self.error("invalid escape sequence in quoted string")
        value = int(digits, 16)
        if value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
            raise self.error("invalid unicode escape in quoted string")
        self.pos += 2 + width
        return chr(value)


def _module_steps(scanner: _Scanner, *, required: bool) -> ModulePath:
    steps: list[ModuleStep] = []
    while scanner.peek_word() == "module":
        scanner.word()
        scanner.expect(".")
        name = scanner.identifier("module name")
        key = scanner.optional_key() if scanner.peek() == "[" else None
        steps.append(ModuleStep(name, key))
        if scanner.peek() == ".":
            scanner.expect(".")
            if required and scanner.peek_word() != "module":
                raise scanner.error('expected "module"')
        elif not required:
            raise scanner.error("expected a resource after the module path")
    if required and not steps:
        raise scanner.error('a module address must start with "module."')
    return tuple(steps)


def _resource_part(scanner: _Scanner) -> tuple[str, str, str]:
    mode = "managed"
    first = scanner.identifier("resource type")
    if first == "data" and scanner.peek() == ".":
        mode = "data"
        scanner.expect(".")
        first = scanner.identifier("resource type")
    scanner.expect(".")
    name = scanner.identifier("resource name")
    return mode, first, name
