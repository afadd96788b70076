"""Merging a budget with itself (it would count its money twice)."""
# runtime: AffineViolation
import impl

session = impl.Session(100)
b = session.take()
doubled = b.merge(b)  # expect: AFF001
