"""Run CrossHair on the contracts of :mod:`proofs.contracts` and report each function.

Entry point:

``check_contracts(contracts=CONTRACTS, per_condition_timeout=..., on_result=None)``
    the structured :class:`ContractResult` of each function (``python -m model.check
    --only crosshair`` reports them through :mod:`model.cli.crosshair`).

CrossHair runs *in this process* (``crosshair.core_and_libs.analyze_function``), so
what a test monkeypatches in impl (a seeded bug) is what CrossHair executes. Each
postcondition of a contract is one CrossHair "condition", analysed with its own CPU
time limit ``per_condition_timeout``.

What a status means -- CrossHair's own words, reported honestly:

``confirmed``
    CrossHair explored *every* execution path of the harness and the postconditions
    held on each: within the preconditions' bounds this is a proof, modulo the
    soundness of CrossHair's symbolic model of Python and of Z3.
``no counterexample found``
    CrossHair stopped at the time limit without exhausting the paths (typically
    because the inputs reach Decimal/Fraction code, where CrossHair makes the values
    concrete and explores them one by one). The postconditions held on every path it
    tried: evidence, *not* a proof.
``counterexample``
    some input satisfying the preconditions makes a postcondition false, makes the
    postcondition raise, or makes the code raise; ``counterexample`` holds the call
    (e.g. ``proposition1_tokens(1, 0, 1, 0, 1, 0)``) and what it returned or raised.
``precondition unsatisfiable`` / ``error``
    CrossHair could not get past the preconditions on any path it tried, or the
    contract could not be analysed (syntax, import): failures, since nothing was
    checked.
"""

from __future__ import annotations

import ast
import collections
import inspect
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Status = Literal["confirmed", "no counterexample found", "counterexample",
                 "precondition unsatisfiable", "error"]

#: Default CPU-time limit of one postcondition (seconds): long enough for the
#: contracts that CrossHair can exhaust to be confirmed, short enough that the ones it
#: can only search keep the whole run brief (README gives the times).
DEFAULT_PER_CONDITION_TIMEOUT = 1.5

_PASSING: frozenset[str] = frozenset({"confirmed", "no counterexample found"})


@dataclass(frozen=True)
class ContractResult:
    """What CrossHair concluded about one contract harness (all its postconditions).

    ``status`` is the worst over the function's postconditions (see the module
    docstring); ``conditions`` counts its postconditions and ``confirmed`` how many
    were confirmed over all paths; ``paths`` is the number of execution paths
    CrossHair explored; ``counterexample`` is the failing call with what it returned
    (``None`` unless the status is ``counterexample``) and ``call`` the call alone,
    e.g. ``proposition1_tokens(1, 0, 1, 0, 1, 0, 2)``, which a test can evaluate in
    the contracts' module to replay it; ``message`` is CrossHair's message for the
    worst condition (for an exception, its type and text come first); ``replayed``
    is what the counterexample did when run again concretely, without CrossHair
    (:func:`replay`): the postcondition it falsifies or the exception it raises.
    """

    function: str
    status: Status
    seconds: float
    conditions: int
    confirmed: int
    paths: int
    counterexample: str | None = None
    call: str | None = None
    message: str = ""
    replayed: str | None = None

    @property
    def ok(self) -> bool:
        """No counterexample and no error (confirmed, or searched without a find)."""
        return self.status in _PASSING

    def to_json(self) -> dict[str, Any]:
        """The per-function entry of the ``results`` figure."""
        return {
            "function": self.function,
            "status": self.status,
            "seconds": round(self.seconds, 3),
            "conditions": self.conditions,
            "confirmed_conditions": self.confirmed,
            "paths": self.paths,
            "counterexample": self.counterexample,
            "replayed": self.replayed,
        }


_CALL = re.compile(r"when calling (?P<all>(?P<call>.*?)(?: \(which returns .*\))?)$",
                   re.DOTALL)


def _counterexample(message: str) -> tuple[str, str | None]:
    """``("f(args) (which returns x)", "f(args)")`` from a CrossHair failure message."""
    m = _CALL.search(message)
    if m is None:
        return message, None
    return m.group("all"), m.group("call")


def postconditions(fn: Callable[..., object]) -> list[str]:
    """The ``post:`` expressions of ``fn``'s PEP 316 docstring (one per line)."""
    doc = inspect.getdoc(fn) or ""
    return [line.strip()[len("post:"):].strip() for line in doc.splitlines()
            if line.strip().startswith("post:")]


def replay(fn: Callable[..., object], call: str) -> str | None:
    """Run a counterexample ``call`` (``"f(1, 2)"``) of ``fn`` concretely, no CrossHair.

    Returns what went wrong: ``"post: <expr> is false (returned ...)"`` for the first
    postcondition the call falsifies, or ``"raised <Exception>: ..."``; ``None`` when
    the call satisfies every postcondition (the counterexample does not reproduce).
    Arguments are evaluated in ``fn``'s module (CrossHair writes them as Python
    expressions, e.g. ``Fraction(3, 2)``).
    """
    node = ast.parse(call, mode="eval").body
    if not isinstance(node, ast.Call):
        raise ValueError(f"not a call: {call!r}")
    env: dict[str, Any] = dict(fn.__globals__)

    def value(expr: ast.expr) -> object:
        return eval(compile(ast.Expression(expr), "<counterexample>", "eval"), env)

    args = [value(a) for a in node.args]
    kwargs = {k.arg: value(k.value) for k in node.keywords if k.arg is not None}
    bound = inspect.signature(fn).bind(*args, **kwargs)
    try:
        ret = fn(*args, **kwargs)
    except Exception as e:
        return f"raised {type(e).__name__}: {e}"
    local = {**bound.arguments, "__return__": ret, "_": ret}
    for expr in postconditions(fn):
        if not eval(expr, env, local):
            return f"post: {expr} is false (returned {ret!r})"
    return None


def analyze(fn: Callable[..., object], per_condition_timeout: float) -> ContractResult:
    """Run CrossHair on every postcondition of ``fn`` (a PEP 316 contract harness)."""
    from crosshair.core_and_libs import analyze_function, run_checkables
    from crosshair.options import AnalysisOptionSet
    from crosshair.statespace import MessageType

    stats: collections.Counter[str] = collections.Counter()
    options = AnalysisOptionSet(per_condition_timeout=per_condition_timeout,
                                report_all=True, stats=stats)
    name = fn.__name__
    t0 = time.perf_counter()
    checkables = list(analyze_function(fn, options))
    messages = run_checkables(checkables)
    seconds = time.perf_counter() - t0
    n = len(checkables)
    if n == 0:
        return ContractResult(name, "error", seconds, 0, 0, 0,
                              message="no PEP 316 postcondition found")
    confirmed = sum(1 for m in messages if m.state == MessageType.CONFIRMED)
    worst = max(messages, key=lambda m: m.state) if messages else None
    paths = stats["num_paths"]
    if worst is None:
        return ContractResult(name, "error", seconds, n, 0, paths,
                              message="CrossHair returned no message")
    state = worst.state
    status: Status
    cex: str | None = None
    call: str | None = None
    if state == MessageType.CONFIRMED and confirmed == n:
        status = "confirmed"
    elif state in (MessageType.CONFIRMED, MessageType.CANNOT_CONFIRM):
        status = "no counterexample found"
    elif state in (MessageType.POST_FAIL, MessageType.POST_ERR, MessageType.EXEC_ERR):
        status = "counterexample"
        cex, call = _counterexample(worst.message)
    elif state == MessageType.PRE_UNSAT:
        status = "precondition unsatisfiable"
    else:
        status = "error"
    replayed: str | None = None
    if call is not None:
        try:
            replayed = replay(fn, call)
        except Exception as e:  # a counterexample CrossHair wrote in a form we cannot read
            replayed = f"could not replay: {type(e).__name__}: {e}"
    return ContractResult(name, status, seconds, n, confirmed, paths, cex, call,
                          worst.message, replayed)


def check_contracts(
    contracts: Sequence[Callable[..., object]] | None = None,
    per_condition_timeout: float = DEFAULT_PER_CONDITION_TIMEOUT,
    on_result: Callable[[int, int, ContractResult], None] | None = None,
) -> list[ContractResult]:
    """CrossHair on each contract (default: all of :data:`proofs.contracts.CONTRACTS`)."""
    if contracts is None:
        from proofs.contracts import CONTRACTS

        contracts = CONTRACTS
    results: list[ContractResult] = []
    for i, fn in enumerate(contracts, 1):
        r = analyze(fn, per_condition_timeout)
        results.append(r)
        if on_result is not None:
            on_result(i, len(contracts), r)
    return results


def describe(r: ContractResult) -> str:
    """One line per function, e.g. ``confirmed  split_amounts (3/3 conditions, ...)``."""
    head = (f"{r.status:<26} {r.function} ({r.confirmed}/{r.conditions} conditions "
            f"confirmed, {r.paths} paths, {r.seconds:.2f} s)")
    if r.counterexample is not None:
        again = r.replayed or "did not reproduce when run again without CrossHair"
        return (f"{head}\n    counterexample: {r.counterexample}\n    replayed: {again}"
                f"\n    {r.message.splitlines()[0] if r.message else ''}")
    if not r.ok:
        return f"{head}\n    {r.message}"
    return head
