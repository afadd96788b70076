"""Upstream mypy plugin case: use after merge (the argument side is consumed too)."""
# runtime: AffineViolation
import impl


def gather(b: impl.Budget) -> impl.Budget:
    child, parent = b.split(30)
    whole = parent.merge(child)
    return child.spend(5).merge(whole)  # expect: AFF001


session = impl.Session(100)
left = gather(session.take())
