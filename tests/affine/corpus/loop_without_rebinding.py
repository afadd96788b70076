"""Consumed in a loop body without rebinding: the second iteration fails."""
# runtime: AffineViolation
import impl

session = impl.Session(100)
b = session.take()
for _ in range(3):
    rest = b.spend(10)  # expect: AFF003
