"""``spec.validate``: malformed specs are named part by part, and whatever passes is
evaluated alike on ints, NumPy arrays and Z3 terms (a property over generated specs)."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
import z3
from hypothesis import given
from hypothesis import strategies as st

from model.spec_model import SpecBatchModel, SpecModel
from proofs.z3terms import conditions, integer
from spec import LEDGER, MUTANTS, Invariant, Spec, SpecError, Transition
from spec.validate import problems, validate


def one(guard: Any = None, update: Any = None, inv: Any = None, params: tuple[str, ...] = ("a",),
        init: Any = None) -> Spec:
    return Spec(
        "user", ("x", "y"), init or (lambda b0: {"x": b0, "y": 0}),
        (Transition("t", params, guard or (lambda s, a: (a > 0,)),
                    update or (lambda s, a: {"x": s.x - a})),),
        (Invariant("I", inv or (lambda s, b0: (s.x >= 0,))),),
    )


def test_the_ledger_and_its_mutants_are_valid() -> None:
    for spec in (LEDGER, *MUTANTS):
        assert validate(spec) is spec


CASES = [
    (one(guard=lambda s, a: (a > 0 and a <= s.x,)), "transition 't', guard", "`and`"),
    (one(guard=lambda s, a: (0 < a <= s.x,)), "transition 't', guard", "chained comparison"),
    (one(guard=lambda s, a: (not a > 0,)), "transition 't', guard", "separate conjuncts"),
    (one(update=lambda s, a: {"x": s.x if a > 0 else 0}), "transition 't', update", "`if`"),
    (one(update=lambda s, a: {"x": s.x // 2}), "transition 't', update", "`//`"),
    (one(update=lambda s, a: {"x": s.x / 2}), "transition 't', update", "`/`"),
    (one(update=lambda s, a: {"x": s.x % 2}), "transition 't', update", "`%`"),
    (one(update=lambda s, a: {"x": s.x ** 2}), "transition 't', update", "`**`"),
    (one(update=lambda s, a: {"x": abs(s.x)}), "transition 't', update", "abs()"),
    (one(update=lambda s, a: {"x": min(s.x, a)}), "transition 't', update", "min"),
    (one(update=lambda s, a: {"x": int(s.x)}), "transition 't', update", "int()"),
    (one(guard=lambda s: (True,)), "transition 't', guard", "lambda s, a:"),
    (one(update=lambda s, a, b: {}), "transition 't', update", "takes (s, a, b)"),
    (one(inv=lambda s: (s.x >= 0,)), "invariant 'I'", "lambda s, b0:"),
    (one(guard=lambda s, a: (s.z > a,)), "transition 't', guard", "unknown variable 'z'"),
    (one(update=lambda s, a: {"z": a}), "transition 't', update", "unknown variable(s) 'z'"),
    (one(guard=lambda s, a: a > 0), "transition 't', guard", "`(cond,)`"),
    (one(inv=lambda s, b0: [s.x >= 0]), "invariant 'I'", "tuple of conjuncts"),
    (one(inv=lambda s, b0: (s.x,)), "invariant 'I'", "conjunct 1 is an integer"),
    (one(update=lambda s, a: {"x": s.x > a}), "transition 't', update", "a condition"),
    (one(init=lambda b0: {"x": b0}), "init", "missing ['y']"),
    (one(guard=lambda s, a: (a > 0.5,)), "transition 't', guard", "float"),
]


@pytest.mark.parametrize(("spec", "where", "says"), CASES,
                         ids=[f"{w}:{s}" for _, w, s in CASES])
def test_each_malformed_part_is_named(spec: Spec, where: str, says: str) -> None:
    [problem] = problems(spec)
    assert problem.startswith(f"{where}: ") and says in problem
    with pytest.raises(SpecError, match="is malformed"):
        validate(spec)


def test_every_problem_is_listed() -> None:
    spec = one(guard=lambda s, a: (a > 0 and s.y > 0,), update=lambda s, a: {"w": 1},
               inv=lambda s, b0: (s.v >= 0,))
    assert [p.split(":")[0] for p in problems(spec)] == [
        "transition 't', guard", "transition 't', update", "invariant 'I'"]


# --------------------------------------------------------------------- generated specs
#
# Integer expressions always contain a state variable or parameter, so every
# unsupported operator is applied to a symbolic value: a generated part is "bad"
# exactly when it contains one, and validation must then reject it.

LEAVES = {"guard": ["s.x", "s.y", "a"], "update": ["s.x", "s.y", "a"], "inv": ["s.x", "s.y", "b0"]}
GOOD_BIN = ["+", "-", "*"]
BAD_BIN = ["//", "%", "/", "**"]
CMP = ["==", "!=", "<", "<=", ">", ">="]


@st.composite
def expr(draw: st.DrawFn, leaves: list[str], depth: int = 2) -> tuple[str, bool]:
    if depth == 0 or draw(st.booleans()):
        leaf = draw(st.sampled_from(leaves))
        k = draw(st.integers(-3, 3))
        return (f"({leaf} + {k})" if k else leaf), False
    left, lbad = draw(expr(leaves, depth - 1))
    kind = draw(st.sampled_from(["good"] * 12 + ["const"] * 3 + ["bad", "call", "cond"]))
    if kind == "const":
        return f"({draw(st.integers(-3, 3))} * {left})", lbad
    if kind == "call":
        return f"{draw(st.sampled_from(['abs', 'int']))}({left})", True
    right, rbad = draw(expr(leaves, depth - 1))
    if kind == "cond":
        return f"({left} if {right} > 0 else {right})", True
    op = draw(st.sampled_from(GOOD_BIN if kind == "good" else BAD_BIN))
    return f"({left} {op} {right})", lbad or rbad or kind == "bad"


@st.composite
def condition(draw: st.DrawFn, leaves: list[str]) -> tuple[str, bool]:
    (left, lbad), (right, rbad) = draw(expr(leaves)), draw(expr(leaves))
    kind = draw(st.sampled_from(["cmp"] * 24 + ["and", "or", "not", "chain", "min"]))
    op = draw(st.sampled_from(CMP))
    if kind == "cmp":
        return f"{left} {op} {right}", lbad or rbad
    if kind == "chain":
        return f"0 <= {left} {op} {right}", True
    if kind == "not":
        return f"not ({left} {op} {right})", True
    if kind == "min":
        return f"min({left}, {right}) {op} 0", True
    return f"({left} {op} 0) {kind} ({right} > 0)", True


@st.composite
def conjuncts(draw: st.DrawFn, leaves: list[str]) -> tuple[str, bool]:
    parts = draw(st.lists(condition(leaves), min_size=1, max_size=3))
    return "(" + "".join(f"{c}, " for c, _ in parts) + ")", any(b for _, b in parts)


@st.composite
def generated(draw: st.DrawFn) -> tuple[dict[str, str], dict[str, bool]]:
    guard, gbad = draw(conjuncts(LEAVES["guard"]))
    changed = draw(st.lists(st.sampled_from(["x", "y"]), unique=True))
    values = [draw(expr(LEAVES["update"])) for _ in changed]
    update = "{" + ", ".join(f"{v!r}: {e}" for v, (e, _) in zip(changed, values, strict=True)) + "}"
    inv, ibad = draw(conjuncts(LEAVES["inv"]))
    return ({"guard": guard, "update": update, "inv": inv},
            {"guard": gbad, "update": any(b for _, b in values), "inv": ibad})


def build(src: dict[str, str]) -> Spec:
    return Spec(
        "generated", ("x", "y"), lambda b0: {"x": b0, "y": 0},
        (Transition("t", ("a",), eval(f"lambda s, a: {src['guard']}"),
                    eval(f"lambda s, a: {src['update']}")),),
        (Invariant("I", eval(f"lambda s, b0: {src['inv']}")),),
    )


STATES = [(x, y) for x in range(-2, 3) for y in range(-2, 3)]
B0 = 3


def z3_agrees(spec: Spec) -> None:
    """The guard, update and invariant on Z3 terms, at each state of STATES, against ints."""
    ctx = z3.Context()
    x, y, a, b0 = (z3.Int(n, ctx) for n in ("x", "y", "a", "b0"))
    sym = spec.State(x, y)
    [t], [inv] = spec.transitions, spec.invariants
    guard = z3.And(*conditions(ctx, t.guard(sym, a), "guard"), ctx)
    post = spec.successor(sym, t, [a])
    holds = z3.And(*conditions(ctx, inv.holds(sym, b0), "inv"), ctx)
    for (xv, yv), av in itertools.product(STATES, range(B0 + 1)):
        s = spec.State(xv, yv)
        sub = [(x, z3.IntVal(xv, ctx)), (y, z3.IntVal(yv, ctx)), (a, z3.IntVal(av, ctx)),
               (b0, z3.IntVal(B0, ctx))]

        def at(term: Any, sub: Any = sub) -> Any:
            return z3.simplify(z3.substitute(term, *sub))

        assert z3.is_true(at(guard)) == all(t.guard(s, av))
        ints = spec.successor(s, t, [av])
        for v in spec.variables:
            assert at(integer(ctx, getattr(post, v), v)).as_long() == getattr(ints, v)
        assert z3.is_true(at(holds)) == all(inv.holds(s, B0))


def numpy_agrees(spec: Spec) -> None:
    """One batched expansion and invariant check of every state of STATES, against ints."""
    rows = np.array(STATES, dtype=np.int64)
    batch, scalar = SpecBatchModel(spec, B0), SpecModel(spec, B0)
    got = sorted((STATES[int(i)], tuple(r)) for succ in batch.expand(rows)
                 for i, r in zip(succ.parents, succ.rows.tolist(), strict=True))
    want = sorted((st_, tuple(scalar.next_state(spec.State(*st_), act)))
                  for st_ in STATES for act in scalar.actions(spec.State(*st_)))
    assert got == want
    [bad] = batch.violations(rows)
    assert bad.tolist() == [not all(spec.invariants[0].holds(spec.State(*s), B0)) for s in STATES]


@given(generated())
def test_what_passes_validation_evaluates_alike_on_ints_numpy_and_z3(
    case: tuple[dict[str, str], dict[str, bool]],
) -> None:
    src, bad = case
    spec = build(src)
    found = problems(spec)
    where = {"guard": "transition 't', guard", "update": "transition 't', update",
             "inv": "invariant 'I'"}
    assert sorted(p.split(":")[0] for p in found) == sorted(where[k] for k in bad if bad[k]), src
    if not found:
        numpy_agrees(spec)
        z3_agrees(spec)
