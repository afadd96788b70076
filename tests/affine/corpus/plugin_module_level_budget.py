"""Upstream mypy plugin case: a module-level budget, spent by a function that runs
twice (the plugin only saw module-level statements)."""
# runtime: AffineViolation
import impl

SESSION = impl.Session(100)
BUDGET = SESSION.take()


def step() -> impl.Budget:
    return BUDGET.spend(10)


first = step()
second = step()  # expect: AFF004
