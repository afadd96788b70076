"""A spec's values as Z3 terms: conditions and integers, with errors naming the part.

The spec's own functions, evaluated on Z3 terms, return Python values of mixed
kinds (a Z3 Boolean, a Python ``bool`` for a constant conjunct, a Python ``int``
for a constant update).  These helpers turn them into Z3 terms of one ``Context``
or raise :class:`spec.format.SpecError` saying which part of the spec is wrong.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

import z3

from spec.format import SpecError


def conjoin(ctx: z3.Context, items: Sequence[Any]) -> Any:
    """The conjunction of Z3 Booleans (``True`` when there are none)."""
    if not items:
        return z3.BoolVal(True, ctx)
    if len(items) == 1:
        return items[0]
    return z3.And(*items)


def conditions(ctx: z3.Context, value: Any, what: str) -> list[Any]:
    """A guard's or invariant's tuple of conjuncts as Z3 Booleans."""
    if not isinstance(value, tuple | list):
        raise SpecError(
            f"{what} returned {type(value).__name__}, expected a tuple of conjuncts "
            "(write `(a, b)`, not `a and b`)"
        )
    out = []
    for i, c in enumerate(value):
        if isinstance(c, z3.BoolRef):
            out.append(c)
        elif isinstance(c, z3.ExprRef):
            raise SpecError(f"{what}: conjunct {i + 1} is a {c.sort()} term, not a condition")
        elif isinstance(c, bool) or type(c).__name__ in ("bool_", "bool"):
            out.append(z3.BoolVal(bool(c), ctx))
        else:
            raise SpecError(f"{what}: conjunct {i + 1} is a {type(c).__name__}, not a condition")
    return out


def integer(ctx: z3.Context, value: Any, what: str) -> Any:
    """A state value as a Z3 integer term."""
    if isinstance(value, z3.ArithRef):
        if not value.is_int():
            raise SpecError(
                f"{what} is a {value.sort()} term; only integer arithmetic "
                "(+ - * and comparisons) is allowed"
            )
        return value
    if isinstance(value, z3.ExprRef) or isinstance(value, bool):
        raise SpecError(f"{what} is a condition, not an integer")
    try:
        return z3.IntVal(operator.index(value), ctx)
    except TypeError:
        raise SpecError(f"{what} is a {type(value).__name__}, not an integer") from None
