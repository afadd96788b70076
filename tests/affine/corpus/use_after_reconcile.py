"""Session.reconcile consumes the budget that pays the drift (its second argument)."""
# runtime: AffineViolation
import impl

session = impl.Session(100)
b = session.take()
b = b.spend(10, charged=7)
rest = session.reconcile(10, b)  # the provider billed 10: drift 3, paid by b
print(rest.available, b.available)  # expect: AFF001
