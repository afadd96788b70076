"""Checking a spec before anything runs it: shape, names, and carrier neutrality.

Every function of a spec must give the same answer on Python ints, NumPy arrays
and Z3 terms.  That holds for ``+ - *`` and the six comparisons, with guards and
invariants returned as tuples of comparisons; it fails for the rest of Python:
``and``/``or``/``not``/``if``/a chained comparison force a Python ``bool`` (NumPy
raises "ambiguous", or silently decides on a one-state frontier; Z3 raises),
``//`` and ``%`` differ (NumPy gives ``x // 0 == 0``, Z3 rounds differently), ``/``
and ``**`` leave the integers, ``abs``/``min``/``max``/``int`` need a concrete
value.

:func:`problems` runs each function once on a *probe* carrier (:class:`Probe`,
:class:`Condition`) that supports exactly that operator set and raises on
anything else, so each problem is found where it happens, whichever way the
user's code is written, and reported with the part of the spec and the remedy.
Arity is checked against the transition's parameters first, and the state
passed in is the spec's own ``State``, so a read of an unknown variable and a
write of one are both caught by name.
"""

from __future__ import annotations

import ast
import functools
import inspect
import numbers
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

from spec.format import Spec, SpecError

_TRUTH = (
    "uses a condition as a Python bool (`and`, `or`, `not`, `if`, a chained comparison "
    "such as `0 <= x <= n`, `in`, `min`/`max`)"
)
_TRUTH_REMEDY = (
    "return the conditions as separate conjuncts of the tuple, e.g. `(a > 0, a <= s.x)`; "
    "a disjunction needs two transitions"
)
_ARITH_REMEDY = "use only + - * and the comparisons == != < <= > >= on state variables, " \
    "parameters and b0"


class Unsupported(Exception):
    """Raised by a probe for an operation outside the carrier-neutral set."""

    def __init__(self, what: str, remedy: str = _ARITH_REMEDY) -> None:
        super().__init__(what)
        self.what = what
        self.remedy = remedy


def _refuse(what: str, remedy: str = _ARITH_REMEDY) -> Callable[..., NoReturn]:
    def op(*_: object) -> NoReturn:
        raise Unsupported(what, remedy)

    return op


def _operand(other: object) -> bool:
    return isinstance(other, Probe) or (
        isinstance(other, numbers.Integral) and not isinstance(other, bool)
    )


def _arith(name: str) -> Callable[[Probe, object], Probe]:
    def op(self: Probe, other: object) -> Probe:
        if isinstance(other, Condition):
            raise Unsupported(f"uses a condition as a number (`{name}` of a comparison)")
        if not _operand(other):
            raise Unsupported(
                f"combines an integer with a {type(other).__name__} ({other!r}) by `{name}`",
                "only whole numbers may appear as constants",
            )
        return Probe()

    return op


def _compare(name: str) -> Callable[[Probe, object], Condition]:
    def op(self: Probe, other: object) -> Condition:
        if isinstance(other, Condition):
            raise Unsupported(f"compares a condition by `{name}`", _TRUTH_REMEDY)
        if not _operand(other):
            raise Unsupported(
                f"compares an integer with a {type(other).__name__} ({other!r})",
                "only whole numbers may appear as constants",
            )
        return Condition()

    return op


class Probe:
    """An integer-valued term as the checker sees it: ``+ - *`` and comparisons only."""

    __add__ = __radd__ = _arith("+")
    __sub__ = __rsub__ = _arith("-")
    __mul__ = __rmul__ = _arith("*")
    __lt__ = _compare("<")
    __le__ = _compare("<=")
    __gt__ = _compare(">")
    __ge__ = _compare(">=")
    __eq__ = _compare("==")  # type: ignore[assignment]
    __ne__ = _compare("!=")  # type: ignore[assignment]
    __hash__ = object.__hash__

    def __neg__(self) -> Probe:
        return Probe()

    def __pos__(self) -> Probe:
        return self

    __floordiv__ = __rfloordiv__ = _refuse(
        "uses `//` (NumPy gives x // 0 == 0, Z3 rounds negative quotients differently)")
    __mod__ = __rmod__ = _refuse("uses `%` (NumPy and Z3 disagree on negative and zero divisors)")
    __truediv__ = __rtruediv__ = _refuse("uses `/` (a fraction, not an integer)")
    __pow__ = __rpow__ = _refuse("uses `**` (write the product out, e.g. x * x)")
    __divmod__ = __rdivmod__ = _refuse("uses divmod()")
    __abs__ = _refuse("calls abs() (it needs a concrete number)",
                      "split the transition in two, one for each sign")
    __and__ = __rand__ = __or__ = __ror__ = __xor__ = __rxor__ = __invert__ = _refuse(
        "uses a bitwise operator (& | ^ ~)")
    __lshift__ = __rlshift__ = __rshift__ = __rrshift__ = _refuse("uses a shift (<< >>)")
    __int__ = __index__ = __float__ = __round__ = __trunc__ = __floor__ = __ceil__ = _refuse(
        "converts a value to a concrete number (int(), float(), round(), indexing, math.*)")
    __bool__ = _refuse("uses an integer as a truth value (`if x`, `x and y`)",
                       "compare explicitly, e.g. `s.x != 0`")


class Condition:
    """A comparison's result: only usable as one conjunct of a guard or invariant."""

    __bool__ = _refuse(_TRUTH, _TRUTH_REMEDY)
    __and__ = __rand__ = __or__ = __ror__ = __xor__ = __rxor__ = __invert__ = _refuse(
        "combines conditions with & | ^ ~", _TRUTH_REMEDY)
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __neg__ = _refuse(
        "uses a condition as a number", "compare, then keep the comparison as a conjunct")
    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = _refuse(
        "compares a condition", _TRUTH_REMEDY)
    __hash__ = object.__hash__


def problems(spec: Spec) -> list[str]:
    """Every problem of ``spec``, one line each, naming the part and the remedy.

    Guarantees: an empty list means that ``init``, every guard, update and
    invariant accepts the arguments it will be given, reads and writes only
    declared variables, returns the right shape (a mapping of integers; a tuple
    of conditions), and performs only ``+ - *`` and comparisons on state
    variables, parameters and ``b0`` on the paths it took for a probe input (the
    operators supported alike by ints, NumPy and Z3).  Each function is called
    once; nothing else of the spec is evaluated.
    """
    found: list[str] = []
    state = spec.State(*(Probe() for _ in spec.variables))
    b0 = Probe()
    _check(found, "init", spec.init, (b0,), ("b0",), _init_shape(spec), spec)
    for t in spec.transitions:
        args = (state, *(Probe() for _ in t.params))
        names = ("s", *t.params)
        where = f"transition {t.name!r}"
        _check(found, f"{where}, guard", t.guard, args, names, _conjunct_shape, spec)
        _check(found, f"{where}, update", t.update, args, names, _update_shape(spec), spec)
    for inv in spec.invariants:
        _check(found, f"invariant {inv.name!r}", inv.holds, (state, b0), ("s", "b0"),
               _conjunct_shape, spec)
    return found


def validate(spec: Spec) -> Spec:
    """``spec`` itself when :func:`problems` finds nothing; else ``SpecError`` listing all."""
    found = problems(spec)
    if found:
        lines = "\n".join(f"  - {p}" for p in found)
        raise SpecError(f"spec {spec.name!r} is malformed:\n{lines}")
    return spec


Shape = Callable[[Any], str | None]


def _check(
    found: list[str], where: str, fn: Callable[..., Any], args: tuple[Any, ...],
    names: tuple[str, ...], shape: Shape, spec: Spec,
) -> None:
    arity = _arity_problem(fn, names)
    if arity:
        found.append(f"{where}: {arity}")
        return
    try:
        value = fn(*args)
    except Unsupported as e:
        what = e.what
        if e.remedy == _TRUTH_REMEDY and e.what == _TRUTH and (seen := constructs(fn)):
            what = (f"uses {' and '.join(seen)}, which needs a condition as a Python bool "
                    "(NumPy arrays and Z3 terms are none)")
        found.append(f"{where}: {what}; {e.remedy}")
        return
    except AttributeError as e:
        if isinstance(getattr(e, "obj", None), spec.State):
            found.append(f"{where}: reads unknown variable {e.name!r}; the variables are "
                         f"{', '.join(spec.variables)}")
        else:
            found.append(f"{where}: raised AttributeError: {e}; {_ARITH_REMEDY}")
        return
    except Exception as e:  # user code: whatever it raises is reported, never propagated
        found.append(f"{where}: raised {type(e).__name__}: {e}")
        return
    wrong = shape(value)
    if wrong:
        found.append(f"{where}: {wrong}")


def _arity_problem(fn: Callable[..., Any], names: tuple[str, ...]) -> str:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return ""  # a builtin or C function: calling it will tell
    try:
        sig.bind(*names)
    except TypeError:
        wanted = ", ".join(names)
        got = ", ".join(sig.parameters)
        return (f"takes ({got}) but is called with {len(names)} argument(s); "
                f"write it as `lambda {wanted}: ...`")
    return ""


def _is_condition(c: object) -> bool:
    return isinstance(c, Condition) or type(c).__name__ in ("bool", "bool_")


def _conjunct_shape(value: Any) -> str | None:
    if not isinstance(value, tuple):
        if isinstance(value, Condition | bool):
            return ("returns a single condition, not a tuple of conjuncts; write `(cond,)` "
                    "with the trailing comma")
        return (f"returns a {type(value).__name__}, expected a tuple of conjuncts "
                "such as `(a > 0, a <= s.x)`")
    for i, c in enumerate(value):
        if not _is_condition(c):
            kind = "an integer expression" if isinstance(c, Probe | int) else type(c).__name__
            return (f"conjunct {i + 1} is {kind}, not a comparison; write e.g. `x != 0` "
                    "rather than `x`")
    return None


def _integer_values(values: Mapping[Any, Any]) -> str | None:
    for k, v in values.items():
        if isinstance(v, Condition) or isinstance(v, bool):
            return f"gives {k} a condition, not an integer"
        if not _operand(v):
            return f"gives {k} a {type(v).__name__} ({v!r}), not an integer"
    return None


def _update_shape(spec: Spec) -> Shape:
    def shape(value: Any) -> str | None:
        if not isinstance(value, Mapping):
            return (f"returns a {type(value).__name__}, expected a dict from the variables it "
                    "changes to their new values, e.g. `{'x': s.x + a}`")
        unknown = [k for k in value if k not in spec.variables]
        if unknown:
            return (f"writes unknown variable(s) {', '.join(map(repr, unknown))}; the "
                    f"variables are {', '.join(spec.variables)}")
        return _integer_values(value)

    return shape


def _init_shape(spec: Spec) -> Shape:
    def shape(value: Any) -> str | None:
        if not isinstance(value, Mapping):
            return f"returns a {type(value).__name__}, expected a dict of every variable"
        unknown = [k for k in value if k not in spec.variables]
        missing = [v for v in spec.variables if v not in value]
        if unknown or missing:
            return (f"must set exactly the variables {', '.join(spec.variables)}; "
                    f"missing {missing}, unknown {unknown}")
        return _integer_values(value)

    return shape


@functools.lru_cache(maxsize=64)
def _module_tree(path: str) -> ast.AST | None:
    try:
        with open(path, encoding="utf-8") as f:
            return ast.parse(f.read(), path)
    except (OSError, SyntaxError, ValueError):
        return None


def _node_of(fn: Callable[..., Any]) -> ast.Lambda | ast.FunctionDef | None:
    """The ``lambda`` or ``def`` node ``fn`` was compiled from, when its source is a file."""
    code = getattr(fn, "__code__", None)
    path = inspect.getsourcefile(fn) if code is not None else None
    tree = _module_tree(path) if path else None
    if code is None or tree is None:
        return None
    # an instruction of the body (not the zero-width bookkeeping ones) lies inside the node
    here = [(line, col) for line, _, col, end in code.co_positions()
            if line is not None and col is not None and end is not None and (col or end)]
    if not here:
        return None
    line, col = here[0]
    best: ast.Lambda | ast.FunctionDef | None = None
    for node in ast.walk(tree):
        if not isinstance(node, ast.Lambda | ast.FunctionDef):
            continue
        if isinstance(node, ast.FunctionDef) and node.name != fn.__name__:
            continue
        start, end = (node.lineno, node.col_offset), (node.end_lineno, node.end_col_offset)
        if end[0] is not None and end[1] is not None and start <= (line, col) <= end and (
                best is None or (node.lineno, node.col_offset) >= (best.lineno, best.col_offset)):
            best = node
    return best


def constructs(fn: Callable[..., Any]) -> list[str]:
    """The Python constructs in ``fn``'s source that need a ``bool`` (``and``, ``or``,
    ``not``, ``if``, a chained comparison, ``in``, ``min``/``max``), in source order;
    empty when the source cannot be found (e.g. a function built by ``eval``)."""
    node = _node_of(fn)
    if node is None:
        return []
    seen: list[str] = []

    def add(word: str) -> None:
        if word not in seen:
            seen.append(word)

    for n in ast.walk(node):
        if isinstance(n, ast.BoolOp):
            add("`and`" if isinstance(n.op, ast.And) else "`or`")
        elif isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.Not):
            add("`not`")
        elif isinstance(n, ast.IfExp | ast.If):
            add("`if`")
        elif isinstance(n, ast.Compare) and len(n.ops) > 1:
            add("a chained comparison")
        elif isinstance(n, ast.Compare) and isinstance(n.ops[0], ast.In | ast.NotIn):
            add("`in`")
        elif isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in (
                "min", "max", "any", "all"):
            add(f"`{n.func.id}`")
    return seen
