"""Executable specifications: the ledger of SEMANTICS.md and the format to write others.

``spec.LEDGER`` is the single source of truth for the nine Budget transitions;
``spec.format`` defines what a spec is; ``spec.concrete`` steps one on ints.
"""

from spec.concrete import GuardFalse, broken_invariants, enabled, step
from spec.format import Invariant, Spec, SpecError, Transition, holds
from spec.ledger import LEDGER, VARIABLES
from spec.mutants import MUTANTS, mutant

__all__ = [
    "LEDGER",
    "MUTANTS",
    "VARIABLES",
    "GuardFalse",
    "Invariant",
    "Spec",
    "SpecError",
    "Transition",
    "broken_invariants",
    "enabled",
    "holds",
    "mutant",
    "step",
]
