"""A small static evaluator of Terraform expressions (not a Terraform: unknowns stay unknown).

`evaluate(expr, scope)` returns a known Python value or an `Unresolved` (see `values`). Root
names (`var`, `local`, `aws_lb`, `module`, ...) are looked up through the scope's `Context`,
which the loader implements per module instance; objects such as a resource instance answer
attribute access through `Namespace.attr`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from auditor.code import syntax as s
from auditor.code.values import (
    EvalError,
    HclSet,
    Ref,
    Template,
    Unresolved,
    first_unresolved,
    format_number,
    join_parts,
    normalize_number,
)


class Namespace(ABC):
    """Anything that answers `.name` in an expression: `var`, `aws_lb`, an instance, a module."""

    @abstractmethod
    def attr(self, name: str) -> Any:
        """The value of `self.name`."""

    def export(self) -> Any:
        """What this object becomes when stored in a resource attribute."""
        return Unresolved(f"{self.describe()} is not a value")

    def describe(self) -> str:
        return type(self).__name__


class Context(Protocol):
    """What expressions see outside themselves: root names, files, and a place for notes."""

    def root(self, name: str) -> Any:
        """The value of a root name not bound in the scope (`var`, `aws_lb`, ...)."""

    def read_file(self, path: str) -> str | Unresolved:
        """A text file's content, `path` relative to the configuration root."""

    def note(self, message: str) -> None:
        """Record a non-fatal problem."""


@dataclass(frozen=True, slots=True)
class Scope:
    context: Context
    names: Mapping[str, Any] = field(default_factory=dict)

    def bind(self, names: Mapping[str, Any]) -> Scope:
        return Scope(self.context, {**self.names, **names})


_SPLAT = "\x00splat"


def evaluate(expr: s.Expr, scope: Scope) -> Any:
    """The value of `expr` in `scope`."""
    return _HANDLERS[type(expr)](expr, scope)


# --- conversions shared with the functions --------------------------------------------------


def opaque(value: Unresolved) -> Unresolved:
    """An unknown that no longer pretends to be a reference or a partial string."""
    return value if type(value) in (Unresolved, EvalError) else Unresolved(value.reason)


def to_bool(value: Any) -> bool | Unresolved:
    if isinstance(value, bool):
        return value
    if isinstance(value, Unresolved):
        return opaque(value)
    if value in ("true", "false"):
        return value == "true"
    return EvalError(f"a bool is required, got {describe(value)}")


def to_number(value: Any) -> int | float | Unresolved:
    if isinstance(value, bool):
        return EvalError("a number is required, got a bool")
    if isinstance(value, int | float):
        return value
    if isinstance(value, Unresolved):
        return opaque(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            pass
        try:
            return normalize_number(float(text))
        except ValueError:
            return EvalError(f"cannot convert {value!r} to a number")
    return EvalError(f"a number is required, got {describe(value)}")


def to_string(value: Any) -> str | Unresolved | None:
    if isinstance(value, str) or value is None:
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return format_number(value)
    if isinstance(value, Unresolved):
        return value
    return EvalError(f"a string is required, got {describe(value)}")


def describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a bool"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, HclSet):
        return "a set"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, Namespace):
        return value.describe()
    return type(value).__name__


def iterate(value: Any) -> Iterator[tuple[Any, Any]] | Unresolved:
    """(key, value) pairs of a collection as Terraform iterates it: lists by index, sets by
    element, maps in lexical key order."""
    if isinstance(value, Unresolved):
        return opaque(value)
    if isinstance(value, HclSet):
        return ((item, item) for item in value)
    if isinstance(value, list | tuple):
        return iter(enumerate(value))
    if isinstance(value, Mapping):
        return ((key, value[key]) for key in sorted(value))
    return EvalError(f"cannot iterate over {describe(value)}")


def loop_names(key_var: str | None, value_var: str, key: Any, item: Any) -> dict[str, Any]:
    """The names a `for` expression or directive binds for one element."""
    return {value_var: item} if key_var is None else {key_var: key, value_var: item}


def hcl_equal(left: Any, right: Any) -> bool | Unresolved:
    """`==` with Terraform's typing: 1 != "1", true != 1."""
    unknown = first_unresolved(left) or first_unresolved(right)
    if unknown is not None:
        return opaque(unknown)
    return _equal(left, right)


def _equal(left: Any, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left == right
    if isinstance(left, Mapping) and isinstance(right, Mapping):
        return left.keys() == right.keys() and all(_equal(left[k], right[k]) for k in left)
    if isinstance(left, list | tuple) and isinstance(right, list | tuple):
        return len(left) == len(right) and all(_equal(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, Namespace) or isinstance(right, Namespace):
        return left is right
    return type(left) is type(right) and left == right


# --- expression handlers -------------------------------------------------------------------


def _literal(expr: s.Literal, scope: Scope) -> Any:
    return expr.value


def _variable(expr: s.Variable, scope: Scope) -> Any:
    if expr.name in scope.names:
        return scope.names[expr.name]
    return scope.context.root(expr.name)


def _splat_item(expr: s.SplatItem, scope: Scope) -> Any:
    return scope.names[_SPLAT]


def get_attr(value: Any, name: str) -> Any:
    """`value.name`."""
    if isinstance(value, Namespace):
        return value.attr(name)
    if isinstance(value, Ref):
        return value.get(name)
    if isinstance(value, Unresolved):
        return opaque(value)
    if isinstance(value, Mapping):
        if name in value:
            return value[name]
        return EvalError(f"object has no attribute {name!r}")
    return EvalError(f"cannot read attribute {name!r} of {describe(value)}")


def _get_attr(expr: s.GetAttr, scope: Scope) -> Any:
    return get_attr(evaluate(expr.source, scope), expr.name)


def index(value: Any, key: Any) -> Any:
    """`value[key]`."""
    if isinstance(key, Unresolved):
        return opaque(key)
    if isinstance(value, Ref):
        return value.index(key) if isinstance(key, int | str) and not isinstance(key, bool) \
            else EvalError("invalid index")
    if isinstance(value, Unresolved):
        return opaque(value)
    if isinstance(value, HclSet):
        return EvalError("a set cannot be indexed")
    if isinstance(value, list | tuple):
        number = to_number(key)
        if isinstance(number, Unresolved):
            return number
        if not isinstance(number, int) or not 0 <= number < len(value):
            return EvalError(f"index {key!r} out of range for a list of {len(value)}")
        return value[number]
    if isinstance(value, Mapping):
        text = to_string(key)
        if isinstance(text, Unresolved):
            return text
        if text in value:
            return value[text]
        return EvalError(f"no element with key {text!r}")
    if isinstance(value, Namespace) and isinstance(key, str):
        return value.attr(key)
    return EvalError(f"cannot index {describe(value)}")


def _index(expr: s.Index, scope: Scope) -> Any:
    return index(evaluate(expr.source, scope), evaluate(expr.key, scope))


def _splat(expr: s.Splat, scope: Scope) -> Any:
    source = evaluate(expr.source, scope)
    if isinstance(source, Unresolved):
        return opaque(source)
    if source is None:
        return []
    items = list(source) if isinstance(source, list | tuple) else [source]
    return [evaluate(expr.each, scope.bind({_SPLAT: item})) for item in items]


def _call(expr: s.Call, scope: Scope) -> Any:
    from auditor.code.functions import LAZY, call

    lazy = LAZY.get(expr.name)
    if lazy is not None:
        return lazy(expr, scope)
    args = [evaluate(a, scope) for a in expr.args]
    if expr.expand_final and args:
        last = args.pop()
        if isinstance(last, Unresolved):
            return opaque(last)
        if not isinstance(last, list | tuple):
            return EvalError(f"{expr.name}(...): the expanded argument must be a list")
        args.extend(last)
    return call(expr.name, args, scope)


def _conditional(expr: s.Conditional, scope: Scope) -> Any:
    condition = to_bool(evaluate(expr.condition, scope))
    if isinstance(condition, bool):
        return evaluate(expr.then if condition else expr.otherwise, scope)
    if isinstance(condition, EvalError):
        return condition
    then, otherwise = evaluate(expr.then, scope), evaluate(expr.otherwise, scope)
    if hcl_equal(then, otherwise) is True:
        return then  # both branches agree: the condition does not matter
    return Unresolved(f"condition unknown ({condition.reason})")


def _binary(expr: s.BinaryOp, scope: Scope) -> Any:
    op = expr.op
    left = evaluate(expr.left, scope)
    if op in ("&&", "||"):
        lhs = to_bool(left)
        if isinstance(lhs, EvalError) or lhs is (op == "||"):
            return lhs  # false && x, true || x
        rhs = to_bool(evaluate(expr.right, scope))
        if isinstance(lhs, bool):
            return rhs
        if isinstance(rhs, EvalError) or rhs is (op == "||"):
            return rhs
        return lhs
    right = evaluate(expr.right, scope)
    if op == "==":
        return hcl_equal(left, right)
    if op == "!=":
        equal = hcl_equal(left, right)
        return equal if isinstance(equal, Unresolved) else not equal
    a, b = to_number(left), to_number(right)
    if isinstance(b, EvalError):
        return b  # an error wins over an unknown: Terraform rejects the expression either way
    if isinstance(a, Unresolved):
        return a
    if isinstance(b, Unresolved):
        return b
    return _arithmetic(op, a, b)


def _arithmetic(op: str, a: int | float, b: int | float) -> Any:
    if op in ("<", ">", "<=", ">="):
        return {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]
    if op in ("/", "%") and b == 0:
        return EvalError("division by zero")
    if op == "+":
        result: int | float = a + b
    elif op == "-":
        result = a - b
    elif op == "*":
        result = a * b
    elif op == "/":
        result = a / b
    else:
        result = a - b * int(a / b)  # Terraform's % keeps the dividend's sign (like Go)
    return normalize_number(result)


def _unary(expr: s.UnaryOp, scope: Scope) -> Any:
    value = evaluate(expr.operand, scope)
    if expr.op == "!":
        flag = to_bool(value)
        return flag if isinstance(flag, Unresolved) else not flag
    number = to_number(value)
    return number if isinstance(number, Unresolved) else normalize_number(-number)


def _tuple(expr: s.TupleExpr, scope: Scope) -> Any:
    return [evaluate(item, scope) for item in expr.items]


def _object(expr: s.ObjectExpr, scope: Scope) -> Any:
    out: dict[str, Any] = {}
    for key_expr, value_expr in expr.items:
        key = to_string(evaluate(key_expr, scope))
        if isinstance(key, Unresolved):
            return Unresolved(f"object key unknown ({key.reason})")
        if key is None:
            return EvalError("object key is null")
        out[key] = evaluate(value_expr, scope)
    return out


def _for(expr: s.ForExpr, scope: Scope) -> Any:
    pairs = iterate(evaluate(expr.collection, scope))
    if isinstance(pairs, Unresolved):
        return Unresolved(f"for expression over an unknown collection ({pairs.reason})")
    items: list[Any] = []
    keyed: dict[str, Any] = {}
    for key, item in pairs:
        inner = scope.bind(loop_names(expr.key_var, expr.value_var, key, item))
        if expr.condition is not None:
            keep = to_bool(evaluate(expr.condition, inner))
            if isinstance(keep, Unresolved):
                return Unresolved(f"for expression filter unknown ({keep.reason})")
            if not keep:
                continue
        value = evaluate(expr.value, inner)
        if expr.key is None:
            items.append(value)
            continue
        result_key = to_string(evaluate(expr.key, inner))
        if isinstance(result_key, Unresolved):
            return Unresolved(f"for expression key unknown ({result_key.reason})")
        if result_key is None:
            return EvalError("for expression key is null")
        if expr.grouping:
            keyed.setdefault(result_key, []).append(value)
        elif result_key in keyed:
            return EvalError(f"duplicate key {result_key!r} in for expression (use ... to group)")
        else:
            keyed[result_key] = value
    return items if expr.key is None else keyed


def _template(expr: s.TemplateExpr, scope: Scope) -> Any:
    if len(expr.parts) == 1 and not isinstance(expr.parts[0], str | s.IfDirective | s.ForDirective):
        return evaluate(expr.parts[0], scope)  # "${x}" alone is x itself, unconverted
    return render(expr.parts, scope)


def render(parts: tuple[s.TemplatePart, ...], scope: Scope) -> str | Unresolved:
    """Template parts -> a string, a Template (unknown parts) or an error."""
    pieces: list[Any] = []
    for part in parts:
        if isinstance(part, str):
            pieces.append(part)
            continue
        if isinstance(part, s.IfDirective):
            condition = to_bool(evaluate(part.condition, scope))
            if isinstance(condition, EvalError):
                return condition
            if isinstance(condition, Unresolved):
                pieces.append(Unresolved(f"template condition unknown ({condition.reason})"))
            else:
                piece = render(part.then if condition else part.otherwise, scope)
                if isinstance(piece, EvalError):
                    return piece
                pieces.append(piece)
            continue
        if isinstance(part, s.ForDirective):
            piece = _render_for(part, scope)
            if isinstance(piece, EvalError):
                return piece
            pieces.append(piece)
            continue
        piece = interpolate(evaluate(part, scope))
        if isinstance(piece, EvalError):
            return piece
        pieces.append(piece)
    return join_parts(pieces)


def _render_for(part: s.ForDirective, scope: Scope) -> Any:
    pairs = iterate(evaluate(part.collection, scope))
    if isinstance(pairs, Unresolved):
        return pairs if isinstance(pairs, EvalError) else Unresolved(f"template loop over unknown ({pairs.reason})")
    pieces: list[Any] = []
    for key, item in pairs:
        piece = render(part.body, scope.bind(loop_names(part.key_var, part.value_var, key, item)))
        if isinstance(piece, EvalError):
            return piece
        pieces.append(piece)
    return join_parts(pieces)


def interpolate(value: Any) -> Any:
    """A value placed inside a string: converted to text, unknowns kept as template parts."""
    if isinstance(value, Ref | Template | EvalError):
        return value
    if isinstance(value, Unresolved):
        return opaque(value)
    if value is None:
        return EvalError("cannot include null in a string")
    text = to_string(value)
    return text if text is not None else EvalError("cannot include null in a string")


_HANDLERS: dict[type, Callable[[Any, Scope], Any]] = {
    s.Literal: _literal,
    s.Variable: _variable,
    s.SplatItem: _splat_item,
    s.GetAttr: _get_attr,
    s.Index: _index,
    s.Splat: _splat,
    s.Call: _call,
    s.Conditional: _conditional,
    s.BinaryOp: _binary,
    s.UnaryOp: _unary,
    s.TupleExpr: _tuple,
    s.ObjectExpr: _object,
    s.ForExpr: _for,
    s.TemplateExpr: _template,
}
