"""A refund applied to two budgets: its money would come back twice."""
# runtime: AffineViolation
import impl

session = impl.Session(100)
a, rest = session.take().split(50)
a, receipt = a.reserve(30)
refund = receipt.confirm(10)
a = refund.apply_to(a)
rest = refund.apply_to(rest)  # expect: AFF001
