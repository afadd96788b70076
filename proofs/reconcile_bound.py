"""The overshoot bound of reconciliation (paper assumption A7), proved with Z3.

Setting. A provider under-reports: a call that truly costs ``a`` uc is reported as
``c`` with ``a / k <= c <= a`` for a factor ``k >= 1``; reservations stay conservative
for the *true* cost (A1, A6, A8: ``a <= r``); every reservation is at most ``R`` uc;
the ledger is reconciled against the provider's true cumulative bill (the ninth
transition, ``reconcile(d)``) after at most ``n`` calls. The ledger can only admit a
call whose reservation fits its ``live_sum`` (``reserve``'s guard), and a
reconciliation whose drift exceeds ``live_sum`` stops the session (the library fails
closed). Then, with ``billed`` the true cumulative bill and ``B0`` the cap:

    billed - B0  <=  (n - 1) * R * (k - 1) / k          (window bound)
    billed       <=  k * B0                             (with or without reconciling)

``n = 1`` (reconciling after every call) gives no overshoot at all, as does ``k = 1``.

Why: just after a reconciliation the ledger is exact and ``total_charged + live_sum
<= B0``. Each call of the window adds at most ``r (k - 1) / k <= R (k - 1) / k`` of
unseen drift. The last call of a window is admitted only if its reservation fits in
what the ledger shows as live, and the true cost of that call is within its
reservation, so the last call adds nothing beyond the drift of the ``n - 1`` calls
before it.

The proof is inductive over a window, with every quantity an unbounded Z3 real (so
it covers every integer amount and every real factor ``k >= 1``), the call counters
``j`` and ``n`` unbounded integers. State: ``billed`` (true bill), ``charged`` (the
ledger's ``total_charged``), ``drift = billed - charged``, ``live`` (``live_sum``),
``j`` (calls since the last reconciliation). The calls need not give their refund
back: a call moves ``c + u`` out of ``live`` with ``0 <= u <= r - c`` (a refund kept
or forfeited, or a spend's unrecoverable rest). Obligations (each must come out as
stated; :func:`prove_all` runs them, ``python -m model.check`` reports them):

``theorem``
    Init (a fresh or a just-reconciled ledger) establishes the window invariant; a
    call admitted by ``reserve``'s guard preserves it; a reconciliation preserves it
    (the spec's ``reconcile(d)``, guard ``0 < d <= live_sum`` and update taken from
    :mod:`spec.ledger`, not re-typed; or no drift at all); the invariant implies
    both bounds.
``nonvacuous``
    the bound is attained: Z3 finds a session of ``n = 3`` calls at ``B0 = 2,000``
    and ``k = 5`` (the Table VII reconciliation row) whose overshoot is exactly the
    bound and positive (the bound is tight, the premises satisfiable).
``refutes``
    Z3 finds a session breaking the bound when the ledger is reconciled less often
    than claimed (``n + 1`` calls in a window that claims ``n``), and when the
    provider under-reports by more than ``k``. Both are concrete integer sessions
    that ``impl.BudgetPool`` admits call by call (the tests replay them).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import z3

from proofs.proposition1 import Kind, Result
from spec.ledger import LEDGER
from spec.ledger import reconcile as ledger_reconcile

#: Default time limit of one obligation (seconds); each takes milliseconds.
DEFAULT_TIMEOUT = 10.0

#: The concrete session of the witness and the refutations: Table VII's
#: reconciliation row (cap, under-reporting factor, calls per window).
TABLE7_B0, TABLE7_K, TABLE7_N = 2000, 5, 3


def scaled_bound(n: Any, largest: Any, k: Any) -> Any:
    """``k`` times the window bound: ``(n - 1) * largest * (k - 1)``.

    Carrier-neutral (ints, Fractions, Z3 terms): the theorem is ``k * overshoot <=
    scaled_bound(n, R, k)``, and :func:`bound_uc` divides by ``k``.
    """
    return (n - 1) * largest * (k - 1)


def bound_uc(k: Fraction | int, n: int | None, largest: int, b0: int) -> Fraction:
    """The proved bound of ``billed - B0`` in uc, for factor ``k >= 1``, a reconciliation
    after at most ``n`` calls (``None``: never reconciled) and reservations at most
    ``largest``: the smaller of the window bound and ``(k - 1) * B0``."""
    k = Fraction(k)
    cap_bound = (k - 1) * b0
    if n is None:
        return cap_bound
    return min(Fraction(scaled_bound(n, largest, k)) / k, cap_bound)


class _Window:
    """The Z3 constants of the window model, in their own context."""

    def __init__(self, ctx: z3.Context) -> None:
        self.ctx = ctx

        def real(name: str) -> Any:
            return z3.Real(name, ctx)

        self.b0, self.largest, self.k = real("B0"), real("R"), real("k")
        self.n = z3.Int("n", ctx)
        self.pre = (real("billed"), real("charged"), real("drift"), real("live"),
                    z3.Int("j", ctx))
        self.r, self.a, self.c, self.u = real("r"), real("a"), real("c"), real("u")

    def premises(self) -> list[Any]:
        return [self.b0 >= 0, self.largest >= 0, self.k >= 1, self.n >= 1]

    def invariant(self, state: tuple[Any, ...]) -> Any:
        """The window invariant of ``(billed, charged, drift, live, j)``."""
        billed, charged, drift, live, j = state
        k, b0 = self.k, self.b0
        return z3.And(
            billed == charged + drift, charged >= 0, live >= 0, charged + live <= b0,
            drift >= 0, k * drift <= scaled_bound(j + 1, self.largest, k),
            j >= 0, j <= self.n,
            z3.Or(j == 0, k * (billed - b0) <= scaled_bound(j, self.largest, k)),
            billed <= k * charged,
        )

    def call(self) -> tuple[Any, tuple[Any, ...]]:
        """The guard and the successor of one admitted call (reserve, then settle)."""
        billed, charged, drift, live, j = self.pre
        r, a, c, u = self.r, self.a, self.c, self.u
        guard = z3.And(j < self.n, 0 <= r, r <= live, r <= self.largest,
                       0 <= a, a <= r, c <= a, self.k * c >= a, 0 <= c,
                       0 <= u, u <= r - c)
        return guard, (billed + a, charged + c, drift + a - c, live - c - u, j + 1)

    def reconcile(self) -> tuple[Any, tuple[Any, ...]]:
        """A reconciliation: the spec's own ``reconcile(drift)`` (its guard and update,
        from :data:`spec.ledger.reconcile`, evaluated on these Z3 terms), or a stutter
        when there is no drift; either way the window starts again (``j = 0``)."""
        billed, charged, drift, live, _ = self.pre
        none = drift * 0
        pre = LEDGER.State(live_sum=live, outstanding_receipts=none, outstanding_refunds=none,
                           total_charged=charged, total_unrecoverable=none,
                           total_released=none)
        post = LEDGER.successor(pre, ledger_reconcile, (drift,))
        guard = z3.Or(drift == 0, z3.And(*ledger_reconcile.guard(pre, drift)))
        return guard, (billed, post.total_charged, none, post.live_sum, z3.IntVal(0, self.ctx))

    def bounds(self, state: tuple[Any, ...]) -> Any:
        billed = state[0]
        return z3.And(self.k * (billed - self.b0) <= scaled_bound(self.n, self.largest, self.k),
                      billed <= self.k * self.b0)


def _init(w: _Window) -> list[Any]:
    zero = w.b0 * 0
    return [z3.Not(w.invariant((zero, zero, zero, w.b0, z3.IntVal(0, w.ctx))))]


def _step(which: str) -> Callable[[_Window], list[Any]]:
    def build(w: _Window) -> list[Any]:
        guard, post = w.call() if which == "call" else w.reconcile()
        return [w.invariant(w.pre), guard, z3.Not(w.invariant(post))]

    return build


def _implies_bounds(w: _Window) -> list[Any]:
    return [w.invariant(w.pre), z3.Not(w.bounds(w.pre))]


def _decide(name: str, kind: Kind, timeout: float,
            build: Callable[[_Window], list[Any]]) -> Result:
    """A ``theorem``: premises + negated goal must be unsat (no witness to show)."""
    ctx = z3.Context()
    t0 = time.perf_counter()
    w = _Window(ctx)
    solver = z3.Solver(ctx=ctx)
    solver.set("timeout", max(1, int(timeout * 1000)))
    solver.add(*w.premises(), *build(w))
    answer = solver.check()
    seconds = time.perf_counter() - t0
    if answer == z3.unknown:
        return Result(name, kind, "unknown", seconds, message=solver.reason_unknown())
    if answer == z3.sat:
        m = solver.model()
        witness = {str(d): str(m[d]) for d in m.decls()}
        return Result(name, kind, "failed", seconds, witness, "counterexample found")
    return Result(name, kind, "proved", seconds)


def session(calls: int, *, n: int = TABLE7_N, k: int = TABLE7_K, b0: int = TABLE7_B0,
            under_report_by_at_most_k: bool = True, attain: bool = False,
            name: str, kind: Kind, timeout: float = DEFAULT_TIMEOUT) -> Result:
    """A concrete integer session of ``calls`` admitted calls from Init, never
    reconciled, that Z3 must find with its overshoot above the bound claimed for
    ``n`` (``attain=False``) or exactly at it and positive (``attain=True``).

    Each call: ``0 < r <= live``, ``0 <= a <= r``, ``c <= a``, ``k * c >= a`` (dropped
    when ``under_report_by_at_most_k`` is false), the refund ``r - c`` given back.
    ``R`` is the largest reservation of the session. The witness names ``r1, a1,
    c1, ...``, ``R`` and ``overshoot``.
    """
    ctx = z3.Context()
    t0 = time.perf_counter()
    solver = z3.Solver(ctx=ctx)
    solver.set("timeout", max(1, int(timeout * 1000)))
    largest = z3.Int("R", ctx)
    live: Any = z3.IntVal(b0, ctx)
    billed: Any = z3.IntVal(0, ctx)
    shown: list[tuple[str, Any]] = []
    for i in range(1, calls + 1):
        r, a, c = (z3.Int(f"{x}{i}", ctx) for x in "rac")
        solver.add(0 < r, r <= live, r <= largest, 0 <= a, a <= r, 0 <= c, c <= a)
        if under_report_by_at_most_k:
            solver.add(k * c >= a)
        live, billed = live - c, billed + a
        shown += [(f"r{i}", r), (f"a{i}", a), (f"c{i}", c)]
    solver.add(z3.Or(*[z3.Int(f"r{i}", ctx) == largest for i in range(1, calls + 1)]))
    over = k * (billed - b0)
    bound = scaled_bound(n, largest, k)
    solver.add(z3.And(over == bound, over > 0) if attain else over > bound)
    answer = solver.check()
    seconds = time.perf_counter() - t0
    if answer == z3.unknown:
        return Result(name, kind, "unknown", seconds, message=solver.reason_unknown())
    witness: dict[str, str] = {}
    if answer == z3.sat:
        m = solver.model()
        shown += [("R", largest), ("overshoot", billed - b0)]
        witness = {label: str(m.eval(t, model_completion=True)) for label, t in shown}
    ok = answer == z3.sat
    return Result(name, kind, "proved" if ok else "failed", seconds, witness,
                  "" if ok else "no such session exists")


def prove_all(timeout: float = DEFAULT_TIMEOUT,
              on_result: Callable[[int, int, Result], None] | None = None) -> list[Result]:
    """Every obligation of this module, in a fixed order (see the module docstring)."""
    n, k = TABLE7_N, TABLE7_K
    jobs: list[Callable[[], Result]] = [
        lambda: _decide("Init (fresh or just reconciled) establishes the window invariant",
                        "theorem", timeout, _init),
        lambda: _decide("a call admitted by reserve's guard preserves it (any refund kept "
                        "back)", "theorem", timeout, _step("call")),
        lambda: _decide("reconcile(d) with d <= live_sum preserves it", "theorem", timeout,
                        _step("reconcile")),
        lambda: _decide("it implies billed - B0 <= (n-1)*R*(k-1)/k and billed <= k*B0",
                        "theorem", timeout, _implies_bounds),
        lambda: session(n, attain=True, kind="nonvacuous", timeout=timeout,
                        name=f"the bound is attained: n={n}, k={k}, B0={TABLE7_B0}"),
        lambda: session(n + 1, kind="refutes", timeout=timeout,
                        name=f"reconciling every {n + 1} calls while claiming n={n} "
                             f"breaks it"),
        lambda: session(n, under_report_by_at_most_k=False, kind="refutes",
                        timeout=timeout,
                        name=f"a provider under-reporting by more than k={k} breaks it"),
    ]
    results: list[Result] = []
    for job in jobs:
        results.append(job())
        if on_result is not None:
            on_result(len(results), len(jobs), results[-1])
    return results
