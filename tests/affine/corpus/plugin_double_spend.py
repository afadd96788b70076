"""Upstream mypy plugin case: double spend inside a function."""
# runtime: AffineViolation
import impl


def agent(b: impl.Budget) -> impl.Budget:
    b.spend(10)
    return b.spend(10)  # expect: AFF001


session = impl.Session(100)
left = agent(session.take())
