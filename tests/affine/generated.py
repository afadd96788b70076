"""A Hypothesis strategy for small programs over impl's API, and their verdicts.

A program is one function ``prog(c0, c1)`` of straight-line code, ``if``/``else`` on
its boolean parameters, and short ``for`` loops, over a session of 100 uc and a pool
of 100 uc, with ``with`` blocks, ``try``/``except impl.InsufficientBudget`` and
closures (a lambda called in place, or handed to a helper that calls it), and calls of
a module-level function that spends the budget it is given. Statements
pick handles from small pools of names (``b0..b3``, ``rc0..rc2``, ``rf0..rf1``,
``res0..res1``), including consumed ones and ones about to be overwritten, so misuse,
rebinding, aliasing, refusals and leaks all occur. Running ``prog`` with every
assignment of ``c0``, ``c1`` runs every path of its branches.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from hypothesis import strategies as st
from programs import Outcome, run

from model.affine.checker import check_source
from model.affine.rules import Finding

NAMES = {"b": 4, "rc": 3, "rf": 2, "res": 2}
FLAGS = ("c0", "c1")
HEADER = ("import impl\n\n\ndef run(f):\n    return f()\n\n\n"
          "def pay(b, r):\n    return b.spend(r)\n\n\n"
          "def prog(c0: bool, c1: bool) -> None:\n    s = impl.Session(100)\n"
          "    pool = impl.BudgetPool(100)\n    b0 = s.take()\n")

Defined = dict[str, frozenset[str]]


OPS = (
    "{B} = {b}.spend({r})",
    "{B} = {b}.spend({r}, charged={c})",
    "{B}, {RC} = {b}.reserve({r})",
    "{B}, st = {b}.reserve_stream({r}); st.confirm_chunk({c}); {B} = st.close().apply_to({B})",
    "{B}, {B2} = {b}.split({r})",
    "{B} = {b}.merge({b2})",
    "print({b}.available)",
    "{B} = {b}",
    "{b}.consume()",
    "{RF} = {rc}.confirm({c})",
    "{rc}.forfeit()",
    "{B} = {rf}.apply_to({b})",
    "{RES} = pool.reserve({r})",
    "{res}.commit({c})",
    "{res}.cancel()",
    "with pool.reserve({r}) as w: w.commit({c})",
    "with {rc}: print({rc}.amount)",
    "try:\n    {B} = {b}.spend({r})\nexcept impl.InsufficientBudget:\n    print('refused')",
    "run(lambda: {b}.spend({r}))",
    "{B} = (lambda: {b}.spend({r}))()",
    "{B} = pay({b}, {r})",
)
"""Statement templates: ``{b}`` an existing budget (``{b2}`` another pick), ``{rc}``,
``{rf}``, ``{res}`` an existing receipt, refund, reservation; upper case: a name to
bind (possibly overwriting one); ``{r}`` an amount 1..60, ``{c}`` a charge 0..30."""

_PLACE = re.compile(r"\{(\w+)\}")


@st.composite
def _simple(draw: st.DrawFn, defined: Defined) -> tuple[str, Defined]:
    """One statement (possibly several lines) and the names it leaves defined."""
    def usable(op: str) -> bool:
        return all(defined[p.rstrip("2")] for p in _PLACE.findall(op) if p.islower()
                   and p not in ("r", "c"))

    op = draw(st.sampled_from([op for op in OPS if usable(op)]))
    out = dict(defined)
    chosen: dict[str, str] = {}

    def fill(m: re.Match[str]) -> str:
        p = m.group(1)
        if p not in chosen:
            kind = p.rstrip("2").lower()
            if p == "r":
                chosen[p] = str(draw(st.integers(1, 60)))
            elif p == "c":
                chosen[p] = str(draw(st.integers(0, 30)))
            elif p.islower():
                chosen[p] = draw(st.sampled_from(sorted(defined[kind])))
            else:
                chosen[p] = f"{kind}{draw(st.integers(0, NAMES[kind] - 1))}"
                out[kind] = out[kind] | {chosen[p]}
        return chosen[p]

    return _PLACE.sub(fill, op), out


@st.composite
def _block(draw: st.DrawFn, defined: Defined, depth: int, indent: str
           ) -> tuple[list[str], Defined]:
    lines: list[str] = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["simple"] * 4 + (["if", "for"] if depth < 2 else [])))
        if kind == "simple":
            text, defined = draw(_simple(defined))
            lines += [indent + line for line in text.splitlines()]
        elif kind == "if":
            lines.append(f"{indent}if {draw(st.sampled_from(FLAGS))}:")
            body, then = draw(_block(defined, depth + 1, indent + "    "))
            lines += body
            other = defined
            if draw(st.booleans()):
                lines.append(f"{indent}else:")
                body, other = draw(_block(defined, depth + 1, indent + "    "))
                lines += body
            defined = {k: then[k] & other[k] for k in defined}
        else:
            lines.append(f"{indent}for _ in range({draw(st.integers(1, 3))}):")
            body, _ = draw(_block(defined, depth + 1, indent + "    "))
            lines += body
    return lines, defined


@st.composite
def programs(draw: st.DrawFn) -> str:
    """The source of one generated program."""
    start: Defined = {"b": frozenset({"b0"}), "rc": frozenset(), "rf": frozenset(),
                      "res": frozenset()}
    lines, _ = draw(_block(start, 0, "    "))
    return HEADER + "\n".join(lines) + "\n"


@dataclass
class Verdicts:
    """The checker's findings and the outcome of every path."""

    findings: list[Finding]
    runs: list[Outcome]


def verdicts(source: str, path: str = "generated.py") -> Verdicts:
    """Check ``source``, then run ``prog`` with every assignment of its flags."""
    findings = [f for f in check_source(source, path) if not f.is_note]
    runs = [run(source, path, lambda ns, c=c: ns["prog"](*c),  # type: ignore[operator]
                collect=False)
            for c in itertools.product((False, True), repeat=len(FLAGS))]
    return Verdicts(findings, runs)


USE_CODES = frozenset({"AFF001", "AFF002", "AFF003", "AFF004", "AFF005", "AFF006"})
LEAK_CODES = frozenset({"AFF007", "AFF008"})


def missed(v: Verdicts) -> list[str]:
    """What ran badly without being flagged: a line that raised AffineViolation with no
    use finding on it, or a path that forfeited a receipt at collection (or left a
    refund unapplied) with no AFF007/AFF008 anywhere."""
    use_lines = {f.line for f in v.findings if f.code in USE_CODES}
    leaks = any(f.code in LEAK_CODES for f in v.findings)
    out = []
    for o in v.runs:
        if o.violation and not (set(o.lines) & use_lines):
            out.append(f"AffineViolation at line {o.lines[-1]} not flagged: {o.error}")
        if o.error is None and (o.resource_warnings or o.outstanding_refunds) and not leaks:
            out.append("a receipt forfeited at collection, or a refund left, not flagged")
    return out


def survey(n: int) -> dict[str, int]:
    """Check and run ``n`` generated programs; counts for README's figures
    (``PYTHONPATH=. python tests/affine/generated.py 3000``)."""
    import contextlib
    import io

    from hypothesis import HealthCheck, given, settings

    sources: list[str] = []

    @settings(max_examples=n, database=None, suppress_health_check=list(HealthCheck))
    @given(programs())
    def collect(source: str) -> None:
        sources.append(source)

    collect()
    counts = {"programs": len(sources), "raised on some path": 0, "flagged": 0,
              "flagged, no path raised": 0, "missed": 0}
    for source in sources:
        with contextlib.redirect_stdout(io.StringIO()):
            v = verdicts(source)
        raised = any(o.violation for o in v.runs)
        flagged = any(f.code in USE_CODES for f in v.findings)
        counts["raised on some path"] += raised
        counts["flagged"] += flagged
        counts["flagged, no path raised"] += flagged and not raised
        counts["missed"] += bool(missed(v))
    return counts


if __name__ == "__main__":
    import sys

    print(survey(int(sys.argv[1]) if len(sys.argv) > 1 else 1000))
