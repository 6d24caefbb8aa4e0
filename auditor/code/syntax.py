"""HCL text -> a small typed syntax tree (bodies, blocks, attributes, expressions).

python-hcl2 (>= 8) parses; its raw Lark tree is converted once into the frozen nodes below, so
that the evaluator never re-parses `"${...}"` strings. Heredocs and `templatefile` templates
are scanned here too: their `${...}` and `%{...}` sequences become the same template nodes as a
quoted string's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import hcl2
from hcl2.utils import process_escape_sequences
from lark import Token, Tree
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from auditor.code.values import normalize_number
from auditor.errors import ConfigError

# --- expressions ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Literal:
    value: Any


@dataclass(frozen=True, slots=True)
class Variable:
    """A root name: `var`, `local`, `aws_lb`, `each`, a for-expression variable..."""

    name: str


@dataclass(frozen=True, slots=True)
class GetAttr:
    source: Expr
    name: str


@dataclass(frozen=True, slots=True)
class Index:
    source: Expr
    key: Expr


@dataclass(frozen=True, slots=True)
class SplatItem:
    """The element a splat applies its steps to."""


@dataclass(frozen=True, slots=True)
class Splat:
    """`source[*]<each>`: `each` is evaluated per element, with SplatItem bound to it."""

    source: Expr
    each: Expr


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple[Expr, ...]
    expand_final: bool = False


@dataclass(frozen=True, slots=True)
class Conditional:
    condition: Expr
    then: Expr
    otherwise: Expr


@dataclass(frozen=True, slots=True)
class BinaryOp:
    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class UnaryOp:
    op: str
    operand: Expr


@dataclass(frozen=True, slots=True)
class TupleExpr:
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class ObjectExpr:
    items: tuple[tuple[Expr, Expr], ...]


@dataclass(frozen=True, slots=True)
class ForExpr:
    key_var: str | None
    value_var: str
    collection: Expr
    key: Expr | None  # None: a tuple `[for ...]`, else an object `{for ... : k => v}`
    value: Expr
    condition: Expr | None
    grouping: bool


@dataclass(frozen=True, slots=True)
class IfDirective:
    condition: Expr
    then: tuple[TemplatePart, ...]
    otherwise: tuple[TemplatePart, ...]


@dataclass(frozen=True, slots=True)
class ForDirective:
    key_var: str | None
    value_var: str
    collection: Expr
    body: tuple[TemplatePart, ...]


@dataclass(frozen=True, slots=True)
class TemplateExpr:
    parts: tuple[TemplatePart, ...]


Expr = (Literal | Variable | GetAttr | Index | SplatItem | Splat | Call | Conditional | BinaryOp | UnaryOp
        | TupleExpr | ObjectExpr | ForExpr | TemplateExpr)
TemplatePart = str | Expr | IfDirective | ForDirective

# --- configuration structure ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Attribute:
    name: str
    expr: Expr
    line: int


@dataclass(frozen=True, slots=True)
class Block:
    type: str
    labels: tuple[str, ...]
    body: Body
    line: int
    file: str  # path relative to the configuration root


@dataclass(frozen=True, slots=True)
class Body:
    attributes: tuple[Attribute, ...]
    blocks: tuple[Block, ...]

    def attribute(self, name: str) -> Attribute | None:
        return next((a for a in self.attributes if a.name == name), None)

    def blocks_of(self, block_type: str) -> tuple[Block, ...]:
        return tuple(b for b in self.blocks if b.type == block_type)


@dataclass(frozen=True, slots=True)
class ConfigFile:
    path: str  # relative to the configuration root
    body: Body


# --- entry points ---------------------------------------------------------------------------


def parse_file(path: Path, display: str) -> ConfigFile:
    """Parse one `.tf` file; malformed HCL raises a one-line ConfigError naming it."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{display}: cannot read: {_one_line(str(exc))}") from None
    return ConfigFile(display, _Converter(display).body(_parse_tree(text, display, line_offset=0)))


def parse_text(text: str, display: str) -> Body:
    """Parse HCL text (a `.tfvars` file) into a Body."""
    return _Converter(display).body(_parse_tree(text, display, line_offset=0))


def parse_template(text: str, display: str, line: int = 1) -> TemplateExpr:
    """A template document (heredoc body, `templatefile` file) -> its template expression."""
    return TemplateExpr(_assemble(_scan_template(text, display, line), display, line))


def _parse_tree(text: str, display: str, line_offset: int) -> Tree:
    if not hasattr(hcl2, "parses_to_tree"):  # the grammar this module walks is python-hcl2 8's
        raise ConfigError(f"python-hcl2 {getattr(hcl2, '__version__', '?')} is installed; reading .tf files "
                          "needs python-hcl2 >= 8", "pip install 'python-hcl2>=8,<9'")
    try:
        return _lark_tree(text)
    except UnexpectedInput as exc:
        raise ConfigError(f"{display}:{exc.line + line_offset}: malformed HCL: {_describe(exc)}",
                          "fix the file (terraform validate shows the error)") from None
    except LarkError as exc:
        raise ConfigError(f"{display}: malformed HCL: {_one_line(str(exc))}",
                          "fix the file (terraform validate shows the error)") from None


@lru_cache(maxsize=256)
def _lark_tree(text: str) -> Tree:
    """The Lark tree of `text`, parsed once per process: the code loader, the secret scan and the
    root-module search read the same files (the trees are only read, never changed)."""
    return hcl2.parses_to_tree(text)


def _describe(exc: UnexpectedInput) -> str:
    if isinstance(exc, UnexpectedCharacters):
        return f"unexpected character {exc.char!r} at column {exc.column}"
    if isinstance(exc, UnexpectedToken):
        if exc.token.type == "$END":
            return "unexpected end of file"
        return f"unexpected {_one_line(str(exc.token))!r} at column {exc.column}"
    if isinstance(exc, UnexpectedEOF):
        return "unexpected end of file"
    return _one_line(str(exc))


def _one_line(text: str, limit: int = 120) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


# --- Lark tree -> nodes ---------------------------------------------------------------------

_BINARY_OPS = ("==", "!=", "<=", ">=", "&&", "||", "<", ">", "+", "-", "*", "/", "%")


def _trees(node: Tree) -> list[Tree]:
    return [c for c in node.children if isinstance(c, Tree) and c.data != "new_line_or_comment"]


def _tokens(node: Tree) -> list[Token]:
    return [c for c in node.children if isinstance(c, Token)]


def _line(node: Tree, default: int = 0) -> int:
    return getattr(node.meta, "line", default) if not node.meta.empty else default


class _Converter:
    """Converts the raw Lark tree of one file; `display` names the file in errors."""

    def __init__(self, display: str, line_offset: int = 0) -> None:
        self.display = display
        self.line_offset = line_offset

    def error(self, node: Tree | None, message: str) -> ConfigError:
        where = f"{self.display}:{_line(node) + self.line_offset}" if node is not None else self.display
        return ConfigError(f"{where}: {message}", "fix the file (terraform validate shows the error)")

    # structure

    def body(self, tree: Tree) -> Body:
        if tree.data == "start":
            tree = _trees(tree)[0]
        attributes: list[Attribute] = []
        blocks: list[Block] = []
        seen: set[str] = set()
        for child in _trees(tree):
            if child.data == "attribute":
                name_node, expr_node = _trees(child)
                name = self.name(name_node)
                if name in seen:
                    raise self.error(child, f"duplicate argument {name!r}")
                seen.add(name)
                attributes.append(Attribute(name, self.expr(expr_node), _line(child) + self.line_offset))
            elif child.data == "block":
                blocks.append(self.block(child))
        return Body(tuple(attributes), tuple(blocks))

    def block(self, tree: Tree) -> Block:
        parts = _trees(tree)
        head, inner = parts[:-1], parts[-1]
        labels = tuple(self.label(p) for p in head[1:])
        return Block(self.name(head[0]), labels, self.body(inner), _line(tree) + self.line_offset, self.display)

    def name(self, node: Tree) -> str:
        return str(node.children[0])

    def label(self, node: Tree) -> str:
        if node.data == "string":
            value = self.string(node)
            if isinstance(value, Literal) and isinstance(value.value, str):
                return value.value
            raise self.error(node, "block labels must be literal strings")
        return self.name(node)

    # expressions

    def expr(self, node: Tree) -> Expr:
        handler: Callable[[Tree], Expr] | None = getattr(self, f"x_{node.data}", None)
        if handler is None:
            raise self.error(node, f"unsupported expression ({node.data})")
        return handler(node)

    def x_expr_term(self, node: Tree) -> Expr:
        return self.expr(_trees(node)[0])

    def x_int_lit(self, node: Tree) -> Expr:
        return Literal(int(str(node.children[0])))

    def x_float_lit(self, node: Tree) -> Expr:
        return Literal(normalize_number(float(str(node.children[0]))))

    def x_literal_value(self, node: Tree) -> Expr:
        return Literal({"true": True, "false": False, "null": None}[str(node.children[0])])

    def x_identifier(self, node: Tree) -> Expr:
        return Variable(str(node.children[0]))

    x_keyword = x_identifier

    def x_string(self, node: Tree) -> Expr:
        return self.string(node)

    def x_template_string(self, node: Tree) -> Expr:
        raw = str(node.children[0])
        return Literal(process_escape_sequences(raw[2:-2]))

    def x_heredoc_template(self, node: Tree) -> Expr:
        return self.heredoc(node, trim=False)

    def x_heredoc_template_trim(self, node: Tree) -> Expr:
        return self.heredoc(node, trim=True)

    def x_tuple(self, node: Tree) -> Expr:
        return TupleExpr(tuple(self.expr(t) for t in _trees(node)))

    def x_object(self, node: Tree) -> Expr:
        items: list[tuple[Expr, Expr]] = []
        for elem in _trees(node):
            key_node, value_node = _trees(elem)
            items.append((self.object_key(key_node), self.expr(value_node)))
        return ObjectExpr(tuple(items))

    def object_key(self, node: Tree) -> Expr:
        inner = _trees(node)[0]
        if inner.data == "keyword":
            return Literal(self.name(inner))
        parenthesized = any(isinstance(c, Token) and c.type == "LPAR" for c in inner.children)
        first = _trees(inner)[0] if inner.data == "expr_term" else inner
        if not parenthesized and first.data in ("identifier", "literal_value", "keyword"):
            return Literal(str(first.children[0]))  # a bare name is the key itself
        return self.expr(inner)

    def x_function_call(self, node: Tree) -> Expr:
        names = [self.name(t) for t in _trees(node) if t.data == "identifier"]
        arguments = next((t for t in _trees(node) if t.data == "arguments"), None)
        args: tuple[Expr, ...] = ()
        expand = False
        if arguments is not None:
            args = tuple(self.expr(t) for t in _trees(arguments))
            expand = any(isinstance(c, Token) and c.type == "ELLIPSIS" for c in arguments.children)
        return Call("::".join(names), args, expand)

    def x_index_expr_term(self, node: Tree) -> Expr:
        source, index = _trees(node)
        return Index(self.expr(source), self.index_key(index))

    def index_key(self, node: Tree) -> Expr:
        if node.data == "short_index":
            return Literal(int(str(_tokens(node)[-1])))
        return self.expr(_trees(node)[0])

    def x_get_attr_expr_term(self, node: Tree) -> Expr:
        source, get_attr = _trees(node)
        return GetAttr(self.expr(source), self.name(_trees(get_attr)[0]))

    def x_full_splat_expr_term(self, node: Tree) -> Expr:
        source, splat = _trees(node)
        return Splat(self.expr(source), self.steps(SplatItem(), _trees(splat)))

    def x_attr_splat_expr_term(self, node: Tree) -> Expr:
        # Legacy `.*`: attribute steps apply per element; from the first index on, to the result.
        source, splat = _trees(node)
        steps = _trees(splat)
        cut = next((i for i, s in enumerate(steps) if s.data != "get_attr"), len(steps))
        result: Expr = Splat(self.expr(source), self.steps(SplatItem(), steps[:cut]))
        return self.steps(result, steps[cut:])

    def steps(self, base: Expr, steps: list[Tree]) -> Expr:
        for step in steps:
            if step.data == "get_attr":
                base = GetAttr(base, self.name(_trees(step)[0]))
            else:
                base = Index(base, self.index_key(step))
        return base

    def x_conditional(self, node: Tree) -> Expr:
        condition, then, otherwise = _trees(node)
        return Conditional(self.expr(condition), self.expr(then), self.expr(otherwise))

    def x_binary_op(self, node: Tree) -> Expr:
        left, term = _trees(node)
        operator, right = _trees(term)
        text = str(operator.children[0]).strip()
        op = next((o for o in _BINARY_OPS if text.endswith(o)), None)
        if op is None:
            raise self.error(node, f"unknown operator {text!r}")
        return BinaryOp(op, self.expr(left), self.expr(right))

    def x_unary_op(self, node: Tree) -> Expr:
        op = str(_tokens(node)[0])
        operand = self.expr(_trees(node)[0])
        if op == "-" and isinstance(operand, Literal) and isinstance(operand.value, int | float) \
                and not isinstance(operand.value, bool):
            return Literal(-operand.value)
        return UnaryOp(op, operand)

    def x_for_tuple_expr(self, node: Tree) -> Expr:
        return self.for_expr(node, is_object=False)

    def x_for_object_expr(self, node: Tree) -> Expr:
        return self.for_expr(node, is_object=True)

    def for_expr(self, node: Tree, *, is_object: bool) -> Expr:
        intro, *rest = _trees(node)
        names = [self.name(t) for t in _trees(intro) if t.data == "identifier"]
        collection = self.expr(next(t for t in _trees(intro) if t.data != "identifier"))
        key_var, value_var = (names[0], names[1]) if len(names) == 2 else (None, names[0])
        condition: Expr | None = None
        if rest and rest[-1].data == "for_cond":
            condition = self.expr(_trees(rest.pop())[0])
        grouping = any(isinstance(c, Token) and c.type == "ELLIPSIS" for c in node.children)
        if is_object:
            key_expr, value_expr = rest
            return ForExpr(key_var, value_var, collection, self.expr(key_expr), self.expr(value_expr),
                           condition, grouping)
        return ForExpr(key_var, value_var, collection, None, self.expr(rest[0]), condition, False)

    def x_interpolation(self, node: Tree) -> Expr:
        return self.expr(_trees(node)[0])

    # strings and templates

    def string(self, node: Tree) -> Expr:
        pieces: list[_Piece] = []
        for part in _trees(node):
            child = part.children[0]
            if isinstance(child, Token):
                text = str(child)
                if child.type in ("ESCAPED_INTERPOLATION", "ESCAPED_DIRECTIVE"):
                    pieces.append(_Text(text[1:]))
                else:
                    pieces.append(_Text(process_escape_sequences(text)))
            else:
                pieces.append(self.directive(child))
        parts = _assemble(pieces, self.display, _line(node) + self.line_offset)
        if not parts:
            return Literal("")
        if len(parts) == 1 and isinstance(parts[0], str):
            return Literal(parts[0])
        return TemplateExpr(parts)

    def directive(self, node: Tree) -> _Piece:
        strip_open, strip_close = _strip_markers(node)
        if node.data == "interpolation":
            return _Interp(self.expr(_trees(node)[0]), strip_open, strip_close)
        if node.data == "template_if_start":
            return _If(self.expr(_trees(node)[0]), strip_open, strip_close)
        if node.data == "template_for_start":
            trees = _trees(node)
            names = [self.name(t) for t in trees[:-1]]
            key_var, value_var = (names[0], names[1]) if len(names) == 2 else (None, names[0])
            return _For(key_var, value_var, self.expr(trees[-1]), strip_open, strip_close)
        kinds = {"template_else": "else", "template_endif": "endif", "template_endfor": "endfor"}
        return _Mark(kinds[node.data], strip_open, strip_close)

    def heredoc(self, node: Tree, *, trim: bool) -> Expr:
        raw = str(node.children[0])
        first_nl = raw.index("\n")
        lines = [x.rstrip("\r") for x in raw[first_nl + 1:].split("\n")]
        while lines and lines[-1].strip() == "":
            lines.pop()
        content = lines[:-1]  # the last line is the closing marker
        if trim:
            widths = [len(x) - len(x.lstrip(" \t")) for x in content if x.strip()]
            cut = min(widths, default=0)
            content = [x[cut:] if x.strip() else x[min(cut, len(x)):] for x in content]
        text = "".join(f"{x}\n" for x in content)
        template = parse_template(text, self.display, _line(node) + self.line_offset + 1)
        if not template.parts:
            return Literal("")
        if len(template.parts) == 1 and isinstance(template.parts[0], str):
            return Literal(template.parts[0])
        return template


def _strip_markers(node: Tree) -> tuple[bool, bool]:
    kinds = [c.type if isinstance(c, Token) else "" for c in node.children]
    opening = next((i for i, k in enumerate(kinds) if k in ("DIRECTIVE_START", "INTERP_START")), 0)
    strip_open = opening + 1 < len(kinds) and kinds[opening + 1] == "STRIP_MARKER"
    strip_close = len(kinds) >= 2 and kinds[-2] == "STRIP_MARKER"
    return strip_open, strip_close


# --- template assembly (shared by quoted strings, heredocs and template files) -------------


@dataclass(slots=True)
class _Text:
    text: str


@dataclass(frozen=True, slots=True)
class _Interp:
    expr: Expr
    strip_open: bool = False
    strip_close: bool = False


@dataclass(frozen=True, slots=True)
class _If:
    condition: Expr
    strip_open: bool = False
    strip_close: bool = False


@dataclass(frozen=True, slots=True)
class _For:
    key_var: str | None
    value_var: str
    collection: Expr
    strip_open: bool = False
    strip_close: bool = False


@dataclass(frozen=True, slots=True)
class _Mark:
    kind: str  # else | endif | endfor
    strip_open: bool = False
    strip_close: bool = False


_Piece = _Text | _Interp | _If | _For | _Mark


def _assemble(pieces: list[_Piece], display: str, line: int) -> tuple[TemplatePart, ...]:
    """Apply `~` strip markers, then nest if/for directives into template parts."""
    for i, piece in enumerate(pieces):
        if isinstance(piece, _Text):
            continue
        if piece.strip_open and i > 0 and isinstance(pieces[i - 1], _Text):
            prev = pieces[i - 1]
            assert isinstance(prev, _Text)
            prev.text = prev.text.rstrip()
        if piece.strip_close and i + 1 < len(pieces) and isinstance(pieces[i + 1], _Text):
            nxt = pieces[i + 1]
            assert isinstance(nxt, _Text)
            nxt.text = nxt.text.lstrip()
    position = 0

    def fail(message: str) -> ConfigError:
        return ConfigError(f"{display}:{line}: {message}", "fix the template directives")

    def sequence(stop: tuple[str, ...]) -> tuple[tuple[TemplatePart, ...], str | None]:
        nonlocal position
        out: list[TemplatePart] = []
        while position < len(pieces):
            piece = pieces[position]
            position += 1
            if isinstance(piece, _Text):
                if piece.text:
                    if out and isinstance(out[-1], str):
                        out[-1] = out[-1] + piece.text
                    else:
                        out.append(piece.text)
            elif isinstance(piece, _Interp):
                out.append(piece.expr)
            elif isinstance(piece, _If):
                then, ended = sequence(("else", "endif"))
                otherwise: tuple[TemplatePart, ...] = ()
                if ended == "else":
                    otherwise, ended = sequence(("endif",))
                if ended != "endif":
                    raise fail("%{if} without %{endif}")
                out.append(IfDirective(piece.condition, then, otherwise))
            elif isinstance(piece, _For):
                body, ended = sequence(("endfor",))
                if ended != "endfor":
                    raise fail("%{for} without %{endfor}")
                out.append(ForDirective(piece.key_var, piece.value_var, piece.collection, body))
            elif piece.kind in stop:
                return tuple(out), piece.kind
            else:
                raise fail(f"unexpected %{{{piece.kind}}}")
        return tuple(out), None

    parts, ended = sequence(())
    if ended is not None:
        raise fail(f"unexpected %{{{ended}}}")
    return parts


def _scan_template(text: str, display: str, line: int) -> list[_Piece]:
    """Split template text into literal text and `${...}` / `%{...}` sequences."""
    pieces: list[_Piece] = []
    literal: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        two = text[i:i + 2]
        if two in ("$$", "%%") and text[i + 2:i + 3] == "{":
            literal.append(text[i + 1:i + 3])
            i += 3
            continue
        if two in ("${", "%{"):
            end = _sequence_end(text, i + 2)
            if end < 0:
                raise ConfigError(f"{display}:{line + text.count(chr(10), 0, i)}: unterminated template "
                                  "sequence", "close every ${ and %{ with }")
            if literal:
                pieces.append(_Text("".join(literal)))
                literal = []
            inner = text[i + 2:end]
            at = line + text.count("\n", 0, i)
            pieces.append(_interp_piece(inner, display, at) if two == "${" else _directive_piece(inner, display, at))
            i = end + 1
            continue
        literal.append(text[i])
        i += 1
    if literal:
        pieces.append(_Text("".join(literal)))
    return pieces


def _sequence_end(text: str, start: int) -> int:
    """Index of the `}` closing a template sequence whose content starts at `start`, or -1."""
    depth = 0
    i = start
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            i = _string_end(text, i + 1)
            if i < 0:
                return -1
        elif ch == "{":
            depth += 1
        elif ch == "}":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    return -1


def _string_end(text: str, start: int) -> int:
    """Index of the `"` closing a quoted string starting at `start` (nested sequences skipped)."""
    i = start
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == '"':
            return i
        if text[i:i + 2] in ("${", "%{") and text[i - 1:i] not in ("$", "%"):
            i = _sequence_end(text, i + 2)
            if i < 0:
                return -1
        i += 1
    return -1


def _strip(inner: str) -> tuple[str, bool, bool]:
    strip_open = inner.startswith("~")
    strip_close = inner.endswith("~")
    body = inner[1 if strip_open else 0: len(inner) - 1 if strip_close and len(inner) > 1 else len(inner)]
    return body, strip_open, strip_close


def _interp_piece(inner: str, display: str, line: int) -> _Piece:
    body, strip_open, strip_close = _strip(inner)
    return _Interp(parse_expression(body, display, line), strip_open, strip_close)


def _directive_piece(inner: str, display: str, line: int) -> _Piece:
    body, strip_open, strip_close = _strip(inner)
    words = body.strip()
    keyword, _, rest = words.partition(" ")
    if keyword in ("else", "endif", "endfor") and not rest.strip():
        return _Mark(keyword, strip_open, strip_close)
    if keyword == "if":
        return _If(parse_expression(rest, display, line), strip_open, strip_close)
    if keyword == "for":
        names, sep, collection = rest.partition(" in ")
        variables = [v.strip() for v in names.split(",")]
        if sep and 1 <= len(variables) <= 2 and all(v.isidentifier() for v in variables):
            key_var, value_var = (variables[0], variables[1]) if len(variables) == 2 else (None, variables[0])
            return _For(key_var, value_var, parse_expression(collection, display, line), strip_open, strip_close)
    raise ConfigError(f"{display}:{line}: invalid template directive %{{{_one_line(inner, 40)}}}",
                      "use %{if ...}, %{else}, %{endif}, %{for ... in ...} or %{endfor}")


def parse_expression(text: str, display: str, line: int) -> Expr:
    """One expression from text (inside a heredoc or template file)."""
    tree = _parse_tree(f"x = (\n{text}\n)\n", display, line_offset=line - 2)
    body = _Converter(display, line_offset=line - 2).body(tree)
    return body.attributes[0].expr
