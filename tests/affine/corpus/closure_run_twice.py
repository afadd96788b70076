"""One closure that spends the budget, run twice."""
# runtime: AffineViolation
import impl

session = impl.Session(100)
b = session.take()
pay = lambda: b.spend(10)
first = pay()
second = pay()  # expect: AFF004
