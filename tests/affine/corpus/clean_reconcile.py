"""Reconciling: the returned budget replaces the one that paid the drift; a refusal
leaves the handle usable."""
# runtime: clean
import impl

session = impl.Session(100)
b = session.take()
b = b.spend(10, charged=7)
try:
    b = session.reconcile(5, b)  # below the 7 uc already charged: refused
except impl.BilledTotalBelowCharged:
    pass  # nothing changed: b is still usable
b = session.reconcile(10, b)
b = session.reconcile(10, b)  # the same billed total again: no drift
print(b.available)
