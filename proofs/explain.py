"""Proof runs for people: obligations and counterexamples as text.

``format_result`` prints one obligation the way a failing test would::

    FAILED step refund_to preserves Conservation
      b0 = 1
      pre:  live_sum=0 outstanding_receipts=0 outstanding_refunds=1 ...
      refund_to(a=1)
      post: live_sum=1 outstanding_receipts=0 outstanding_refunds=1 ...
      broken: Conservation does not hold in post
        live_sum + ... + total_released == B0 is false: 2 == 1
"""

from __future__ import annotations

from collections.abc import Mapping

from proofs.obligations import Counterexample, ObligationResult
from proofs.outcomes import format_outcome


def _state(values: Mapping[str, int]) -> str:
    return " ".join(f"{k}={v}" for k, v in values.items())


def _call(name: str, params: Mapping[str, int]) -> str:
    return f"{name}({', '.join(f'{k}={v}' for k, v in params.items())})"


def format_counterexample(cex: Counterexample) -> list[str]:
    """The counterexample as indented lines: b0, pre, the step, post, what broke."""
    lines = [f"  b0 = {cex.b0}"]
    if cex.pre is None:
        lines.append(f"  init: {_state(cex.post)}")
        where = "the initial state"
    else:
        assert cex.transition is not None
        lines.append(f"  pre:  {_state(cex.pre)}")
        lines.append(f"  {_call(cex.transition, cex.params)}")
        changed = [k for k in cex.post if cex.post[k] != cex.pre.get(k)]
        lines.append(f"  post: {_state(cex.post)}")
        lines.append(f"  changed: {', '.join(changed) if changed else 'nothing'}")
        where = "post"
    lines.append(f"  broken: {cex.invariant} does not hold in {where}")
    lines.extend(f"    {b}" for b in cex.broken)
    return lines


def format_result(result: ObligationResult) -> list[str]:
    """One obligation as lines: ``proved ...`` or ``FAILED ...`` plus the evidence."""
    return format_outcome(
        result,
        lambda r: format_counterexample(r.counterexample) if r.counterexample else [],
    )


def one_line(result: ObligationResult) -> str:
    """One obligation's verdict and evidence on one line (for tables, mutant reports).

    E.g. ``step reserve preserves TypeOK: b0=0, reserve(r=1) moves live_sum 0 -> -1,
    outstanding_receipts 0 -> 1``: only the variables the step changed are shown
    (the full pre- and post-state are in :func:`format_result`).
    """
    cex = result.counterexample
    if result.ok:
        return f"{result.name}: proved"
    if cex is None:
        return f"{result.name}: {result.status}: {result.message}"
    if cex.pre is None:
        return f"{result.name}: b0={cex.b0}, init {_state(cex.post)} breaks {cex.invariant}"
    assert cex.transition is not None
    moves = ", ".join(
        f"{k} {cex.pre[k]} -> {v}" for k, v in cex.post.items() if v != cex.pre.get(k)
    )
    return (
        f"{result.name}: b0={cex.b0}, {_call(cex.transition, cex.params)} "
        f"moves {moves or 'nothing'}"
    )
