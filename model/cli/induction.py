"""Failed induction steps explained: a real violation, or a counterexample to induction.

A ``step`` obligation fails when Z3 finds a *pre-state* that satisfies every
invariant, from which one transition leads to a state that breaks one.  Whether
that is a bug depends on whether the pre-state can be reached at all:

* reachable (a breadth-first search at the counterexample's own B0 finds it):
  a real violation, with the trace: ``real violation, reachable in N steps at
  B0 = k (rerun with --b0 k)``;
* unreachable (Spacer proved every reachable state safe, so this one cannot be
  reachable; or the search at that B0 visited every state without meeting it):
  a counterexample to induction, and the invariant needs strengthening (with the
  inductive invariant Spacer found, when it found one);
* otherwise unknown (the search stopped at its state limit).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from model.cli.report import CheckResult
from model.cli.traces import Picture, Trace, from_steps, trace_lines
from model.reach import DEFAULT_MAX_STATES, find_path
from proofs.chc import Safety
from proofs.explain import format_result
from proofs.obligations import Counterexample, ProofRun
from spec.format import Spec

Kind = Literal["reachable", "unreachable", "unknown"]

UNREACHABLE = ("counterexample to induction from an unreachable state: the invariant holds "
               "where explored but is not inductive; strengthen it, e.g. with ")


@dataclass(frozen=True)
class Verdict:
    """What a failed step's counterexample means; ``trace`` (reachable only) runs from
    Init through the pre-state to the post-state that breaks the invariant."""

    kind: Kind
    message: str
    trace: list[tuple[str, dict[str, int]]]


def classify(spec: Spec, cex: Counterexample, safety: Safety | None,
             max_states: int = DEFAULT_MAX_STATES) -> Verdict:
    """The verdict on one step counterexample (``cex.pre`` must be set)."""
    assert cex.pre is not None and cex.transition is not None
    hint = _hint(safety)
    if safety is not None and safety.ok:
        return Verdict("unreachable", f"{UNREACHABLE}{hint} (Spacer proved every reachable "
                       "state safe, so this pre-state is unreachable)", [])
    reach = find_path(spec, cex.b0, cex.pre, max_states=max_states)
    if reach.trace is not None:
        n = len(reach.trace) - 1
        call = f"{cex.transition}({', '.join(f'{k}={v}' for k, v in cex.params.items())})"
        trace = [*from_steps(reach.trace), (call, dict(cex.post))]
        return Verdict("reachable", f"real violation, reachable in {n} step(s) at B0 = "
                       f"{cex.b0} (rerun with --b0 {cex.b0})", trace)
    if reach.complete:
        return Verdict("unreachable", f"{UNREACHABLE}{hint} (not reachable at B0 = {cex.b0}: "
                       f"all {reach.states:,} states explored)", [])
    return Verdict("unknown", f"unknown whether the pre-state is reachable: not among the "
                   f"first {reach.states:,} states at B0 = {cex.b0}", [])


def _hint(safety: Safety | None) -> str:
    if safety is not None and safety.ok:
        if safety.python:
            return f"{safety.python} (the inductive invariant Spacer found)"
        return f"{' and '.join(safety.invariant)} (the inductive invariant Spacer found)"
    return "a conjunct that is false in this pre-state"


def cex_json(cex: Counterexample) -> dict[str, Any]:
    """A counterexample as ``b0``, ``pre``, ``step`` (transition, params), ``post``,
    ``invariant``, ``broken`` (``pre`` and ``step`` are ``null`` for ``init``)."""
    step = None if cex.transition is None else {"transition": cex.transition,
                                                 "params": dict(cex.params)}
    return {"b0": cex.b0, "pre": cex.pre, "step": step, "post": dict(cex.post),
            "invariant": cex.invariant, "broken": list(cex.broken)}


def explain(row: CheckResult, run: ProofRun, spec: Spec, safety: Safety | None) -> CheckResult:
    """``row`` (the proof row of ``run``) with every failed step classified.

    Each failing obligation's details gain its verdict (and, when reachable, the
    trace); figures gain ``counterexamples`` (one structured object per failing
    obligation with a counterexample, with ``classification`` and ``message``).
    When ``safety`` is proved and every failure is a step obligation, those failures
    are counterexamples to induction from unreachable states: the row passes and
    they are reported as notes.
    """
    details: list[str] = []
    found: list[dict[str, Any]] = []
    as_notes = safety is not None and safety.ok and bool(run.failed) and all(
        r.kind == "step" for r in run.failed)
    for r in run.failed:
        lines = format_result(r)
        if as_notes:
            lines[0] = f"not inductive (safety is proved, so this is no failure): {r.name}"
        cex = r.counterexample
        if cex is not None:
            entry = {"obligation": r.name, **cex_json(cex)}
            if cex.pre is not None:
                verdict = classify(spec, cex, safety)
                lines.append(f"  => {verdict.message}")
                if verdict.trace:
                    lines += ["  " + line for line in trace_lines(
                        cex.invariant, verdict.trace, f" at B0 = {cex.b0}")]
                    if row.picture is None:
                        row.picture = _picture(spec, cex, verdict.trace)
                entry |= {"classification": verdict.kind, "message": verdict.message}
            found.append(entry)
        details += lines
    row.details = details
    row.figures["counterexamples"] = found
    if as_notes:
        row.ok = True
        row.notes = details
        row.details = []
        row.summary = (f"{run.proved}/{len(run.results)} obligations proved, B0 symbolic; "
                       f"{len(run.failed)} step(s) not inductive, but safety is proved for "
                       "every B0 (notes)")
    return row


def _picture(spec: Spec, cex: Counterexample, trace: Trace) -> Picture:
    return Picture(f"{spec.name}: {cex.invariant} violated at B0={cex.b0}",
                   [(label, dict(s)) for label, s in trace], (cex.invariant,))
