"""Refusals leave the handle usable: rebinding inside try, the old handle after it."""
# runtime: clean
import impl

session = impl.Session(100)
b = session.take()
try:
    b = b.spend(500)
except impl.InsufficientBudget:
    print("refused, still holding", b.available)
for r in (30, 30, 30, 30):
    try:
        b, receipt = b.reserve(r)
    except impl.InsufficientBudget:
        break
    b = receipt.confirm(r).apply_to(b)
    x, y = b.split(b.available // 2)
    b = y.merge(x)
print(b.available)
