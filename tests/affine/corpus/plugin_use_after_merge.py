"""Upstream mypy plugin case: use after merge (the receiver side)."""
# runtime: AffineViolation
import impl


def gather(b: impl.Budget) -> int:
    child, parent = b.split(30)
    whole = parent.merge(child)
    return parent.available + whole.available  # expect: AFF001


session = impl.Session(100)
total = gather(session.take())
