"""The ``safety`` row: :func:`proofs.chc.prove_safety` (Spacer) as one report row."""

from __future__ import annotations

from model.cli.report import CheckResult
from model.cli.traces import Picture, trace_json, trace_lines
from proofs.chc import Safety, TraceStep


def check_name(spec_name: str) -> str:
    """The report name of the safety check of a spec."""
    return f"safety: {spec_name} (Spacer, every B0)"


def steps(safety: Safety) -> list[tuple[str, dict[str, int]]]:
    """The violation's trace as ``(label, state)`` pairs."""
    return [(s.label, dict(s.state)) for s in safety.trace]


def _step_json(s: TraceStep) -> dict[str, object]:
    return {"transition": s.transition, "params": dict(s.params)}


def safety_row(safety: Safety, *, obligations_proved: bool = False) -> CheckResult:
    """``safety`` as a row of kind ``safety``.

    ``ok`` when safety is proved; also when Spacer could not decide but every
    inductive obligation is proved (``obligations_proved``: the invariants are then
    inductive, which already proves them for every B0).  Figures: ``status``,
    ``invariant`` (the conjuncts found), ``invariant_python`` (the same as a tuple
    of conjuncts over ``s`` and ``b0``, or ``null``), ``b0``, ``broken``, ``trace``
    (``step``/``state`` objects, each with the ``transition`` and ``params`` that
    led there), ``message``.  The invariant is a note, so the table always shows it.
    """
    name = check_name(safety.spec_name)
    notes: list[str] = []
    details: list[str] = []
    picture = None
    if safety.status == "proved":
        summary = (f"safe for every B0: inductive invariant found and checked "
                   f"({len(safety.invariant)} conjunct(s))")
        notes.append("inductive invariant (found by Spacer, checked by Z3): "
                     + ", ".join(safety.invariant))
        if safety.python:
            notes.append(f"  as a spec invariant: lambda s, b0: {safety.python}")
    elif safety.status == "violated" and safety.trace:
        assert safety.b0 is not None
        broken = ", ".join(safety.broken)
        summary = (f"violated: {broken} broken after {len(safety.trace) - 1} step(s) at "
                   f"B0 = {safety.b0} (rerun with --b0 {safety.b0})")
        details = trace_lines(broken, steps(safety), f" at B0 = {safety.b0}")
        picture = Picture(f"{safety.spec_name}: {broken} violated at B0={safety.b0}",
                          steps(safety), safety.broken)
    else:
        summary = f"{safety.status}: {safety.message}"
        details = [safety.message]
        if safety.status == "unknown" and obligations_proved:
            summary = f"undecided by Spacer; not needed: every obligation is proved ({summary})"
    trace = [{**trace_json([(s.label, dict(s.state))])[0], **_step_json(s)}
             for s in safety.trace]
    return CheckResult(
        name, "safety", safety.ok or (safety.status == "unknown" and obligations_proved),
        safety.seconds, summary,
        {"status": safety.status, "invariant": list(safety.invariant),
         "invariant_python": safety.python, "b0": safety.b0, "broken": list(safety.broken),
         "trace": trace, "message": safety.message},
        details, notes, picture=picture,
    )
