"""Upstream mypy plugin case: use after split."""
# runtime: AffineViolation
import impl


def delegate(b: impl.Budget) -> impl.Budget:
    child, _parent = b.split(30)
    return b.merge(child)  # expect: AFF001


session = impl.Session(100)
left = delegate(session.take())
