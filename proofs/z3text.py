"""Z3 formulas printed for people: in a spec's own names, with Python's operators.

``x + -1*y >= 3`` is printed ``x - y >= 3``, ``Not(x >= 3)`` as ``x <= 2`` (integer
atoms only), and a conjunction is split into its conjuncts, so a found invariant
reads like the tuple of conjuncts a spec's ``Invariant`` returns.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import z3

Namer = Callable[[str], str]

_CMP = {
    z3.Z3_OP_LE: "<=", z3.Z3_OP_GE: ">=", z3.Z3_OP_LT: "<", z3.Z3_OP_GT: ">",
    z3.Z3_OP_EQ: "==", z3.Z3_OP_DISTINCT: "!=",
}
_SWAPPED = {"<=": ">=", ">=": "<=", "<": ">", ">": "<", "==": "==", "!=": "!="}
_NEGATED = {"<=": ">", ">=": "<", "<": ">=", ">": "<=", "==": "!=", "!=": "=="}


class NotExpressible(ValueError):
    """The formula uses something a spec's tuple of conjuncts cannot say (e.g. ``Or``)."""


def conjuncts(formula: Any) -> list[Any]:
    """The top-level conjuncts of ``formula`` (nested ``And`` flattened, ``True`` dropped)."""
    if z3.is_and(formula):
        return [c for a in formula.children() for c in conjuncts(a)]
    if z3.is_true(formula):
        return []
    return [formula]


def merge_bounds(atoms: list[Any]) -> list[Any]:
    """``a <= b`` and ``a >= b`` among ``atoms`` merged into one ``a == b`` (order kept)."""
    atoms = [_positive(a) for a in atoms]
    out: list[Any] = []
    skip: set[int] = set()
    for i, a in enumerate(atoms):
        if i in skip:
            continue
        if z3.is_le(a) or z3.is_ge(a):
            twin = z3.is_ge if z3.is_le(a) else z3.is_le
            for j in range(i + 1, len(atoms)):
                b = atoms[j]
                if j not in skip and twin(b) and all(
                        z3.eq(a.arg(k), b.arg(k)) for k in (0, 1)):
                    skip.add(j)
                    a = a.arg(0) == a.arg(1)
                    break
        out.append(a)
    return out


def _positive(atom: Any) -> Any:
    """``Not(a >= c)`` as ``a <= c - 1`` (and alike) for an integer numeral ``c``."""
    if not (z3.is_not(atom) and _is_comparison(atom.arg(0))):
        return atom
    f = atom.arg(0)
    a, c = f.arg(0), f.arg(1)
    if z3.is_int_value(c) and (z3.is_ge(f) or z3.is_le(f)):
        bound = c.as_long() + (-1 if z3.is_ge(f) else 1)
        return a <= bound if z3.is_ge(f) else a >= bound
    return atom


def is_nonlinear(formula: Any) -> bool:
    """Whether ``formula`` multiplies two terms that are not numerals."""
    seen: set[int] = set()
    todo = [formula]
    while todo:
        f = todo.pop()
        if f.get_id() in seen:
            continue
        seen.add(f.get_id())
        if z3.is_mul(f) and sum(not z3.is_int_value(a) for a in f.children()) > 1:
            return True
        if z3.is_quantifier(f):
            todo.append(f.body())
        elif z3.is_app(f):
            todo.extend(f.children())
    return False


def show(formula: Any, name: Namer = str, *, python: bool = False) -> str:
    """``formula`` as text over the names ``name`` gives each constant.

    With ``python``, the text is a Python expression over the carrier-neutral
    operators only (``+ - *`` and comparisons) and ``NotExpressible`` is raised for
    anything else (``Or``, ``Not`` of a non-comparison, ``If``, division).
    """
    return _Printer(name, python).formula(formula)


class _Printer:
    def __init__(self, name: Namer, python: bool) -> None:
        self.name = name
        self.python = python

    def formula(self, f: Any) -> str:
        if z3.is_not(f):
            inner = f.arg(0)
            if _is_comparison(inner):
                return self.comparison(inner, negate=True)
            self.refuse("Not")
            return f"not ({self.formula(inner)})"
        if _is_comparison(f):
            return self.comparison(f, negate=False)
        if z3.is_and(f) or z3.is_or(f):
            word = "and" if z3.is_and(f) else "or"
            self.refuse(word)
            return "(" + f" {word} ".join(self.formula(a) for a in f.children()) + ")"
        if z3.is_true(f) or z3.is_false(f):
            return "True" if z3.is_true(f) else "False"
        self.refuse(str(f.decl()))
        return " ".join(str(f).split())

    def refuse(self, what: str) -> None:
        if self.python:
            raise NotExpressible(f"{what} cannot be written as a tuple of comparisons")

    def comparison(self, f: Any, *, negate: bool) -> str:
        op = _CMP[f.decl().kind()]
        if f.decl().kind() == z3.Z3_OP_DISTINCT and f.num_args() != 2:
            self.refuse("Distinct")
        lhs, rhs = f.arg(0), f.arg(1)
        if negate:
            op = _NEGATED[op]
        if z3.is_int_value(lhs) and not z3.is_int_value(rhs):
            lhs, rhs, op = rhs, lhs, _SWAPPED[op]
        if z3.is_int_value(rhs) and rhs.as_long() == 0 and z3.is_add(lhs):
            # B0 - x - y <= 0 reads better as B0 <= x + y
            split = [_split_negative(a) for a in lhs.children()]
            pos = [rest for k, rest in split if k is None]
            neg = [(k, rest) for k, rest in split if k is not None]
            if pos and neg:
                right = " + ".join(self.scaled(k, rest) for k, rest in neg)
                return f"{' + '.join(self.term(a, top=False) for a in pos)} {op} {right}"
        if z3.is_int_value(rhs) and op in ("<", ">"):
            # integer atoms read better closed: x < 3 is x <= 2
            bound = rhs.as_long() + (-1 if op == "<" else 1)
            return f"{self.term(lhs)} {op}= {bound}"
        return f"{self.term(lhs)} {op} {self.term(rhs)}"

    def term(self, t: Any, top: bool = True) -> str:
        if z3.is_int_value(t):
            return str(t.as_long())
        if z3.is_const(t):
            return self.name(str(t))
        if z3.is_add(t):
            text = self.term(t.arg(0), top=False)
            for a in t.children()[1:]:
                coef, rest = _split_negative(a)
                if coef is None:
                    text += f" + {self.term(a, top=False)}"
                else:
                    text += f" - {self.scaled(coef, rest)}"
            return text if top else f"({text})"
        if z3.is_mul(t):
            coef, rest = _split_negative(t)
            if coef is not None:
                return f"-{self.scaled(coef, rest)}"
            return "*".join(self.term(a, top=False) for a in t.children())
        if z3.is_sub(t):
            text = " - ".join(self.term(a, top=False) for a in t.children())
            return text if top else f"({text})"
        if t.decl().kind() == z3.Z3_OP_UMINUS:
            return f"-{self.term(t.arg(0), top=False)}"
        self.refuse(str(t.decl()))
        return " ".join(str(t).split())

    def scaled(self, coef: int, rest: Any) -> str:
        if rest is None:
            return str(coef)
        body = self.term(rest, top=False)
        return body if coef == 1 else f"{coef}*{body}"


def _is_comparison(f: Any) -> bool:
    return z3.is_app(f) and f.decl().kind() in _CMP and f.num_args() == 2 and z3.is_arith(f.arg(0))


def _split_negative(t: Any) -> tuple[int | None, Any]:
    """``-k*rest`` as ``(k, rest)``; a negative numeral as ``(k, None)``; else ``(None, t)``."""
    if z3.is_int_value(t) and t.as_long() < 0:
        return -t.as_long(), None
    if z3.is_mul(t) and z3.is_int_value(t.arg(0)) and t.arg(0).as_long() < 0:
        rest = t.children()[1:]
        body = rest[0] if len(rest) == 1 else z3.Product(*rest)
        return -t.arg(0).as_long(), body
    return None, t
