"""Rust compile-fail: clone (E0599, Budget has no Clone): copy.copy of a budget."""
# runtime: AffineViolation
import copy

import impl

session = impl.Session(100)
b = session.take()
twin = copy.copy(b)  # expect: AFF005
