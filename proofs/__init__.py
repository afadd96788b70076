"""Unbounded proofs of a spec's invariants with Z3 (``B0`` symbolic).

Entry points, each returning this package's own result types (the report rows of
``python -m model.check`` are built from them in :mod:`model.cli`):

``prove(spec, timeout=10.0, minimise=True, on_result=None) -> ProofRun``
    every obligation of ``spec`` (init, step, nonvacuous), with a counterexample
    for each violated one;
``count_obligations(spec) -> int``
    how many obligations :func:`prove` discharges for ``spec``;
``format_result(result)``, ``one_line(result)``
    an obligation's verdict and evidence as lines, or on one line.

:mod:`proofs.refinement` proves the per-handle spec refines the ledger,
:mod:`proofs.proposition1` the pricing arithmetic, and :mod:`proofs.crosshair_check`
runs CrossHair on impl's own code.
"""

from __future__ import annotations

from proofs.explain import format_counterexample, format_result, one_line
from proofs.obligations import (
    DEFAULT_TIMEOUT,
    Counterexample,
    ObligationResult,
    ProofRun,
    count_obligations,
    prove,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "Counterexample",
    "ObligationResult",
    "ProofRun",
    "count_obligations",
    "format_counterexample",
    "format_result",
    "one_line",
    "prove",
]
