"""Rebinding: every operation's result replaces the consumed handle."""
# runtime: clean
import impl

session = impl.Session(100)
b = session.take()
b = b.spend(10)
b = b.spend(10, charged=7)
b, receipt = b.reserve(30)
refund = receipt.confirm(12)
b = refund.apply_to(b)
child, b = b.split(20)
b = b.merge(child)
print(b.available)
