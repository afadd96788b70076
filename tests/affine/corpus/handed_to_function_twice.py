"""A budget handed twice to a function that spends it (calls of functions defined in
the same module are followed)."""
# runtime: AffineViolation
import impl


def pay(b: impl.Budget) -> impl.Budget:
    return b.spend(10)


session = impl.Session(100)
b = session.take()
first = pay(b)
second = pay(b)  # expect: AFF004
